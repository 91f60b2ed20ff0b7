// Alarms: the contract's shapes, and units exactly equal to the published ones (an alarm with
// another unit never sees a datapoint).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as sns from "aws-cdk-lib/aws-sns";
import { ExtraProps, PROD_API, addExporter, alarmsByMetric, fargateFixture, synthExporter } from "./helpers";

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

function synthAlarms(props: ExtraProps = {}): Template {
  return synthExporter({ dashboard: { dimensionValues: PROD_API }, ...props }).template;
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

  it("has one restart alarm per container, Sum > 0 in 1 of 1, unit Count", () => {
    const restarts = alarmsByMetric(template).get("ContainerRestarts") ?? [];
    const containerOf = (alarm: Record<string, unknown>) =>
      (alarm["Dimensions"] as { Name: string; Value: string }[]).find((d) => d.Name === "ContainerName")?.Value;
    assert.deepEqual(restarts.map(containerOf).sort(), ["app", "ecs-emf-exporter"]);
    for (const alarm of restarts) {
      assert.equal(alarm["Unit"], "Count");
      assert.equal(alarm["Statistic"], "Sum");
      assert.equal(alarm["Threshold"], 0);
      assert.equal(alarm["EvaluationPeriods"], 1);
      assert.equal(alarm["DatapointsToAlarm"], 1);
      assert.equal(alarm["TreatMissingData"], "notBreaching");
    }
    // CDK sorts alarm dimensions by name; CloudWatch does not care about their order.
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ContainerRestarts",
      Dimensions: [
        { Name: "ClusterName", Value: "prod" },
        { Name: "ContainerName", Value: "app" },
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
      "ContainerRestarts:Count",
      "CpuUtilization:Percent",
      "ExporterErrors:Count",
      "MemoryUtilization:Percent",
    ]);
  });
});

describe("alarm options", () => {
  it("takes thresholds, period, tag and static dimensions", () => {
    const template = synthAlarms({
      tagDimensions: ["env"],
      staticDimensions: { team: "payments" },
      dashboard: { dimensionValues: { ...PROD_API, env: "live" }, cpuThreshold: 65, period: 300 },
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
    assert.deepEqual([...byMetric.keys()].sort(), ["ContainerRestarts", "CpuUtilization", "MemoryUtilization"]);
  });

  it("has no restart alarm without container metrics", () => {
    const byMetric = alarmsByMetric(synthAlarms({ containerMetrics: false }));
    assert.deepEqual([...byMetric.keys()].sort(), ["CpuUtilization", "ExporterErrors", "MemoryUtilization"]);
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
    assert.deepEqual(Object.keys(exporter.alarms?.containerRestarts ?? {}), ["app", "ecs-emf-exporter"]);
    template.resourcePropertiesCountIs("AWS::CloudWatch::Alarm", { AlarmActions: Match.anyValue() }, 5);
  });
});
