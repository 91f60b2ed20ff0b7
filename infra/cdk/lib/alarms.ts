// The contract's alarms. Each names the unit the exporter publishes the metric with (taken from
// the catalog, not typed again here): CloudWatch matches alarms to datapoints by unit too. An
// alarm on a metric the exporter does not publish (metrics / excludeMetrics, containerMetrics,
// selfMetrics) would sit in INSUFFICIENT_DATA forever, so it is not created. Every alarm states
// how it treats missing data: for most, no datapoint means nothing happened; for the no-data
// alarm, no datapoint is exactly what it catches.
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import { ContainerLine, Statistic } from "./dashboard";

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

/** The metric of one alarm, from the construct's metric factory (namespace, dimensions, unit). */
export type AlarmMetric = (metricName: string, statistic: Statistic, period: Duration, containerName?: string) => cloudwatch.Metric;

/** The tasks-reporting alarm ("fewer than N tasks reporting"). */
export interface TasksReportingAlarmInput {
  /** The metric math expression (cloudwatch.MathExpression over RunningContainerCount's SampleCount). */
  readonly metric: cloudwatch.IMetric;
  /** Its rendered expression, for the description. */
  readonly expression: string;
  /** N, a whole number >= 1. */
  readonly minTasks: number;
  /** N - 0.5. */
  readonly threshold: number;
  /** "N of N". */
  readonly evaluationPeriods: number;
  readonly periodSeconds: number;
}

export interface ExporterAlarmsInput {
  readonly metric: AlarmMetric;
  readonly periodSeconds: number;
  readonly cpuThreshold: number;
  readonly memoryThreshold: number;
  /** Names of the metrics the exporter publishes (ResolvedSettings.publishedMetrics). */
  readonly publishedMetrics: ReadonlySet<string>;
  /**
   * One restart alarm per entry: only containers with an enabled restart policy, since ECS
   * reports RestartCount (and the exporter ContainerRestarts) for no other container.
   */
  readonly restartAlarmContainers: readonly ContainerLine[];
  /**
   * One exit alarm per entry (exitAlarmContainers, checked by the construct: published, not
   * excluded, a container of the task definition). Any container's exits are counted, so no
   * restart policy is needed.
   */
  readonly exitAlarmContainers: readonly ContainerLine[];
  /** The no-data alarm; none when undefined. */
  readonly noData?: NoDataAlarmInput;
  /** The tasks-reporting alarm; none when undefined. */
  readonly tasksReporting?: TasksReportingAlarmInput;
  readonly alarmActions: readonly cloudwatch.IAlarmAction[];
  readonly okActions: readonly cloudwatch.IAlarmAction[];
}

/** The alarms the construct created; each exists only when its metric is published. */
export interface ExporterAlarms {
  /** CpuUtilization Average above cpuThreshold. @default none when CpuUtilization is not published */
  readonly cpuUtilization?: cloudwatch.Alarm;
  /** MemoryUtilization Average above memoryThreshold. @default none when MemoryUtilization is not published */
  readonly memoryUtilization?: cloudwatch.Alarm;
  /**
   * Keyed by container name ("all-containers" when the first container dimension set has no
   * ContainerName); only containers with an enabled restart policy; empty when
   * ContainerRestarts is not published.
   */
  readonly containerRestarts: { [containerName: string]: cloudwatch.Alarm };
  /**
   * ContainerExits Sum >= 1 in one period, missing data not breaching: keyed by container name
   * ("all-containers" when the first container dimension set has no ContainerName); one per
   * dashboard.exitAlarmContainers entry, empty without it.
   */
  readonly containerExits: { [containerName: string]: cloudwatch.Alarm };
  /** ExporterErrors Sum above 0. @default none when ExporterErrors is not published */
  readonly exporterErrors?: cloudwatch.Alarm;
  /** RunningContainerCount SampleCount < 1 with missing data breaching: nothing is measured. @default none with noDataAlarm false */
  readonly noData?: cloudwatch.Alarm;
  /**
   * Metric math SampleCount(RunningContainerCount) / (period / interval) below
   * minTasksReporting - 0.5, missing data not breaching (no task at all is the no-data alarm's).
   * @default none without minTasksReporting
   */
  readonly tasksReportingLow?: cloudwatch.Alarm;
}

interface AlarmShape {
  readonly metricName: string;
  readonly statistic: Statistic;
  /** The container of a restart or exit alarm (undefined: task level, or all containers). */
  readonly containerName?: string;
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
      metric: input.metric(shape.metricName, shape.statistic, Duration.seconds(shape.periodSeconds ?? input.periodSeconds), shape.containerName),
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
  // No datapoint: nothing high, no restart, no exit, no error.
  const quietIsOk = cloudwatch.TreatMissingData.NOT_BREACHING;

  const cpuUtilization = published("CpuUtilization")
    ? alarm("CpuUtilizationHigh", {
        metricName: "CpuUtilization",
        statistic: "Average",
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
        ...(container.containerName === undefined ? {} : { containerName: container.containerName }),
        comparisonOperator: above,
        threshold: 0,
        periods: 1,
        // No restart means no datapoint, and that is OK.
        treatMissingData: quietIsOk,
        description: `Container ${container.label} restarted (ecs-emf-exporter)`,
      });
    }
  }
  const containerExits: Record<string, cloudwatch.Alarm> = {};
  // The construct refuses exitAlarmContainers when ContainerExits is not published; the check
  // here only keeps the two in step.
  if (published("ContainerExits")) {
    for (const container of input.exitAlarmContainers) {
      containerExits[container.label] = alarm(`ContainerExits-${container.label}`, {
        metricName: "ContainerExits",
        statistic: "Sum",
        ...(container.containerName === undefined ? {} : { containerName: container.containerName }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        periods: 1,
        // An event metric: no exit means no datapoint, and that is OK (breaching would page for
        // every quiet period).
        treatMissingData: quietIsOk,
        description:
          container.containerName === undefined
            ? "A container exited (found STOPPED, or restarted); the first container dimension set has no ContainerName, so this counts every container (ecs-emf-exporter)"
            : `Container ${container.label} exited (found STOPPED, or restarted) (ecs-emf-exporter)`,
      });
    }
  }
  const exporterErrors = published("ExporterErrors")
    ? alarm("ExporterErrors", {
        metricName: "ExporterErrors",
        statistic: "Sum",
        comparisonOperator: above,
        threshold: 0,
        periods: 3,
        treatMissingData: quietIsOk,
        description: "ecs-emf-exporter reported errors in 3 consecutive periods: metrics may be missing",
      })
    : undefined;
  // The construct refuses the no-data alarm when RunningContainerCount is not published.
  const noData = input.noData === undefined ? undefined : noDataAlarm(alarm, input.noData);
  // The construct refuses minTasksReporting when RunningContainerCount is not published.
  let tasksReportingLow: cloudwatch.Alarm | undefined;
  if (input.tasksReporting !== undefined) {
    const shape = input.tasksReporting;
    tasksReportingLow = new cloudwatch.Alarm(scope, "TasksReportingLow", {
      metric: shape.metric,
      threshold: shape.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: shape.evaluationPeriods,
      datapointsToAlarm: shape.evaluationPeriods,
      // No datapoint at all means no task reported: the no-data alarm's (missing data breaching),
      // not a second page for the same outage.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `Fewer than ${shape.minTasks} tasks reporting (${shape.expression} below ${shape.threshold}, m1 = SampleCount of ${NO_DATA_METRIC}) ` +
        `for ${shape.evaluationPeriods} periods of ${shape.periodSeconds} s (ecs-emf-exporter); no task at all is the no-data alarm's`,
    });
    tasksReportingLow.addAlarmAction(...input.alarmActions);
    tasksReportingLow.addOkAction(...input.okActions);
  }
  return {
    ...(cpuUtilization === undefined ? {} : { cpuUtilization }),
    ...(memoryUtilization === undefined ? {} : { memoryUtilization }),
    containerRestarts,
    containerExits,
    ...(exporterErrors === undefined ? {} : { exporterErrors }),
    ...(noData === undefined ? {} : { noData }),
    ...(tasksReportingLow === undefined ? {} : { tasksReportingLow }),
  };
}

/**
 * SampleCount < 1 with missing data breaching: a period without a single RunningContainerCount
 * datapoint from any of the service's tasks is the state to catch, since the other alarms stay
 * green (not breaching) when nothing arrives at all.
 */
function noDataAlarm(
  alarm: (id: string, shape: AlarmShape) => cloudwatch.Alarm,
  noData: NoDataAlarmInput,
): cloudwatch.Alarm {
  const { periodSeconds, evaluationPeriods } = noData;
  return alarm("NoData", {
    metricName: NO_DATA_METRIC,
    statistic: "SampleCount",
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
