// The contract's alarms. Each names the unit the exporter publishes the metric with (taken from
// the catalog, not typed again here): CloudWatch matches alarms to datapoints by unit too. An
// alarm on a metric the exporter does not publish (metrics / excludeMetrics, containerMetrics,
// selfMetrics) would sit in INSUFFICIENT_DATA forever, so it is not created. Every alarm states
// how it treats missing data: for most, no datapoint means nothing happened; for the no-data
// alarm, no datapoint is exactly what it catches.
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import { Statistic } from "./dashboard-body";
import { DimensionPairs, dimensionsMap } from "./dimension-values";
import { catalogMetric } from "./metric-catalog";

/** The no-data alarm's metric: every task's sidecar publishes it every cycle, from /task alone. */
export const NO_DATA_METRIC = "RunningContainerCount";

export interface NoDataAlarmInput {
  /** max(dashboard period, the interval rounded up to a whole minute). */
  readonly periodSeconds: number;
  /** "N of N". */
  readonly evaluationPeriods: number;
  /** What stops the datapoints besides a dead sidecar, e.g. "its log delivery broken". */
  readonly deliveryFailure: string;
}

export interface ExporterAlarmsInput {
  readonly namespace: string;
  readonly periodSeconds: number;
  readonly cpuThreshold: number;
  readonly memoryThreshold: number;
  /** Names of the metrics the exporter publishes (ResolvedSettings.publishedMetrics). */
  readonly publishedMetrics: ReadonlySet<string>;
  readonly taskDimensions: DimensionPairs;
  /**
   * One restart alarm per entry: only containers with an enabled restart policy, since ECS
   * reports RestartCount (and the exporter ContainerRestarts) for no other container.
   */
  readonly restartAlarmContainers: readonly { readonly label: string; readonly dimensions: DimensionPairs }[];
  /** The no-data alarm; none when undefined. */
  readonly noData?: NoDataAlarmInput;
  readonly alarmActions: readonly cloudwatch.IAlarmAction[];
  readonly okActions: readonly cloudwatch.IAlarmAction[];
}

/** Each alarm exists only when its metric is published. */
export interface ExporterAlarms {
  readonly cpuUtilization?: cloudwatch.Alarm;
  readonly memoryUtilization?: cloudwatch.Alarm;
  /**
   * Keyed by container name ("all-containers" when the first container dimension set has no
   * ContainerName); only containers with an enabled restart policy; empty when
   * ContainerRestarts is not published.
   */
  readonly containerRestarts: Readonly<Record<string, cloudwatch.Alarm>>;
  readonly exporterErrors?: cloudwatch.Alarm;
  /** RunningContainerCount SampleCount < 1 with missing data breaching: nothing is measured. */
  readonly noData?: cloudwatch.Alarm;
}

type AlarmStatistic = Statistic | "SampleCount";

interface AlarmShape {
  readonly metricName: string;
  readonly statistic: AlarmStatistic;
  readonly dimensions: DimensionPairs;
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  readonly threshold: number;
  /** "N of N": evaluation periods and datapoints to alarm are the same. */
  readonly periods: number;
  /** Stated by every alarm, never left to CloudWatch's default. */
  readonly treatMissingData: cloudwatch.TreatMissingData;
  /** @default the dashboard period */
  readonly periodSeconds?: number;
  readonly description: string;
}

export function createExporterAlarms(scope: Construct, input: ExporterAlarmsInput): ExporterAlarms {
  const alarm = (id: string, shape: AlarmShape): cloudwatch.Alarm => {
    const created = new cloudwatch.Alarm(scope, id, {
      metric: new cloudwatch.Metric({
        namespace: input.namespace,
        metricName: shape.metricName,
        dimensionsMap: dimensionsMap(shape.dimensions),
        statistic: shape.statistic,
        period: Duration.seconds(shape.periodSeconds ?? input.periodSeconds),
        unit: catalogMetric(shape.metricName).unit,
      }),
      threshold: shape.threshold,
      comparisonOperator: shape.comparisonOperator,
      evaluationPeriods: shape.periods,
      datapointsToAlarm: shape.periods,
      treatMissingData: shape.treatMissingData,
      alarmDescription: shape.description,
    });
    created.addAlarmAction(...input.alarmActions);
    created.addOkAction(...input.okActions);
    return created;
  };

  const published = (metricName: string) => input.publishedMetrics.has(metricName);
  const above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
  // No datapoint: nothing high, no restart, no error.
  const quietIsOk = cloudwatch.TreatMissingData.NOT_BREACHING;

  const cpuUtilization = published("CpuUtilization")
    ? alarm("CpuUtilizationHigh", {
        metricName: "CpuUtilization",
        statistic: "Average",
        dimensions: input.taskDimensions,
        comparisonOperator: above,
        threshold: input.cpuThreshold,
        periods: 3,
        treatMissingData: quietIsOk,
        description: `Task CPU utilization above ${input.cpuThreshold}% for 3 periods (ecs-emf-exporter)`,
      })
    : undefined;
  const memoryUtilization = published("MemoryUtilization")
    ? alarm("MemoryUtilizationHigh", {
        metricName: "MemoryUtilization",
        statistic: "Average",
        dimensions: input.taskDimensions,
        comparisonOperator: above,
        threshold: input.memoryThreshold,
        periods: 3,
        treatMissingData: quietIsOk,
        description: `Task memory utilization above ${input.memoryThreshold}% for 3 periods (ecs-emf-exporter)`,
      })
    : undefined;
  const containerRestarts: Record<string, cloudwatch.Alarm> = {};
  if (published("ContainerRestarts")) {
    for (const container of input.restartAlarmContainers) {
      containerRestarts[container.label] = alarm(`ContainerRestarts-${container.label}`, {
        metricName: "ContainerRestarts",
        statistic: "Sum",
        dimensions: container.dimensions,
        comparisonOperator: above,
        threshold: 0,
        periods: 1,
        // No restart means no datapoint, and that is OK.
        treatMissingData: quietIsOk,
        description: `Container ${container.label} restarted (ecs-emf-exporter)`,
      });
    }
  }
  const exporterErrors = published("ExporterErrors")
    ? alarm("ExporterErrors", {
        metricName: "ExporterErrors",
        statistic: "Sum",
        dimensions: input.taskDimensions,
        comparisonOperator: above,
        threshold: 0,
        periods: 3,
        treatMissingData: quietIsOk,
        description: "ecs-emf-exporter reported errors in 3 consecutive periods: metrics may be missing",
      })
    : undefined;
  // The construct refuses the no-data alarm when RunningContainerCount is not published.
  const noData = input.noData === undefined ? undefined : noDataAlarm(alarm, input.taskDimensions, input.noData);
  return {
    ...(cpuUtilization === undefined ? {} : { cpuUtilization }),
    ...(memoryUtilization === undefined ? {} : { memoryUtilization }),
    containerRestarts,
    ...(exporterErrors === undefined ? {} : { exporterErrors }),
    ...(noData === undefined ? {} : { noData }),
  };
}

/**
 * SampleCount < 1 with missing data breaching: a period without a single RunningContainerCount
 * datapoint from any of the service's tasks is the state to catch, since the other alarms stay
 * green (not breaching) when nothing arrives at all.
 */
function noDataAlarm(
  alarm: (id: string, shape: AlarmShape) => cloudwatch.Alarm,
  taskDimensions: DimensionPairs,
  noData: NoDataAlarmInput,
): cloudwatch.Alarm {
  const { periodSeconds, evaluationPeriods } = noData;
  return alarm("NoData", {
    metricName: NO_DATA_METRIC,
    statistic: "SampleCount",
    dimensions: taskDimensions,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    threshold: 1,
    periods: evaluationPeriods,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    periodSeconds,
    description:
      `The service's tasks published no ${NO_DATA_METRIC} for ${evaluationPeriods} periods of ${periodSeconds} s ` +
      `(ecs-emf-exporter sidecar down, stalled, or ${noData.deliveryFailure}): the dashboard and the other alarms see nothing`,
  });
}
