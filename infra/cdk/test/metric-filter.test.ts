// metrics / excludeMetrics reach the dashboard and the alarms: a line, a widget left without
// lines, or an alarm for a metric the exporter does not publish is left out. Expectations are
// worked out by hand from the contract's widget list and metric catalog.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExporterMode, resolveSettings } from "../lib/settings";
import { ALL_TITLES, ExtraProps, NS, PROD_API, addExporter, alarmsByMetric, containerDefinition, dashboardBody, fargateFixture, synthExporter, widget, widgetTitles } from "./helpers";

const TASK = ["ClusterName", "prod", "ServiceName", "api"];
// GraphWidget sorts dimensions by name.
const IN_APP = ["ClusterName", "prod", "ContainerName", "app", "ServiceName", "api"];
const IN_EXPORTER = ["ClusterName", "prod", "ContainerName", "ecs-emf-exporter", "ServiceName", "api"];
// Average at the 60 s dashboard period: GraphWidget writes the period and leaves out the default stat.
const AVG = { period: 60 };

function synth(props: ExtraProps) {
  return synthExporter({ dashboard: { dimensionValues: PROD_API }, ...props });
}

function metricNames(template: Parameters<typeof dashboardBody>[0]): Set<string> {
  return new Set(dashboardBody(template).widgets.flatMap((w) => w.properties.metrics.map((line) => String(line[1]))));
}

describe("published metric set", () => {
  const published = (props: Parameters<typeof resolveSettings>[0], mode: ExporterMode = "sidecar") =>
    [...resolveSettings(props, mode).publishedMetrics].sort();

  it("keeps only the names matching metrics (the sidecar: no CpuThrottled pair, daemon mode only)", () => {
    assert.deepEqual(published({ metrics: ["Cpu*", "Memory*"] }), [
      "CpuReserved",
      "CpuUtilization",
      "CpuUtilized",
      "MemoryReserved",
      "MemoryUtilization",
      "MemoryUtilized",
    ]);
  });

  it("keeps the CpuThrottled pair in daemon mode", () => {
    assert.deepEqual(published({ metrics: ["Cpu*", "Memory*"] }, "daemon"), [
      "CpuReserved",
      "CpuThrottledPercent",
      "CpuThrottledTime",
      "CpuUtilization",
      "CpuUtilized",
      "MemoryReserved",
      "MemoryUtilization",
      "MemoryUtilized",
    ]);
  });

  it("accepts a pattern that matches only what the mode never publishes, as the binary does", () => {
    assert.deepEqual(published({ metrics: ["CpuThrottled*", "RunningContainerCount"] }), ["RunningContainerCount"]);
    assert.deepEqual(published({ metrics: ["CpuThrottled*", "RunningContainerCount"] }, "daemon"), [
      "CpuThrottledPercent",
      "CpuThrottledTime",
      "RunningContainerCount",
    ]);
  });

  it("lets excludeMetrics win over metrics", () => {
    assert.deepEqual(published({ metrics: ["Cpu*"], excludeMetrics: ["CpuReserved"] }), ["CpuUtilization", "CpuUtilized"]);
    assert.deepEqual(published({ metrics: ["Cpu*"], excludeMetrics: ["CpuReserved", "CpuThrottled*"] }, "daemon"), [
      "CpuUtilization",
      "CpuUtilized",
    ]);
  });

  it("applies the containerMetrics and selfMetrics switches too", () => {
    assert.deepEqual(
      published({ metrics: ["ContainerRestarts", "CpuUtilization", "ExporterErrors"], containerMetrics: false, selfMetrics: false }),
      ["CpuUtilization"],
    );
  });

  it("publishes the whole catalog but what the mode never publishes by default, and with an empty metrics list", () => {
    // 41 catalog names: the sidecar leaves out the 4 CPU throttling metrics (37), daemon mode the
    // 8 it cannot know (33; its constructs turn selfMetrics off anyway).
    assert.equal(published({}).length, 37);
    assert.deepEqual(published({ metrics: [] }), published({}));
    assert.equal(published({}, "daemon").length, 33);
    assert.deepEqual(published({ metrics: [] }, "daemon"), published({}, "daemon"));
  });
});

describe('excludeMetrics ["*Reserved"]', () => {
  const { template, exporter } = synth({ excludeMetrics: ["*Reserved"] });

  it("keeps every widget", () => {
    assert.deepEqual(widgetTitles(template), ALL_TITLES);
  });

  it("drops the five reservation lines and nothing else from their widgets", () => {
    assert.deepEqual(widget(template, "Task CPU (CPU units)").properties.metrics, [
      [NS, "CpuUtilized", ...TASK, { label: "CpuUtilized", ...AVG }],
    ]);
    assert.deepEqual(widget(template, "Task memory (MiB)").properties.metrics, [
      [NS, "MemoryUtilized", ...TASK, { label: "MemoryUtilized", ...AVG }],
    ]);
    assert.deepEqual(widget(template, "Ephemeral storage (MiB)").properties.metrics, [
      [NS, "EphemeralStorageUtilized", ...TASK, { label: "EphemeralStorageUtilized", ...AVG }],
    ]);
    assert.deepEqual(widget(template, "Container CPU (CPU units)").properties.metrics, [
      [NS, "ContainerCpuUtilized", ...IN_APP, { label: "app ContainerCpuUtilized", ...AVG }],
      [NS, "ContainerCpuUtilized", ...IN_EXPORTER, { label: "ecs-emf-exporter ContainerCpuUtilized", ...AVG }],
    ]);
    assert.deepEqual(widget(template, "Container memory (MiB)").properties.metrics, [
      [NS, "ContainerMemoryUtilized", ...IN_APP, { label: "app ContainerMemoryUtilized", ...AVG }],
      [NS, "ContainerMemoryUtilized", ...IN_EXPORTER, { label: "ecs-emf-exporter ContainerMemoryUtilized", ...AVG }],
    ]);
    for (const name of ["CpuReserved", "MemoryReserved", "EphemeralStorageReserved", "ContainerCpuReserved", "ContainerMemoryReserved"]) {
      assert.equal(metricNames(template).has(name), false, name);
    }
  });

  it("keeps all five alarms", () => {
    assert.deepEqual([...alarmsByMetric(template).keys()].sort(), [
      "ContainerRestarts",
      "CpuUtilization",
      "ExporterErrors",
      "MemoryUtilization",
      "RunningContainerCount",
    ]);
    assert.equal(exporter.allAlarms.length, 5);
  });
});

describe('metrics ["Cpu*", "Memory*"]', () => {
  // RunningContainerCount is left out, so the no-data alarm must be switched off (see below).
  const { template, exporter } = synth({ metrics: ["Cpu*", "Memory*"], dashboard: { dimensionValues: PROD_API, noDataAlarm: false } });

  it("renders ECS_EMF_METRICS for the sidecar", () => {
    const environment = containerDefinition(template, "ecs-emf-exporter")["Environment"] as { Name: string; Value: string }[];
    assert.deepEqual(
      environment.find((variable) => variable.Name === "ECS_EMF_METRICS"),
      { Name: "ECS_EMF_METRICS", Value: "Cpu*,Memory*" },
    );
  });

  it("leaves only the four task CPU and memory widgets, laid out two per row", () => {
    assert.deepEqual(widgetTitles(template), ["Task CPU (CPU units)", "Task CPU utilization (%)", "Task memory (MiB)", "Task memory utilization (%)"]);
    assert.deepEqual(
      dashboardBody(template).widgets.map((w) => [w.x, w.y]),
      [
        [0, 0],
        [12, 0],
        [0, 6],
        [12, 6],
      ],
    );
    assert.deepEqual([...metricNames(template)].sort(), [
      "CpuReserved",
      "CpuUtilization",
      "CpuUtilized",
      "MemoryReserved",
      "MemoryUtilization",
      "MemoryUtilized",
    ]);
  });

  it("keeps only the CPU and memory utilization alarms (no restart, exporter-errors or no-data alarm)", () => {
    assert.deepEqual([...alarmsByMetric(template).keys()].sort(), ["CpuUtilization", "MemoryUtilization"]);
    assert.equal(exporter.allAlarms.length, 2);
    assert.deepEqual(exporter.alarms?.containerRestarts, {});
    assert.equal(exporter.alarms?.exporterErrors, undefined);
    assert.equal(exporter.alarms?.noData, undefined);
    assert.ok(exporter.alarms?.cpuUtilization !== undefined && exporter.alarms?.memoryUtilization !== undefined);
  });
});

describe("the no-data alarm and metric filters", () => {
  const REFUSAL =
    "ecs-emf-exporter: the no-data alarm watches RunningContainerCount, which metrics/excludeMetrics leave out; publish it, or set noDataAlarm: false";

  it("refuses a metrics list without RunningContainerCount", () => {
    assert.throws(() => addExporter(fargateFixture(), { metrics: ["Cpu*", "Memory*"], dashboard: { dimensionValues: PROD_API } }), {
      message: REFUSAL,
    });
  });

  it("refuses excludeMetrics matching RunningContainerCount", () => {
    assert.throws(() => addExporter(fargateFixture(), { excludeMetrics: ["Running*"], dashboard: { dimensionValues: PROD_API } }), {
      message: REFUSAL,
    });
  });

  it("accepts the same filters with noDataAlarm false", () => {
    const { template } = synth({ excludeMetrics: ["Running*"], dashboard: { dimensionValues: PROD_API, noDataAlarm: false } });
    assert.equal(alarmsByMetric(template).has("RunningContainerCount"), false);
    assert.equal(widgetTitles(template).includes("Running containers"), false);
  });

  it("accepts the filters with createAlarms false (no alarm at all)", () => {
    const { template } = synth({ metrics: ["Cpu*"], dashboard: { dimensionValues: PROD_API, createAlarms: false } });
    template.resourceCountIs("AWS::CloudWatch::Alarm", 0);
  });

  it("keeps the alarm when the metrics list publishes RunningContainerCount", () => {
    const { template } = synth({ metrics: ["Cpu*", "RunningContainerCount"] });
    assert.deepEqual([...alarmsByMetric(template).keys()].sort(), ["CpuUtilization", "RunningContainerCount"]);
  });

  it("still reports an empty dashboard first", () => {
    assert.throws(
      () => addExporter(fargateFixture(), { metrics: ["ImagePullTime"], dashboard: { dimensionValues: PROD_API } }),
      /the dashboard would be empty/,
    );
  });
});

describe('excludeMetrics ["ContainerRestarts"]', () => {
  const { template, exporter } = synth({ excludeMetrics: ["ContainerRestarts"] });

  it("removes the restart widget and moves the later widgets up", () => {
    assert.deepEqual(
      widgetTitles(template),
      ALL_TITLES.filter((title) => title !== "Container restarts"),
    );
    // 15 widgets: "Running containers" is the 11th (row 5, left), "Exporter health" the 12th, "Tasks reporting" the 13th.
    assert.deepEqual([widget(template, "Running containers").x, widget(template, "Running containers").y], [0, 30]);
    assert.deepEqual([widget(template, "Exporter health").x, widget(template, "Exporter health").y], [12, 30]);
    assert.deepEqual([widget(template, "Tasks reporting").x, widget(template, "Tasks reporting").y], [0, 36]);
  });

  it("removes every restart alarm", () => {
    assert.deepEqual([...alarmsByMetric(template).keys()].sort(), ["CpuUtilization", "ExporterErrors", "MemoryUtilization", "RunningContainerCount"]);
    assert.deepEqual(exporter.alarms?.containerRestarts, {});
    assert.equal(exporter.allAlarms.length, 4);
  });
});

describe("other filters", () => {
  it('excludeMetrics ["Exporter*"] removes the exporter widget and alarm even with selfMetrics', () => {
    const { template } = synth({ selfMetrics: true, excludeMetrics: ["Exporter*"] });
    assert.deepEqual(widgetTitles(template), ALL_TITLES.filter((title) => title !== "Exporter health"));
    assert.equal(alarmsByMetric(template).has("ExporterErrors"), false);
  });

  it('excludeMetrics ["CpuUtilization"] removes the CPU utilization widget and alarm', () => {
    const { template } = synth({ excludeMetrics: ["CpuUtilization"] });
    assert.deepEqual(
      widgetTitles(template),
      ALL_TITLES.filter((title) => title !== "Task CPU utilization (%)"),
    );
    assert.deepEqual([...alarmsByMetric(template).keys()].sort(), ["ContainerRestarts", "ExporterErrors", "MemoryUtilization", "RunningContainerCount"]);
  });

  it("fails at synth time when no dashboard metric is published", () => {
    const fixture = fargateFixture();
    assert.throws(
      () => addExporter(fixture, { metrics: ["ImagePullTime"], dashboard: { dimensionValues: PROD_API } }),
      /the dashboard would be empty/,
    );
  });

  it("needs no dashboard for a filter that leaves it empty", () => {
    const { template } = synthExporter({ metrics: ["ImagePullTime"] });
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 0);
  });
});
