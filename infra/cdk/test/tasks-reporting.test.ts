// Tasks reporting: metric math over RunningContainerCount's SampleCount (no custom metric), the
// "Tasks reporting" widget and the optional "fewer than N tasks reporting" alarm. Expectations
// worked out by hand: P = max(period, ceil(interval / 60 s) * 60 s); every task publishes P / I
// samples per period, so the expression is "m1 / (P/I)" (I = 60 s, P = 300 s: "m1 / 5"; I = 30 s,
// P = 60 s: "m1 / 2") or "m1 * I / P" when P / I is not whole; the alarm fires below N - 0.5
// for all of max(3, ceil(300 / P)) periods, missing data not breaching.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Duration } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { ExtraProps, NS, PROD_API, addExporter, fargateFixture, synthExporter, widget, widgetTitles } from "./helpers";
import { tasksReportingExpression } from "../lib/tasks-reporting";

type Json = Record<string, unknown>;

const M1_LINE = (period: number) => [
  NS,
  "RunningContainerCount",
  "ClusterName",
  "prod",
  "ServiceName",
  "api",
  { label: "RunningContainerCount samples", id: "m1", visible: false, stat: "SampleCount", ...(period === 300 ? {} : { period }) },
];

function synth(props: ExtraProps = {}, dashboard: Json = {}): Template {
  return synthExporter({ ...props, dashboard: { dimensionValues: PROD_API, ...dashboard } }).template;
}

function tasksAlarms(template: Template): Json[] {
  return Object.entries(template.findResources("AWS::CloudWatch::Alarm"))
    .filter(([id]) => id.includes("TasksReportingLow"))
    .map(([, resource]) => (resource as { Properties: Json }).Properties);
}

function expressionOf(template: Template): string {
  const lines = widget(template, "Tasks reporting").properties.metrics;
  const math = lines.find((line) => line.length === 1) as [{ expression: string }];
  return math[0].expression;
}

describe("tasks reporting widget", () => {
  it("is there by default (interval 60 s, period 60 s: m1 / 1), 14th (before the exits and clock widgets), without an alarm", () => {
    const template = synth();
    assert.equal(widgetTitles(template)[13], "Tasks reporting");
    const tasks = widget(template, "Tasks reporting");
    assert.deepEqual(tasks.properties.metrics, [[{ label: "Tasks reporting", expression: "m1 / 1", period: 60 }], M1_LINE(60)]);
    assert.equal(tasks.properties.period, 60);
    assert.equal(tasks.properties.annotations, undefined);
    assert.deepEqual(tasksAlarms(template), []);
  });

  it("interval 60 s, period 300 s: m1 / 5 at 300 s", () => {
    const template = synth({}, { period: Duration.seconds(300) });
    assert.deepEqual(widget(template, "Tasks reporting").properties.metrics, [[{ label: "Tasks reporting", expression: "m1 / 5" }], M1_LINE(300)]);
    assert.equal(widget(template, "Tasks reporting").properties.period, 300);
  });

  it("interval 30 s, period 60 s: m1 / 2", () => {
    assert.equal(expressionOf(synth({ interval: Duration.seconds(30) })), "m1 / 2");
  });

  it("raises a sub-minute period to a minute (interval 10 s, period 10 s: m1 / 6 at 60 s); the other widgets keep 10 s", () => {
    const template = synth({ interval: Duration.seconds(10) }, { period: Duration.seconds(10) });
    assert.equal(expressionOf(template), "m1 / 6");
    assert.equal(widget(template, "Tasks reporting").properties.period, 60);
    assert.equal(widget(template, "Task CPU (CPU units)").properties.period, 10);
  });

  it("writes m1 * I / P when P / I is not whole (45 s in 60 s; 90 s in 120 s)", () => {
    assert.equal(expressionOf(synth({ interval: Duration.seconds(45) })), "m1 * 45 / 60");
    assert.equal(expressionOf(synth({ interval: Duration.seconds(90) })), "m1 * 90 / 120");
  });

  it("handles a millisecond interval (1500 ms in 60 s: m1 / 40)", () => {
    assert.equal(expressionOf(synth({ interval: Duration.millis(1500) })), "m1 / 40");
    assert.equal(tasksReportingExpression(1300, 60), "m1 * 1300 / 60000");
  });

  it("is left out when RunningContainerCount is filtered out", () => {
    const template = synth({ excludeMetrics: ["RunningContainerCount"] }, { noDataAlarm: false });
    assert.equal(widgetTitles(template).includes("Tasks reporting"), false);
  });
});

describe("tasks-reporting alarm (minTasksReporting)", () => {
  it("interval 60 s, period 300 s, N = 3: m1 / 5 < 2.5 for 3 of 3, missing data not breaching, field by field", () => {
    const { template, exporter } = synthExporter({ dashboard: { dimensionValues: PROD_API, period: Duration.seconds(300), minTasksReporting: 3 } });
    const alarms = tasksAlarms(template);
    assert.equal(alarms.length, 1);
    assert.deepEqual(alarms[0], {
      AlarmDescription:
        "Fewer than 3 tasks reporting (m1 / 5 below 2.5, m1 = SampleCount of RunningContainerCount) for 3 periods of 300 s (ecs-emf-exporter); no task at all is the no-data alarm's",
      ComparisonOperator: "LessThanThreshold",
      DatapointsToAlarm: 3,
      EvaluationPeriods: 3,
      Metrics: [
        { Expression: "m1 / 5", Id: "expr_1", Label: "Tasks reporting", ReturnData: true },
        {
          Id: "m1",
          Label: "RunningContainerCount samples",
          MetricStat: {
            Metric: {
              Dimensions: [
                { Name: "ClusterName", Value: "prod" },
                { Name: "ServiceName", Value: "api" },
              ],
              MetricName: "RunningContainerCount",
              Namespace: NS,
            },
            Period: 300,
            Stat: "SampleCount",
            Unit: "Count",
          },
          ReturnData: false,
        },
      ],
      Threshold: 2.5,
      TreatMissingData: "notBreaching",
    });
    assert.ok(exporter.alarms?.tasksReportingLow !== undefined && exporter.allAlarms.includes(exporter.alarms.tasksReportingLow));
    assert.deepEqual(widget(template, "Tasks reporting").properties.annotations, {
      horizontal: [{ label: "Tasks reporting alarm threshold", value: 2.5, yAxis: "left" }],
    });
  });

  it("interval 30 s, period 60 s, N = 2: m1 / 2 < 1.5 for 5 of 5 (at least five minutes)", () => {
    const [alarm] = tasksAlarms(synth({ interval: Duration.seconds(30) }, { minTasksReporting: 2 }));
    const metrics = alarm["Metrics"] as Json[];
    assert.equal(metrics[0]["Expression"], "m1 / 2");
    assert.equal((metrics[1]["MetricStat"] as Json)["Period"], 60);
    assert.equal(alarm["Threshold"], 1.5);
    assert.equal(alarm["EvaluationPeriods"], 5);
    assert.equal(alarm["DatapointsToAlarm"], 5);
  });

  it("interval 90 s: period 120 s, m1 * 90 / 120, 3 of 3", () => {
    const [alarm] = tasksAlarms(synth({ interval: Duration.seconds(90) }, { minTasksReporting: 1 }));
    assert.equal((alarm["Metrics"] as Json[])[0]["Expression"], "m1 * 90 / 120");
    assert.equal(alarm["EvaluationPeriods"], 3);
    assert.equal(alarm["Threshold"], 0.5);
  });

  it("refuses N = 0 and a fraction", () => {
    for (const minTasksReporting of [0, 2.5, -1]) {
      assert.throws(
        () => addExporter(fargateFixture(), { dashboard: { dimensionValues: PROD_API, minTasksReporting } }),
        /minTasksReporting .* must be a whole number of at least 1/,
      );
    }
  });

  it("refuses it when RunningContainerCount is filtered out", () => {
    assert.throws(
      () => addExporter(fargateFixture(), { metrics: ["Cpu*"], dashboard: { dimensionValues: PROD_API, noDataAlarm: false, minTasksReporting: 2 } }),
      /tasks-reporting alarm counts RunningContainerCount samples, which metrics\/excludeMetrics leave out/,
    );
  });

  it("refuses it with createAlarms false", () => {
    assert.throws(
      () => addExporter(fargateFixture(), { dashboard: { dimensionValues: PROD_API, createAlarms: false, minTasksReporting: 2 } }),
      /createAlarms is false/,
    );
  });
});

describe("metricTasksReporting()", () => {
  it("takes a period (interval 60 s, 600 s: m1 / 10) and refuses one shorter than the interval", () => {
    const exporter = addExporter(fargateFixture(), { interval: Duration.seconds(120), dashboard: { dimensionValues: PROD_API } });
    assert.equal(exporter.metricTasksReporting({ period: Duration.seconds(600) }).expression, "m1 / 5");
    assert.equal(exporter.metricTasksReporting().expression, "m1 / 1");
    assert.throws(() => exporter.metricTasksReporting({ period: Duration.seconds(60) }), /shorter than the interval/);
    const sixty = addExporter(fargateFixture(), { dashboard: { dimensionValues: PROD_API } });
    assert.equal(sixty.metricTasksReporting({ period: Duration.seconds(600) }).expression, "m1 / 10");
  });

  it("refuses when RunningContainerCount is not published", () => {
    const exporter = addExporter(fargateFixture(), { metrics: ["Cpu*"] });
    assert.throws(() => exporter.metricTasksReporting({ dimensionValues: PROD_API }), /leave out/);
  });
});
