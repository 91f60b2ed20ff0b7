// ContainerExits and ClockErrorBound: the "Container exits" and "Clock error bound" widgets
// (15 and 16, after "Tasks reporting"), the optional exit alarms (dashboard.exitAlarmContainers:
// Sum >= 1 in one period, missing data not breaching, no restart policy needed) with their
// refusals, and metricContainerExits(). Expectations worked out by hand from infra/README.md.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { App, Duration } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ecs from "aws-cdk-lib/aws-ecs";
import {
  ALL_TITLES,
  APP_IMAGE,
  ExtraProps,
  NS,
  PROD_API,
  addExporter,
  alarmsByMetric,
  dashboardBody,
  fargateFixture,
  synthExporter,
  widget,
  widgetTitles,
} from "./helpers";

function synth(props: ExtraProps = {}, app: Partial<ecs.ContainerDefinitionOptions> = {}): Template {
  return synthExporter({ dashboard: { dimensionValues: PROD_API }, ...props }, true, app).template;
}

/** dashboard options with exitAlarmContainers (and the test dimension values). */
function exits(names: string[], more: Record<string, unknown> = {}): ExtraProps {
  return { dashboard: { dimensionValues: PROD_API, exitAlarmContainers: names, ...more } };
}

/** The ContainerName of each ContainerExits alarm, sorted ("all-containers" has none: "-"). */
function exitAlarmContainers(template: Template): string[] {
  return (alarmsByMetric(template).get("ContainerExits") ?? [])
    .map((alarm) => (alarm["Dimensions"] as { Name: string; Value: string }[]).find((d) => d.Name === "ContainerName")?.Value ?? "-")
    .sort();
}

describe("container exits and clock error bound widgets", () => {
  const template = synth();

  it("come last, after tasks reporting, so no other widget moved", () => {
    assert.deepEqual(widgetTitles(template).slice(-3), ["Tasks reporting", "Container exits", "Clock error bound (ms, Fargate only)"]);
    const at = (title: string) => [widget(template, title).x, widget(template, title).y];
    assert.deepEqual(at("Tasks reporting"), [12, 36]);
    assert.deepEqual(at("Container exits"), [0, 42]);
    assert.deepEqual(at("Clock error bound (ms, Fargate only)"), [12, 42]);
  });

  it("sum ContainerExits per container, like the restarts widget", () => {
    assert.deepEqual(widget(template, "Container exits").properties.metrics, [
      [NS, "ContainerExits", "ClusterName", "prod", "ContainerName", "app", "ServiceName", "api", { label: "app ContainerExits", period: 60, stat: "Sum" }],
      [
        NS,
        "ContainerExits",
        "ClusterName",
        "prod",
        "ContainerName",
        "ecs-emf-exporter",
        "ServiceName",
        "api",
        { label: "ecs-emf-exporter ContainerExits", period: 60, stat: "Sum" },
      ],
    ]);
  });

  it("draw the maximum ClockErrorBound at the task dimensions", () => {
    const clock = widget(template, "Clock error bound (ms, Fargate only)");
    assert.deepEqual(clock.properties.metrics, [
      [NS, "ClockErrorBound", "ClusterName", "prod", "ServiceName", "api", { label: "ClockErrorBound (max)", period: 60, stat: "Maximum" }],
    ]);
    assert.equal(clock.properties.period, 60);
  });

  it("draw a single exits line when the first container set has no ContainerName", () => {
    const shared = synth({ containerDimensions: [["ClusterName", "ServiceName"]] });
    assert.deepEqual(widget(shared, "Container exits").properties.metrics, [
      [NS, "ContainerExits", "ClusterName", "prod", "ServiceName", "api", { label: "all-containers ContainerExits", period: 60, stat: "Sum" }],
    ]);
  });

  it("leave out the exits widget without container metrics, and keep the clock widget", () => {
    const titles = widgetTitles(synth({ containerMetrics: false }));
    assert.deepEqual(titles, ALL_TITLES.filter((title) => !title.startsWith("Container ")));
    assert.equal(titles.at(-1), "Clock error bound (ms, Fargate only)");
  });

  it("are left out when the metric filters drop their metric", () => {
    assert.deepEqual(
      widgetTitles(synth({ excludeMetrics: ["ContainerExits", "ClockErrorBound"] })),
      ALL_TITLES.filter((title) => title !== "Container exits" && title !== "Clock error bound (ms, Fargate only)"),
    );
    const onlyClock = synth({ metrics: ["ClockErrorBound"], dashboard: { dimensionValues: PROD_API, noDataAlarm: false } });
    assert.deepEqual(widgetTitles(onlyClock), ["Clock error bound (ms, Fargate only)"]);
    assert.deepEqual(
      dashboardBody(onlyClock).widgets.map((w) => [w.x, w.y]),
      [[0, 0]],
    );
  });
});

describe("exit alarms", () => {
  it("are none by default", () => {
    const { template, exporter } = synthExporter({ dashboard: { dimensionValues: PROD_API } });
    assert.equal(alarmsByMetric(template).has("ContainerExits"), false);
    assert.deepEqual(exporter.alarms?.containerExits, {});
  });

  it("are one per named container, field by field, a container without a restart policy included", () => {
    const fixture = fargateFixture();
    const exporter = addExporter(fixture, exits(["app", "ecs-emf-exporter"]));
    const template = Template.fromStack(fixture.stack);
    assert.deepEqual(exitAlarmContainers(template), ["app", "ecs-emf-exporter"]);
    const app = (alarmsByMetric(template).get("ContainerExits") ?? []).find((alarm) =>
      (alarm["Dimensions"] as { Name: string; Value: string }[]).some((d) => d.Value === "app"),
    );
    assert.deepEqual(
      {
        Namespace: app?.["Namespace"],
        MetricName: app?.["MetricName"],
        Dimensions: app?.["Dimensions"],
        Statistic: app?.["Statistic"],
        Unit: app?.["Unit"],
        Period: app?.["Period"],
        ComparisonOperator: app?.["ComparisonOperator"],
        Threshold: app?.["Threshold"],
        EvaluationPeriods: app?.["EvaluationPeriods"],
        DatapointsToAlarm: app?.["DatapointsToAlarm"],
        TreatMissingData: app?.["TreatMissingData"],
      },
      {
        Namespace: NS,
        MetricName: "ContainerExits",
        Dimensions: [
          { Name: "ClusterName", Value: "prod" },
          { Name: "ContainerName", Value: "app" },
          { Name: "ServiceName", Value: "api" },
        ],
        Statistic: "Sum",
        Unit: "Count",
        Period: 60,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        Threshold: 1,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: "notBreaching",
      },
    );
    assert.deepEqual(Object.keys(exporter.alarms?.containerExits ?? {}), ["app", "ecs-emf-exporter"]);
    assert.ok(exporter.allAlarms.includes(exporter.alarms?.containerExits["app"] as cloudwatch.Alarm));
    // app has no restart policy: no restart alarm, but its exit alarm.
    assert.equal(
      (alarmsByMetric(template).get("ContainerRestarts") ?? []).some((alarm) =>
        (alarm["Dimensions"] as { Name: string; Value: string }[]).some((d) => d.Value === "app"),
      ),
      false,
    );
  });

  it("take the dashboard period", () => {
    const template = synth(exits(["app"], { period: Duration.minutes(5) }));
    assert.equal((alarmsByMetric(template).get("ContainerExits") ?? [])[0]?.["Period"], 300);
  });

  it("are one alarm over all containers when the first container set has no ContainerName", () => {
    const { template, exporter } = synthExporter({ containerDimensions: [["ClusterName", "ServiceName"]], ...exits(["app"]) });
    assert.deepEqual(exitAlarmContainers(template), ["-"]);
    assert.deepEqual(Object.keys(exporter.alarms?.containerExits ?? {}), ["all-containers"]);
  });

  it("are not created with createAlarms false", () => {
    const template = synth(exits(["app"], { createAlarms: false }));
    template.resourceCountIs("AWS::CloudWatch::Alarm", 0);
  });

  it("check the names at synth, so a container added after the construct counts", () => {
    const fixture = fargateFixture();
    addExporter(fixture, exits(["worker"]));
    fixture.taskDefinition.addContainer("worker", { containerName: "worker", image: APP_IMAGE, essential: false });
    assert.deepEqual(exitAlarmContainers(Template.fromStack(fixture.stack)), ["worker"]);
  });
});

describe("exit alarms refuse", () => {
  it("a name that is not a container of the task definition, at synth", () => {
    const fixture = fargateFixture();
    addExporter(fixture, exits(["app", "envoy"]));
    assert.throws(
      () => (fixture.stack.node.root as App).synth(),
      (error: Error) =>
        error.message.includes(
          "exitAlarmContainers names envoy, which is not a container of the task definition: ContainerExits is never published for it, and the alarm could never fire.",
        ) && !error.message.includes("names app"),
    );
  });

  it("a container excludeContainers leaves out", () => {
    assert.throws(
      () => addExporter(fargateFixture(), { excludeContainers: ["a?p"], ...exits(["app"]) }),
      {
        message:
          "ecs-emf-exporter: exitAlarmContainers names app, which excludeContainers leaves out: the exporter publishes no ContainerExits for it, and the alarm could never fire",
      },
    );
  });

  it("container metrics off", () => {
    assert.throws(
      () => addExporter(fargateFixture(), { containerMetrics: false, ...exits(["app"]) }),
      /dashboard.exitAlarmContainers is set, but containerMetrics is false: ContainerExits is never published/,
    );
  });

  it("metric filters that leave ContainerExits out", () => {
    const refusal = /dashboard.exitAlarmContainers is set, but metrics\/excludeMetrics leave ContainerExits out/;
    assert.throws(() => addExporter(fargateFixture(), { excludeMetrics: ["*Exits"], ...exits(["app"]) }), refusal);
    assert.throws(() => addExporter(fargateFixture(), { metrics: ["Cpu*", "RunningContainerCount", "ContainerRestarts"], ...exits(["app"]) }), refusal);
  });

  it("the same name twice, or an empty one", () => {
    assert.throws(() => addExporter(fargateFixture(), exits(["app", "app"])), /dashboard.exitAlarmContainers must name each container once/);
    assert.throws(() => addExporter(fargateFixture(), exits([" "])), /dashboard.exitAlarmContainers must name each container once/);
  });

  it("even with createAlarms false", () => {
    assert.throws(
      () => addExporter(fargateFixture(), { containerMetrics: false, ...exits(["app"], { createAlarms: false }) }),
      /containerMetrics is false/,
    );
  });
});

describe("metricContainerExits", () => {
  const exporter = addExporter(fargateFixture(), { excludeContainers: ["envoy"], dashboard: { dimensionValues: PROD_API } });

  it("is the container set with ContainerName, Count, Sum, the dashboard period", () => {
    const metric = exporter.metricContainerExits("app");
    assert.deepEqual(
      { namespace: metric.namespace, metricName: metric.metricName, dimensions: metric.dimensions, unit: metric.unit, statistic: metric.statistic, period: metric.period.toSeconds() },
      {
        namespace: NS,
        metricName: "ContainerExits",
        dimensions: { ClusterName: "prod", ServiceName: "api", ContainerName: "app" },
        unit: cloudwatch.Unit.COUNT,
        statistic: "Sum",
        period: 60,
      },
    );
  });

  it("refuses what the other helpers refuse", () => {
    assert.throws(() => exporter.metricContainerExits("envoy"), /ContainerExits of container envoy: excludeContainers leaves it out/);
    assert.throws(() => exporter.metricContainerExits(), /ContainerExits is published per container/);
    assert.throws(() => addExporter(fargateFixture(), { excludeMetrics: ["ContainerExits"] }).metricContainerExits("app"), /ContainerExits is not published/);
  });

  it("is one series over all containers when the first container set has no ContainerName", () => {
    const shared = addExporter(fargateFixture(), { containerDimensions: [["ClusterName", "ServiceName"]], dashboard: { dimensionValues: PROD_API } });
    assert.deepEqual(shared.metricContainerExits().dimensions, { ClusterName: "prod", ServiceName: "api" });
  });
});

describe("ContainerExits documents' properties", () => {
  it("are names a tag or static dimension may not take", () => {
    assert.throws(() => addExporter(fargateFixture(), { staticDimensions: { ExitCode: "x" } }), /staticDimensions: dimension name "ExitCode" collides/);
    assert.throws(() => addExporter(fargateFixture(), { tagDimensions: ["FinishedAt"] }), /tagDimensions: dimension name "FinishedAt" collides/);
    assert.throws(() => addExporter(fargateFixture(), { tagDimensions: ["ContainerExits"] }), /tagDimensions: dimension name "ContainerExits" collides/);
    // The introspection API's properties and dimension: the binary refuses these names too.
    for (const name of ["ContainerInstanceArn", "AgentVersion", "ContainerInstanceId"]) {
      assert.throws(() => addExporter(fargateFixture(), { tagDimensions: [name] }), new RegExp(`dimension name "${name}" collides`));
    }
  });
});
