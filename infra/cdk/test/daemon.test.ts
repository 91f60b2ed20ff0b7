// EcsEmfExporterDaemon: the DAEMON service, its host-networked task with the host's Docker socket
// and cgroup tree mounted read-only, root without capabilities, the health file on a tmpfs root
// can write, the environment, the task role, what daemon mode refuses, tag dimensions from
// ecs:DescribeTasks (tagsFromApi), and the sidecar's metrics, dashboard and alarms over one
// service without what daemon mode never publishes. Expected values worked out by hand from
// docs/daemon.md (Settings, IAM).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { App, Duration, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { EcsEmfExporterDaemon, EcsEmfExporterDaemonProps, ExporterOutput } from "../lib";
import { ALL_TITLES, NS, TEST_ENV, alarmsByMetric, containerDefinition, dashboardBody, onlyAlarm, synthExporter, widget, widgetTitles } from "./helpers";

const PROD_CLUSTER_ARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";
const IMAGE = ecs.ContainerImage.fromRegistry("registry.example/ecs-emf-exporter:0.1.0");
/** As the Terraform daemon module renders them (its tests/container_definition.tftest.hcl). */
const RUN_DIRECTORY = "/run/ecs-emf-exporter";
const HEALTH_FILE = "/run/ecs-emf-exporter/ecs-emf-exporter.health";

type Json = Record<string, unknown>;
type DaemonOptions = Omit<EcsEmfExporterDaemonProps, "cluster" | "image">;

interface DaemonFixture {
  readonly stack: Stack;
  readonly daemon: EcsEmfExporterDaemon;
  readonly template: Template;
}

/**
 * The cluster "prod" imported with its literal ARN (so ARNs render as literals). From its
 * attributes: ecs.Ec2Service needs the connections fromClusterArn's import does not have.
 */
function prodCluster(stack: Stack): ecs.ICluster {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, "Vpc", { vpcId: "vpc-0123456789abcdef0", availabilityZones: ["eu-west-1a"] });
  return ecs.Cluster.fromClusterAttributes(stack, "Cluster", { clusterName: "prod", clusterArn: PROD_CLUSTER_ARN, vpc });
}

/** A daemon on the cluster "prod". */
function synthDaemon(options: DaemonOptions = {}): DaemonFixture {
  const stack = new Stack(new App(), "DaemonStack", { env: TEST_ENV });
  const cluster = prodCluster(stack);
  const daemon = new EcsEmfExporterDaemon(stack, "Daemon", { cluster, image: IMAGE, ...options });
  return { stack, daemon, template: Template.fromStack(stack) };
}

/** Construction only (for refusals): props a JavaScript caller could pass, typed or not. */
function buildDaemon(options: Json): EcsEmfExporterDaemon {
  const stack = new Stack(new App(), "DaemonStack", { env: TEST_ENV });
  const cluster = prodCluster(stack);
  return new EcsEmfExporterDaemon(stack, "Daemon", { cluster, image: IMAGE, ...(options as DaemonOptions) });
}

function onlyResource(template: Template, type: string): Json {
  const resources = Object.values(template.findResources(type));
  assert.equal(resources.length, 1, `expected one ${type}`);
  return (resources[0] as { Properties: Json }).Properties;
}

function environmentOf(template: Template, name = "ecs-emf-exporter"): Record<string, string> {
  const entries = containerDefinition(template, name)["Environment"] as { Name: string; Value: string }[];
  return Object.fromEntries(entries.map((entry) => [entry.Name, entry.Value]));
}

/** The statements of policies attached to the daemon's task role. */
function taskRoleStatements(fixture: DaemonFixture): unknown[] {
  const roleId = fixture.stack.getLogicalId(fixture.daemon.taskDefinition.taskRole.node.defaultChild as iam.CfnRole);
  return Object.values(fixture.template.findResources("AWS::IAM::Policy"))
    .map((policy) => (policy as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: unknown[] } } }).Properties)
    .filter((properties) => properties.Roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap((properties) => properties.PolicyDocument.Statement);
}

/**
 * What daemon mode never publishes, whatever the settings (docs/daemon.md, "What daemon mode
 * cannot know"; `ecs-emf-exporter metrics --json --daemon` lists them as not published).
 */
const NEVER_PUBLISHED = [
  "EphemeralStorageUtilized",
  "EphemeralStorageReserved",
  "ImagePullTime",
  "ClockErrorBound",
  "ContainerRestarts",
  "ExporterErrors",
  "ExporterDroppedDatapoints",
  "ExporterCycleDuration",
];

/** What only daemon mode publishes: `metrics --json` lists them as not published for the sidecar. */
const DAEMON_ONLY = ["CpuThrottledTime", "CpuThrottledPercent", "ContainerCpuThrottledTime", "ContainerCpuThrottledPercent"];

/** The widgets those metrics alone fill. */
const NEVER_PUBLISHED_WIDGETS = ["Ephemeral storage (MiB)", "Container restarts", "Exporter health", "Clock error bound (ms, Fargate only)"];

const DESCRIBE_TASKS = {
  Action: "ecs:DescribeTasks",
  Condition: { ArnEquals: { "ecs:cluster": PROD_CLUSTER_ARN } },
  Effect: "Allow",
  Resource: "arn:aws:ecs:eu-west-1:123456789012:task/prod/*",
};

/** With tagsFromApi: the same tasks and condition (docs/daemon.md, IAM). */
const LIST_TAGS = {
  Action: "ecs:ListTagsForResource",
  Condition: { ArnEquals: { "ecs:cluster": PROD_CLUSTER_ARN } },
  Effect: "Allow",
  Resource: "arn:aws:ecs:eu-west-1:123456789012:task/prod/*",
};

describe("daemon service", () => {
  it("is an EC2 service with the DAEMON scheduling strategy, no desired count, 100 % maximum and 0 % minimum", () => {
    const { template } = synthDaemon();
    const service = onlyResource(template, "AWS::ECS::Service");
    assert.equal(service["SchedulingStrategy"], "DAEMON");
    assert.equal(service["LaunchType"], "EC2");
    assert.equal(service["Cluster"], "prod");
    assert.equal(service["DesiredCount"], undefined);
    assert.deepEqual((service["DeploymentConfiguration"] as Json)["MaximumPercent"], 100);
    assert.deepEqual((service["DeploymentConfiguration"] as Json)["MinimumHealthyPercent"], 0);
  });

  it("takes serviceName and minHealthyPercent", () => {
    const { template } = synthDaemon({ serviceName: "metrics-daemon", minHealthyPercent: 50 });
    template.hasResourceProperties("AWS::ECS::Service", {
      ServiceName: "metrics-daemon",
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 50, MaximumPercent: 100 }),
    });
  });

  it("synthesizes without warnings (minHealthyPercent is set; the circuit-breaker advice, for replica services, is acknowledged)", () => {
    const { stack } = synthDaemon();
    Annotations.fromStack(stack).hasNoWarning("*", Match.anyValue());
  });

  it("exposes the service and the task definition", () => {
    const { daemon } = synthDaemon();
    assert.ok(daemon.service instanceof ecs.Ec2Service);
    assert.ok(daemon.taskDefinition instanceof ecs.Ec2TaskDefinition);
    assert.equal(daemon.taskDefinition.networkMode, ecs.NetworkMode.HOST);
  });
});

describe("daemon task definition", () => {
  it("uses the host network on EC2", () => {
    const { template } = synthDaemon();
    const taskDefinition = onlyResource(template, "AWS::ECS::TaskDefinition");
    assert.equal(taskDefinition["NetworkMode"], "host");
    assert.deepEqual(taskDefinition["RequiresCompatibilities"], ["EC2"]);
  });

  it("has the host's Docker socket and cgroup tree as host volumes, and no task volume for /tmp", () => {
    const { template } = synthDaemon();
    assert.deepEqual(onlyResource(template, "AWS::ECS::TaskDefinition")["Volumes"], [
      { Host: { SourcePath: "/var/run/docker.sock" }, Name: EcsEmfExporterDaemon.DOCKER_SOCKET_VOLUME_NAME },
      { Host: { SourcePath: "/sys/fs/cgroup" }, Name: EcsEmfExporterDaemon.CGROUP_VOLUME_NAME },
    ]);
  });

  it("mounts the socket at /var/run/docker.sock and the cgroup tree at /host/sys/fs/cgroup, both read-only, and nothing on /tmp", () => {
    const { template } = synthDaemon();
    assert.deepEqual(containerDefinition(template, "ecs-emf-exporter")["MountPoints"], [
      { ContainerPath: "/var/run/docker.sock", ReadOnly: true, SourceVolume: "docker-socket" },
      { ContainerPath: "/host/sys/fs/cgroup", ReadOnly: true, SourceVolume: "host-cgroup" },
    ]);
  });

  it("puts the health file on a 1 MiB tmpfs at /run/ecs-emf-exporter (rw, noexec, nosuid, nodev), as the Terraform module", () => {
    // Root without CAP_DAC_OVERRIDE cannot write the image's /tmp (65532:65532, 0755): the tmpfs
    // is root's, so the health check can read what the exporter writes.
    const { template, daemon } = synthDaemon();
    const linuxParameters = containerDefinition(template, "ecs-emf-exporter")["LinuxParameters"] as Json;
    assert.deepEqual(linuxParameters["Tmpfs"], [{ ContainerPath: RUN_DIRECTORY, Size: 1, MountOptions: ["rw", "noexec", "nosuid", "nodev"] }]);
    assert.equal(environmentOf(template)["ECS_EMF_HEALTH_FILE"], HEALTH_FILE);
    assert.equal(daemon.environment["ECS_EMF_HEALTH_FILE"], HEALTH_FILE);
    assert.ok(HEALTH_FILE.startsWith(`${RUN_DIRECTORY}/`));
  });

  it("runs `daemon` as user 0, not privileged, every capability dropped, read-only root, 32 CPU units, 64 MiB", () => {
    const { template } = synthDaemon();
    const container = containerDefinition(template, "ecs-emf-exporter");
    assert.deepEqual(container["Command"], ["daemon"]);
    assert.equal(container["User"], "0");
    assert.equal(container["Privileged"], false);
    assert.equal(container["ReadonlyRootFilesystem"], true);
    assert.deepEqual(container["LinuxParameters"], {
      Capabilities: { Drop: ["ALL"] },
      Tmpfs: [{ ContainerPath: RUN_DIRECTORY, Size: 1, MountOptions: ["rw", "noexec", "nosuid", "nodev"] }],
    });
    assert.equal(container["Essential"], true);
    assert.equal(container["Cpu"], 32);
    assert.equal(container["Memory"], 64);
    assert.equal(container["MemoryReservation"], undefined);
    assert.equal(container["PortMappings"], undefined);
    assert.deepEqual(container["HealthCheck"], {
      Command: ["CMD", "/ecs-emf-exporter", "healthcheck"],
      Interval: 30,
      Retries: 3,
      StartPeriod: 60,
      Timeout: 5,
    });
  });

  it("takes containerName, cpu and memoryLimitMiB", () => {
    const { template } = synthDaemon({ containerName: "metrics", cpu: 64, memoryLimitMiB: 128 });
    const container = containerDefinition(template, "metrics");
    assert.equal(container["Cpu"], 64);
    assert.equal(container["Memory"], 128);
  });

  it("refuses a memory limit below ECS's 6 MiB or not whole", () => {
    assert.throws(() => buildDaemon({ memoryLimitMiB: 4 }), /memoryLimitMiB 4 must be a whole number of MiB, at least 6/);
    assert.throws(() => buildDaemon({ memoryLimitMiB: 64.5 }), /memoryLimitMiB 64.5/);
  });

  it("logs through non-blocking awslogs into a new log group kept 30 days and retained", () => {
    const { template, daemon } = synthDaemon();
    const logGroupId = Stack.of(daemon).getLogicalId(daemon.logGroup.node.defaultChild as logs.CfnLogGroup);
    template.hasResource("AWS::Logs::LogGroup", { Properties: { RetentionInDays: 30 }, DeletionPolicy: "Retain" });
    assert.deepEqual(containerDefinition(template, "ecs-emf-exporter")["LogConfiguration"], {
      LogDriver: "awslogs",
      Options: {
        "awslogs-group": { Ref: logGroupId },
        "awslogs-stream-prefix": "ecs-emf-exporter-daemon",
        "awslogs-region": "eu-west-1",
        mode: "non-blocking",
        "max-buffer-size": "4194304b",
      },
    });
  });

  it("takes logRetention for its log group, or a log group of the caller's (then creates none)", () => {
    synthDaemon({ logRetention: logs.RetentionDays.ONE_WEEK }).template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
    const stack = new Stack(new App(), "OwnLogGroup", { env: TEST_ENV });
    const logGroup = new logs.LogGroup(stack, "Mine", { retention: logs.RetentionDays.ONE_YEAR });
    const daemon = new EcsEmfExporterDaemon(stack, "Daemon", { cluster: prodCluster(stack), image: IMAGE, logGroup });
    assert.equal(daemon.logGroup, logGroup);
    Template.fromStack(stack).resourceCountIs("AWS::Logs::LogGroup", 1);
  });

  it("refuses logRetention together with logGroup", () => {
    const stack = new Stack(new App(), "Both", { env: TEST_ENV });
    const logGroup = new logs.LogGroup(stack, "Mine");
    assert.throws(
      () =>
        new EcsEmfExporterDaemon(stack, "Daemon", {
          cluster: prodCluster(stack),
          image: IMAGE,
          logGroup,
          logRetention: logs.RetentionDays.ONE_WEEK,
        }),
      /logRetention applies to the log group the construct creates/,
    );
  });
});

describe("daemon environment", () => {
  it("renders the sidecar's always-rendered settings (no ECS_EMF_SELF_METRICS), the cgroup root, the health file and ServiceName from the API", () => {
    const { template, daemon } = synthDaemon();
    const expected = {
      ECS_EMF_CGROUP_ROOT: "/host/sys/fs/cgroup",
      ECS_EMF_CONTAINER_DIMENSIONS: "ClusterName,ServiceName,ContainerName",
      ECS_EMF_DIMENSIONS: "ClusterName,ServiceName",
      ECS_EMF_HEALTH_FILE: HEALTH_FILE,
      ECS_EMF_INTERVAL: "60s",
      ECS_EMF_NAMESPACE: NS,
      ECS_EMF_OUTPUT: "stdout",
      ECS_EMF_SERVICE_FROM_API: "true",
    };
    assert.deepEqual(environmentOf(template), expected);
    assert.deepEqual(daemon.environment, expected);
    assert.deepEqual(Object.keys(daemon.environment), Object.keys(expected).sort());
  });

  it("renders ECS_EMF_SERVICE_FROM_API=false with serviceFromApi false", () => {
    assert.equal(environmentOf(synthDaemon({ serviceFromApi: false }).template)["ECS_EMF_SERVICE_FROM_API"], "false");
  });

  it("renders the shared settings as the sidecar construct does, sorted, with extraEnvironment", () => {
    const settings = {
      output: ExporterOutput.AGENT,
      namespace: "Shop/Hosts",
      interval: Duration.seconds(30),
      highResolution: true,
      staticDimensions: { team: "payments" },
      excludeMetrics: ["Network*"],
      excludeContainers: ["ecs-emf-exporter"],
      agentEndpoint: "tcp://127.0.0.1:25888",
      maxLineBytes: 65536,
      extraEnvironment: { RUST_BACKTRACE: "1" },
    };
    const daemonEnvironment = synthDaemon(settings).daemon.environment;
    const sidecarEnvironment = synthExporter({ ...settings, selfMetrics: false }).exporter.environment;
    const { ECS_EMF_SELF_METRICS: selfMetrics, ...sidecarWithoutSelfMetrics } = sidecarEnvironment;
    assert.equal(selfMetrics, "false");
    // Before deepEqual, which narrows the type.
    assert.equal(daemonEnvironment["ECS_EMF_STATIC_DIMENSIONS"], "team=payments");
    assert.equal(daemonEnvironment["RUST_BACKTRACE"], "1");
    const names = Object.keys(daemonEnvironment);
    assert.deepEqual(names, [...names].sort());
    assert.deepEqual(daemonEnvironment, {
      ...sidecarWithoutSelfMetrics,
      ECS_EMF_CGROUP_ROOT: "/host/sys/fs/cgroup",
      ECS_EMF_HEALTH_FILE: HEALTH_FILE,
      ECS_EMF_SERVICE_FROM_API: "true",
    });
  });

  it("validates the settings with the sidecar's rules", () => {
    assert.throws(() => buildDaemon({ namespace: "AWS/ECS" }), /must not start with "AWS\/"/);
    assert.throws(() => buildDaemon({ interval: Duration.millis(500) }), /interval .* must be a whole number of milliseconds from 1s to 1h/);
    assert.throws(() => buildDaemon({ dimensions: [["ClusterName", "Pod"]] }), /unknown dimension "Pod"/);
    assert.throws(() => buildDaemon({ metrics: ["NoSuchMetric"] }), /matches no metric/);
  });
});

describe("daemon refusals", () => {
  const sidecarOnly: [string, unknown, RegExp][] = [
    ["selfMetrics", true, /selfMetrics \(ECS_EMF_SELF_METRICS\) is not available to EcsEmfExporterDaemon: daemon mode does not publish the exporter's own metrics/],
  ];
  for (const [prop, value, message] of sidecarOnly) {
    it(`refuses ${prop} passed anyway (it is not a daemon prop)`, () => {
      assert.throws(() => buildDaemon({ [prop]: value }), message);
    });
  }

  it("accepts the off values of those settings (what the daemon does anyway) and renders none of them", () => {
    const daemon = buildDaemon({ tagDimensions: [], tagsFromApi: false, selfMetrics: false });
    for (const name of ["ECS_EMF_TAG_DIMENSIONS", "ECS_EMF_TAGS_FROM_API", "ECS_EMF_TAGS_REFRESH", "ECS_EMF_SELF_METRICS"]) {
      assert.equal(daemon.environment[name], undefined, name);
    }
  });

  it("refuses ECS_EMF_SELF_METRICS in extraEnvironment", () => {
    assert.throws(() => buildDaemon({ extraEnvironment: { ECS_EMF_SELF_METRICS: "x" } }), /extraEnvironment must not set ECS_EMF_SELF_METRICS: daemon mode/);
  });

  // The tag settings are props: through extraEnvironment they would bypass the IAM statements
  // and the dashboard's dimensions.
  for (const name of ["ECS_EMF_TAG_DIMENSIONS", "ECS_EMF_TAGS_FROM_API", "ECS_EMF_TAGS_REFRESH"]) {
    it(`refuses ${name} in extraEnvironment (a prop of its own)`, () => {
      assert.throws(() => buildDaemon({ extraEnvironment: { [name]: "x" } }), new RegExp(`extraEnvironment must not set ${name}; use the construct's own setting`));
    });
  }

  const managed: [string, RegExp][] = [
    ["ECS_EMF_CGROUP_ROOT", /mounts the host's cgroup tree/],
    ["ECS_EMF_SERVICE_FROM_API", /use serviceFromApi/],
    ["ECS_EMF_HEALTH_FILE", /puts it on a tmpfs at \/run\/ecs-emf-exporter/],
    ["DOCKER_HOST", /mounts the host's Docker socket/],
    ["ECS_EMF_INTROSPECTION_URI", /host network/],
    ["ECS_EMF_OUTPUT", /use the construct's own setting/],
  ];
  for (const [name, why] of managed) {
    it(`refuses ${name} in extraEnvironment (the construct sets it or is built for its default)`, () => {
      assert.throws(() => buildDaemon({ extraEnvironment: { [name]: "x" } }), why);
    });
  }
});

describe("daemon task role", () => {
  it("gets exactly ecs:DescribeTasks on the cluster's tasks, conditioned on the cluster, for stdout output", () => {
    assert.deepEqual(taskRoleStatements(synthDaemon()), [DESCRIBE_TASKS]);
  });

  it("gets no policy with serviceFromApi false and stdout output", () => {
    const fixture = synthDaemon({ serviceFromApi: false });
    assert.deepEqual(taskRoleStatements(fixture), []);
  });

  it("gets PutMetricData limited to the namespace for cloudwatch output, next to DescribeTasks", () => {
    assert.deepEqual(taskRoleStatements(synthDaemon({ output: ExporterOutput.CLOUDWATCH, namespace: "Shop/Hosts" })), [
      {
        Action: "cloudwatch:PutMetricData",
        Condition: { StringEquals: { "cloudwatch:namespace": "Shop/Hosts" } },
        Effect: "Allow",
        Resource: "*",
      },
      DESCRIBE_TASKS,
    ]);
  });

  it("gets only DescribeTasks for agent output", () => {
    assert.deepEqual(taskRoleStatements(synthDaemon({ output: ExporterOutput.AGENT })), [DESCRIBE_TASKS]);
  });

  it("derives the resource and the condition from a cluster ARN known only at deploy time", () => {
    const stack = new Stack(new App(), "TokenCluster", { env: TEST_ENV });
    const cluster = new ecs.Cluster(stack, "Cluster");
    const daemon = new EcsEmfExporterDaemon(stack, "Daemon", { cluster, image: IMAGE });
    const fixture = { stack, daemon, template: Template.fromStack(stack) };
    const clusterId = stack.getLogicalId(cluster.node.defaultChild as ecs.CfnCluster);
    const [statement] = taskRoleStatements(fixture) as { Action: string; Resource: unknown; Condition: unknown }[];
    assert.equal(statement?.Action, "ecs:DescribeTasks");
    assert.deepEqual(statement?.Condition, { ArnEquals: { "ecs:cluster": { "Fn::GetAtt": [clusterId, "Arn"] } } });
    const resource = JSON.stringify(statement?.Resource);
    assert.match(resource, /"Fn::Join"/);
    assert.match(resource, /":task\/"/);
    assert.match(resource, /"\/\*"/);
  });

  it("keeps the execution role's awslogs grant", () => {
    const { template, daemon } = synthDaemon();
    const logGroupId = Stack.of(daemon).getLogicalId(daemon.logGroup.node.defaultChild as logs.CfnLogGroup);
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: [{ Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Effect: "Allow", Resource: { "Fn::GetAtt": [logGroupId, "Arn"] } }],
      },
    });
  });
});

describe("daemon metrics", () => {
  /** What a metric renders to, for comparing the daemon's with the sidecar's. */
  function rendered(metric: cloudwatch.IMetric): unknown {
    return metric.toMetricConfig();
  }

  it("are the sidecar's: namespace, name, dimensions (ClusterName defaults to the cluster's name), unit, statistic, period", () => {
    const { daemon } = synthDaemon({ namespace: "Shop/Hosts", dashboard: { dimensionValues: { ServiceName: "api" }, containerNames: ["app"], createAlarms: false } });
    const { exporter } = synthExporter({
      namespace: "Shop/Hosts",
      selfMetrics: false,
      dashboard: { dimensionValues: { ClusterName: "prod", ServiceName: "api" }, containerNames: ["app"], createAlarms: false },
    });
    assert.deepEqual(rendered(daemon.metricCpuUtilization()), rendered(exporter.metricCpuUtilization()));
    assert.deepEqual(rendered(daemon.metricMemoryUtilization()), rendered(exporter.metricMemoryUtilization()));
    assert.deepEqual(rendered(daemon.metricRunningContainerCount()), rendered(exporter.metricRunningContainerCount()));
    assert.deepEqual(rendered(daemon.metricContainerExits("app")), rendered(exporter.metricContainerExits("app")));
    assert.deepEqual(rendered(daemon.metricTasksReporting()), rendered(exporter.metricTasksReporting()));
    // Each leaves out what the other alone publishes: the same names otherwise.
    assert.deepEqual(
      daemon.publishedMetricNames.filter((name) => !DAEMON_ONLY.includes(name)),
      exporter.publishedMetricNames.filter((name) => !NEVER_PUBLISHED.includes(name)),
    );
    const cpu = daemon.metricCpuUtilization();
    assert.equal(cpu.namespace, "Shop/Hosts");
    assert.deepEqual(cpu.dimensions, { ClusterName: "prod", ServiceName: "api" });
    assert.equal(cpu.unit, cloudwatch.Unit.PERCENT);
  });

  it("include the four CPU throttling metrics, which the sidecar's do not", () => {
    const { daemon } = synthDaemon();
    const { exporter } = synthExporter({});
    assert.deepEqual(
      DAEMON_ONLY.filter((name) => daemon.publishedMetricNames.includes(name)),
      DAEMON_ONLY,
    );
    assert.deepEqual(
      exporter.publishedMetricNames.filter((name) => name.includes("Throttled")),
      [],
    );
    for (const name of DAEMON_ONLY) {
      assert.equal(daemon.publishesMetric(name), true, name);
      assert.equal(exporter.publishesMetric(name), false, name);
    }
    // The daemon's helper gives them: ContainerName is in the default container set.
    assert.equal(daemon.metric("CpuThrottledPercent", { dimensionValues: { ServiceName: "api" } }).unit, cloudwatch.Unit.PERCENT);
    assert.equal(
      daemon.metric("ContainerCpuThrottledTime", { dimensionValues: { ServiceName: "api" }, containerName: "app" }).unit,
      cloudwatch.Unit.MILLISECONDS,
    );
  });

  it("take dimension values per call, over the defaults", () => {
    const { daemon } = synthDaemon();
    assert.deepEqual(daemon.metric("MemoryUtilized", { dimensionValues: { ServiceName: "web" } }).dimensions, { ClusterName: "prod", ServiceName: "web" });
  });

  it("are published by default: the sidecar's catalog without what daemon mode never publishes, with CPU throttling", () => {
    // The catalog (lib/metric-catalog.ts) in its order, without EphemeralStorageUtilized,
    // EphemeralStorageReserved, ImagePullTime, ClockErrorBound, ContainerRestarts and the three
    // Exporter* metrics.
    assert.deepEqual(synthDaemon().daemon.publishedMetricNames, [
      "CpuUtilized",
      "CpuReserved",
      "CpuUtilization",
      "MemoryUtilized",
      "MemoryReserved",
      "MemoryUtilization",
      "NetworkRxBytes",
      "NetworkTxBytes",
      "NetworkRxPackets",
      "NetworkTxPackets",
      "NetworkRxDropped",
      "NetworkTxDropped",
      "NetworkRxErrors",
      "NetworkTxErrors",
      "StorageReadBytes",
      "StorageWriteBytes",
      "RunningContainerCount",
      "CpuThrottledTime",
      "CpuThrottledPercent",
      "ContainerCpuUtilized",
      "ContainerCpuReserved",
      "ContainerCpuUtilization",
      "ContainerMemoryUtilized",
      "ContainerMemoryReserved",
      "ContainerMemoryUtilization",
      "ContainerNetworkRxBytes",
      "ContainerNetworkTxBytes",
      "ContainerStorageReadBytes",
      "ContainerStorageWriteBytes",
      "ContainerPidCount",
      "ContainerExits",
      "ContainerCpuThrottledTime",
      "ContainerCpuThrottledPercent",
    ]);
  });

  for (const metricName of NEVER_PUBLISHED) {
    it(`refuse ${metricName}, which the daemon never publishes, whatever the settings`, () => {
      // metrics names it explicitly: still not published.
      const { daemon } = synthDaemon({ metrics: [metricName, "RunningContainerCount"] });
      assert.equal(daemon.publishesMetric(metricName), false);
      assert.deepEqual(daemon.publishedMetricNames, ["RunningContainerCount"]);
      const containerName = metricName === "ContainerRestarts" ? { containerName: "app" } : {};
      assert.throws(
        () => daemon.metric(metricName, { dimensionValues: { ServiceName: "api" }, ...containerName }),
        new RegExp(`${metricName} is never published in daemon mode \\(.+\\): a metric of it would never see a datapoint`),
      );
    });
  }

  it("have no metricContainerRestarts() helper", () => {
    const { daemon } = synthDaemon();
    assert.equal((daemon as unknown as Record<string, unknown>)["metricContainerRestarts"], undefined);
  });

  it("refuse a metric without a value for a dimension it is published with", () => {
    const { daemon } = synthDaemon();
    assert.throws(() => daemon.metricCpuUtilization(), /need a value for dimension "ServiceName"/);
  });
});

describe("daemon dashboard and alarms", () => {
  const DASHBOARD = { dimensionValues: { ServiceName: "api" }, containerNames: ["app"] };

  it("are the sidecar construct's for the same service without what the daemon never publishes: no ephemeral storage, restarts, exporter-health or clock widget", () => {
    const daemonBody = dashboardBody(synthDaemon({ dashboard: { ...DASHBOARD, createAlarms: false } }).template);
    // The sidecar's dashboard with those metrics switched off by its own settings.
    const sidecar = synthExporter({
      selfMetrics: false,
      excludeMetrics: ["EphemeralStorage*", "ImagePullTime", "ClockErrorBound", "ContainerRestarts"],
      dashboard: { dimensionValues: { ClusterName: "prod", ServiceName: "api" }, containerNames: ["app"], createAlarms: false },
    });
    assert.deepEqual(daemonBody, dashboardBody(sidecar.template));
    assert.deepEqual(
      widgetTitles(synthDaemon({ dashboard: DASHBOARD }).template),
      ALL_TITLES.filter((title) => !NEVER_PUBLISHED_WIDGETS.includes(title)),
    );
  });

  it("name no metric the daemon never publishes in any widget line or alarm, whatever the options", () => {
    const { template } = synthDaemon({
      dashboard: { ...DASHBOARD, containerNames: ["app", "worker"], exitAlarmContainers: ["app"], minTasksReporting: 1 },
    });
    const lineMetrics = dashboardBody(template).widgets.flatMap((w) => w.properties.metrics.map((line) => line[1]));
    assert.ok(lineMetrics.includes("ContainerExits") && lineMetrics.includes("RunningContainerCount"), JSON.stringify(lineMetrics));
    assert.deepEqual(
      lineMetrics.filter((name) => typeof name === "string" && NEVER_PUBLISHED.includes(name)),
      [],
    );
    const alarmMetrics = Object.values(template.findResources("AWS::CloudWatch::Alarm")).flatMap((resource) => {
      const properties = (resource as { Properties: Json }).Properties;
      const queries = (properties["Metrics"] as { MetricStat?: { Metric: { MetricName: string } } }[] | undefined) ?? [];
      return [properties["MetricName"], ...queries.map((query) => query.MetricStat?.Metric.MetricName)].filter((name) => name !== undefined);
    });
    assert.deepEqual(alarmMetrics.sort(), ["ContainerExits", "CpuUtilization", "MemoryUtilization", "RunningContainerCount", "RunningContainerCount"]);
  });

  it("create the CPU, memory and no-data alarms by default, no exporter-errors alarm and no container alarm", () => {
    const { template, daemon } = synthDaemon({ dashboard: DASHBOARD });
    assert.deepEqual([...alarmsByMetric(template).keys()].sort(), ["CpuUtilization", "MemoryUtilization", "RunningContainerCount"]);
    const noData = onlyAlarm(template, "RunningContainerCount");
    assert.equal(noData["Statistic"], "SampleCount");
    assert.equal(noData["TreatMissingData"], "breaching");
    assert.deepEqual(noData["Dimensions"], [
      { Name: "ClusterName", Value: "prod" },
      { Name: "ServiceName", Value: "api" },
    ]);
    assert.equal(daemon.alarms?.exporterErrors, undefined);
    assert.equal(daemon.allAlarms.length, 3);
  });

  it("create exit and tasks-reporting alarms when asked", () => {
    const { template, daemon } = synthDaemon({
      dashboard: { ...DASHBOARD, exitAlarmContainers: ["app"], minTasksReporting: 2 },
    });
    const exits = onlyAlarm(template, "ContainerExits");
    assert.deepEqual(exits["Dimensions"], [
      { Name: "ClusterName", Value: "prod" },
      { Name: "ContainerName", Value: "app" },
      { Name: "ServiceName", Value: "api" },
    ]);
    assert.equal(exits["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    assert.deepEqual(daemon.alarms?.containerRestarts, {});
    assert.ok(daemon.alarms?.tasksReportingLow !== undefined);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { Threshold: 1.5, ComparisonOperator: "LessThanThreshold", Metrics: Match.anyValue() });
  });

  it("create no alarm with createAlarms false", () => {
    const { template, daemon } = synthDaemon({ dashboard: { ...DASHBOARD, createAlarms: false } });
    template.resourceCountIs("AWS::CloudWatch::Alarm", 0);
    assert.deepEqual(daemon.allAlarms, []);
  });

  it("need containerNames when containers get their own lines, and not when container metrics are off", () => {
    assert.throws(() => buildDaemon({ dashboard: { dimensionValues: { ServiceName: "api" } } }), /dashboard.containerNames must name the monitored service's containers/);
    const { template } = synthDaemon({ containerMetrics: false, dashboard: { dimensionValues: { ServiceName: "api" } } });
    assert.ok(!widgetTitles(template).includes("Container CPU (CPU units)"));
  });

  it("refuse alarm containers that could never fire", () => {
    assert.throws(
      () => buildDaemon({ excludeContainers: ["side*"], dashboard: { ...DASHBOARD, exitAlarmContainers: ["sidecar"] } }),
      /exitAlarmContainers names sidecar, which excludeContainers leaves out/,
    );
    assert.throws(
      () => buildDaemon({ containerMetrics: false, dashboard: { dimensionValues: { ServiceName: "api" }, exitAlarmContainers: ["app"], createAlarms: false } }),
      /exitAlarmContainers is set, but ContainerExits is not published/,
    );
    assert.throws(() => buildDaemon({ dashboard: { ...DASHBOARD, exitAlarmContainers: ["app", "app"] } }), /must name each container once/);
  });

  it("refuse restartAlarmContainers (passed anyway: it is not a daemon option), since the daemon never publishes ContainerRestarts", () => {
    const refusal = /dashboard\.restartAlarmContainers is not available to EcsEmfExporterDaemon: the daemon never publishes ContainerRestarts .*could never fire/;
    assert.throws(() => buildDaemon({ dashboard: { ...DASHBOARD, restartAlarmContainers: ["app"] } }), refusal);
    // With createAlarms false too: the option would be dropped silently.
    assert.throws(() => buildDaemon({ dashboard: { ...DASHBOARD, restartAlarmContainers: ["app"], createAlarms: false } }), refusal);
    // An empty list asks for what the daemon does anyway: no restart alarm.
    const daemon = buildDaemon({ dashboard: { ...DASHBOARD, restartAlarmContainers: [] } });
    assert.deepEqual(daemon.alarms?.containerRestarts, {});
    assert.equal(daemon.allAlarms.length, 3);
  });

  it("refuse a period CloudWatch alarms do not accept", () => {
    assert.throws(() => buildDaemon({ dashboard: { ...DASHBOARD, period: Duration.seconds(45) } }), /dashboard.period 45 must be 10, 30 or a multiple of 60 seconds/);
  });
});

describe("daemon tag dimensions (tagsFromApi: ecs:DescribeTasks with include=TAGS)", () => {
  const TAGS = { tagsFromApi: true, tagDimensions: ["team"] };
  const DASHBOARD = { dimensionValues: { ServiceName: "api", team: "payments" }, containerNames: ["app"] };

  it("render ECS_EMF_TAGS_FROM_API=true, the keys in the order given and the refresh in its unit", () => {
    const { template, daemon } = synthDaemon({ tagsFromApi: true, tagDimensions: ["team", "costcenter"], tagsRefresh: Duration.minutes(10) });
    const expected = {
      ECS_EMF_CGROUP_ROOT: "/host/sys/fs/cgroup",
      ECS_EMF_CONTAINER_DIMENSIONS: "ClusterName,ServiceName,ContainerName",
      ECS_EMF_DIMENSIONS: "ClusterName,ServiceName",
      ECS_EMF_HEALTH_FILE: HEALTH_FILE,
      ECS_EMF_INTERVAL: "60s",
      ECS_EMF_NAMESPACE: NS,
      ECS_EMF_OUTPUT: "stdout",
      ECS_EMF_SERVICE_FROM_API: "true",
      ECS_EMF_TAGS_FROM_API: "true",
      ECS_EMF_TAGS_REFRESH: "10m",
      ECS_EMF_TAG_DIMENSIONS: "team,costcenter",
    };
    assert.deepEqual(environmentOf(template), expected);
    assert.deepEqual(daemon.environment, expected);
  });

  it("take tagsFromApi alone (tags read, none published), the service lookup staying its own switch", () => {
    const environment = synthDaemon({ tagsFromApi: true, serviceFromApi: false }).daemon.environment;
    assert.equal(environment["ECS_EMF_TAGS_FROM_API"], "true");
    assert.equal(environment["ECS_EMF_SERVICE_FROM_API"], "false");
    assert.equal(environment["ECS_EMF_TAG_DIMENSIONS"], undefined);
    assert.equal(environment["ECS_EMF_TAGS_REFRESH"], undefined);
  });

  it("need tagsFromApi: tagDimensions without it fail construction, as the binary refuses to start", () => {
    const refusal = /tagDimensions \(ECS_EMF_TAG_DIMENSIONS\) needs tagsFromApi: true in EcsEmfExporterDaemon: .*refuses to start with tag dimensions without ECS_EMF_TAGS_FROM_API=true/;
    assert.throws(() => buildDaemon({ tagDimensions: ["team"] }), refusal);
    assert.throws(() => buildDaemon({ tagDimensions: ["team"], tagsFromApi: false }), refusal);
  });

  it("are validated with the sidecar's rules", () => {
    assert.throws(() => buildDaemon({ ...TAGS, tagDimensions: ["ServiceName"] }), /tagDimensions: dimension name "ServiceName" collides/);
    assert.throws(() => buildDaemon({ ...TAGS, tagsRefresh: Duration.seconds(5) }), /tagsRefresh .* must be a whole number of milliseconds from 10s to 24h/);
  });

  it("grant DescribeTasks and ListTagsForResource on the cluster's tasks, with the cluster condition", () => {
    assert.deepEqual(taskRoleStatements(synthDaemon(TAGS)), [DESCRIBE_TASKS, LIST_TAGS]);
    // Without the service lookup the tags still need DescribeTasks: it is how they are read.
    assert.deepEqual(taskRoleStatements(synthDaemon({ ...TAGS, serviceFromApi: false })), [DESCRIBE_TASKS, LIST_TAGS]);
    assert.deepEqual(taskRoleStatements(synthDaemon({ tagsFromApi: true, serviceFromApi: false })), [DESCRIBE_TASKS, LIST_TAGS]);
  });

  it("grant them next to PutMetricData with cloudwatch output", () => {
    assert.deepEqual(
      (taskRoleStatements(synthDaemon({ ...TAGS, output: ExporterOutput.CLOUDWATCH })) as { Action: string }[]).map((statement) => statement.Action),
      ["cloudwatch:PutMetricData", "ecs:DescribeTasks", "ecs:ListTagsForResource"],
    );
  });

  it("name the tag in every dashboard line and alarm, with the value dashboard.dimensionValues gives", () => {
    const { template, daemon } = synthDaemon({ ...TAGS, dashboard: { ...DASHBOARD, exitAlarmContainers: ["app"] } });
    // The L2 widgets write the dimensions sorted by name.
    assert.deepEqual(widget(template, "Task CPU utilization (%)").properties.metrics, [
      [NS, "CpuUtilization", "ClusterName", "prod", "ServiceName", "api", "team", "payments", { label: "CpuUtilization", period: 60 }],
      [NS, "CpuUtilization", "ClusterName", "prod", "ServiceName", "api", "team", "payments", { label: "CpuUtilization (max)", period: 60, stat: "Maximum" }],
    ]);
    const metricLines = dashboardBody(template).widgets.flatMap((w) => w.properties.metrics.filter((line) => typeof line[1] === "string"));
    assert.ok(metricLines.length > 0);
    for (const line of metricLines) {
      const at = line.indexOf("team");
      assert.ok(at > 1 && line[at + 1] === "payments", JSON.stringify(line));
    }
    assert.deepEqual(onlyAlarm(template, "CpuUtilization")["Dimensions"], [
      { Name: "ClusterName", Value: "prod" },
      { Name: "ServiceName", Value: "api" },
      { Name: "team", Value: "payments" },
    ]);
    assert.deepEqual(onlyAlarm(template, "ContainerExits")["Dimensions"], [
      { Name: "ClusterName", Value: "prod" },
      { Name: "ContainerName", Value: "app" },
      { Name: "ServiceName", Value: "api" },
      { Name: "team", Value: "payments" },
    ]);
    for (const alarm of alarmsByMetric(template).get("RunningContainerCount") ?? []) {
      assert.ok((alarm["Dimensions"] as { Name: string; Value: string }[]).some((d) => d.Name === "team" && d.Value === "payments"), JSON.stringify(alarm));
    }
    assert.deepEqual(daemon.metricCpuUtilization().dimensions, { ClusterName: "prod", ServiceName: "api", team: "payments" });
    assert.deepEqual(daemon.metricContainerExits("app").dimensions, { ClusterName: "prod", ServiceName: "api", ContainerName: "app", team: "payments" });
  });

  it("need the tag's value for the dashboard and the metric helpers", () => {
    assert.throws(
      () => buildDaemon({ ...TAGS, dashboard: { dimensionValues: { ServiceName: "api" }, containerNames: ["app"] } }),
      /the dashboard and alarms need a value for dimension "team"/,
    );
    const { daemon } = synthDaemon(TAGS);
    assert.throws(() => daemon.metricCpuUtilization({ dimensionValues: { ServiceName: "api" } }), /need a value for dimension "team"/);
  });

  it("are the sidecar's dimensions for the same tags", () => {
    const { daemon } = synthDaemon({ ...TAGS, dashboard: { ...DASHBOARD, createAlarms: false } });
    const { exporter } = synthExporter({
      tagDimensions: ["team"],
      selfMetrics: false,
      dashboard: { dimensionValues: { ClusterName: "prod", ServiceName: "api", team: "payments" }, containerNames: ["app"], createAlarms: false },
    });
    assert.deepEqual(daemon.metricCpuUtilization().toMetricConfig(), exporter.metricCpuUtilization().toMetricConfig());
    assert.deepEqual(daemon.metricContainerExits("app").toMetricConfig(), exporter.metricContainerExits("app").toMetricConfig());
  });
});
