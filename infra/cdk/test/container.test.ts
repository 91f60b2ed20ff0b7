// The sidecar's container definition and environment, compared with values worked out by hand
// from the shared infra contract.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Duration, Lazy, Size, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as logs from "aws-cdk-lib/aws-logs";
import { ExporterLogFormat, ExporterLogLevel, ExporterOutput } from "../lib";
import { addExporter, containerDefinition, fargateFixture, synthExporter } from "./helpers";

const DEFAULT_ENVIRONMENT = [
  { Name: "ECS_EMF_CONTAINER_DIMENSIONS", Value: "ClusterName,ServiceName,ContainerName" },
  { Name: "ECS_EMF_DIMENSIONS", Value: "ClusterName,ServiceName" },
  { Name: "ECS_EMF_INTERVAL", Value: "60s" },
  { Name: "ECS_EMF_NAMESPACE", Value: "ECS/TaskMetrics" },
  { Name: "ECS_EMF_OUTPUT", Value: "stdout" },
  { Name: "ECS_EMF_SELF_METRICS", Value: "true" },
];

describe("the default sidecar", () => {
  const { template, exporter, fixture } = synthExporter();
  const logGroupId = Stack.of(exporter).getLogicalId(exporter.logGroup.node.defaultChild as logs.CfnLogGroup);

  it("renders the contract's container definition exactly", () => {
    assert.deepEqual(containerDefinition(template, "ecs-emf-exporter"), {
      Name: "ecs-emf-exporter",
      Image: "registry.example/ecs-emf-exporter:0.1.0",
      Essential: false,
      User: "65532:65532",
      ReadonlyRootFilesystem: true,
      Cpu: 16,
      MemoryReservation: 32,
      Memory: 64,
      MountPoints: [{ SourceVolume: "ecs-emf-exporter-tmp", ContainerPath: "/tmp", ReadOnly: false }],
      Environment: DEFAULT_ENVIRONMENT,
      HealthCheck: { Command: ["CMD", "/ecs-emf-exporter", "healthcheck"], Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 60 },
      // Exit 0 (its clean stop on SIGTERM/SIGINT) stays stopped; any other exit after 60 s of running is restarted.
      RestartPolicy: { Enabled: true, IgnoredExitCodes: [0], RestartAttemptPeriod: 60 },
      LogConfiguration: {
        LogDriver: "awslogs",
        Options: {
          "awslogs-group": { Ref: logGroupId },
          "awslogs-region": "eu-west-1",
          "awslogs-stream-prefix": "ecs-emf-exporter",
          mode: "non-blocking",
          // CDK writes Size values in bytes: 4 MiB.
          "max-buffer-size": "4194304b",
        },
      },
    });
  });

  it("adds the ephemeral /tmp volume to the task, with no host path", () => {
    template.hasResourceProperties("AWS::ECS::TaskDefinition", { Volumes: [{ Name: "ecs-emf-exporter-tmp" }] });
  });

  it("creates a log group kept for 30 days", () => {
    template.resourceCountIs("AWS::Logs::LogGroup", 1);
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
  });

  it("stays non-essential, so the app container remains the task's default", () => {
    assert.equal(exporter.container.essential, false);
    assert.equal(fixture.taskDefinition.defaultContainer?.containerName, "app");
  });
});

describe("container options", () => {
  it("omits the mount point and the volume with a writable root", () => {
    const { template } = synthExporter({ readonlyRootFilesystem: false });
    const container = containerDefinition(template, "ecs-emf-exporter");
    assert.equal(container["ReadonlyRootFilesystem"], false);
    assert.equal(container["MountPoints"], undefined);
    template.hasResourceProperties("AWS::ECS::TaskDefinition", { Volumes: Match.absent() });
  });

  it("omits the hard memory limit with noMemoryLimit and takes the other sizes", () => {
    const { template } = synthExporter({
      containerName: "metrics",
      cpu: 32,
      memoryReservationMiB: 48,
      noMemoryLimit: true,
      awslogsMaxBufferSize: Size.mebibytes(25),
    });
    const container = containerDefinition(template, "metrics");
    assert.equal(container["Memory"], undefined);
    assert.equal(container["MemoryReservation"], 48);
    assert.equal(container["Cpu"], 32);
    const options = (container["LogConfiguration"] as { Options: Record<string, unknown> }).Options;
    assert.equal(options["max-buffer-size"], "26214400b");
  });

  it("uses a given log group instead of creating one", () => {
    const fixture = fargateFixture();
    addExporter(fixture, { logGroup: logs.LogGroup.fromLogGroupName(fixture.stack, "Existing", "/ecs/existing") });
    const template = Template.fromStack(fixture.stack);
    template.resourceCountIs("AWS::Logs::LogGroup", 0);
    const options = (containerDefinition(template, "ecs-emf-exporter")["LogConfiguration"] as { Options: Record<string, unknown> }).Options;
    assert.equal(options["awslogs-group"], "/ecs/existing");
  });
});

describe("restart policy", () => {
  const restartPolicyOf = (props: Parameters<typeof synthExporter>[0]) =>
    containerDefinition(synthExporter(props).template, "ecs-emf-exporter")["RestartPolicy"];

  it("is enabled by default, ignoring exit 0, with the smallest attempt period ECS allows", () => {
    assert.deepEqual(restartPolicyOf({}), { Enabled: true, IgnoredExitCodes: [0], RestartAttemptPeriod: 60 });
  });

  it("takes custom exit codes and attempt period", () => {
    assert.deepEqual(restartPolicyOf({ restartPolicy: { ignoredExitCodes: [0, 2, 143], restartAttemptPeriod: Duration.minutes(5) } }), {
      Enabled: true,
      IgnoredExitCodes: [0, 2, 143],
      RestartAttemptPeriod: 300,
    });
    assert.deepEqual(restartPolicyOf({ restartPolicy: { restartAttemptPeriod: Duration.seconds(1800) } }), {
      Enabled: true,
      IgnoredExitCodes: [0],
      RestartAttemptPeriod: 1800,
    });
  });

  it("renders no restart policy at all when disabled", () => {
    const { template } = synthExporter({ restartPolicy: { enabled: false } });
    const container = containerDefinition(template, "ecs-emf-exporter");
    assert.equal("RestartPolicy" in container, false);
    // Also with the other members given: they only apply to an enabled policy.
    const withMembers = containerDefinition(
      synthExporter({ restartPolicy: { enabled: false, ignoredExitCodes: [1], restartAttemptPeriod: Duration.seconds(90) } }).template,
      "ecs-emf-exporter",
    );
    assert.equal("RestartPolicy" in withMembers, false);
  });

  it("leaves the app container's (absent) restart policy alone", () => {
    const { template } = synthExporter();
    assert.equal("RestartPolicy" in containerDefinition(template, "app"), false);
  });
});

describe("environment rendering", () => {
  const environmentOf = (props: Parameters<typeof synthExporter>[0]) =>
    containerDefinition(synthExporter(props).template, "ecs-emf-exporter")["Environment"];

  it("appends tag and static dimensions, statics as sorted k=v pairs", () => {
    assert.deepEqual(environmentOf({ tagDimensions: ["env", "team"], staticDimensions: { tier: "web", region: "emea" } }), [
      ...DEFAULT_ENVIRONMENT,
      { Name: "ECS_EMF_STATIC_DIMENSIONS", Value: "region=emea,tier=web" },
      { Name: "ECS_EMF_TAG_DIMENSIONS", Value: "env,team" },
    ]);
  });

  it("joins names with , and sets with ;", () => {
    const environment = environmentOf({
      dimensions: [["ClusterName", "ServiceName"], ["ClusterName"], []],
      containerDimensions: [["ContainerName"], ["ClusterName", "TaskId", "ContainerName"]],
    }) as { Name: string; Value: string }[];
    assert.deepEqual(environment.find((v) => v.Name === "ECS_EMF_DIMENSIONS")?.Value, "ClusterName,ServiceName;ClusterName;");
    assert.deepEqual(
      environment.find((v) => v.Name === "ECS_EMF_CONTAINER_DIMENSIONS")?.Value,
      "ContainerName;ClusterName,TaskId,ContainerName",
    );
  });

  it("renders every other setting only when set, sorted by name, booleans as true/false", () => {
    assert.deepEqual(
      environmentOf({
        output: ExporterOutput.AGENT,
        namespace: "Shop/Tasks",
        interval: Duration.minutes(5),
        highResolution: false,
        metrics: ["Cpu*", "MemoryUtilization"],
        excludeMetrics: ["Network*"],
        containerMetrics: true,
        excludeContainers: ["envoy", "xray"],
        tagsRefresh: Duration.minutes(10),
        agentEndpoint: "udp://127.0.0.1:25888",
        agentLogGroupName: "/metrics/shop",
        agentLogStreamName: "tasks",
        maxLineBytes: 65536,
        logFormat: ExporterLogFormat.JSON,
        logLevel: ExporterLogLevel.DEBUG,
        selfMetrics: false,
        extraEnvironment: { AAA_FIRST: "1", RUST_BACKTRACE: "1" },
      }),
      [
        { Name: "AAA_FIRST", Value: "1" },
        { Name: "AWS_EMF_AGENT_ENDPOINT", Value: "udp://127.0.0.1:25888" },
        { Name: "AWS_EMF_LOG_GROUP_NAME", Value: "/metrics/shop" },
        { Name: "AWS_EMF_LOG_STREAM_NAME", Value: "tasks" },
        { Name: "ECS_EMF_CONTAINER_DIMENSIONS", Value: "ClusterName,ServiceName,ContainerName" },
        { Name: "ECS_EMF_CONTAINER_METRICS", Value: "true" },
        { Name: "ECS_EMF_DIMENSIONS", Value: "ClusterName,ServiceName" },
        { Name: "ECS_EMF_EXCLUDE_CONTAINERS", Value: "envoy,xray" },
        { Name: "ECS_EMF_EXCLUDE_METRICS", Value: "Network*" },
        { Name: "ECS_EMF_HIGH_RESOLUTION", Value: "false" },
        { Name: "ECS_EMF_INTERVAL", Value: "5m" },
        { Name: "ECS_EMF_LOG_FORMAT", Value: "json" },
        { Name: "ECS_EMF_LOG_LEVEL", Value: "debug" },
        { Name: "ECS_EMF_MAX_LINE_BYTES", Value: "65536" },
        { Name: "ECS_EMF_METRICS", Value: "Cpu*,MemoryUtilization" },
        { Name: "ECS_EMF_NAMESPACE", Value: "Shop/Tasks" },
        { Name: "ECS_EMF_OUTPUT", Value: "agent" },
        { Name: "ECS_EMF_SELF_METRICS", Value: "false" },
        { Name: "ECS_EMF_TAGS_REFRESH", Value: "10m" },
        { Name: "RUST_BACKTRACE", Value: "1" },
      ],
    );
  });

  it("renders interval and tagsRefresh in the unit the Duration was given in, else the largest exact one", () => {
    const rendered = (interval: Duration, tagsRefresh: Duration) => {
      const environment = environmentOf({ interval, tagsRefresh }) as { Name: string; Value: unknown }[];
      return [environment.find((v) => v.Name === "ECS_EMF_INTERVAL")?.Value, environment.find((v) => v.Name === "ECS_EMF_TAGS_REFRESH")?.Value];
    };
    assert.deepEqual(rendered(Duration.seconds(60), Duration.seconds(600)), ["60s", "600s"]);
    assert.deepEqual(rendered(Duration.minutes(1), Duration.hours(24)), ["1m", "24h"]);
    assert.deepEqual(rendered(Duration.millis(1500), Duration.days(1)), ["1500ms", "24h"]);
    assert.deepEqual(rendered(Duration.minutes(1.5), Duration.hours(1.5)), ["90s", "90m"]);
  });

  it("renders an interval whose amount is a token as a deploy-time value in its unit", () => {
    const interval = Duration.seconds(Lazy.number({ produce: () => 45 }));
    const environment = environmentOf({ interval, dashboard: undefined }) as { Name: string; Value: unknown }[];
    assert.equal(environment.find((v) => v.Name === "ECS_EMF_INTERVAL")?.Value, "45s");
  });

  it("renders memoryLimitMiB as the hard limit", () => {
    assert.equal(containerDefinition(synthExporter({ memoryLimitMiB: 128 }).template, "ecs-emf-exporter")["Memory"], 128);
  });

  it("does not render empty lists or maps", () => {
    assert.deepEqual(environmentOf({ tagDimensions: [], staticDimensions: {}, excludeContainers: [] }), DEFAULT_ENVIRONMENT);
  });
});
