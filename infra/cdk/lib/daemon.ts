// EcsEmfExporterDaemon: `ecs-emf-exporter daemon` as an ECS service with the DAEMON scheduling
// strategy, one exporter per EC2 container instance covering every task on it. It reads the ECS
// agent introspection API (host network), the Docker Engine API over the host's socket and the
// host's cgroup tree, and publishes the sidecar's metric names and dimensions, so the settings,
// metric helpers, dashboard and alarms are the sidecar construct's (lib/settings.ts,
// lib/metric-factory.ts, lib/dashboard.ts, lib/alarms.ts); only what the daemon cannot do is
// left out: the exporter's own metrics (selfMetrics) and the metrics daemon mode never publishes
// (lib/settings.ts, neverPublishedIn for the "daemon" mode: no widget, alarm or metric helper
// names them, and restartAlarmContainers is refused). Task tags come from ecs:DescribeTasks
// (tagsFromApi, required by tagDimensions as the binary requires it). Its public API
// (lib/index.ts) is jsii-compatible.
import { Annotations, Duration, RemovalPolicy, Size, Stack, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ExporterAlarms, NO_DATA_METRIC, createExporterAlarms } from "./alarms";
import { ContainerLine, createDashboard } from "./dashboard";
import { containerSetNamesContainer } from "./dimension-values";
import {
  ExporterMetricOptions,
  MAX_ALARM_EVALUATION_SECONDS,
  TasksReportingMetricOptions,
  alarmContainerLines,
  checkMinTasksReporting,
  checkNoDataEvaluationPeriods,
  containerLines,
  listAlarms,
  noDataAlarmInput,
  taskArnPattern,
} from "./ecs-emf-exporter";
import { ExporterMetricFactory, checkPeriod } from "./metric-factory";
import { METRIC_CATALOG } from "./metric-catalog";
import {
  ExporterLogFormat,
  ExporterLogLevel,
  ExporterOutput,
  ExporterSettings,
  ResolvedSettings,
  containerExcluded,
  neverPublishedIn,
  publishedInCatalogOrder,
  renderEnvironment,
  resolveSettings,
} from "./settings";
import { periodCoveringInterval, tasksReportingEvaluationPeriods, tasksReportingThreshold } from "./tasks-reporting";

const BINARY = "/ecs-emf-exporter";
/** The host paths the daemon reads, and where they are mounted in its container. */
const DOCKER_SOCKET_PATH = "/var/run/docker.sock";
const HOST_CGROUP_PATH = "/sys/fs/cgroup";
const CGROUP_MOUNT_PATH = "/host/sys/fs/cgroup";
const DOCKER_SOCKET_VOLUME_NAME = "docker-socket";
const CGROUP_VOLUME_NAME = "host-cgroup";
/**
 * The health file's directory: a tmpfs the mount makes root's, at a path the image does not
 * declare as a VOLUME. Uid 0 without CAP_DAC_OVERRIDE cannot write the image's /tmp (owned by
 * 65532, mode 0755, an ownership a task volume there copies). As the Terraform daemon module.
 */
const RUN_DIRECTORY = "/run/ecs-emf-exporter";
const HEALTH_FILE = `${RUN_DIRECTORY}/ecs-emf-exporter.health`;
/** MiB: the health file is a few bytes. */
const RUN_DIRECTORY_SIZE_MIB = 1;
/** Root: the Docker socket on the host is root:docker 0660. */
const DAEMON_USER = "0";
const DEFAULT_PERIOD_SECONDS = 60;
/** ECS: a container's hard memory limit is at least 6 MiB. */
const MIN_MEMORY_LIMIT_MIB = 6;

/** Settings of the binary that daemon mode refuses when they are on (src/cli/daemon.rs). */
const REFUSED_SETTINGS: readonly (readonly [string, string, string])[] = [
  ["selfMetrics", "ECS_EMF_SELF_METRICS", "daemon mode does not publish the exporter's own metrics"],
];

/** Dashboard options of the sidecar construct the daemon cannot honour, and why. */
const REFUSED_DASHBOARD_OPTIONS: readonly (readonly [string, string])[] = [
  [
    "restartAlarmContainers",
    `the daemon never publishes ContainerRestarts (${neverPublishedIn("daemon", "ContainerRestarts")}), so a restart alarm could never fire; exitAlarmContainers alarms on the exits it does see`,
  ],
];

/** Variables the construct renders, or whose defaults its volumes and host network are built for. */
const DAEMON_MANAGED_VARIABLES: Readonly<Record<string, string>> = {
  ECS_EMF_CGROUP_ROOT: `the construct mounts the host's cgroup tree at ${CGROUP_MOUNT_PATH} and sets it`,
  ECS_EMF_SERVICE_FROM_API: "use serviceFromApi",
  ECS_EMF_HEALTH_FILE: `the construct puts it on a tmpfs at ${RUN_DIRECTORY}, which uid 0 can write`,
  DOCKER_HOST: `the construct mounts the host's Docker socket at ${DOCKER_SOCKET_PATH}, the binary's default`,
  ECS_EMF_INTROSPECTION_URI: "the task uses the host network, where the binary's default (http://127.0.0.1:51678) reaches the ECS agent",
};

/**
 * The exporter settings daemon mode takes: the sidecar's (ExporterSettings, lib/settings.ts)
 * without selfMetrics, which the daemon refuses. Same validation, defaults and rendering as the
 * sidecar construct, except that tagDimensions needs tagsFromApi (the binary refuses them
 * without it) and ECS_EMF_TAGS_FROM_API is rendered only when true.
 */
export interface EcsEmfExporterDaemonSettings {
  /** Where metrics go. @default ExporterOutput.STDOUT (EMF lines in the awslogs log group) */
  readonly output?: ExporterOutput;
  /** @default "ECS/TaskMetrics" */
  readonly namespace?: string;
  /**
   * Poll interval, 1 s to 1 h in whole milliseconds, rendered in the unit it is given in.
   * @default Duration.seconds(60)
   */
  readonly interval?: Duration;
  /** @default the binary's (false); not rendered */
  readonly highResolution?: boolean;
  /**
   * Task-level dimension sets. ServiceName comes from ecs:DescribeTasks (serviceFromApi); without
   * it the binary puts the task definition family in its place.
   * @default [["ClusterName", "ServiceName"]]
   */
  readonly dimensions?: string[][];
  /** Container-level dimension sets. @default [["ClusterName", "ServiceName", "ContainerName"]] */
  readonly containerDimensions?: string[][];
  /**
   * Task tag keys appended to every dimension set (task tags only: a container instance tag is
   * published as "unknown"). Needs tagsFromApi true: construction fails without it, as the
   * binary refuses to start. Give their values in dashboard.dimensionValues.
   * @default []
   */
  readonly tagDimensions?: string[];
  /**
   * Read each task's tags with ecs:DescribeTasks (include=TAGS; ECS_EMF_TAGS_FROM_API=true), in
   * the lookup serviceFromApi uses, and grant the task role ecs:DescribeTasks and
   * ecs:ListTagsForResource on the cluster's tasks. Required by tagDimensions; not turned on
   * for you.
   * @default false (not rendered)
   */
  readonly tagsFromApi?: boolean;
  /**
   * How often each task is described again for its tags (and its ContainerInstanceArn and
   * AgentVersion taken again), 10 s to 24 h in whole milliseconds, rendered like interval.
   * @default the binary's (5 minutes); not rendered
   */
  readonly tagsRefresh?: Duration;
  /** Fixed name=value dimensions appended to every set (after the tags). @default {} */
  readonly staticDimensions?: Record<string, string>;
  /** Metric names or `*` globs to publish (all when unset or empty). @default all */
  readonly metrics?: string[];
  /** Metric names or `*` globs never to publish; wins over `metrics`. @default none */
  readonly excludeMetrics?: string[];
  /** Publish the container-level metrics. @default the binary's (true); not rendered */
  readonly containerMetrics?: boolean;
  /** Container names or globs the exporter publishes nothing for, in every task. @default none */
  readonly excludeContainers?: string[];
  /** Agent output only: tcp://HOST:PORT or udp://HOST:PORT (the host network: 127.0.0.1 is the instance). @default the binary's */
  readonly agentEndpoint?: string;
  /** @default the binary's */
  readonly agentLogGroupName?: string;
  /** @default the binary's */
  readonly agentLogStreamName?: string;
  /** 1024..1048576. @default the binary's */
  readonly maxLineBytes?: number;
  /** @default the binary's (text) */
  readonly logFormat?: ExporterLogFormat;
  /** @default the binary's (info) */
  readonly logLevel?: ExporterLogLevel;
  /**
   * Anything else for the container's environment; may not redefine a variable the construct
   * renders or manages, nor set one daemon mode refuses.
   * @default none
   */
  readonly extraEnvironment?: Record<string, string>;
}

/** The dashboard and alarms of EcsEmfExporterDaemon: over ONE service the daemon covers. */
export interface EcsEmfExporterDaemonDashboardOptions {
  /** @default a name CloudFormation generates */
  readonly dashboardName?: string;
  /**
   * Values for every non-static dimension the first sets name, and for each tag dimension, over
   * the defaults, e.g. {ServiceName: "api", team: "payments"} (with serviceFromApi false,
   * ServiceName is the task definition family).
   * @default {ClusterName: the cluster's name}
   */
  readonly dimensionValues?: Record<string, string>;
  /**
   * The monitored service's containers, one line each in the container widgets. The daemon
   * cannot see that service's task definition, so there is no default: required when the first
   * containerDimensions set names ContainerName and a container metric is published.
   * @default none
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
  /** @default none */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /** @default none */
  readonly okActions?: cloudwatch.IAlarmAction[];
  /** @default true */
  readonly createAlarms?: boolean;
  /**
   * Alarm ("NoData") when the service's tasks publish no RunningContainerCount for
   * noDataEvaluationPeriods consecutive periods: the daemon on their instances is down or its
   * delivery broken, or the service runs no task. As the sidecar construct's.
   * @default true
   */
  readonly noDataAlarm?: boolean;
  /** "N of N" for the no-data alarm, a whole number >= 2. @default 5 */
  readonly noDataEvaluationPeriods?: number;
  /**
   * Alarm ("TasksReportingLow") when fewer than this many of the service's tasks report; as the
   * sidecar construct's (EcsEmfExporterDashboardOptions.minTasksReporting).
   * @default none (no alarm)
   */
  readonly minTasksReporting?: number;
  // No restartAlarmContainers: the daemon never publishes ContainerRestarts (passed anyway, a
  // non-empty list fails construction).
  /**
   * Containers of the monitored service that get a ContainerExits alarm (Sum >= 1 in one period,
   * missing data not breaching). Refused when ContainerExits is not published, or for a
   * container excludeContainers leaves out. With createAlarms false the names are still checked.
   * @default none
   */
  readonly exitAlarmContainers?: string[];
}

export interface EcsEmfExporterDaemonProps extends EcsEmfExporterDaemonSettings {
  /**
   * The cluster: its EC2 container instances each run one daemon task. Scopes ecs:DescribeTasks
   * to its tasks, and its name is the dashboard's default ClusterName. An ecs.Cluster, or one
   * imported with ecs.Cluster.fromClusterAttributes (ecs.Ec2Service needs the connections that
   * fromClusterArn's import lacks).
   */
  readonly cluster: ecs.ICluster;
  /** The exporter image (its entrypoint is the binary; the command is `daemon`). */
  readonly image: ecs.ContainerImage;
  /**
   * Read each task's ServiceName with ecs:DescribeTasks (ECS_EMF_SERVICE_FROM_API) and grant the
   * task role that call on the cluster's tasks. false: the binary puts the task definition family
   * where a set names ServiceName; no API call and no statement unless tagsFromApi is true.
   * @default true
   */
  readonly serviceFromApi?: boolean;
  /** @default a name CloudFormation generates */
  readonly serviceName?: string;
  /** @default "ecs-emf-exporter" */
  readonly containerName?: string;
  /** @default 32 (CPU units) */
  readonly cpu?: number;
  /**
   * Hard memory limit, a whole number of MiB, at least 6. The daemon holds one instance's tasks:
   * raise it for instances with many tasks.
   * @default 64
   */
  readonly memoryLimitMiB?: number;
  /**
   * The service's minimum healthy percent during a deployment (the maximum is 100 with one task
   * per instance).
   * @default 0 (ECS's default for a daemon service: each instance's task is replaced at once)
   */
  readonly minHealthyPercent?: number;
  /** Where the container logs go; with output "stdout" the EMF metrics are extracted here.
   * @default a new log group (retention: logRetention) */
  readonly logGroup?: logs.ILogGroup;
  /** Retention of the log group the construct creates; refused together with logGroup.
   * @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default Size.mebibytes(4) */
  readonly awslogsMaxBufferSize?: Size;
  /** Create a dashboard (and, unless createAlarms is false, alarms) over one service's metrics. */
  readonly dashboard?: EcsEmfExporterDaemonDashboardOptions;
}

/**
 * `ecs-emf-exporter daemon` on every EC2 container instance of a cluster: an ECS service with
 * the DAEMON scheduling strategy, host network, the host's Docker socket and cgroup tree mounted
 * read-only, run as root (to open the socket) with every capability dropped and a read-only root
 * file system, its health file on a small tmpfs at /run/ecs-emf-exporter. Publishes the
 * sidecar's metrics for every task on the instance, except those daemon mode never publishes
 * (ContainerRestarts, ImagePullTime, ClockErrorBound, the ephemeral storage and the exporter's
 * own metrics), plus CPU throttling; the metric helpers, dashboard and alarms are the sidecar
 * construct's, over one service, without what the daemon never publishes.
 */
export class EcsEmfExporterDaemon extends Construct {
  /** The task volume of the host's Docker socket (/var/run/docker.sock, mounted read-only there). */
  public static readonly DOCKER_SOCKET_VOLUME_NAME = DOCKER_SOCKET_VOLUME_NAME;
  /** The task volume of the host's cgroup tree (/sys/fs/cgroup, mounted read-only at /host/sys/fs/cgroup). */
  public static readonly CGROUP_VOLUME_NAME = CGROUP_VOLUME_NAME;

  public readonly taskDefinition: ecs.Ec2TaskDefinition;
  public readonly service: ecs.Ec2Service;
  public readonly container: ecs.ContainerDefinition;
  public readonly logGroup: logs.ILogGroup;
  /** The environment rendered into the container (sorted by name). */
  public readonly environment: Record<string, string>;
  /** The CloudWatch namespace the exporter publishes to. */
  public readonly metricNamespace: string;
  /**
   * The names of the metrics the daemon publishes with these settings, in catalog order (none it
   * never publishes, whatever the settings).
   */
  public readonly publishedMetricNames: string[];
  /** @default none without the dashboard option */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** @default none without the dashboard option, or with createAlarms false */
  public readonly alarms?: ExporterAlarms;
  /** Every alarm created, for wiring into composite alarms or notifications. */
  public readonly allAlarms: cloudwatch.Alarm[];

  private readonly metricFactory: ExporterMetricFactory;

  constructor(scope: Construct, id: string, props: EcsEmfExporterDaemonProps) {
    super(scope, id);
    refuseSidecarOnlySettings(props);
    requireTagsFromApi(props);
    if (props.dashboard !== undefined) {
      refuseDashboardOptions(props.dashboard);
    }
    const settingsInput = sidecarSettings(props);
    // The daemon's mode leaves out what daemon mode never publishes (ephemeral storage,
    // ImagePullTime, ClockErrorBound, ContainerRestarts, the exporter's own metrics), so the
    // dashboard draws no widget that would stay empty and no alarm or metric helper waits on a
    // metric that never comes.
    const settings = resolveSettings(settingsInput, "daemon");
    const serviceFromApi = props.serviceFromApi ?? true;
    this.environment = daemonEnvironment(settingsInput, settings, serviceFromApi, props.extraEnvironment ?? {});
    this.metricNamespace = settings.namespace;
    this.publishedMetricNames = publishedInCatalogOrder(settings);
    const periodSeconds = checkPeriod(props.dashboard?.period ?? Duration.seconds(DEFAULT_PERIOD_SECONDS));
    const defaultPeriod = Duration.seconds(periodSeconds);
    const dimensionValues = { ClusterName: props.cluster.clusterName, ...(props.dashboard?.dimensionValues ?? {}) };
    this.metricFactory = new ExporterMetricFactory(settings, dimensionValues, defaultPeriod);
    const memoryLimitMiB = checkMemoryLimit(props.memoryLimitMiB ?? 64);

    if (props.logGroup !== undefined && props.logRetention !== undefined) {
      throw new Error("ecs-emf-exporter: logRetention applies to the log group the construct creates; with logGroup, set the retention on that log group");
    }
    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, "LogGroup", {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.RETAIN,
      });

    // Host network: the agent's introspection API is on the instance's loopback.
    this.taskDefinition = new ecs.Ec2TaskDefinition(this, "TaskDefinition", { networkMode: ecs.NetworkMode.HOST });
    this.container = this.addContainer(props, memoryLimitMiB);
    this.grantTaskRole(props, settings, serviceFromApi, settings.tagsFromApi);
    this.service = new ecs.Ec2Service(this, "Service", {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      daemon: true,
      minHealthyPercent: props.minHealthyPercent ?? 0,
      ...(props.serviceName === undefined ? {} : { serviceName: props.serviceName }),
    });
    // The deployment circuit breaker is for replica services (its threshold derives from the
    // desired count, which a daemon service has none of); CDK's advice to enable it is a false
    // positive here (aws/aws-cdk#38102), and this construct offers no circuitBreaker.
    Annotations.of(this.service).acknowledgeWarning(
      "@aws-cdk/aws-ecs:shouldUseCircuitBreaker",
      "DAEMON scheduling: the deployment circuit breaker does not apply to a service without a desired count",
    );

    if (props.dashboard !== undefined) {
      const monitoring = this.createMonitoring(props.dashboard, settings, periodSeconds, defaultPeriod);
      this.dashboard = monitoring.dashboard;
      this.alarms = monitoring.alarms;
    }
    this.allAlarms = this.alarms === undefined ? [] : listAlarms(this.alarms);
  }

  /**
   * A metric the exporter publishes with these settings: its namespace, the dimension set the
   * dashboard and alarms use (the first configured set plus the static names; values from
   * dashboard.dimensionValues / options.dimensionValues, ClusterName defaulting to the cluster's
   * name) and the unit it publishes the metric with. Throws for a name that is not an exporter
   * metric, one daemon mode never publishes (ContainerRestarts, ImagePullTime, ClockErrorBound,
   * the ephemeral storage and the exporter's own metrics), one the settings do not publish, a
   * container excludeContainers leaves out, and a missing dimension value.
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

  /** Running containers of each task, published for every task every cycle. @default statistic Minimum */
  public metricRunningContainerCount(options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metric("RunningContainerCount", { statistic: "Minimum", ...options });
  }

  // No metricContainerRestarts(): the daemon never publishes ContainerRestarts.

  /**
   * Exits of one container, by name (no datapoint when nothing exited). Leave the container out
   * when the first containerDimensions set has no ContainerName.
   * @default statistic Sum
   */
  public metricContainerExits(container?: string, options: ExporterMetricOptions = {}): cloudwatch.Metric {
    return this.metric("ContainerExits", { statistic: "Sum", ...options, ...(container === undefined ? {} : { containerName: container }) });
  }

  /**
   * Tasks of one service reporting: SampleCount(RunningContainerCount) / (P / I), as the sidecar
   * construct's metricTasksReporting() (the daemon publishes RunningContainerCount once per
   * interval for every task it covers).
   */
  public metricTasksReporting(options: TasksReportingMetricOptions = {}): cloudwatch.MathExpression {
    return this.metricFactory.tasksReporting(options);
  }

  /** Whether the exporter publishes that metric with these settings. */
  public publishesMetric(metricName: string): boolean {
    return this.metricFactory.publishes(metricName);
  }

  private addContainer(props: EcsEmfExporterDaemonProps, memoryLimitMiB: number): ecs.ContainerDefinition {
    const containerName = props.containerName ?? "ecs-emf-exporter";
    const linuxParameters = new ecs.LinuxParameters(this, "LinuxParameters");
    // Root opens the socket and writes its tmpfs as their owner, and reads the cgroup tree: no
    // capability is needed for any of it.
    linuxParameters.dropCapabilities(ecs.Capability.ALL);
    linuxParameters.addTmpfs({
      containerPath: RUN_DIRECTORY,
      size: RUN_DIRECTORY_SIZE_MIB,
      mountOptions: [ecs.TmpfsMountOption.RW, ecs.TmpfsMountOption.NOEXEC, ecs.TmpfsMountOption.NOSUID, ecs.TmpfsMountOption.NODEV],
    });
    const container = this.taskDefinition.addContainer(containerName, {
      containerName,
      image: props.image,
      command: ["daemon"],
      essential: true,
      user: DAEMON_USER,
      privileged: false,
      readonlyRootFilesystem: true,
      linuxParameters,
      cpu: props.cpu ?? 32,
      memoryLimitMiB,
      environment: { ...this.environment },
      healthCheck: {
        command: ["CMD", BINARY, "healthcheck"],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: "ecs-emf-exporter-daemon",
        logGroup: this.logGroup,
        // A full log buffer must drop lines, not block the exporter behind CloudWatch Logs.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: props.awslogsMaxBufferSize ?? Size.mebibytes(4),
      }),
    });
    this.taskDefinition.addVolume({ name: DOCKER_SOCKET_VOLUME_NAME, host: { sourcePath: DOCKER_SOCKET_PATH } });
    this.taskDefinition.addVolume({ name: CGROUP_VOLUME_NAME, host: { sourcePath: HOST_CGROUP_PATH } });
    container.addMountPoints(
      { sourceVolume: DOCKER_SOCKET_VOLUME_NAME, containerPath: DOCKER_SOCKET_PATH, readOnly: true },
      { sourceVolume: CGROUP_VOLUME_NAME, containerPath: CGROUP_MOUNT_PATH, readOnly: true },
    );
    return container;
  }

  /** Least privilege: only what the chosen settings call, and no policy at all otherwise. */
  private grantTaskRole(props: EcsEmfExporterDaemonProps, settings: ResolvedSettings, serviceFromApi: boolean, tagsFromApi: boolean): void {
    if (settings.output === ExporterOutput.CLOUDWATCH) {
      this.taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({
          actions: ["cloudwatch:PutMetricData"],
          // PutMetricData has no resource-level permissions; the namespace condition scopes it.
          resources: ["*"],
          conditions: { StringEquals: { "cloudwatch:namespace": settings.namespace } },
        }),
      );
    }
    const clusterArn = props.cluster.clusterArn;
    // One lookup serves the service and the tags (include=TAGS): either one needs it.
    if (serviceFromApi || tagsFromApi) {
      this.taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({
          actions: ["ecs:DescribeTasks"],
          resources: [taskArnPattern(clusterArn)],
          conditions: { ArnEquals: { "ecs:cluster": clusterArn } },
        }),
      );
    }
    // Not called by the daemon: granted in case AWS authorizes the tags of DescribeTasks as a tag
    // read, which its documentation does not say (docs/daemon.md, IAM). Same tasks, same condition.
    if (tagsFromApi) {
      this.taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({
          actions: ["ecs:ListTagsForResource"],
          resources: [taskArnPattern(clusterArn)],
          conditions: { ArnEquals: { "ecs:cluster": clusterArn } },
        }),
      );
    }
  }

  /** The sidecar's dashboard and alarms over one service, minus the checks against a task
   * definition the daemon does not have (the monitored service's). */
  private createMonitoring(
    options: EcsEmfExporterDaemonDashboardOptions,
    settings: ResolvedSettings,
    periodSeconds: number,
    period: Duration,
  ): { dashboard: cloudwatch.Dashboard; alarms?: ExporterAlarms } {
    const createAlarms = options.createAlarms ?? true;
    const containers = dashboardContainerLines(settings, options.containerNames);
    const noDataEvaluationPeriods = checkNoDataEvaluationPeriods(options.noDataEvaluationPeriods ?? 5);
    const cpuThreshold = options.cpuThreshold ?? 80;
    const memoryThreshold = options.memoryThreshold ?? 80;
    const tasksReporting = this.publishesMetric(NO_DATA_METRIC) && settings.intervalMillis !== undefined ? this.metricTasksReporting() : undefined;
    const minTasks = options.minTasksReporting === undefined ? undefined : checkMinTasksReporting(options.minTasksReporting, settings, createAlarms);
    const tasksPeriodSeconds = tasksReporting === undefined ? 0 : periodCoveringInterval(periodSeconds, settings.intervalMillis as number);
    if (minTasks !== undefined && tasksPeriodSeconds * tasksReportingEvaluationPeriods(tasksPeriodSeconds) > MAX_ALARM_EVALUATION_SECONDS) {
      throw new Error(
        `ecs-emf-exporter: the tasks-reporting alarm would evaluate ${tasksReportingEvaluationPeriods(tasksPeriodSeconds)} periods of ${tasksPeriodSeconds} s; CloudWatch allows at most one day: lower dashboard.period`,
      );
    }
    const dashboard = createDashboard(this, "Dashboard", {
      metric: (metricName, statistic, label, name) => this.metricFactory.lineMetric(metricName, statistic, period, name, label),
      dashboardName: options.dashboardName,
      region: Stack.of(this).region,
      period,
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
    const exitNames = alarmContainerNames("exitAlarmContainers", "ContainerExits", settings, options.exitAlarmContainers ?? []);
    if (!createAlarms) {
      return { dashboard };
    }
    const noData = (options.noDataAlarm ?? true) ? noDataAlarmInput(settings, periodSeconds, noDataEvaluationPeriods) : undefined;
    const alarms = createExporterAlarms(this, {
      metric: (metricName, statistic, alarmPeriod, name) =>
        this.metric(metricName, { statistic, period: alarmPeriod, ...(name === undefined ? {} : { containerName: name }) }),
      periodSeconds,
      cpuThreshold,
      memoryThreshold,
      publishedMetrics: settings.publishedMetrics,
      // The daemon never publishes ContainerRestarts: no restart alarm (refused above).
      restartAlarmContainers: [],
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
    return { dashboard, alarms };
  }
}

/**
 * The sidecar-only setting (selfMetrics) is not in the props type; a JavaScript caller (or a
 * props object shared with the sidecar construct) can still pass it, and it would be dropped
 * silently. Its "off" values are what the daemon does anyway and pass.
 */
function refuseSidecarOnlySettings(props: EcsEmfExporterDaemonProps): void {
  const given = props as unknown as Readonly<Record<string, unknown>>;
  for (const [prop, variable, why] of REFUSED_SETTINGS) {
    const value = given[prop];
    const off = value === undefined || value === false || (Array.isArray(value) && value.length === 0);
    if (!off) {
      throw new Error(`ecs-emf-exporter: ${prop} (${variable}) is not available to EcsEmfExporterDaemon: ${why}; leave it out`);
    }
  }
}

/**
 * The binary refuses tag dimensions without ECS_EMF_TAGS_FROM_API=true in daemon mode (exit 2):
 * there is no /taskWithTags for other tasks. Not turned on for the caller, since it adds task
 * role permissions; the Terraform daemon module makes the same choice.
 */
function requireTagsFromApi(props: EcsEmfExporterDaemonSettings): void {
  if ((props.tagDimensions ?? []).length > 0 && props.tagsFromApi !== true) {
    throw new Error(
      "ecs-emf-exporter: tagDimensions (ECS_EMF_TAG_DIMENSIONS) needs tagsFromApi: true in EcsEmfExporterDaemon: daemon mode has no /taskWithTags for other tasks, reads task tags only with ecs:DescribeTasks (include=TAGS), and refuses to start with tag dimensions without ECS_EMF_TAGS_FROM_API=true; set tagsFromApi: true (it grants the task role ecs:DescribeTasks and ecs:ListTagsForResource on the cluster's tasks), or leave out tagDimensions",
    );
  }
}

/**
 * The sidecar construct's dashboard options the daemon cannot honour: not in its options type;
 * passed anyway (from JavaScript, or an options object shared with the sidecar construct), they
 * would be dropped silently. An empty list is what the daemon does anyway and passes.
 */
function refuseDashboardOptions(options: EcsEmfExporterDaemonDashboardOptions): void {
  const given = options as unknown as Readonly<Record<string, unknown>>;
  for (const [option, why] of REFUSED_DASHBOARD_OPTIONS) {
    const value = given[option];
    const off = value === undefined || (Array.isArray(value) && value.length === 0);
    if (!off) {
      throw new Error(`ecs-emf-exporter: dashboard.${option} is not available to EcsEmfExporterDaemon: ${why}; leave it out`);
    }
  }
}

/** Exactly the settings daemon mode takes, as the sidecar's settings type; selfMetrics off. */
function sidecarSettings(props: EcsEmfExporterDaemonSettings): ExporterSettings {
  return {
    output: props.output,
    namespace: props.namespace,
    interval: props.interval,
    highResolution: props.highResolution,
    dimensions: props.dimensions,
    containerDimensions: props.containerDimensions,
    tagDimensions: props.tagDimensions,
    // Rendered only when true, as the Terraform daemon module does: false is the binary's default.
    tagsFromApi: props.tagsFromApi === true ? true : undefined,
    tagsRefresh: props.tagsRefresh,
    staticDimensions: props.staticDimensions,
    metrics: props.metrics,
    excludeMetrics: props.excludeMetrics,
    containerMetrics: props.containerMetrics,
    excludeContainers: props.excludeContainers,
    agentEndpoint: props.agentEndpoint,
    agentLogGroupName: props.agentLogGroupName,
    agentLogStreamName: props.agentLogStreamName,
    maxLineBytes: props.maxLineBytes,
    logFormat: props.logFormat,
    logLevel: props.logLevel,
    // The daemon never publishes ExporterErrors & co.: the dashboard and alarms leave them out.
    selfMetrics: false,
  };
}

/** The sidecar's rendering (same variables, same order) without ECS_EMF_SELF_METRICS, plus the
 * daemon's own variables and extraEnvironment. */
function daemonEnvironment(
  settingsInput: ExporterSettings,
  settings: ResolvedSettings,
  serviceFromApi: boolean,
  extraEnvironment: Readonly<Record<string, string>>,
): Record<string, string> {
  for (const name of Object.keys(extraEnvironment)) {
    const refused = REFUSED_SETTINGS.find(([, variable]) => variable === name);
    if (refused !== undefined) {
      throw new Error(`ecs-emf-exporter: extraEnvironment must not set ${name}: ${refused[2]} (the daemon refuses to start with it)`);
    }
    const managed = DAEMON_MANAGED_VARIABLES[name];
    if (managed !== undefined) {
      throw new Error(`ecs-emf-exporter: extraEnvironment must not set ${name}: ${managed}`);
    }
  }
  // renderEnvironment refuses an extraEnvironment variable that redefines a setting.
  const rendered = renderEnvironment({ ...settingsInput, extraEnvironment: { ...extraEnvironment } }, settings);
  // The binary's default is false, the only value daemon mode accepts: not rendered.
  delete rendered["ECS_EMF_SELF_METRICS"];
  rendered["ECS_EMF_CGROUP_ROOT"] = CGROUP_MOUNT_PATH;
  rendered["ECS_EMF_SERVICE_FROM_API"] = String(serviceFromApi);
  rendered["ECS_EMF_HEALTH_FILE"] = HEALTH_FILE;
  return Object.fromEntries(Object.entries(rendered).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function checkMemoryLimit(limit: number): number {
  if (!Token.isUnresolved(limit) && (!Number.isInteger(limit) || limit < MIN_MEMORY_LIMIT_MIB)) {
    throw new Error(`ecs-emf-exporter: memoryLimitMiB ${limit} must be a whole number of MiB, at least ${MIN_MEMORY_LIMIT_MIB}`);
  }
  return limit;
}

/** The container lines: the named containers; no default, since the monitored service's task
 * definition is not the daemon's. */
function dashboardContainerLines(settings: ResolvedSettings, names: readonly string[] | undefined): ContainerLine[] {
  if (names !== undefined) {
    return containerLines(settings, names);
  }
  const containerMetricPublished = METRIC_CATALOG.some((metric) => metric.level === "container" && settings.publishedMetrics.has(metric.name));
  if (!containerMetricPublished) {
    return [];
  }
  if (containerSetNamesContainer(settings)) {
    throw new Error(
      "ecs-emf-exporter: dashboard.containerNames must name the monitored service's containers (the daemon cannot see its task definition): the first containerDimensions set names ContainerName, so each container gets its own lines",
    );
  }
  return containerLines(settings, []);
}

/** An explicit list of alarm containers: each once, a published metric, none excludeContainers leaves out. */
function alarmContainerNames(option: string, metricName: string, settings: ResolvedSettings, names: readonly string[]): string[] {
  if (names.length === 0) {
    return [];
  }
  if (names.some((name) => name.trim() === "") || new Set(names).size !== names.length) {
    throw new Error(`ecs-emf-exporter: dashboard.${option} must name each container once, by a non-empty name`);
  }
  if (!settings.publishedMetrics.has(metricName)) {
    throw new Error(
      `ecs-emf-exporter: dashboard.${option} is set, but ${metricName} is not published (containerMetrics, metrics / excludeMetrics), so the alarms could never fire; publish it, or leave out ${option}`,
    );
  }
  for (const name of names) {
    if (containerExcluded(settings, name)) {
      throw new Error(
        `ecs-emf-exporter: ${option} names ${name}, which excludeContainers leaves out: the exporter publishes no ${metricName} for it, and the alarm could never fire`,
      );
    }
  }
  return [...names];
}
