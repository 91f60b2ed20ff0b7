// The contract's alarms. Each names the unit the exporter publishes the metric with (taken from
// the catalog, not typed again here): CloudWatch matches alarms to datapoints by unit too. An
// alarm on a metric the exporter does not publish (metrics / excludeMetrics, containerMetrics,
// selfMetrics) would sit in INSUFFICIENT_DATA forever, so it is not created.
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import { Statistic } from "./dashboard-body";
import { DimensionPairs, dimensionsMap } from "./dimension-values";
import { catalogMetric } from "./metric-catalog";

export interface ExporterAlarmsInput {
  readonly namespace: string;
  readonly periodSeconds: number;
  readonly cpuThreshold: number;
  readonly memoryThreshold: number;
  /** Names of the metrics the exporter publishes (ResolvedSettings.publishedMetrics). */
  readonly publishedMetrics: ReadonlySet<string>;
  readonly taskDimensions: DimensionPairs;
  /** One restart alarm per entry. */
  readonly containers: readonly { readonly label: string; readonly dimensions: DimensionPairs }[];
  readonly alarmActions: readonly cloudwatch.IAlarmAction[];
  readonly okActions: readonly cloudwatch.IAlarmAction[];
}

/** Each alarm exists only when its metric is published. */
export interface ExporterAlarms {
  readonly cpuUtilization?: cloudwatch.Alarm;
  readonly memoryUtilization?: cloudwatch.Alarm;
  /** Keyed by container line label (the container name); empty when ContainerRestarts is not published. */
  readonly containerRestarts: Readonly<Record<string, cloudwatch.Alarm>>;
  readonly exporterErrors?: cloudwatch.Alarm;
}

interface AlarmShape {
  readonly metricName: string;
  readonly statistic: Statistic;
  readonly dimensions: DimensionPairs;
  readonly threshold: number;
  /** "N of N": evaluation periods and datapoints to alarm are the same. */
  readonly periods: number;
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
        period: Duration.seconds(input.periodSeconds),
        unit: catalogMetric(shape.metricName).unit,
      }),
      threshold: shape.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: shape.periods,
      datapointsToAlarm: shape.periods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: shape.description,
    });
    created.addAlarmAction(...input.alarmActions);
    created.addOkAction(...input.okActions);
    return created;
  };

  const published = (metricName: string) => input.publishedMetrics.has(metricName);

  const cpuUtilization = published("CpuUtilization")
    ? alarm("CpuUtilizationHigh", {
        metricName: "CpuUtilization",
        statistic: "Average",
        dimensions: input.taskDimensions,
        threshold: input.cpuThreshold,
        periods: 3,
        description: `Task CPU utilization above ${input.cpuThreshold}% for 3 periods (ecs-emf-exporter)`,
      })
    : undefined;
  const memoryUtilization = published("MemoryUtilization")
    ? alarm("MemoryUtilizationHigh", {
        metricName: "MemoryUtilization",
        statistic: "Average",
        dimensions: input.taskDimensions,
        threshold: input.memoryThreshold,
        periods: 3,
        description: `Task memory utilization above ${input.memoryThreshold}% for 3 periods (ecs-emf-exporter)`,
      })
    : undefined;
  const containerRestarts: Record<string, cloudwatch.Alarm> = {};
  if (published("ContainerRestarts")) {
    for (const container of input.containers) {
      containerRestarts[container.label] = alarm(`ContainerRestarts-${container.label}`, {
        metricName: "ContainerRestarts",
        statistic: "Sum",
        dimensions: container.dimensions,
        threshold: 0,
        periods: 1,
        description: `Container ${container.label} restarted (ecs-emf-exporter)`,
      });
    }
  }
  const exporterErrors = published("ExporterErrors")
    ? alarm("ExporterErrors", {
        metricName: "ExporterErrors",
        statistic: "Sum",
        dimensions: input.taskDimensions,
        threshold: 0,
        periods: 3,
        description: "ecs-emf-exporter reported errors in 3 consecutive periods: metrics may be missing",
      })
    : undefined;
  return {
    ...(cpuUtilization === undefined ? {} : { cpuUtilization }),
    ...(memoryUtilization === undefined ? {} : { memoryUtilization }),
    containerRestarts,
    ...(exporterErrors === undefined ? {} : { exporterErrors }),
  };
}
