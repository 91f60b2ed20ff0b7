// The dashboard body, built as plain JSON instead of with cloudwatch.GraphWidget: the contract
// wants every metric line in the full array form with an explicit stat
// ([namespace, metric, dim, value, ..., {"stat", "label"}]) and dimensions in publishing order,
// while GraphWidget drops "stat" for Average and sorts the dimensions alphabetically. The same
// widget set is rendered by the Terraform module, and a drift checker compares both with the
// metrics the exporter publishes: every line whose metric is not published (metrics /
// excludeMetrics, containerMetrics, selfMetrics) is left out, and so is a widget left without lines.
import { DimensionPairs } from "./dimension-values";

export type Statistic = "Average" | "Maximum" | "Minimum" | "Sum";

export interface DashboardBodyInput {
  readonly namespace: string;
  /** Token or literal; the widgets must name a region. */
  readonly region: string;
  readonly periodSeconds: number;
  readonly cpuThreshold: number;
  readonly memoryThreshold: number;
  /** Names of the metrics the exporter publishes (ResolvedSettings.publishedMetrics). */
  readonly publishedMetrics: ReadonlySet<string>;
  /** Dimensions of the task and exporter lines. */
  readonly taskDimensions: DimensionPairs;
  /** One entry per container line: its label prefix and its dimensions. */
  readonly containers: readonly { readonly label: string; readonly dimensions: DimensionPairs }[];
}

interface LineOptions {
  readonly stat: Statistic;
  readonly label: string;
  readonly yAxis?: "right";
}

type MetricLine = (string | LineOptions)[];

interface Widget {
  readonly title: string;
  readonly lines: MetricLine[];
  /** Horizontal line at an alarm threshold. */
  readonly threshold?: { readonly label: string; readonly value: number };
}

const WIDGET_WIDTH = 12;
const WIDGET_HEIGHT = 6;
const GRID_COLUMNS = 24;

export function buildDashboardBody(input: DashboardBodyInput): Record<string, unknown> {
  const line = (dimensions: DimensionPairs, metric: string, options: LineOptions): MetricLine => [
    input.namespace,
    metric,
    ...dimensions.flat(),
    options,
  ];
  const task = (metric: string, stat: Statistic, label = metric): MetricLine =>
    line(input.taskDimensions, metric, { stat, label });
  const perContainer = (metric: string, stat: Statistic): MetricLine[] =>
    input.containers.map((container) => line(container.dimensions, metric, { stat, label: `${container.label} ${metric}` }));

  // The contract's widgets in order; container widgets and the exporter widget disappear with
  // their metrics (containerMetrics / selfMetrics are already applied to publishedMetrics).
  const allWidgets: Widget[] = [
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
      lines: [...perContainer("ContainerCpuUtilized", "Average"), ...perContainer("ContainerCpuReserved", "Average")],
    },
    {
      title: "Container memory (MiB)",
      lines: [...perContainer("ContainerMemoryUtilized", "Average"), ...perContainer("ContainerMemoryReserved", "Average")],
    },
    {
      title: "Container storage I/O (bytes per interval)",
      lines: [...perContainer("ContainerStorageReadBytes", "Sum"), ...perContainer("ContainerStorageWriteBytes", "Sum")],
    },
    { title: "Container restarts", lines: perContainer("ContainerRestarts", "Sum") },
    { title: "Running containers", lines: [task("RunningContainerCount", "Minimum")] },
    {
      title: "Exporter health",
      lines: [
        task("ExporterErrors", "Sum"),
        task("ExporterDroppedDatapoints", "Sum"),
        // Milliseconds next to counts: its own axis keeps both readable.
        line(input.taskDimensions, "ExporterCycleDuration", { stat: "Average", label: "ExporterCycleDuration", yAxis: "right" }),
      ],
    },
  ];
  const widgets = allWidgets
    .map((widget) => ({ ...widget, lines: widget.lines.filter((metricLine) => input.publishedMetrics.has(metricLine[1] as string)) }))
    .filter((widget) => widget.lines.length > 0);
  if (widgets.length === 0) {
    // CloudWatch rejects a dashboard without widgets; say why instead.
    throw new Error("ecs-emf-exporter: the dashboard would be empty: metrics/excludeMetrics leave none of its metrics published; drop the dashboard option or publish more metrics");
  }

  const perRow = GRID_COLUMNS / WIDGET_WIDTH;
  return {
    widgets: widgets.map((widget, index) => ({
      type: "metric",
      x: (index % perRow) * WIDGET_WIDTH,
      y: Math.floor(index / perRow) * WIDGET_HEIGHT,
      width: WIDGET_WIDTH,
      height: WIDGET_HEIGHT,
      properties: {
        title: widget.title,
        view: "timeSeries",
        stacked: false,
        region: input.region,
        period: input.periodSeconds,
        metrics: widget.lines,
        ...(widget.threshold === undefined ? {} : { annotations: { horizontal: [widget.threshold] } }),
      },
    })),
  };
}
