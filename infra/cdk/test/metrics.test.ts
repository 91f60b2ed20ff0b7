// The metric helpers: namespace, dimensions, unit and statistic of each, worked out by hand from
// the settings and the catalog (lib/metric-catalog.ts), and the refusals of a metric the
// exporter does not publish. The alarms are built from the same helpers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Duration, Lazy, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { EcsEmfExporter } from "../lib";
import { APP_RESTART_POLICY, ExtraProps, PROD_API, addExporter, alarmsByMetric, fargateFixture, onlyAlarm } from "./helpers";

function exporterWith(props: ExtraProps = {}): EcsEmfExporter {
  return addExporter(fargateFixture(), props);
}

/** The fields of a metric the tests compare. */
function shape(metric: cloudwatch.Metric) {
  return {
    namespace: metric.namespace,
    metricName: metric.metricName,
    dimensions: metric.dimensions,
    unit: metric.unit,
    statistic: metric.statistic,
    periodSeconds: metric.period.toSeconds(),
  };
}

describe("metric helpers with the default settings and a dashboard", () => {
  const exporter = exporterWith({ dashboard: { dimensionValues: PROD_API } });

  it("metricCpuUtilization: task dimensions, Percent, Average, the 60 s dashboard period", () => {
    assert.deepEqual(shape(exporter.metricCpuUtilization()), {
      namespace: "ECS/TaskMetrics",
      metricName: "CpuUtilization",
      dimensions: { ClusterName: "prod", ServiceName: "api" },
      unit: cloudwatch.Unit.PERCENT,
      statistic: "Average",
      periodSeconds: 60,
    });
  });

  it("metricMemoryUtilization: Percent, Average", () => {
    assert.deepEqual(shape(exporter.metricMemoryUtilization()), {
      namespace: "ECS/TaskMetrics",
      metricName: "MemoryUtilization",
      dimensions: { ClusterName: "prod", ServiceName: "api" },
      unit: cloudwatch.Unit.PERCENT,
      statistic: "Average",
      periodSeconds: 60,
    });
  });

  it("metricRunningContainerCount: Count, Minimum (as the dashboard draws it)", () => {
    const metric = exporter.metricRunningContainerCount();
    assert.equal(metric.unit, cloudwatch.Unit.COUNT);
    assert.equal(metric.statistic, "Minimum");
    assert.deepEqual(metric.dimensions, { ClusterName: "prod", ServiceName: "api" });
  });

  it("metricContainerRestarts: the container set with ContainerName, Count, Sum", () => {
    assert.deepEqual(shape(exporter.metricContainerRestarts("app")), {
      namespace: "ECS/TaskMetrics",
      metricName: "ContainerRestarts",
      dimensions: { ClusterName: "prod", ServiceName: "api", ContainerName: "app" },
      unit: cloudwatch.Unit.COUNT,
      statistic: "Sum",
      periodSeconds: 60,
    });
  });

  it("metricExporterErrors: Count, Sum", () => {
    const metric = exporter.metricExporterErrors();
    assert.equal(metric.unit, cloudwatch.Unit.COUNT);
    assert.equal(metric.statistic, "Sum");
  });

  it("metric(): the catalog's unit, Average by default, and the options given", () => {
    assert.deepEqual(shape(exporter.metric("ExporterCycleDuration")), {
      namespace: "ECS/TaskMetrics",
      metricName: "ExporterCycleDuration",
      dimensions: { ClusterName: "prod", ServiceName: "api" },
      unit: cloudwatch.Unit.MILLISECONDS,
      statistic: "Average",
      periodSeconds: 60,
    });
    const network = exporter.metric("NetworkRxBytes", { statistic: "Maximum", period: Duration.minutes(5), label: "rx", color: "#ff0000" });
    assert.equal(network.unit, cloudwatch.Unit.BYTES_PER_SECOND);
    assert.equal(network.statistic, "Maximum");
    assert.equal(network.period.toSeconds(), 300);
    assert.equal(network.label, "rx");
    assert.equal(network.color, "#ff0000");
    assert.equal(exporter.metric("ContainerMemoryUtilized", { containerName: "ecs-emf-exporter" }).unit, cloudwatch.Unit.MEGABYTES);
    assert.equal(exporter.metric("ImagePullTime").unit, cloudwatch.Unit.SECONDS);
  });

  it("takes dimensionValues from the options over dashboard.dimensionValues", () => {
    assert.deepEqual(exporter.metricCpuUtilization({ dimensionValues: { ServiceName: "web" } }).dimensions, { ClusterName: "prod", ServiceName: "web" });
  });

  it("exposes the namespace and the published metric names", () => {
    assert.equal(exporter.metricNamespace, "ECS/TaskMetrics");
    // The 41 of `metrics --json` without the four it lists as not published for the sidecar
    // whatever the settings (the CPU throttling metrics, daemon mode only): 21 task, 13
    // container, 3 exporter (selfMetrics defaults to true here, unlike the binary).
    assert.equal(exporter.publishedMetricNames.length, 37);
    assert.equal(exporter.publishedMetricNames[0], "CpuUtilized");
    assert.equal(exporter.publishesMetric("ExporterErrors"), true);
    const clock = exporter.metric("ClockErrorBound");
    assert.equal(clock.unit, cloudwatch.Unit.MILLISECONDS);
    assert.deepEqual(clock.dimensions, { ClusterName: "prod", ServiceName: "api" });
    assert.equal(EcsEmfExporter.TMP_VOLUME_NAME, "ecs-emf-exporter-tmp");
  });
});

describe("metric helpers follow the settings", () => {
  it("use the namespace, the first sets, tag names and static values", () => {
    const exporter = exporterWith({
      namespace: "Shop/Tasks",
      dimensions: [["ClusterName"], ["ClusterName", "ServiceName"]],
      containerDimensions: [["TaskDefinitionFamily", "ContainerName"]],
      tagDimensions: ["env"],
      staticDimensions: { team: "payments" },
      dashboard: { dimensionValues: { ClusterName: "prod", TaskDefinitionFamily: "shop", env: "live" }, period: Duration.minutes(5) },
    });
    assert.deepEqual(shape(exporter.metricCpuUtilization()), {
      namespace: "Shop/Tasks",
      metricName: "CpuUtilization",
      dimensions: { ClusterName: "prod", env: "live", team: "payments" },
      unit: cloudwatch.Unit.PERCENT,
      statistic: "Average",
      periodSeconds: 300,
    });
    assert.deepEqual(exporter.metricContainerRestarts("web").dimensions, { TaskDefinitionFamily: "shop", ContainerName: "web", env: "live", team: "payments" });
  });

  it("work without a dashboard, with dimensionValues per metric and a 60 s period", () => {
    const exporter = exporterWith();
    const metric = exporter.metricCpuUtilization({ dimensionValues: PROD_API });
    assert.deepEqual(metric.dimensions, { ClusterName: "prod", ServiceName: "api" });
    assert.equal(metric.period.toSeconds(), 60);
    assert.throws(() => exporter.metricCpuUtilization(), /the dashboard and alarms need a value for dimension "ClusterName" \(task level\); add it to dashboard.dimensionValues \(or the metric options' dimensionValues\)/);
  });

  it("give one series over all containers when the first container set has no ContainerName", () => {
    const exporter = exporterWith({ containerDimensions: [["ClusterName", "ServiceName"]], dashboard: { dimensionValues: PROD_API } });
    assert.deepEqual(exporter.metricContainerRestarts().dimensions, { ClusterName: "prod", ServiceName: "api" });
    assert.throws(
      () => exporter.metricContainerRestarts("app"),
      /the first containerDimensions set has no ContainerName, so ContainerRestarts has no per-container series; leave out containerName/,
    );
  });
});

describe("the sidecar's published metrics", () => {
  it("are the catalog in its order without the four CPU throttling metrics", () => {
    assert.deepEqual(exporterWith().publishedMetricNames, [
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
      "EphemeralStorageUtilized",
      "EphemeralStorageReserved",
      "RunningContainerCount",
      "ImagePullTime",
      "ClockErrorBound",
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
      "ContainerRestarts",
      "ContainerPidCount",
      "ContainerExits",
      "ExporterErrors",
      "ExporterDroppedDatapoints",
      "ExporterCycleDuration",
    ]);
  });

  for (const metricName of ["CpuThrottledTime", "CpuThrottledPercent", "ContainerCpuThrottledTime", "ContainerCpuThrottledPercent"]) {
    it(`leave out ${metricName}, which only daemon mode publishes, even when metrics names it`, () => {
      const exporter = exporterWith({ metrics: [metricName, "RunningContainerCount"], dashboard: { dimensionValues: PROD_API } });
      assert.deepEqual(exporter.publishedMetricNames, ["RunningContainerCount"]);
      assert.equal(exporter.publishesMetric(metricName), false);
      const containerName = metricName.startsWith("Container") ? { containerName: "app" } : {};
      assert.throws(() => exporter.metric(metricName, containerName), {
        message:
          `ecs-emf-exporter: ${metricName} is never published by the sidecar (only daemon mode publishes CPU throttling: the task metadata endpoint ` +
          'the sidecar reads serves zeros for the throttling counters, so it never reads them (docs/metrics.md, "CPU throttling")): ' +
          "a metric of it would never see a datapoint",
      });
    });
  }
});

describe("metric helpers refuse", () => {
  const exporter = exporterWith({
    excludeMetrics: ["ExporterErrors"],
    excludeContainers: ["envoy"],
    dashboard: { dimensionValues: PROD_API },
  });

  it("a metric the settings do not publish", () => {
    assert.throws(() => exporter.metricExporterErrors(), {
      message:
        "ecs-emf-exporter: ExporterErrors is not published with these settings (metrics / excludeMetrics, containerMetrics, selfMetrics): a metric of it would never see a datapoint",
    });
    assert.throws(() => exporterWith({ containerMetrics: false }).metricContainerRestarts("app"), /ContainerRestarts is not published/);
    assert.throws(() => exporterWith({ selfMetrics: false }).metric("ExporterCycleDuration"), /ExporterCycleDuration is not published/);
    assert.equal(exporter.publishesMetric("ExporterErrors"), false);
  });

  it("a name that is not an exporter metric", () => {
    assert.throws(() => exporter.metric("CPUUtilization"), /CPUUtilization is not a metric of the exporter/);
  });

  it("a container excludeContainers leaves out", () => {
    assert.throws(() => exporter.metricContainerRestarts("envoy"), /ContainerRestarts of container envoy: excludeContainers leaves it out/);
  });

  it("a container-level metric without containerName, and a task-level one with it", () => {
    assert.throws(() => exporter.metricContainerRestarts(), /ContainerRestarts is published per container \(the first containerDimensions set names ContainerName\); give containerName/);
    assert.throws(() => exporter.metricCpuUtilization({ containerName: "app" }), /CpuUtilization is a task-level metric without a ContainerName dimension; leave out containerName/);
  });

  it("a period alarms cannot use, or one whose amount is a token", () => {
    assert.throws(() => exporter.metricCpuUtilization({ period: Duration.seconds(45) }), /metric period 45 must be 10, 30 or a multiple of 60 seconds/);
    assert.throws(
      () => exporter.metricCpuUtilization({ period: Duration.seconds(Lazy.number({ produce: () => 60 })) }),
      /metric period must be known at synth time/,
    );
  });
});

describe("alarms are built from the helpers", () => {
  it("the CPU alarm renders the helper's metric", () => {
    const fixture = fargateFixture();
    const exporter = addExporter(fixture, { dashboard: { dimensionValues: PROD_API } });
    const template = Template.fromStack(fixture.stack);
    const config = exporter.metricCpuUtilization().toMetricConfig().metricStat;
    const alarm = onlyAlarm(template, "CpuUtilization");
    assert.equal(alarm["Namespace"], config?.namespace);
    assert.equal(alarm["Unit"], config?.unitFilter);
    assert.equal(alarm["Statistic"], config?.statistic);
    assert.equal(alarm["Period"], config?.period.toSeconds());
    assert.deepEqual(
      alarm["Dimensions"],
      (config?.dimensions ?? []).map((dimension) => ({ Name: dimension.name, Value: dimension.value })),
    );
  });

  it("an alarm of one's own from a helper has the published unit", () => {
    const fixture = fargateFixture(true, APP_RESTART_POLICY);
    const exporter = addExporter(fixture);
    exporter
      .metricContainerRestarts("app", { dimensionValues: PROD_API })
      .createAlarm(Stack.of(exporter), "AppRestarts", { threshold: 0, evaluationPeriods: 1 });
    const [alarm] = alarmsByMetric(Template.fromStack(fixture.stack)).get("ContainerRestarts") ?? [];
    assert.equal(alarm?.["Unit"], "Count");
    assert.equal(alarm?.["Statistic"], "Sum");
    assert.deepEqual(alarm?.["Dimensions"], [
      { Name: "ClusterName", Value: "prod" },
      { Name: "ContainerName", Value: "app" },
      { Name: "ServiceName", Value: "api" },
    ]);
  });

  it("the dashboard is an L2 cloudwatch.Dashboard", () => {
    const exporter = exporterWith({ dashboard: { dimensionValues: PROD_API } });
    assert.ok(exporter.dashboard instanceof cloudwatch.Dashboard);
  });
});
