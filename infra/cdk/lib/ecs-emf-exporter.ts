// EcsEmfExporter: adds the ecs-emf-exporter sidecar to an ECS task definition, with the task-role
// statements its output needs, and optionally a CloudWatch dashboard and alarms over what it
// publishes. Renders exactly what the shared rendering contract (infra/README.md) and the
// Terraform module render.
import { Arn, ArnFormat, Duration, RemovalPolicy, Size, Stack, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ExporterAlarms, NO_DATA_METRIC, NoDataAlarmInput, createExporterAlarms } from "./alarms";
import { buildDashboardBody } from "./dashboard-body";
import { DimensionPairs, containerSetNamesContainer, dimensionPairs } from "./dimension-values";
import { ExporterSettings, ResolvedSettings, containerExcluded, parseDurationMillis, renderEnvironment, resolveSettings } from "./settings";

export type { ExporterLogFormat, ExporterLogLevel, ExporterOutput, ExporterSettings } from "./settings";

/** Mounted read-write on /tmp (the health file lives there) when the root is read-only. */
export const TMP_VOLUME_NAME = "ecs-emf-exporter-tmp";
const BINARY = "/ecs-emf-exporter";
const EXPORTER_USER = "65532:65532";
/** ECS accepts at most this many ignored exit codes, and attempt periods of 60..1800 s. */
const MAX_IGNORED_EXIT_CODES = 50;
const MIN_RESTART_ATTEMPT_SECONDS = 60;
const MAX_RESTART_ATTEMPT_SECONDS = 1800;
/** CloudWatch: an alarm's evaluation range (periods x period) is at most one day. */
const MAX_ALARM_EVALUATION_SECONDS = 86_400;

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
  /** Widget and alarm period in seconds: 10, 30 or a multiple of 60. @default 60 */
  readonly period?: number;
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
   * Containers that get a ContainerRestarts alarm. Each must be a container of the task
   * definition with an enabled restart policy (checked at synth, so containers added after the
   * construct count): ECS reports RestartCount only then, and without it the alarm could never
   * fire. An empty list: no restart alarm.
   * @default the exporter when its restart policy is enabled, plus every container of
   *   containerNames that exists when the construct is created and has an enabled restart
   *   policy; none that excludeContainers leaves out
   */
  readonly restartAlarmContainers?: string[];
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
  /** Hard memory limit; null omits it. @default 64 */
  readonly memoryLimitMiB?: number | null;
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
  /** The cluster the task runs in; required with tagsFromApi (scopes ecs:ListTagsForResource). */
  readonly clusterArn?: string;
  /** Create a dashboard (and, unless createAlarms is false, alarms) over the published metrics. */
  readonly dashboard?: EcsEmfExporterDashboardOptions;
}

export class EcsEmfExporter extends Construct {
  public readonly container: ecs.ContainerDefinition;
  public readonly logGroup: logs.ILogGroup;
  /** The environment rendered into the container (sorted by name). */
  public readonly environment: Readonly<Record<string, string>>;
  public readonly dashboard?: cloudwatch.CfnDashboard;
  public readonly alarms?: ExporterAlarms;
  /** Every alarm created, for wiring into composite alarms or notifications. */
  public readonly allAlarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: EcsEmfExporterProps) {
    super(scope, id);
    const settings = resolveSettings(props);
    this.environment = renderEnvironment(props, settings);
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
      const periodSeconds = checkPeriod(options.period ?? 60);
      const dimensionValues = options.dimensionValues;
      const taskDimensions = dimensionPairs(settings, dimensionValues, "task");
      const containerNames = options.containerNames ?? defaultContainerNames(appContainerName, containerName);
      const containers = containerLines(settings, dimensionValues, containerNames);
      const noDataEvaluationPeriods = checkNoDataEvaluationPeriods(options.noDataEvaluationPeriods ?? 5);
      const common = {
        namespace: settings.namespace,
        periodSeconds,
        cpuThreshold: options.cpuThreshold ?? 80,
        memoryThreshold: options.memoryThreshold ?? 80,
        publishedMetrics: settings.publishedMetrics,
        taskDimensions,
        containers,
      };
      const body = buildDashboardBody({ ...common, region: Stack.of(this).region });
      this.dashboard = new cloudwatch.CfnDashboard(this, "Dashboard", {
        dashboardBody: Stack.of(this).toJsonString(body),
        ...(options.dashboardName === undefined ? {} : { dashboardName: options.dashboardName }),
      });
      if (options.createAlarms ?? true) {
        const noData =
          (options.noDataAlarm ?? true)
            ? noDataAlarmInput(settings, periodSeconds, noDataEvaluationPeriods)
            : undefined;
        const restartNames = settings.publishedMetrics.has("ContainerRestarts")
          ? this.restartAlarmNames(props.taskDefinition, settings, options.restartAlarmContainers, containerNames, containerName)
          : [];
        this.alarms = createExporterAlarms(this, {
          ...common,
          restartAlarmContainers: restartAlarmLines(settings, dimensionValues, restartNames),
          ...(noData === undefined ? {} : { noData }),
          alarmActions: options.alarmActions ?? [],
          okActions: options.okActions ?? [],
        });
      }
    }
    this.allAlarms = this.alarms === undefined ? [] : listAlarms(this.alarms);
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
    if (explicit.some((name) => name.trim() === "") || new Set(explicit).size !== explicit.length) {
      throw new Error("ecs-emf-exporter: dashboard.restartAlarmContainers must name each container once, by a non-empty name");
    }
    for (const name of explicit) {
      if (containerExcluded(settings, name)) {
        throw new Error(
          `ecs-emf-exporter: restartAlarmContainers names ${name}, which excludeContainers leaves out: the exporter publishes no ContainerRestarts for it, and the alarm could never fire`,
        );
      }
    }
    const names = [...explicit];
    this.node.addValidation({
      validate: () =>
        names.flatMap((name) => {
          if (taskDefinition.findContainer(name) === undefined) {
            return [
              `ecs-emf-exporter: restartAlarmContainers names ${name}, which is not a container of the task definition: ` +
                "ContainerRestarts is never published for it, and the alarm could never fire.",
            ];
          }
          if (!hasEnabledRestartPolicy(taskDefinition, name)) {
            return [
              `ecs-emf-exporter: restartAlarmContainers names ${name}, whose container definition has no enabled restart policy: ` +
                "ECS reports no RestartCount for it, ContainerRestarts is never published, and the alarm could never fire. " +
                "Give it a restart policy (enableRestartPolicy) or leave it out.",
            ];
          }
          return [];
        }),
    });
    return names;
  }

  private addSidecar(props: EcsEmfExporterProps, containerName: string, restartPolicy: ResolvedRestartPolicy | undefined): ecs.ContainerDefinition {
    const readonlyRoot = props.readonlyRootFilesystem ?? true;
    const memoryLimitMiB = props.memoryLimitMiB === undefined ? 64 : props.memoryLimitMiB;
    const container = props.taskDefinition.addContainer(containerName, {
      containerName,
      image: props.image,
      essential: false,
      user: EXPORTER_USER,
      readonlyRootFilesystem: readonlyRoot,
      cpu: props.cpu ?? 16,
      memoryReservationMiB: props.memoryReservationMiB ?? 32,
      ...(memoryLimitMiB === null ? {} : { memoryLimitMiB }),
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
    if (settings.output === "cloudwatch") {
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
      if (props.clusterArn === undefined) {
        throw new Error("ecs-emf-exporter: tagsFromApi needs clusterArn (ecs:ListTagsForResource is granted on that cluster's tasks only)");
      }
      props.taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({ actions: ["ecs:ListTagsForResource"], resources: [taskArnPattern(props.clusterArn)] }),
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

function checkPeriod(seconds: number): number {
  // The values CloudWatch alarms accept.
  if (!(seconds === 10 || seconds === 30 || (Number.isInteger(seconds) && seconds > 0 && seconds % 60 === 0))) {
    throw new Error(`ecs-emf-exporter: dashboard.period ${seconds} must be 10, 30 or a multiple of 60 seconds`);
  }
  return seconds;
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

function checkNoDataEvaluationPeriods(periods: number): number {
  if (!Number.isInteger(periods) || periods < 2) {
    throw new Error(`ecs-emf-exporter: dashboard.noDataEvaluationPeriods ${periods} must be a whole number of at least 2`);
  }
  return periods;
}

/** The no-data alarm's period and wording, or a refusal when it could only ever be in ALARM. */
function noDataAlarmInput(settings: ResolvedSettings, dashboardPeriodSeconds: number, evaluationPeriods: number): NoDataAlarmInput {
  if (!settings.publishedMetrics.has(NO_DATA_METRIC)) {
    throw new Error(
      `ecs-emf-exporter: the no-data alarm watches ${NO_DATA_METRIC}, which metrics/excludeMetrics leave out; publish it, or set noDataAlarm: false`,
    );
  }
  const intervalMillis = Token.isUnresolved(settings.interval) ? undefined : parseDurationMillis(settings.interval);
  if (intervalMillis === undefined) {
    throw new Error("ecs-emf-exporter: the no-data alarm's period follows interval, which must then be known at synth time; or set noDataAlarm: false");
  }
  // At most one datapoint per interval: a period shorter than the interval would be empty
  // between two healthy cycles.
  const periodSeconds = Math.max(dashboardPeriodSeconds, Math.ceil(intervalMillis / 60_000) * 60);
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
function containerLines(
  settings: ResolvedSettings,
  dimensionValues: Readonly<Record<string, string>>,
  containerNames: readonly string[],
): { label: string; dimensions: DimensionPairs }[] {
  if (!containerSetNamesContainer(settings)) {
    return [{ label: "all-containers", dimensions: dimensionPairs(settings, dimensionValues, "container") }];
  }
  if (containerNames.length === 0 || new Set(containerNames).size !== containerNames.length) {
    throw new Error("ecs-emf-exporter: dashboard.containerNames must name at least one container, each once");
  }
  return containerNames.map((name) => ({ label: name, dimensions: dimensionPairs(settings, dimensionValues, "container", name) }));
}

/** One restart alarm per container, or a single one over all containers when the first
 * container set has no ContainerName (then any counted container's restart shows in it). */
function restartAlarmLines(
  settings: ResolvedSettings,
  dimensionValues: Readonly<Record<string, string>>,
  containerNames: readonly string[],
): { label: string; dimensions: DimensionPairs }[] {
  if (containerNames.length === 0) {
    return [];
  }
  if (!containerSetNamesContainer(settings)) {
    return [{ label: "all-containers", dimensions: dimensionPairs(settings, dimensionValues, "container") }];
  }
  return containerNames.map((name) => ({ label: name, dimensions: dimensionPairs(settings, dimensionValues, "container", name) }));
}

function listAlarms(alarms: ExporterAlarms): cloudwatch.Alarm[] {
  const optional = (alarm: cloudwatch.Alarm | undefined) => (alarm === undefined ? [] : [alarm]);
  return [
    ...optional(alarms.cpuUtilization),
    ...optional(alarms.memoryUtilization),
    ...Object.values(alarms.containerRestarts),
    ...optional(alarms.exporterErrors),
    ...optional(alarms.noData),
  ];
}
