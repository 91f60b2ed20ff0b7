// EcsEmfExporter: adds the ecs-emf-exporter sidecar to an ECS task definition, with the task-role
// statements its output needs, and optionally a CloudWatch dashboard and alarms over what it
// publishes. Renders what the shared rendering contract (infra/README.md) and the Terraform
// module render (dashboard lines in GraphWidget's form, see lib/dashboard.ts). Its public API
// (lib/index.ts) is jsii-compatible: check.sh compiles it with jsii.
import { Arn, ArnFormat, Duration, RemovalPolicy, Size, Stack, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ExporterAlarms, NO_DATA_METRIC, NoDataAlarmInput, createExporterAlarms } from "./alarms";
import { ContainerLine, createDashboard } from "./dashboard";
import { tasksReportingEvaluationPeriods, periodCoveringInterval, tasksReportingThreshold } from "./tasks-reporting";
import { containerSetNamesContainer } from "./dimension-values";
import { ExporterMetricFactory, checkPeriod } from "./metric-factory";
import { ExporterOutput, ExporterSettings, ResolvedSettings, containerExcluded, publishedInCatalogOrder, renderEnvironment, resolveSettings } from "./settings";

/** Mounted read-write on /tmp (the health file lives there) when the root is read-only. */
const TMP_VOLUME_NAME = "ecs-emf-exporter-tmp";
const DEFAULT_PERIOD_SECONDS = 60;
const BINARY = "/ecs-emf-exporter";
const EXPORTER_USER = "65532:65532";
/** ECS accepts at most this many ignored exit codes, and attempt periods of 60..1800 s. */
const MAX_IGNORED_EXIT_CODES = 50;
const MIN_RESTART_ATTEMPT_SECONDS = 60;
const MAX_RESTART_ATTEMPT_SECONDS = 1800;
/** CloudWatch: an alarm's evaluation range (periods x period) is at most one day. */
export const MAX_ALARM_EVALUATION_SECONDS = 86_400;

/**
 * The sidecar's ECS container restart policy. ECS restarts a container that exits, unless its
 * exit code is ignored or it ran for less than restartAttemptPeriod; it does not restart the
 * containers of a task that is stopping.
 *
 * The defaults: exit 0 is the exporter's own clean stop after SIGTERM/SIGINT (it was stopped on
 * purpose), so it is ignored; every other exit (a crash, 137 from an OOM kill at the 64 MiB
 * limit) is restarted. 60 s is the smallest period ECS allows: a sidecar that ran for a minute
 * comes back, one that fails at once (exit 2, bad settings) is not restarted in a loop, and the
 * no-data alarm reports it. With a restart policy ECS also reports the container's RestartCount,
 * which the exporter publishes as ContainerRestarts (the sidecar's restart alarm).
 */
export interface ExporterRestartPolicy {
  /** false: no restart policy (and no restart alarm for the sidecar). @default true */
  readonly enabled?: boolean;
  /** Exit codes ECS does not restart on: at most 50 integers. Ignored when disabled. @default [0] */
  readonly ignoredExitCodes?: number[];
  /**
   * How long the container must have run before ECS restarts it: a whole number of seconds
   * from 60 to 1800. Ignored when disabled.
   * @default Duration.seconds(60)
   */
  readonly restartAttemptPeriod?: Duration;
}

export interface EcsEmfExporterDashboardOptions {
  /** @default a name CloudFormation generates */
  readonly dashboardName?: string;
  /** Values for every non-static dimension the first sets name, e.g. {ClusterName: "prod", ServiceName: "api"}. */
  readonly dimensionValues: Record<string, string>;
  /**
   * One container line per name (restart alarms: see restartAlarmContainers).
   * @default the task definition's default container (when there is one at construction time) and the exporter
   */
  readonly containerNames?: string[];
  /**
   * Widget and alarm period, and the default period of the metric helpers: 10 s, 30 s or a
   * multiple of 60 s, known at synth time.
   * @default Duration.seconds(60)
   */
  readonly period?: Duration;
  /** @default 80 (percent) */
  readonly cpuThreshold?: number;
  /** @default 80 (percent) */
  readonly memoryThreshold?: number;
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  readonly okActions?: cloudwatch.IAlarmAction[];
  /** @default true */
  readonly createAlarms?: boolean;
  /**
   * Alarm ("NoData") when the service's tasks publish no RunningContainerCount for
   * noDataEvaluationPeriods consecutive periods: the sidecar is down, stalled, or its delivery is
   * broken, and the dashboard and every other alarm (missing data = not breaching) stay green.
   * Its period is max(period, the interval rounded up to a whole minute). Needs
   * RunningContainerCount published (metrics / excludeMetrics).
   * @default true
   */
  readonly noDataAlarm?: boolean;
  /**
   * "N of N" for the no-data alarm, a whole number >= 2. EMF through awslogs reaches CloudWatch
   * metrics typically within a minute or two, so the latest periods may still be empty when the
   * alarm evaluates: five empty periods in a row avoid a false alarm from that delay or one
   * skipped cycle, and catch a dead sidecar within about 5-7 minutes (60 s periods).
   * @default 5
   */
  readonly noDataEvaluationPeriods?: number;
  /**
   * Alarm ("TasksReportingLow") when fewer than this many tasks report: the metric math
   * SampleCount(RunningContainerCount) / (P / I) (P = max(period, the interval rounded up to a
   * whole minute), I = interval; metricTasksReporting()) stays below N - 0.5 for all of
   * max(3, ceil(300 s / P)) periods. Missing data is not breaching: no task at all is the
   * no-data alarm's. No extra custom metric. A whole number >= 1; refused when
   * RunningContainerCount is not published (metrics / excludeMetrics), with createAlarms false,
   * or with an interval that is a token.
   * @default none (no alarm; the "Tasks reporting" widget is there whenever RunningContainerCount is published)
   */
  readonly minTasksReporting?: number;
  /**
   * Containers that get a ContainerRestarts alarm. Each must be a container of the task
   * definition with an enabled restart policy (checked at synth, so containers added after the
   * construct count): ECS reports RestartCount only then, and without it the alarm could never
   * fire. An empty list: no restart alarm.
   * @default the exporter when its restart policy is enabled, plus every container of
   *   containerNames that exists when the construct is created and has an enabled restart
   *   policy; none that excludeContainers leaves out
   */
  readonly restartAlarmContainers?: string[];
  /**
   * Containers that get a ContainerExits alarm ("ContainerExits-NAME"): Sum >= 1 in one
   * period, missing data not breaching (an event metric: no datapoint when nothing exited). Any
   * container's exits are counted (found STOPPED, or restarted), so no restart policy is needed.
   * Refused when container metrics are off or metrics / excludeMetrics leave ContainerExits out,
   * for a container excludeContainers leaves out, and (at synth, so containers added after the
   * construct count) for one that is not a container of the task definition. With createAlarms
   * false the names are still checked, and no alarm is created.
   * @default none (no exit alarm)
   */
  readonly exitAlarmContainers?: string[];
}

export interface EcsEmfExporterProps extends ExporterSettings {
  readonly taskDefinition: ecs.TaskDefinition;
  /** The exporter image (its entrypoint is the binary). */
  readonly image: ecs.ContainerImage;
  /** @default "ecs-emf-exporter" */
  readonly containerName?: string;
  /** @default 16 (CPU units) */
  readonly cpu?: number;
  /** @default 32 */
  readonly memoryReservationMiB?: number;
  /** Hard memory limit (a whole number of MiB). @default 64, unless noMemoryLimit */
  readonly memoryLimitMiB?: number;
  /** true: render no hard memory limit (then memoryLimitMiB must not be set). @default false */
  readonly noMemoryLimit?: boolean;
  /** @default true (then /tmp is a task volume the construct adds) */
  readonly readonlyRootFilesystem?: boolean;
  /**
   * The sidecar's restart policy (the sidecar is not essential: without one, a crashed exporter
   * stays down while the app runs on).
   * @default enabled, ignoredExitCodes [0], restartAttemptPeriod 60 s
   */
  readonly restartPolicy?: ExporterRestartPolicy;
  /** @default Size.mebibytes(4) */
  readonly awslogsMaxBufferSize?: Size;
  /** Where the container logs go; with output "stdout" the EMF metrics are extracted here.
   * @default a new log group with 30-day retention */
  readonly logGroup?: logs.ILogGroup;
  /**
   * The cluster the task runs in; required with tagsFromApi (scopes ecs:ListTagsForResource to
   * its tasks). For a cluster known only by its ARN: ecs.Cluster.fromClusterArn(this, "Cluster", arn).
   * @default none (tagsFromApi then fails construction)
   */
  readonly cluster?: ecs.ICluster;
  /** Create a dashboard (and, unless createAlarms is false, alarms) over the published metrics. */
  readonly dashboard?: EcsEmfExporterDashboardOptions;
}

/** Options of EcsEmfExporter.metricTasksReporting(). */
export interface TasksReportingMetricOptions {
  /**
   * The period P: at least the interval (a shorter one holds periods without a sample of a
   * healthy task); 10 s, 30 s or a multiple of 60 s. Best a multiple of the interval.
   * @default max(dashboard.period, the interval rounded up to a whole minute)
   */
  readonly period?: Duration;
  /** @default "Tasks reporting" */
  readonly label?: string;
  /** @default dashboard.dimensionValues */
  readonly dimensionValues?: Record<string, string>;
}

/** Options of the metric helpers (EcsEmfExporter.metric() and the metricXxx() methods). */
export interface ExporterMetricOptions {
  /** @default per helper: Average for metric() and the utilizations, Sum for counts of events, Minimum for RunningContainerCount */
  readonly statistic?: string;
  /** @default dashboard.period, else 60 seconds */
  readonly period?: Duration;
  /** @default none (CloudWatch shows the metric name) */
  readonly label?: string;
  /** @default automatic */
  readonly color?: string;
  /**
   * Values for the non-static dimensions of the set the exporter publishes, over those of
   * dashboard.dimensionValues.
   * @default dashboard.dimensionValues
   */
  readonly dimensionValues?: Record<string, string>;
  /**
   * The container of a container-level metric, when the first containerDimensions set names
   * ContainerName (required then, refused otherwise and for task-level metrics).
   * @default none
   */
  readonly containerName?: string;
}

/**
 * Adds the ecs-emf-exporter sidecar to an ECS task definition, grants its task role only what
 * the chosen output needs, and optionally creates a dashboard and alarms over the metrics it
 * publishes; the metric helpers give cloudwatch.Metric objects of those metrics.
 */
export class EcsEmfExporter extends Construct {
  /** The name of the task volume mounted read-write on /tmp when the root file system is read-only. */
  public static readonly TMP_VOLUME_NAME = TMP_VOLUME_NAME;

  public readonly container: ecs.ContainerDefinition;
  public readonly logGroup: logs.ILogGroup;
  /** The environment rendered into the container (sorted by name). */
  public readonly environment: Record<string, string>;
  /** The CloudWatch namespace the exporter publishes to. */
  public readonly metricNamespace: string;
  /**
   * The names of the metrics the exporter publishes with these settings, in catalog order (none
   * of the CPU throttling metrics, which only daemon mode publishes).
   */
  public readonly publishedMetricNames: string[];
  /** @default none without the dashboard option */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** @default none without the dashboard option, or with createAlarms false */
  public readonly alarms?: ExporterAlarms;
  /** Every alarm created, for wiring into composite alarms or notifications. */
  public readonly allAlarms: cloudwatch.Alarm[];

  private readonly defaultPeriod: Duration;
  /** Builds every metric of the helpers, the dashboard and the alarms (shared with EcsEmfExporterDaemon). */
  private readonly metricFactory: ExporterMetricFactory;

  constructor(scope: Construct, id: string, props: EcsEmfExporterProps) {
    super(scope, id);
    // The sidecar's mode leaves out what only daemon mode publishes (CPU throttling).
    const settings = resolveSettings(props, "sidecar");
    this.environment = renderEnvironment(props, settings);
    this.metricNamespace = settings.namespace;
    this.publishedMetricNames = publishedInCatalogOrder(settings);
    const periodSeconds = checkPeriod(props.dashboard?.period ?? Duration.seconds(DEFAULT_PERIOD_SECONDS));
    this.defaultPeriod = Duration.seconds(periodSeconds);
    this.metricFactory = new ExporterMetricFactory(settings, { ...(props.dashboard?.dimensionValues ?? {}) }, this.defaultPeriod);
    const restartPolicy = resolveRestartPolicy(props.restartPolicy);
    const containerName = props.containerName ?? "ecs-emf-exporter";
    // Read before our container is added; ours is not essential, so it never becomes the default.
    const appContainerName = props.taskDefinition.defaultContainer?.containerName;

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, "LogGroup", { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN });
    this.container = this.addSidecar(props, containerName, restartPolicy);
    this.grantTaskRole(props, settings);

    if (props.dashboard !== undefined) {
      const options = props.dashboard;
      const containerNames = options.containerNames ?? defaultContainerNames(appContainerName, containerName);
      const containers = containerLines(settings, containerNames);
      const noDataEvaluationPeriods = checkNoDataEvaluationPeriods(options.noDataEvaluationPeriods ?? 5);
      const cpuThreshold = options.cpuThreshold ?? 80;
      const memoryThreshold = options.memoryThreshold ?? 80;
      const tasksReporting = this.publishesMetric(NO_DATA_METRIC) && settings.intervalMillis !== undefined ? this.metricTasksReporting() : undefined;
      const minTasks = options.minTasksReporting === undefined ? undefined : checkMinTasksReporting(options.minTasksReporting, settings, options.createAlarms ?? true);
      const tasksPeriodSeconds = tasksReporting === undefined ? 0 : periodCoveringInterval(periodSeconds, settings.intervalMillis as number);
      if (minTasks !== undefined && tasksPeriodSeconds * tasksReportingEvaluationPeriods(tasksPeriodSeconds) > MAX_ALARM_EVALUATION_SECONDS) {
        throw new Error(
          `ecs-emf-exporter: the tasks-reporting alarm would evaluate ${tasksReportingEvaluationPeriods(tasksPeriodSeconds)} periods of ${tasksPeriodSeconds} s; CloudWatch allows at most one day: lower dashboard.period`,
        );
      }
      this.dashboard = createDashboard(this, "Dashboard", {
        metric: (metricName, statistic, label, name) => this.metricFactory.lineMetric(metricName, statistic, this.defaultPeriod, name, label),
        dashboardName: options.dashboardName,
        region: Stack.of(this).region,
        period: this.defaultPeriod,
        cpuThreshold,
        memoryThreshold,
        publishedMetrics: settings.publishedMetrics,
        containers,
        ...(tasksReporting === undefined
          ? {}
          : {
              tasksReporting: {
                metric: tasksReporting,
                periodSeconds: tasksPeriodSeconds,
                ...(minTasks === undefined ? {} : { threshold: tasksReportingThreshold(minTasks) }),
              },
            }),
      });
      // Checked with or without createAlarms: the names must make sense either way.
      const exitNames = this.exitAlarmNames(props.taskDefinition, settings, options.exitAlarmContainers ?? []);
      if (options.createAlarms ?? true) {
        const noData =
          (options.noDataAlarm ?? true)
            ? noDataAlarmInput(settings, periodSeconds, noDataEvaluationPeriods)
            : undefined;
        const restartNames = settings.publishedMetrics.has("ContainerRestarts")
          ? this.restartAlarmNames(props.taskDefinition, settings, options.restartAlarmContainers, containerNames, containerName)
          : [];
        this.alarms = createExporterAlarms(this, {
          // The published-metric helpers: one source for namespace, dimensions and unit.
          metric: (metricName, statistic, period, name) =>
            this.metric(metricName, { statistic, period, ...(name === undefined ? {} : { containerName: name }) }),
          periodSeconds,
          cpuThreshold,
          memoryThreshold,
          publishedMetrics: settings.publishedMetrics,
          restartAlarmContainers: alarmContainerLines(settings, restartNames),
          exitAlarmContainers: alarmContainerLines(settings, exitNames),
          ...(noData === undefined ? {} : { noData }),
          ...(minTasks === undefined || tasksReporting === undefined
            ? {}
            : {
                tasksReporting: {
                  metric: tasksReporting,
                  expression: tasksReporting.expression,
                  minTasks,
                  threshold: tasksReportingThreshold(minTasks),
                  evaluationPeriods: tasksReportingEvaluationPeriods(tasksPeriodSeconds),
                  periodSeconds: tasksPeriodSeconds,
                },
              }),
          alarmActions: options.alarmActions ?? [],
          okActions: options.okActions ?? [],
        });
      }
    }
    this.allAlarms = this.alarms === undefined ? [] : listAlarms(this.alarms);
  }

  /**
   * A metric the exporter publishes with these settings: its namespace, the dimension set the
   * dashboard and alarms use (the first configured set plus the tag and static names, values from
   * dashboard.dimensionValues / options.dimensionValues, static values and containerName) and the
   * unit it publishes the metric with (an alarm with another unit never sees a datapoint).
   * Throws for a name that is not an exporter metric, one the sidecar never publishes (the CPU
   * throttling metrics CpuThrottledTime, CpuThrottledPercent, ContainerCpuThrottledTime and
   * ContainerCpuThrottledPercent: daemon mode only), one the settings do not publish
   * (metrics / excludeMetrics, containerMetrics, selfMetrics), a container excludeContainers
   * leaves out, and a missing dimension value.
   */
  public metric(metricName: string, options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metricFactory.metric(metricName, options);
  }

  /** Task CPU utilization (percent of the task's CPU). @default statistic Average */
  public metricCpuUtilization(options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metric("CpuUtilization", { statistic: "Average", ...options });
  }

  /** Task memory utilization (percent of the task's memory). @default statistic Average */
  public metricMemoryUtilization(options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metric("MemoryUtilization", { statistic: "Average", ...options });
  }

  /**
   * Running containers of the task; published by every sidecar every cycle (the no-data alarm
   * counts its samples).
   * @default statistic Minimum
   */
  public metricRunningContainerCount(options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metric("RunningContainerCount", { statistic: "Minimum", ...options });
  }

  /**
   * Restarts of one container, by name (published only for a container with an enabled restart
   * policy). Leave it out when the first containerDimensions set has no ContainerName.
   * @default statistic Sum
   */
  public metricContainerRestarts(container?: string, options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metric("ContainerRestarts", { statistic: "Sum", ...options, ...(container === undefined ? {} : { containerName: container }) });
  }

  /**
   * Exits of one container, by name: a container found STOPPED (once per DockerId) plus the
   * restarts its RestartCount shows, published only when at least 1 (no datapoint when nothing
   * exited: alarm on it with missing data not breaching). Needs no restart policy. Leave the
   * container out when the first containerDimensions set has no ContainerName.
   * @default statistic Sum
   */
  public metricContainerExits(container?: string, options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metric("ContainerExits", { statistic: "Sum", ...options, ...(container === undefined ? {} : { containerName: container }) });
  }

  /** Errors of the exporter itself (needs selfMetrics). @default statistic Sum */
  public metricExporterErrors(options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metric("ExporterErrors", { statistic: "Sum", ...options });
  }

  /**
   * Tasks reporting: the metric math SampleCount(RunningContainerCount) / (P / I) with P / I
   * rendered ("m1 / 5" for interval I = 60 s and period P = 300 s; "m1 * 45 / 60" when P / I is
   * not whole), where m1 is RunningContainerCount's SampleCount over P at the task dimension set.
   * Every task's sidecar publishes RunningContainerCount once per interval, so this is about the
   * number of tasks that published; a task that started or stopped within the period counts
   * fractionally, a skipped tick or EMF still on its way reads low. No extra custom metric.
   * Throws when RunningContainerCount is not published, the interval is a token, or the period
   * is shorter than the interval.
   */
  public metricTasksReporting(options: TasksReportingMetricOptions = {}): cloudwatch.MathExpression {
    return this.metricFactory.tasksReporting(options);
  }

  /** Whether the exporter publishes that metric with these settings. */
  public publishesMetric(metricName: string): boolean {
    return this.metricFactory.publishes(metricName);
  }

  /**
   * The containers whose restarts can be counted: ECS reports RestartCount only for a container
   * with an enabled restart policy, and the exporter publishes nothing for one excludeContainers
   * leaves out. Default: the dashboard's containers and the exporter, each looked up now (the
   * task definition has no public list of its containers). An explicit list is checked at
   * synth, when every container has been added.
   */
  private restartAlarmNames(
    taskDefinition: ecs.TaskDefinition,
    settings: ResolvedSettings,
    explicit: readonly string[] | undefined,
    dashboardNames: readonly string[],
    exporterName: string,
  ): string[] {
    if (explicit === undefined) {
      const candidates = [...new Set([...dashboardNames, exporterName])];
      return candidates.filter((name) => !containerExcluded(settings, name) && hasEnabledRestartPolicy(taskDefinition, name));
    }
    return this.checkAlarmContainers("restartAlarmContainers", "ContainerRestarts", explicit, taskDefinition, settings, (name) =>
      hasEnabledRestartPolicy(taskDefinition, name)
        ? undefined
        : `ecs-emf-exporter: restartAlarmContainers names ${name}, whose container definition has no enabled restart policy: ` +
          "ECS reports no RestartCount for it, ContainerRestarts is never published, and the alarm could never fire. " +
          "Give it a restart policy (enableRestartPolicy) or leave it out.",
    );
  }

  /**
   * The containers of dashboard.exitAlarmContainers, refused when ContainerExits can never be
   * published for them. Every container's exits are counted, so unlike restarts no restart
   * policy is needed.
   */
  private exitAlarmNames(taskDefinition: ecs.TaskDefinition, settings: ResolvedSettings, names: readonly string[]): string[] {
    if (names.length === 0) {
      return [];
    }
    if (!settings.containerMetrics) {
      throw new Error(
        "ecs-emf-exporter: dashboard.exitAlarmContainers is set, but containerMetrics is false: ContainerExits is never published and the exit alarms could never fire; turn container metrics on, or leave out exitAlarmContainers",
      );
    }
    if (!settings.publishedMetrics.has("ContainerExits")) {
      throw new Error(
        "ecs-emf-exporter: dashboard.exitAlarmContainers is set, but metrics/excludeMetrics leave ContainerExits out, so the exit alarms could never fire; publish ContainerExits, or leave out exitAlarmContainers",
      );
    }
    return this.checkAlarmContainers("exitAlarmContainers", "ContainerExits", names, taskDefinition, settings);
  }

  /**
   * The checks an explicit list of alarm containers shares: each named once by a non-empty
   * name and none excludeContainers leaves out (now), each a container of the task definition
   * (at synth, when every container has been added), then `more` for each container found.
   */
  private checkAlarmContainers(
    option: string,
    metricName: string,
    names: readonly string[],
    taskDefinition: ecs.TaskDefinition,
    settings: ResolvedSettings,
    more: (name: string) => string | undefined = () => undefined,
  ): string[] {
    if (names.some((name) => name.trim() === "") || new Set(names).size !== names.length) {
      throw new Error(`ecs-emf-exporter: dashboard.${option} must name each container once, by a non-empty name`);
    }
    for (const name of names) {
      if (containerExcluded(settings, name)) {
        throw new Error(
          `ecs-emf-exporter: ${option} names ${name}, which excludeContainers leaves out: the exporter publishes no ${metricName} for it, and the alarm could never fire`,
        );
      }
    }
    const checked = [...names];
    this.node.addValidation({
      validate: () =>
        checked.flatMap((name) => {
          if (taskDefinition.findContainer(name) === undefined) {
            return [
              `ecs-emf-exporter: ${option} names ${name}, which is not a container of the task definition: ` +
                `${metricName} is never published for it, and the alarm could never fire.`,
            ];
          }
          const problem = more(name);
          return problem === undefined ? [] : [problem];
        }),
    });
    return checked;
  }

  private addSidecar(props: EcsEmfExporterProps, containerName: string, restartPolicy: ResolvedRestartPolicy | undefined): ecs.ContainerDefinition {
    const readonlyRoot = props.readonlyRootFilesystem ?? true;
    const memoryLimitMiB = resolveMemoryLimit(props.memoryLimitMiB, props.noMemoryLimit ?? false);
    const container = props.taskDefinition.addContainer(containerName, {
      containerName,
      image: props.image,
      essential: false,
      user: EXPORTER_USER,
      readonlyRootFilesystem: readonlyRoot,
      cpu: props.cpu ?? 16,
      memoryReservationMiB: props.memoryReservationMiB ?? 32,
      ...(memoryLimitMiB === undefined ? {} : { memoryLimitMiB }),
      // Disabled: none of the three, so no restart policy is rendered at all.
      ...(restartPolicy === undefined
        ? {}
        : {
            enableRestartPolicy: true,
            restartIgnoredExitCodes: [...restartPolicy.ignoredExitCodes],
            restartAttemptPeriod: restartPolicy.restartAttemptPeriod,
          }),
      environment: { ...this.environment },
      healthCheck: {
        command: ["CMD", BINARY, "healthcheck"],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: "ecs-emf-exporter",
        logGroup: this.logGroup,
        // A full log buffer must drop lines, not block the exporter (and with stdout output,
        // the metrics) behind CloudWatch Logs.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: props.awslogsMaxBufferSize ?? Size.mebibytes(4),
      }),
    });
    if (readonlyRoot) {
      // No host path: an ephemeral volume, which takes the image's /tmp ownership (65532).
      props.taskDefinition.addVolume({ name: TMP_VOLUME_NAME });
      container.addMountPoints({ sourceVolume: TMP_VOLUME_NAME, containerPath: "/tmp", readOnly: false });
    }
    return container;
  }

  /** Least privilege: only what the chosen settings call, and no policy at all otherwise. */
  private grantTaskRole(props: EcsEmfExporterProps, settings: ResolvedSettings): void {
    if (settings.output === ExporterOutput.CLOUDWATCH) {
      props.taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({
          actions: ["cloudwatch:PutMetricData"],
          // PutMetricData has no resource-level permissions; the namespace condition scopes it.
          resources: ["*"],
          conditions: { StringEquals: { "cloudwatch:namespace": settings.namespace } },
        }),
      );
    }
    if (settings.tagsFromApi) {
      if (props.cluster === undefined) {
        throw new Error("ecs-emf-exporter: tagsFromApi needs cluster (ecs:ListTagsForResource is granted on that cluster's tasks only)");
      }
      props.taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({ actions: ["ecs:ListTagsForResource"], resources: [taskArnPattern(props.cluster.clusterArn)] }),
      );
    }
  }
}

/** arn:<partition>:ecs:<region>:<account>:task/<cluster name>/* for a literal or token cluster ARN. */
export function taskArnPattern(clusterArn: string): string {
  if (!Token.isUnresolved(clusterArn) && !/^arn:[^:]+:ecs:[^:]+:\d{12}:cluster\/[^/]+$/.test(clusterArn)) {
    throw new Error(`ecs-emf-exporter: clusterArn "${clusterArn}" is not an ECS cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)`);
  }
  const cluster = Arn.split(clusterArn, ArnFormat.SLASH_RESOURCE_NAME);
  return Arn.format({
    partition: cluster.partition,
    service: "ecs",
    region: cluster.region,
    account: cluster.account,
    resource: "task",
    resourceName: `${cluster.resourceName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** The hard limit to render, or undefined for none. */
function resolveMemoryLimit(memoryLimitMiB: number | undefined, noMemoryLimit: boolean): number | undefined {
  if (noMemoryLimit) {
    if (memoryLimitMiB !== undefined) {
      throw new Error("ecs-emf-exporter: memoryLimitMiB and noMemoryLimit contradict each other; set one");
    }
    return undefined;
  }
  const limit = memoryLimitMiB ?? 64;
  if (!Token.isUnresolved(limit) && (!Number.isInteger(limit) || limit < 1)) {
    throw new Error(`ecs-emf-exporter: memoryLimitMiB ${limit} must be a whole number of MiB, at least 1 (noMemoryLimit: true renders none)`);
  }
  return limit;
}

interface ResolvedRestartPolicy {
  readonly ignoredExitCodes: readonly number[];
  readonly restartAttemptPeriod: Duration;
}

/** Validated with clear errors; undefined when disabled (the other members are still checked). */
function resolveRestartPolicy(policy: ExporterRestartPolicy | undefined): ResolvedRestartPolicy | undefined {
  const ignoredExitCodes = policy?.ignoredExitCodes ?? [0];
  if (ignoredExitCodes.length > MAX_IGNORED_EXIT_CODES) {
    throw new Error(
      `ecs-emf-exporter: restartPolicy.ignoredExitCodes has ${ignoredExitCodes.length} exit codes; ECS accepts at most ${MAX_IGNORED_EXIT_CODES}`,
    );
  }
  for (const code of ignoredExitCodes) {
    if (!Token.isUnresolved(code) && !Number.isInteger(code)) {
      throw new Error(`ecs-emf-exporter: restartPolicy.ignoredExitCodes: ${code} is not an integer exit code`);
    }
  }
  const restartAttemptPeriod = policy?.restartAttemptPeriod ?? Duration.seconds(MIN_RESTART_ATTEMPT_SECONDS);
  const seconds = restartAttemptPeriod.toSeconds({ integral: false });
  if (
    !Token.isUnresolved(seconds) &&
    (!Number.isInteger(seconds) || seconds < MIN_RESTART_ATTEMPT_SECONDS || seconds > MAX_RESTART_ATTEMPT_SECONDS)
  ) {
    throw new Error(
      `ecs-emf-exporter: restartPolicy.restartAttemptPeriod ${seconds} s must be a whole number of seconds from ${MIN_RESTART_ATTEMPT_SECONDS} to ${MAX_RESTART_ATTEMPT_SECONDS}`,
    );
  }
  return (policy?.enabled ?? true) ? { ignoredExitCodes, restartAttemptPeriod } : undefined;
}

/** True when the container exists and renders restartPolicy.enabled true (set or implied). */
function hasEnabledRestartPolicy(taskDefinition: ecs.TaskDefinition, containerName: string): boolean {
  const container = taskDefinition.findContainer(containerName);
  if (container === undefined) {
    return false;
  }
  const policy = container.renderContainerDefinition(taskDefinition).restartPolicy;
  if (policy === undefined || Token.isUnresolved(policy)) {
    return false;
  }
  return (policy as ecs.CfnTaskDefinition.RestartPolicyProperty).enabled === true;
}

export function checkMinTasksReporting(minTasks: number, settings: ResolvedSettings, createAlarms: boolean): number {
  if (!Number.isInteger(minTasks) || minTasks < 1) {
    throw new Error(`ecs-emf-exporter: dashboard.minTasksReporting ${minTasks} must be a whole number of at least 1`);
  }
  if (!settings.publishedMetrics.has(NO_DATA_METRIC)) {
    throw new Error(
      `ecs-emf-exporter: the tasks-reporting alarm counts ${NO_DATA_METRIC} samples, which metrics/excludeMetrics leave out; publish it, or leave out minTasksReporting`,
    );
  }
  if (!createAlarms) {
    throw new Error("ecs-emf-exporter: dashboard.minTasksReporting is set but createAlarms is false, so no alarm would be created; leave out one of them");
  }
  if (settings.intervalMillis === undefined) {
    throw new Error("ecs-emf-exporter: the tasks-reporting alarm divides by the interval, which must then be known at synth time; or leave out minTasksReporting");
  }
  return minTasks;
}

export function checkNoDataEvaluationPeriods(periods: number): number {
  if (!Number.isInteger(periods) || periods < 2) {
    throw new Error(`ecs-emf-exporter: dashboard.noDataEvaluationPeriods ${periods} must be a whole number of at least 2`);
  }
  return periods;
}

/** The no-data alarm's period and wording, or a refusal when it could only ever be in ALARM. */
export function noDataAlarmInput(settings: ResolvedSettings, dashboardPeriodSeconds: number, evaluationPeriods: number): NoDataAlarmInput {
  if (!settings.publishedMetrics.has(NO_DATA_METRIC)) {
    throw new Error(
      `ecs-emf-exporter: the no-data alarm watches ${NO_DATA_METRIC}, which metrics/excludeMetrics leave out; publish it, or set noDataAlarm: false`,
    );
  }
  const intervalMillis = settings.intervalMillis;
  if (intervalMillis === undefined) {
    throw new Error("ecs-emf-exporter: the no-data alarm's period follows interval, which must then be known at synth time; or set noDataAlarm: false");
  }
  const periodSeconds = periodCoveringInterval(dashboardPeriodSeconds, intervalMillis);
  if (periodSeconds * evaluationPeriods > MAX_ALARM_EVALUATION_SECONDS) {
    throw new Error(
      `ecs-emf-exporter: the no-data alarm would evaluate ${evaluationPeriods} periods of ${periodSeconds} s; CloudWatch allows at most one day: lower dashboard.noDataEvaluationPeriods`,
    );
  }
  const deliveryFailure = {
    stdout: "its log delivery broken",
    agent: "its delivery through the CloudWatch agent broken",
    cloudwatch: "its PutMetricData calls failing",
  }[settings.output];
  return { periodSeconds, evaluationPeriods, deliveryFailure };
}

function defaultContainerNames(appContainerName: string | undefined, exporterName: string): string[] {
  return appContainerName === undefined ? [exporterName] : [appContainerName, exporterName];
}

/** Per-container lines; a single unnamed line when the first container set has no ContainerName
 * (per-container lines would then be identical). */
export function containerLines(settings: ResolvedSettings, containerNames: readonly string[]): ContainerLine[] {
  if (!containerSetNamesContainer(settings)) {
    return [{ label: "all-containers", containerName: undefined }];
  }
  if (containerNames.length === 0 || new Set(containerNames).size !== containerNames.length) {
    throw new Error("ecs-emf-exporter: dashboard.containerNames must name at least one container, each once");
  }
  return containerNames.map((name) => ({ label: name, containerName: name }));
}

/** One restart or exit alarm per container, or a single one over all containers when the first
 * container set has no ContainerName (then any counted container's restart or exit shows in it). */
export function alarmContainerLines(settings: ResolvedSettings, containerNames: readonly string[]): ContainerLine[] {
  if (containerNames.length === 0) {
    return [];
  }
  if (!containerSetNamesContainer(settings)) {
    return [{ label: "all-containers", containerName: undefined }];
  }
  return containerNames.map((name) => ({ label: name, containerName: name }));
}

export function listAlarms(alarms: ExporterAlarms): cloudwatch.Alarm[] {
  const optional = (alarm: cloudwatch.Alarm | undefined) => (alarm === undefined ? [] : [alarm]);
  return [
    ...optional(alarms.cpuUtilization),
    ...optional(alarms.memoryUtilization),
    ...Object.values(alarms.containerRestarts),
    ...Object.values(alarms.containerExits),
    ...optional(alarms.exporterErrors),
    ...optional(alarms.noData),
    ...optional(alarms.tasksReportingLow),
  ];
}
