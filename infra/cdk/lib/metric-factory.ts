// The one place a cloudwatch.Metric of the exporter is built, shared by the sidecar construct
// (EcsEmfExporter) and the daemon construct (EcsEmfExporterDaemon): both publish the same metric
// names, units and dimension sets, so their helpers, dashboards and alarms take their metrics
// from here. Internal: not exported from lib/index.ts.
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { NO_DATA_METRIC } from "./alarms";
import { containerSetNamesContainer, dimensionPairs, dimensionsMap } from "./dimension-values";
import type { ExporterMetricOptions, TasksReportingMetricOptions } from "./ecs-emf-exporter";
import { METRIC_CATALOG } from "./metric-catalog";
import { ResolvedSettings, containerExcluded, neverPublishedError } from "./settings";
import { periodCoveringInterval, tasksReportingExpression } from "./tasks-reporting";

/** The period in seconds: one CloudWatch alarms accept (10, 30 or a multiple of 60), known at synth time. */
export function checkPeriod(period: Duration, setting = "dashboard.period"): number {
  if (period.isUnresolved()) {
    throw new Error(`ecs-emf-exporter: ${setting} must be known at synth time (a Duration whose amount is a token cannot be checked or rendered into widgets and alarms)`);
  }
  const seconds = period.toSeconds({ integral: false });
  if (!(seconds === 10 || seconds === 30 || (Number.isInteger(seconds) && seconds > 0 && seconds % 60 === 0))) {
    throw new Error(`ecs-emf-exporter: ${setting} ${seconds} must be 10, 30 or a multiple of 60 seconds`);
  }
  return seconds;
}

/**
 * Metrics of what one exporter publishes under its resolved settings: the namespace, the
 * dimension set the dashboard and alarms use (the first configured set plus the tag and static
 * names), default dimension values and period, and the unit from the catalog.
 */
export class ExporterMetricFactory {
  constructor(
    private readonly settings: ResolvedSettings,
    private readonly defaultDimensionValues: Readonly<Record<string, string>>,
    /** A period checkPeriod accepts. */
    public readonly defaultPeriod: Duration,
  ) {}

  /** Whether the exporter publishes that metric with these settings. */
  public publishes(metricName: string): boolean {
    return this.settings.publishedMetrics.has(metricName);
  }

  /**
   * A published metric; throws for a name that is not an exporter metric, one the exporter's
   * mode never publishes (lib/settings.ts neverPublishedIn), one the settings do not publish, a
   * container excludeContainers leaves out, and a missing dimension value.
   */
  public metric(metricName: string, options: ExporterMetricOptions = {}): cloudwatch.Metric {
    const entry = METRIC_CATALOG.find((metric) => metric.name === metricName);
    if (entry === undefined) {
      throw new Error(`ecs-emf-exporter: ${metricName} is not a metric of the exporter (see \`ecs-emf-exporter metrics\`)`);
    }
    const neverPublished = neverPublishedError(this.settings.mode, metricName);
    if (neverPublished !== undefined) {
      throw neverPublished;
    }
    if (!this.settings.publishedMetrics.has(metricName)) {
      throw new Error(
        `ecs-emf-exporter: ${metricName} is not published with these settings (metrics / excludeMetrics, containerMetrics, selfMetrics): a metric of it would never see a datapoint`,
      );
    }
    const containerName = options.containerName;
    if (containerName !== undefined && containerExcluded(this.settings, containerName)) {
      throw new Error(`ecs-emf-exporter: ${metricName} of container ${containerName}: excludeContainers leaves it out, so the exporter publishes nothing for it`);
    }
    return this.lineMetric(metricName, options.statistic ?? "Average", options.period ?? this.defaultPeriod, containerName, options.label, options);
  }

  /**
   * Tasks reporting: SampleCount(RunningContainerCount) / (P / I) as metric math (see
   * lib/tasks-reporting.ts). Throws when RunningContainerCount is not published, the interval
   * is a token, or the period is shorter than the interval.
   */
  public tasksReporting(options: TasksReportingMetricOptions = {}): cloudwatch.MathExpression {
    if (!this.publishes(NO_DATA_METRIC)) {
      throw new Error(`ecs-emf-exporter: tasks reporting counts ${NO_DATA_METRIC} samples, which metrics/excludeMetrics leave out`);
    }
    const intervalMillis = this.settings.intervalMillis;
    if (intervalMillis === undefined) {
      throw new Error("ecs-emf-exporter: tasks reporting divides by the interval, which must then be known at synth time");
    }
    const periodSeconds =
      options.period === undefined ? periodCoveringInterval(this.defaultPeriod.toSeconds(), intervalMillis) : checkPeriod(options.period, "tasks reporting period");
    if (periodSeconds * 1000 < intervalMillis) {
      throw new Error(
        `ecs-emf-exporter: tasks reporting period ${periodSeconds} s is shorter than the interval (${intervalMillis} ms): a healthy task would leave periods without a sample`,
      );
    }
    const period = Duration.seconds(periodSeconds);
    return new cloudwatch.MathExpression({
      expression: tasksReportingExpression(intervalMillis, periodSeconds),
      usingMetrics: {
        m1: this.lineMetric(NO_DATA_METRIC, "SampleCount", period, undefined, "RunningContainerCount samples", {
          ...(options.dimensionValues === undefined ? {} : { dimensionValues: options.dimensionValues }),
        }),
      },
      label: options.label ?? "Tasks reporting",
      period,
    });
  }

  /** A metric of the exporter without the published-metric check (dashboard lines are filtered before). */
  public lineMetric(
    metricName: string,
    statistic: string,
    period: Duration,
    containerName: string | undefined,
    label?: string,
    extra: ExporterMetricOptions = {},
  ): cloudwatch.Metric {
    const entry = METRIC_CATALOG.find((metric) => metric.name === metricName);
    if (entry === undefined) {
      throw new Error(`ecs-emf-exporter: internal error: ${metricName} is not in the metric catalog`);
    }
    const level = entry.level === "container" ? "container" : "task";
    if (level === "task" && containerName !== undefined) {
      throw new Error(`ecs-emf-exporter: ${metricName} is a task-level metric without a ContainerName dimension; leave out containerName`);
    }
    if (level === "container") {
      const named = containerSetNamesContainer(this.settings);
      if (named && containerName === undefined) {
        throw new Error(`ecs-emf-exporter: ${metricName} is published per container (the first containerDimensions set names ContainerName); give containerName`);
      }
      if (!named && containerName !== undefined) {
        throw new Error(`ecs-emf-exporter: the first containerDimensions set has no ContainerName, so ${metricName} has no per-container series; leave out containerName`);
      }
    }
    checkPeriod(period, "metric period");
    const values = { ...this.defaultDimensionValues, ...(extra.dimensionValues ?? {}) };
    return new cloudwatch.Metric({
      namespace: this.settings.namespace,
      metricName,
      dimensionsMap: dimensionsMap(dimensionPairs(this.settings, values, level, containerName)),
      unit: entry.unit,
      statistic,
      period,
      ...(label === undefined ? {} : { label }),
      ...(extra.color === undefined ? {} : { color: extra.color }),
    });
  }
}
