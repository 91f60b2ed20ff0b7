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
import { ExporterAlarms, createExporterAlarms } from "./alarms";
import { buildDashboardBody } from "./dashboard-body";
import { DimensionPairs, containerSetNamesContainer, dimensionPairs } from "./dimension-values";
import { ExporterSettings, ResolvedSettings, renderEnvironment, resolveSettings } from "./settings";

export type { ExporterLogFormat, ExporterLogLevel, ExporterOutput, ExporterSettings } from "./settings";

/** Mounted read-write on /tmp (the health file lives there) when the root is read-only. */
export const TMP_VOLUME_NAME = "ecs-emf-exporter-tmp";
const BINARY = "/ecs-emf-exporter";
const EXPORTER_USER = "65532:65532";

export interface EcsEmfExporterDashboardOptions {
  /** @default a name CloudFormation generates */
  readonly dashboardName?: string;
  /** Values for every non-static dimension the first sets name, e.g. {ClusterName: "prod", ServiceName: "api"}. */
  readonly dimensionValues: Record<string, string>;
  /**
   * One container line (and restart alarm) per name.
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
    const containerName = props.containerName ?? "ecs-emf-exporter";
    // Read before our container is added; ours is not essential, so it never becomes the default.
    const appContainerName = props.taskDefinition.defaultContainer?.containerName;

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, "LogGroup", { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN });
    this.container = this.addSidecar(props, containerName);
    this.grantTaskRole(props, settings);

    if (props.dashboard !== undefined) {
      const options = props.dashboard;
      const periodSeconds = checkPeriod(options.period ?? 60);
      const dimensionValues = options.dimensionValues;
      const taskDimensions = dimensionPairs(settings, dimensionValues, "task");
      const containers = containerLines(settings, dimensionValues, options.containerNames ?? defaultContainerNames(appContainerName, containerName));
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
        this.alarms = createExporterAlarms(this, {
          ...common,
          alarmActions: options.alarmActions ?? [],
          okActions: options.okActions ?? [],
        });
      }
    }
    this.allAlarms = this.alarms === undefined ? [] : listAlarms(this.alarms);
  }

  private addSidecar(props: EcsEmfExporterProps, containerName: string): ecs.ContainerDefinition {
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

function listAlarms(alarms: ExporterAlarms): cloudwatch.Alarm[] {
  const optional = (alarm: cloudwatch.Alarm | undefined) => (alarm === undefined ? [] : [alarm]);
  return [
    ...optional(alarms.cpuUtilization),
    ...optional(alarms.memoryUtilization),
    ...Object.values(alarms.containerRestarts),
    ...optional(alarms.exporterErrors),
  ];
}
