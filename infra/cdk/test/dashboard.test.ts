// The dashboard body: the contract's widgets, each metric line in the full array form with the
// dimension set the exporter publishes, values worked out by hand. The L2 GraphWidget renders
// a line as [namespace, metric, name, value, ..., {label, period?, stat?, yAxis?}]: dimensions
// sorted by name, "period" only when it is not 300 s, "stat" only when it is not Average (the
// CloudWatch default; statOf() reads it so).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Duration } from "aws-cdk-lib";
import { ALL_TITLES, ExtraProps, NS, PROD_API, Widget, dashboardBody, statOf, synthExporter, widget, widgetTitles } from "./helpers";

function synthDashboard(props: ExtraProps = {}, concreteEnv = true) {
  return synthExporter({ dashboard: { dimensionValues: PROD_API }, ...props }, concreteEnv).template;
}

describe("default dashboard", () => {
  const template = synthDashboard();

  it("has the contract's 16 widgets in order", () => {
    assert.deepEqual(widgetTitles(template), ALL_TITLES);
  });

  it("renders the task CPU widget with full metric lines, region and period", () => {
    assert.deepEqual(widget(template, "Task CPU (CPU units)"), {
      type: "metric",
      x: 0,
      y: 0,
      width: 12,
      height: 6,
      properties: {
        title: "Task CPU (CPU units)",
        view: "timeSeries",
        stacked: false,
        region: "eu-west-1",
        period: 60,
        // Both Average: no "stat" written.
        metrics: [
          [NS, "CpuUtilized", "ClusterName", "prod", "ServiceName", "api", { label: "CpuUtilized", period: 60 }],
          [NS, "CpuReserved", "ClusterName", "prod", "ServiceName", "api", { label: "CpuReserved (reservation)", period: 60 }],
        ],
        yAxis: {},
      } as unknown as Widget["properties"],
    });
  });

  it("draws the CPU alarm threshold on the utilization widget", () => {
    const utilization = widget(template, "Task CPU utilization (%)");
    assert.deepEqual(utilization.properties.annotations, { horizontal: [{ label: "CPU alarm threshold", value: 80, yAxis: "left" }] });
    assert.deepEqual(utilization.properties.metrics, [
      [NS, "CpuUtilization", "ClusterName", "prod", "ServiceName", "api", { label: "CpuUtilization", period: 60 }],
      [NS, "CpuUtilization", "ClusterName", "prod", "ServiceName", "api", { label: "CpuUtilization (max)", period: 60, stat: "Maximum" }],
    ]);
    assert.deepEqual(widget(template, "Task memory utilization (%)").properties.annotations, {
      horizontal: [{ label: "Memory alarm threshold", value: 80, yAxis: "left" }],
    });
  });

  it("draws one restart line per container: the task's default container and the exporter", () => {
    assert.deepEqual(widget(template, "Container restarts").properties.metrics, [
      [NS, "ContainerRestarts", "ClusterName", "prod", "ContainerName", "app", "ServiceName", "api", { label: "app ContainerRestarts", period: 60, stat: "Sum" }],
      [
        NS,
        "ContainerRestarts",
        "ClusterName",
        "prod",
        "ContainerName",
        "ecs-emf-exporter",
        "ServiceName",
        "api",
        { label: "ecs-emf-exporter ContainerRestarts", period: 60, stat: "Sum" },
      ],
    ]);
  });

  it("sums storage I/O and takes the minimum of running containers", () => {
    const stats = (title: string) => widget(template, title).properties.metrics.map((line) => [line[1], statOf(line)]);
    assert.deepEqual(stats("Task storage I/O (bytes per interval)"), [
      ["StorageReadBytes", "Sum"],
      ["StorageWriteBytes", "Sum"],
    ]);
    assert.deepEqual(stats("Running containers"), [["RunningContainerCount", "Minimum"]]);
    assert.deepEqual(stats("Exporter health"), [
      ["ExporterErrors", "Sum"],
      ["ExporterDroppedDatapoints", "Sum"],
      ["ExporterCycleDuration", "Average"],
    ]);
    // Milliseconds on their own (right) axis.
    assert.deepEqual(widget(template, "Exporter health").properties.metrics.at(-1), [
      NS, "ExporterCycleDuration", "ClusterName", "prod", "ServiceName", "api", { label: "ExporterCycleDuration", period: 60, yAxis: "right" },
    ]);
  });

  it("writes every line as [namespace, metric, name, value, ..., {label, period, stat?}], never the '...' shorthand", () => {
    const allowed = ["Average", "Maximum", "Minimum", "Sum"];
    // "Tasks reporting" (metric math, its own period) is checked in tasks-reporting.test.ts.
    for (const { properties } of dashboardBody(template).widgets.filter((w) => w.properties.title !== "Tasks reporting")) {
      for (const line of properties.metrics) {
        const options = line.at(-1) as { stat?: unknown; label?: unknown; period?: unknown };
        assert.equal(line[0], NS, properties.title);
        assert.ok(!line.includes("..."), `${properties.title}: ${JSON.stringify(line)}`);
        assert.ok(!line.includes("."), `${properties.title}: ${JSON.stringify(line)}`);
        assert.equal((line.length - 3) % 2, 0, `${properties.title}: dimensions come in name/value pairs`);
        assert.ok(line.slice(0, -1).every((part) => typeof part === "string"), `${properties.title}: ${JSON.stringify(line)}`);
        // An explicit "Average" would be redundant: GraphWidget leaves it out.
        assert.notEqual(options.stat, "Average");
        assert.ok(allowed.includes(statOf(line)), `${properties.title}: ${JSON.stringify(line)}`);
        assert.equal(typeof options.label, "string");
        assert.equal(options.period, 60, `${properties.title}: each line has the dashboard period`);
      }
    }
  });

  it("states the line count of every widget (the contract's lines, one per container where per container)", () => {
    assert.deepEqual(
      dashboardBody(template).widgets.map((w) => w.properties.metrics.length),
      // Tasks reporting: the expression and its hidden m1; container exits: one per container.
      [2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 2, 1, 3, 2, 2, 1],
    );
  });

  it("lays the widgets out two per row", () => {
    const positions = dashboardBody(template).widgets.slice(0, 4).map((w) => [w.x, w.y]);
    assert.deepEqual(positions, [
      [0, 0],
      [12, 0],
      [0, 6],
      [12, 6],
    ]);
  });
});

describe("dashboard dimensions", () => {
  it("appends tag names, then static names with their static value", () => {
    const template = synthDashboard({
      tagDimensions: ["env"],
      staticDimensions: { team: "payments" },
      dashboard: { dimensionValues: { ...PROD_API, env: "live" }, containerNames: ["web"] },
    });
    // Sorted by name: upper case before lower case.
    assert.deepEqual(widget(template, "Task memory (MiB)").properties.metrics[0], [
      NS, "MemoryUtilized", "ClusterName", "prod", "ServiceName", "api", "env", "live", "team", "payments", { label: "MemoryUtilized", period: 60 },
    ]);
    assert.deepEqual(widget(template, "Container memory (MiB)").properties.metrics, [
      [NS, "ContainerMemoryUtilized", "ClusterName", "prod", "ContainerName", "web", "ServiceName", "api", "env", "live", "team", "payments", { label: "web ContainerMemoryUtilized", period: 60 }],
      [NS, "ContainerMemoryReserved", "ClusterName", "prod", "ContainerName", "web", "ServiceName", "api", "env", "live", "team", "payments", { label: "web ContainerMemoryReserved", period: 60 }],
    ]);
  });

  it("uses only the FIRST dimension set of each level", () => {
    const template = synthDashboard({
      dimensions: [["ClusterName"], ["ClusterName", "ServiceName"]],
      containerDimensions: [["TaskDefinitionFamily", "ContainerName"], ["ClusterName"]],
      namespace: "Shop/Tasks",
      dashboard: { dimensionValues: { ClusterName: "prod", TaskDefinitionFamily: "shop" }, containerNames: ["web"], period: Duration.minutes(5) },
    });
    const network = widget(template, "Task network (bytes/s)");
    assert.equal(network.properties.period, 300);
    // 300 s is GraphWidget's default line period: not written on the line.
    assert.deepEqual(network.properties.metrics[0], ["Shop/Tasks", "NetworkRxBytes", "ClusterName", "prod", { label: "NetworkRxBytes" }]);
    assert.deepEqual(widget(template, "Container restarts").properties.metrics, [
      ["Shop/Tasks", "ContainerRestarts", "ContainerName", "web", "TaskDefinitionFamily", "shop", { label: "web ContainerRestarts", stat: "Sum" }],
    ]);
  });

  it("draws a single container line when the first container set has no ContainerName", () => {
    const template = synthDashboard({ containerDimensions: [["ClusterName", "ServiceName"]] });
    assert.deepEqual(widget(template, "Container restarts").properties.metrics, [
      [NS, "ContainerRestarts", "ClusterName", "prod", "ServiceName", "api", { label: "all-containers ContainerRestarts", period: 60, stat: "Sum" }],
    ]);
  });

  it("names the deploy-time region in an environment-agnostic stack", () => {
    const template = synthDashboard({}, false);
    assert.equal(widget(template, "Running containers").properties.region, "<Ref:AWS::Region>");
  });
});

describe("optional widgets", () => {
  it("leaves out the container widgets without container metrics", () => {
    const template = synthDashboard({ containerMetrics: false });
    assert.deepEqual(
      widgetTitles(template),
      ALL_TITLES.filter((title) => !title.startsWith("Container ")),
    );
  });

  it("leaves out the exporter widget without self metrics", () => {
    const template = synthDashboard({ selfMetrics: false });
    assert.deepEqual(widgetTitles(template), ALL_TITLES.filter((title) => title !== "Exporter health"));
    const lines = dashboardBody(template).widgets.flatMap((w) => w.properties.metrics);
    assert.ok(!lines.some((line) => String(line[1]).startsWith("Exporter")));
  });

  it("creates no dashboard (and no alarm) without the dashboard option", () => {
    const { template, exporter } = synthExporter();
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 0);
    template.resourceCountIs("AWS::CloudWatch::Alarm", 0);
    assert.equal(exporter.dashboard, undefined);
  });

  it("sets the dashboard name when given", () => {
    const { template } = synthExporter({ dashboard: { dimensionValues: PROD_API, dashboardName: "api-tasks" } });
    template.hasResourceProperties("AWS::CloudWatch::Dashboard", { DashboardName: "api-tasks" });
  });
});
