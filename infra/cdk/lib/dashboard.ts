// The contract's dashboard (infra/README.md) as an L2 cloudwatch.Dashboard of GraphWidgets, each
// line a cloudwatch.Metric from the construct's metric factory (the exporter's namespace, the
// dimension set it publishes, the unit from the catalog). Every line whose metric is not
// published (metrics / excludeMetrics, containerMetrics, selfMetrics) is left out, and so is a
// widget left without lines. The same widget set is rendered by the Terraform module, and a drift
// checker compares both with the metrics the exporter publishes.
//
// GraphWidget renders each line as [namespace, metric, dim, value, ..., {options}] in full (never
// the "..." shorthand), with the dimensions sorted by name, "stat" left out for Average (the
// CloudWatch default) and the line's period when it is not 300 s.
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";

export type Statistic = "Average" | "Maximum" | "Minimum" | "Sum" | "SampleCount";

/** A dashboard or alarm line: which container, if any (undefined: task level, or the single
 * line over all containers when the first container set has no ContainerName). */
export interface ContainerLine {
  readonly label: string;
  readonly containerName: string | undefined;
}

/** Builds the metric of one line; never refuses a metric the caller filtered as published. */
export type LineMetric = (metricName: string, statistic: Statistic, label: string, containerName?: string) => cloudwatch.Metric;

export interface DashboardInput {
  readonly metric: LineMetric;
  readonly dashboardName: string | undefined;
  /** Token or literal; the widgets must name a region. */
  readonly region: string;
  readonly period: Duration;
  readonly cpuThreshold: number;
  readonly memoryThreshold: number;
  /** Names of the metrics the exporter publishes (ResolvedSettings.publishedMetrics). */
  readonly publishedMetrics: ReadonlySet<string>;
  /** One entry per container line. */
  readonly containers: readonly ContainerLine[];
  /** The "Tasks reporting" widget (last); none when RunningContainerCount is not published. */
  readonly tasksReporting?: TasksReportingWidgetInput;
}

/** The tasks-reporting widget: one metric math line at its own period. */
export interface TasksReportingWidgetInput {
  /** cloudwatch.MathExpression over RunningContainerCount's SampleCount. */
  readonly metric: cloudwatch.IMetric;
  readonly periodSeconds: number;
  /** The alarm threshold, shown as a horizontal line. @default none (no alarm) */
  readonly threshold?: number;
}

interface Line {
  readonly metricName: string;
  readonly statistic: Statistic;
  readonly label: string;
  readonly containerName?: string;
  /** On the right axis. */
  readonly right?: boolean;
}

interface WidgetSpec {
  readonly title: string;
  readonly lines: readonly Line[];
  /** Horizontal line at an alarm threshold. */
  readonly threshold?: { readonly label: string; readonly value: number };
}

const WIDGET_WIDTH = 12;
const WIDGET_HEIGHT = 6;
const PER_ROW = 2;

function widgetSpecs(input: DashboardInput): WidgetSpec[] {
  const task = (metricName: string, statistic: Statistic, label = metricName): Line => ({ metricName, statistic, label });
  // The contract's widgets 1-13 in order (14 is "Tasks reporting", then lateWidgetSpecs).
  return [
    { title: "Task CPU (CPU units)", lines: [task("CpuUtilized", "Average"), task("CpuReserved", "Average", "CpuReserved (reservation)")] },
    {
      title: "Task CPU utilization (%)",
      lines: [task("CpuUtilization", "Average"), task("CpuUtilization", "Maximum", "CpuUtilization (max)")],
      threshold: { label: "CPU alarm threshold", value: input.cpuThreshold },
    },
    { title: "Task memory (MiB)", lines: [task("MemoryUtilized", "Average"), task("MemoryReserved", "Average")] },
    {
      title: "Task memory utilization (%)",
      lines: [task("MemoryUtilization", "Average"), task("MemoryUtilization", "Maximum", "MemoryUtilization (max)")],
      threshold: { label: "Memory alarm threshold", value: input.memoryThreshold },
    },
    { title: "Task network (bytes/s)", lines: [task("NetworkRxBytes", "Average"), task("NetworkTxBytes", "Average")] },
    { title: "Task storage I/O (bytes per interval)", lines: [task("StorageReadBytes", "Sum"), task("StorageWriteBytes", "Sum")] },
    {
      title: "Ephemeral storage (MiB)",
      lines: [task("EphemeralStorageUtilized", "Average"), task("EphemeralStorageReserved", "Average")],
    },
    {
      title: "Container CPU (CPU units)",
      lines: [...perContainerLines(input, "ContainerCpuUtilized", "Average"), ...perContainerLines(input, "ContainerCpuReserved", "Average")],
    },
    {
      title: "Container memory (MiB)",
      lines: [...perContainerLines(input, "ContainerMemoryUtilized", "Average"), ...perContainerLines(input, "ContainerMemoryReserved", "Average")],
    },
    {
      title: "Container storage I/O (bytes per interval)",
      lines: [...perContainerLines(input, "ContainerStorageReadBytes", "Sum"), ...perContainerLines(input, "ContainerStorageWriteBytes", "Sum")],
    },
    { title: "Container restarts", lines: perContainerLines(input, "ContainerRestarts", "Sum") },
    { title: "Running containers", lines: [task("RunningContainerCount", "Minimum")] },
    {
      title: "Exporter health",
      lines: [
        task("ExporterErrors", "Sum"),
        task("ExporterDroppedDatapoints", "Sum"),
        // Milliseconds next to counts: its own axis keeps both readable.
        { ...task("ExporterCycleDuration", "Average"), right: true },
      ],
    },
  ];
}

/**
 * Widgets 15 and 16, after "Tasks reporting" so that adding them moved no other widget.
 * ContainerExits is an event metric (no datapoint when nothing exited; Sum counts the exits).
 * ClockErrorBound comes from Fargate's ClockDrift only: on EC2 the widget stays empty
 * (excludeMetrics ["ClockErrorBound"] drops it), hence the title.
 */
function lateWidgetSpecs(input: DashboardInput): WidgetSpec[] {
  return [
    { title: "Container exits", lines: perContainerLines(input, "ContainerExits", "Sum") },
    {
      title: "Clock error bound (ms, Fargate only)",
      lines: [{ metricName: "ClockErrorBound", statistic: "Maximum", label: "ClockErrorBound (max)" }],
    },
  ];
}

/** One line per container of the dashboard (a single one over all containers when the first
 * container set has no ContainerName). */
function perContainerLines(input: DashboardInput, metricName: string, statistic: Statistic): Line[] {
  return input.containers.map((container) => ({
    metricName,
    statistic,
    label: `${container.label} ${metricName}`,
    ...(container.containerName === undefined ? {} : { containerName: container.containerName }),
  }));
}

export function createDashboard(scope: Construct, id: string, input: DashboardInput): cloudwatch.Dashboard {
  const published = (specs: WidgetSpec[]) =>
    specs.map((spec) => ({ ...spec, lines: spec.lines.filter((line) => input.publishedMetrics.has(line.metricName)) })).filter((spec) => spec.lines.length > 0);
  const specs = published(widgetSpecs(input));
  const lateSpecs = published(lateWidgetSpecs(input));
  if (specs.length === 0 && lateSpecs.length === 0) {
    // CloudWatch rejects a dashboard without widgets; say why instead.
    throw new Error(
      "ecs-emf-exporter: the dashboard would be empty: metrics/excludeMetrics leave none of its metrics published; drop the dashboard option or publish more metrics",
    );
  }
  const toMetric = (line: Line) => input.metric(line.metricName, line.statistic, line.label, line.containerName);
  const graph = (spec: WidgetSpec) =>
    new cloudwatch.GraphWidget({
      title: spec.title,
      view: cloudwatch.GraphWidgetView.TIME_SERIES,
      stacked: false,
      region: input.region,
      period: input.period,
      width: WIDGET_WIDTH,
      height: WIDGET_HEIGHT,
      left: spec.lines.filter((line) => line.right !== true).map(toMetric),
      right: spec.lines.filter((line) => line.right === true).map(toMetric),
      ...(spec.threshold === undefined ? {} : { leftAnnotations: [{ label: spec.threshold.label, value: spec.threshold.value }] }),
    });
  const widgets = specs.map(graph);
  if (input.tasksReporting !== undefined) {
    // After the contract's first 13, so adding it moved no other widget.
    const tasks = input.tasksReporting;
    widgets.push(
      new cloudwatch.GraphWidget({
        title: "Tasks reporting",
        view: cloudwatch.GraphWidgetView.TIME_SERIES,
        stacked: false,
        region: input.region,
        period: Duration.seconds(tasks.periodSeconds),
        width: WIDGET_WIDTH,
        height: WIDGET_HEIGHT,
        left: [tasks.metric],
        ...(tasks.threshold === undefined ? {} : { leftAnnotations: [{ label: "Tasks reporting alarm threshold", value: tasks.threshold }] }),
      }),
    );
  }
  widgets.push(...lateSpecs.map(graph));
  const rows: cloudwatch.IWidget[][] = [];
  for (let index = 0; index < widgets.length; index += PER_ROW) {
    rows.push(widgets.slice(index, index + PER_ROW));
  }
  return new cloudwatch.Dashboard(scope, id, {
    ...(input.dashboardName === undefined ? {} : { dashboardName: input.dashboardName }),
    widgets: rows,
  });
}
