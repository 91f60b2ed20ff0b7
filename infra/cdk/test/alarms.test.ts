// Alarms: the contract's shapes, and units exactly equal to the published ones (an alarm with
// another unit never sees a datapoint); the no-data alarm; restart alarms only for containers
// whose restarts ECS reports (an enabled restart policy).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { App, Duration } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as sns from "aws-cdk-lib/aws-sns";
import {
  APP_IMAGE,
  APP_RESTART_POLICY,
  ExtraProps,
  PROD_API,
  addExporter,
  alarmsByMetric,
  fargateFixture,
  onlyAlarm,
  restartAlarmContainers,
  synthExporter,
} from "./helpers";
import { ExporterOutput } from "../lib";

const TASK_DIMENSIONS = [
  { Name: "ClusterName", Value: "prod" },
  { Name: "ServiceName", Value: "api" },
];
const COMMON = {
  Namespace: "ECS/TaskMetrics",
  Period: 60,
  ComparisonOperator: "GreaterThanThreshold",
  TreatMissingData: "notBreaching",
};

function synthAlarms(props: ExtraProps = {}, app: Partial<ecs.ContainerDefinitionOptions> = {}): Template {
  return synthExporter({ dashboard: { dimensionValues: PROD_API }, ...props }, true, app).template;
}

describe("default alarms", () => {
  const template = synthAlarms();

  it("alarms on task CPU above 80% for 3 of 3 periods, unit Percent", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      ...COMMON,
      MetricName: "CpuUtilization",
      Statistic: "Average",
      Unit: "Percent",
      Threshold: 80,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Dimensions: TASK_DIMENSIONS,
    });
  });

  it("alarms on task memory above 80% for 3 of 3 periods, unit Percent", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      ...COMMON,
      MetricName: "MemoryUtilization",
      Statistic: "Average",
      Unit: "Percent",
      Threshold: 80,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Dimensions: TASK_DIMENSIONS,
    });
  });

  it("has a restart alarm for the sidecar only (app has no restart policy), Sum > 0 in 1 of 1, unit Count", () => {
    assert.deepEqual(restartAlarmContainers(template), ["ecs-emf-exporter"]);
    for (const alarm of alarmsByMetric(template).get("ContainerRestarts") ?? []) {
      assert.equal(alarm["Unit"], "Count");
      assert.equal(alarm["Statistic"], "Sum");
      assert.equal(alarm["Threshold"], 0);
      assert.equal(alarm["EvaluationPeriods"], 1);
      assert.equal(alarm["DatapointsToAlarm"], 1);
      assert.equal(alarm["TreatMissingData"], "notBreaching");
    }
    // CDK sorts alarm dimensions by name; CloudWatch does not care about their order.
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      ...COMMON,
      MetricName: "ContainerRestarts",
      Dimensions: [
        { Name: "ClusterName", Value: "prod" },
        { Name: "ContainerName", Value: "ecs-emf-exporter" },
        { Name: "ServiceName", Value: "api" },
      ],
    });
  });

  it("alarms on exporter errors, Sum > 0 in 3 of 3, unit Count", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      ...COMMON,
      MetricName: "ExporterErrors",
      Statistic: "Sum",
      Unit: "Count",
      Threshold: 0,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Dimensions: TASK_DIMENSIONS,
    });
  });

  it("creates exactly these five alarms, each with its metric's published unit", () => {
    const units = [...alarmsByMetric(template)].flatMap(([metric, alarms]) => alarms.map((alarm) => `${metric}:${String(alarm["Unit"])}`));
    assert.deepEqual(units.sort(), [
      "ContainerRestarts:Count",
      "CpuUtilization:Percent",
      "ExporterErrors:Count",
      "MemoryUtilization:Percent",
      "RunningContainerCount:Count",
    ]);
  });

  it("states how every alarm treats missing data", () => {
    for (const alarms of alarmsByMetric(template).values()) {
      for (const alarm of alarms) {
        assert.ok(["notBreaching", "breaching"].includes(String(alarm["TreatMissingData"])), String(alarm["MetricName"]));
      }
    }
  });
});

describe("alarm options", () => {
  it("takes thresholds, period, tag and static dimensions", () => {
    const template = synthAlarms({
      tagDimensions: ["env"],
      staticDimensions: { team: "payments" },
      dashboard: { dimensionValues: { ...PROD_API, env: "live" }, cpuThreshold: 65, period: Duration.minutes(5) },
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "CpuUtilization",
      Threshold: 65,
      Period: 300,
      Dimensions: [...TASK_DIMENSIONS, { Name: "env", Value: "live" }, { Name: "team", Value: "payments" }],
    });
  });

  it("has no exporter-errors alarm without self metrics", () => {
    const byMetric = alarmsByMetric(synthAlarms({ selfMetrics: false }));
    assert.equal(byMetric.has("ExporterErrors"), false);
    assert.deepEqual([...byMetric.keys()].sort(), ["ContainerRestarts", "CpuUtilization", "MemoryUtilization", "RunningContainerCount"]);
  });

  it("has no restart alarm without container metrics, even for containers with a restart policy", () => {
    const byMetric = alarmsByMetric(synthAlarms({ containerMetrics: false }, APP_RESTART_POLICY));
    assert.deepEqual([...byMetric.keys()].sort(), ["CpuUtilization", "ExporterErrors", "MemoryUtilization", "RunningContainerCount"]);
  });

  it("creates no alarm with createAlarms false, but still the dashboard", () => {
    const template = synthAlarms({ dashboard: { dimensionValues: PROD_API, createAlarms: false } });
    template.resourceCountIs("AWS::CloudWatch::Alarm", 0);
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });

  it("wires alarm and OK actions into every alarm, and exposes the alarms", () => {
    const fixture = fargateFixture();
    const topic = new sns.Topic(fixture.stack, "Topic");
    const action = new cloudwatchActions.SnsAction(topic);
    const exporter = addExporter(fixture, { dashboard: { dimensionValues: PROD_API, alarmActions: [action], okActions: [action] } });
    const template = Template.fromStack(fixture.stack);
    const topicRef = { Ref: fixture.stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
    template.allResourcesProperties("AWS::CloudWatch::Alarm", { AlarmActions: [topicRef], OKActions: [topicRef] });
    assert.equal(exporter.allAlarms.length, 5);
    assert.deepEqual(Object.keys(exporter.alarms?.containerRestarts ?? {}), ["ecs-emf-exporter"]);
    assert.ok(exporter.alarms?.noData !== undefined && exporter.allAlarms.includes(exporter.alarms.noData));
    template.resourcePropertiesCountIs("AWS::CloudWatch::Alarm", { AlarmActions: Match.anyValue() }, 5);
  });
});

describe("no-data alarm", () => {
  const noData = (props: ExtraProps = {}) => onlyAlarm(synthAlarms(props), "RunningContainerCount");

  it("fires on no RunningContainerCount sample at all, field by field", () => {
    const alarm = noData();
    assert.equal(alarm["MetricName"], "RunningContainerCount");
    assert.equal(alarm["Namespace"], "ECS/TaskMetrics");
    // The task dimensions, as the CPU alarm has them.
    assert.deepEqual(alarm["Dimensions"], TASK_DIMENSIONS);
    assert.equal(alarm["Statistic"], "SampleCount");
    assert.equal(alarm["Unit"], "Count");
    assert.equal(alarm["ComparisonOperator"], "LessThanThreshold");
    assert.equal(alarm["Threshold"], 1);
    assert.equal(alarm["TreatMissingData"], "breaching");
    assert.equal(alarm["Period"], 60);
    assert.equal(alarm["EvaluationPeriods"], 5);
    assert.equal(alarm["DatapointsToAlarm"], 5);
    assert.match(
      String(alarm["AlarmDescription"]),
      /^The service's tasks published no RunningContainerCount for 5 periods of 60 s \(ecs-emf-exporter sidecar down, stalled, or its log delivery broken\)/,
    );
  });

  it("has the CPU alarm's dimensions, tag and static names included", () => {
    const template = synthAlarms({
      tagDimensions: ["env"],
      staticDimensions: { team: "payments" },
      dashboard: { dimensionValues: { ...PROD_API, env: "live" } },
    });
    assert.deepEqual(onlyAlarm(template, "RunningContainerCount")["Dimensions"], onlyAlarm(template, "CpuUtilization")["Dimensions"]);
    assert.deepEqual(onlyAlarm(template, "RunningContainerCount")["Dimensions"], [
      ...TASK_DIMENSIONS,
      { Name: "env", Value: "live" },
      { Name: "team", Value: "payments" },
    ]);
  });

  // period = max(dashboard period, the interval rounded up to a whole minute)
  for (const [interval, period] of [
    [Duration.seconds(60), 60],
    [Duration.minutes(5), 300],
    [Duration.seconds(90), 120],
    [Duration.seconds(1), 60],
    [Duration.millis(1500), 60],
    [Duration.hours(1), 3600],
  ] as const) {
    it(`uses a ${period} s period with interval ${interval.toHumanString()}`, () => {
      const alarm = noData({ interval });
      assert.equal(alarm["Period"], period);
      assert.match(String(alarm["AlarmDescription"]), new RegExp(`for 5 periods of ${period} s`));
    });
  }

  it("keeps a dashboard period longer than the interval, and goes up to 60 s from a shorter one", () => {
    assert.equal(noData({ dashboard: { dimensionValues: PROD_API, period: Duration.seconds(300) } })["Period"], 300);
    assert.equal(noData({ interval: Duration.minutes(5), dashboard: { dimensionValues: PROD_API, period: Duration.minutes(10) } })["Period"], 600);
    assert.equal(noData({ dashboard: { dimensionValues: PROD_API, period: Duration.seconds(10) } })["Period"], 60);
    assert.equal(noData({ interval: Duration.seconds(10), dashboard: { dimensionValues: PROD_API, period: Duration.seconds(30) } })["Period"], 60);
  });

  it("takes noDataEvaluationPeriods as N of N", () => {
    const alarm = noData({ dashboard: { dimensionValues: PROD_API, noDataEvaluationPeriods: 3 } });
    assert.equal(alarm["EvaluationPeriods"], 3);
    assert.equal(alarm["DatapointsToAlarm"], 3);
  });

  it("names the delivery path of the output in its description", () => {
    assert.match(String(noData({ output: ExporterOutput.CLOUDWATCH })["AlarmDescription"]), /or its PutMetricData calls failing\)/);
    assert.match(String(noData({ output: ExporterOutput.AGENT })["AlarmDescription"]), /or its delivery through the CloudWatch agent broken\)/);
  });

  it("is there whatever the container and self-metric settings", () => {
    const template = synthAlarms({ containerMetrics: false, selfMetrics: false, containerDimensions: [["ClusterName"]] });
    assert.equal(onlyAlarm(template, "RunningContainerCount")["Statistic"], "SampleCount");
  });

  it("is not created with noDataAlarm false", () => {
    const { template, exporter } = synthExporter({ dashboard: { dimensionValues: PROD_API, noDataAlarm: false } });
    assert.equal(alarmsByMetric(template).has("RunningContainerCount"), false);
    assert.equal(exporter.alarms?.noData, undefined);
    assert.equal(exporter.allAlarms.length, 4);
  });

  it("is not created with createAlarms false", () => {
    const { template } = synthExporter({ dashboard: { dimensionValues: PROD_API, createAlarms: false } });
    template.resourceCountIs("AWS::CloudWatch::Alarm", 0);
  });
});

describe("restart alarms", () => {
  it("alarm on app's and the sidecar's restarts when app has a restart policy", () => {
    const template = synthAlarms({}, APP_RESTART_POLICY);
    assert.deepEqual(restartAlarmContainers(template), ["app", "ecs-emf-exporter"]);
  });

  it("count a container whose restart policy is implied by its other restart settings", () => {
    // CDK renders Enabled: true when only the exit codes or the period are set.
    const template = synthAlarms({}, { restartIgnoredExitCodes: [0] });
    assert.deepEqual(restartAlarmContainers(template), ["app", "ecs-emf-exporter"]);
  });

  it("skip a container whose restart policy is explicitly disabled", () => {
    const template = synthAlarms({}, { enableRestartPolicy: false });
    assert.deepEqual(restartAlarmContainers(template), ["ecs-emf-exporter"]);
  });

  it("leave out the sidecar when its restart policy is disabled", () => {
    assert.deepEqual(restartAlarmContainers(synthAlarms({ restartPolicy: { enabled: false } })), []);
    assert.deepEqual(restartAlarmContainers(synthAlarms({ restartPolicy: { enabled: false } }, APP_RESTART_POLICY)), ["app"]);
  });

  it("look only at the dashboard's containers and the sidecar by default", () => {
    const fixture = fargateFixture();
    fixture.taskDefinition.addContainer("worker", { containerName: "worker", image: APP_IMAGE, essential: false, ...APP_RESTART_POLICY });
    const exporter = addExporter(fixture, { dashboard: { dimensionValues: PROD_API, containerNames: ["app", "worker"] } });
    assert.deepEqual(Object.keys(exporter.alarms?.containerRestarts ?? {}), ["worker", "ecs-emf-exporter"]);
  });

  it("alarm only on the containers an explicit list names", () => {
    const template = synthAlarms({ dashboard: { dimensionValues: PROD_API, restartAlarmContainers: ["app"] } }, APP_RESTART_POLICY);
    assert.deepEqual(restartAlarmContainers(template), ["app"]);
    assert.deepEqual(restartAlarmContainers(synthAlarms({ dashboard: { dimensionValues: PROD_API, restartAlarmContainers: [] } })), []);
  });

  it("fail synth when an explicit list names a container without a restart policy", () => {
    const fixture = fargateFixture();
    addExporter(fixture, { dashboard: { dimensionValues: PROD_API, restartAlarmContainers: ["app", "ecs-emf-exporter"] } });
    assert.throws(
      () => Template.fromStack(fixture.stack),
      (error: Error) =>
        error.message.includes(
          "restartAlarmContainers names app, whose container definition has no enabled restart policy: ECS reports no RestartCount for it, " +
            "ContainerRestarts is never published, and the alarm could never fire. Give it a restart policy (enableRestartPolicy) or leave it out.",
        ) && !error.message.includes("names ecs-emf-exporter"),
    );
    // The same through the app, as `cdk synth` runs it.
    const viaApp = fargateFixture();
    addExporter(viaApp, { dashboard: { dimensionValues: PROD_API, restartAlarmContainers: ["app"] } });
    assert.throws(() => (viaApp.stack.node.root as App).synth(), /restartAlarmContainers names app, whose container definition has no enabled restart policy/);
  });

  it("fail synth when an explicit list names the sidecar with its restart policy disabled", () => {
    const fixture = fargateFixture();
    addExporter(fixture, { restartPolicy: { enabled: false }, dashboard: { dimensionValues: PROD_API, restartAlarmContainers: ["ecs-emf-exporter"] } });
    assert.throws(
      () => Template.fromStack(fixture.stack),
      /restartAlarmContainers names ecs-emf-exporter, whose container definition has no enabled restart policy/,
    );
  });

  it("fail synth when an explicit list names no container of the task definition", () => {
    const fixture = fargateFixture();
    addExporter(fixture, { dashboard: { dimensionValues: PROD_API, restartAlarmContainers: ["envoy"] } });
    assert.throws(() => Template.fromStack(fixture.stack), /restartAlarmContainers names envoy, which is not a container of the task definition/);
  });

  it("check an explicit list at synth, so a container added after the construct counts", () => {
    const fixture = fargateFixture();
    const exporter = addExporter(fixture, { dashboard: { dimensionValues: PROD_API, restartAlarmContainers: ["worker"] } });
    fixture.taskDefinition.addContainer("worker", { containerName: "worker", image: APP_IMAGE, essential: false, ...APP_RESTART_POLICY });
    const template = Template.fromStack(fixture.stack);
    assert.deepEqual(restartAlarmContainers(template), ["worker"]);
    assert.deepEqual(Object.keys(exporter.alarms?.containerRestarts ?? {}), ["worker"]);
  });

  it("leave out by default a container excludeContainers leaves out (it publishes nothing)", () => {
    assert.deepEqual(restartAlarmContainers(synthAlarms({ excludeContainers: ["a?p"] }, APP_RESTART_POLICY)), ["ecs-emf-exporter"]);
    assert.deepEqual(restartAlarmContainers(synthAlarms({ excludeContainers: ["ecs-emf-*"] }, APP_RESTART_POLICY)), ["app"]);
  });

  it("reject an explicit list naming a container excludeContainers leaves out", () => {
    assert.throws(
      () =>
        addExporter(fargateFixture(true, APP_RESTART_POLICY), {
          excludeContainers: ["app"],
          dashboard: { dimensionValues: PROD_API, restartAlarmContainers: ["app"] },
        }),
      /restartAlarmContainers names app, which excludeContainers leaves out/,
    );
  });

  it("reject an explicit list naming a container twice", () => {
    assert.throws(
      () => addExporter(fargateFixture(), { dashboard: { dimensionValues: PROD_API, restartAlarmContainers: ["app", "app"] } }),
      /restartAlarmContainers must name each container once/,
    );
  });

  it("are one alarm over all containers when the first container set has no ContainerName", () => {
    const template = synthAlarms({ containerDimensions: [["ClusterName", "ServiceName"]] });
    assert.deepEqual(restartAlarmContainers(template), ["-"]);
    assert.deepEqual(onlyAlarm(template, "ContainerRestarts")["Dimensions"], TASK_DIMENSIONS);
    const none = synthAlarms({ containerDimensions: [["ClusterName", "ServiceName"]], restartPolicy: { enabled: false } });
    assert.deepEqual(restartAlarmContainers(none), []);
  });

  it("keep their shape: Sum > 0 in 1 of 1, unit Count, missing data not breaching", () => {
    const template = synthAlarms({}, APP_RESTART_POLICY);
    for (const alarm of alarmsByMetric(template).get("ContainerRestarts") ?? []) {
      assert.equal(alarm["Statistic"], "Sum");
      assert.equal(alarm["ComparisonOperator"], "GreaterThanThreshold");
      assert.equal(alarm["Threshold"], 0);
      assert.equal(alarm["EvaluationPeriods"], 1);
      assert.equal(alarm["DatapointsToAlarm"], 1);
      assert.equal(alarm["Unit"], "Count");
      assert.equal(alarm["TreatMissingData"], "notBreaching");
    }
  });
});
