// The exporter's settings as typed construct props: validation (the same rules the binary
// applies at start-up, so a bad value fails `cdk synth` instead of a task in production) and
// the rendering into the container's environment described by the shared rendering contract (infra/README.md).
import { Duration, Token, Tokenization } from "aws-cdk-lib";
import { METRIC_CATALOG } from "./metric-catalog";

/** Where the exporter sends its metrics (ECS_EMF_OUTPUT). */
export enum ExporterOutput {
  /** EMF lines on stdout, extracted from the awslogs log group. */
  STDOUT = "stdout",
  /** EMF to the CloudWatch agent (agentEndpoint). */
  AGENT = "agent",
  /** PutMetricData calls. */
  CLOUDWATCH = "cloudwatch",
}

/** The exporter's own log format (ECS_EMF_LOG_FORMAT). */
export enum ExporterLogFormat {
  TEXT = "text",
  JSON = "json",
}

/** The exporter's own log level (ECS_EMF_LOG_LEVEL). */
export enum ExporterLogLevel {
  ERROR = "error",
  WARN = "warn",
  INFO = "info",
  DEBUG = "debug",
  TRACE = "trace",
}

/** Every exporter setting; unset ones keep the binary's default and are not rendered. */
export interface ExporterSettings {
  /** Where metrics go. @default ExporterOutput.STDOUT (EMF lines in the awslogs log group) */
  readonly output?: ExporterOutput;
  /** @default "ECS/TaskMetrics" */
  readonly namespace?: string;
  /**
   * Poll interval, 1 s to 1 h in whole milliseconds. Rendered in the unit it is given in
   * (Duration.seconds(90) as "90s", Duration.minutes(5) as "5m"); a token amount is rendered
   * as a deploy-time value (then the no-data alarm cannot follow it).
   * @default Duration.seconds(60)
   */
  readonly interval?: Duration;
  readonly highResolution?: boolean;
  /** Task-level dimension sets. @default [["ClusterName", "ServiceName"]] */
  readonly dimensions?: string[][];
  /** Container-level dimension sets. @default [["ClusterName", "ServiceName", "ContainerName"]] */
  readonly containerDimensions?: string[][];
  /** Task tag keys appended to every dimension set. @default [] */
  readonly tagDimensions?: string[];
  /** Fixed name=value dimensions appended to every set (after the tags). @default {} */
  readonly staticDimensions?: Record<string, string>;
  /**
   * Metric names or `*` globs to publish (all when unset or empty). The binary also takes `?`
   * for one character. The dashboard and alarms leave out every metric not published.
   */
  readonly metrics?: string[];
  /** Metric names or `*` globs never to publish; wins over `metrics`. */
  readonly excludeMetrics?: string[];
  /** Publish the container-level metrics. The binary's default is true. */
  readonly containerMetrics?: boolean;
  readonly excludeContainers?: string[];
  /**
   * How often task tags are re-read, 10 s to 24 h in whole milliseconds, rendered like interval.
   * @default the binary's (5 minutes); not rendered
   */
  readonly tagsRefresh?: Duration;
  /** Read task tags with ecs:ListTagsForResource (needs cluster for the IAM statement). */
  readonly tagsFromApi?: boolean;
  /** Agent output only: tcp://HOST:PORT or udp://HOST:PORT. */
  readonly agentEndpoint?: string;
  readonly agentLogGroupName?: string;
  readonly agentLogStreamName?: string;
  /** 1024..1048576. */
  readonly maxLineBytes?: number;
  readonly logFormat?: ExporterLogFormat;
  readonly logLevel?: ExporterLogLevel;
  /**
   * Publish ExporterErrors, ExporterDroppedDatapoints and ExporterCycleDuration.
   * @default true — unlike the binary (false), because the exporter-errors alarm needs them.
   */
  readonly selfMetrics?: boolean;
  /** Anything else for the container's environment; may not redefine a variable above. */
  readonly extraEnvironment?: Record<string, string>;
}

/** The settings the dashboard, alarms and IAM depend on, with defaults applied. */
export interface ResolvedSettings {
  readonly output: ExporterOutput;
  readonly namespace: string;
  /** As rendered into ECS_EMF_INTERVAL ("60s", "5m", …); may be a token. */
  readonly interval: string;
  /** The interval in milliseconds; undefined when it is a token. */
  readonly intervalMillis: number | undefined;
  /** As rendered into ECS_EMF_TAGS_REFRESH; undefined when not set. */
  readonly tagsRefresh: string | undefined;
  readonly dimensions: readonly (readonly string[])[];
  readonly containerDimensions: readonly (readonly string[])[];
  readonly tagDimensions: readonly string[];
  /** Sorted by name, the order they are rendered in. */
  readonly staticDimensions: readonly (readonly [string, string])[];
  readonly containerMetrics: boolean;
  /** ECS_EMF_EXCLUDE_CONTAINERS: container names or globs the exporter publishes nothing for. */
  readonly excludeContainers: readonly string[];
  readonly tagsFromApi: boolean;
  readonly selfMetrics: boolean;
  /** Which exporter the settings drive: the sidecar construct's or the daemon construct's. */
  readonly mode: ExporterMode;
  /**
   * Catalog names of the metrics the exporter publishes under these settings: metrics /
   * excludeMetrics applied, container metrics only with containerMetrics, exporter metrics only
   * with selfMetrics, and none that the mode never publishes (neverPublishedIn). The dashboard,
   * alarms and metric helpers draw nothing outside this set.
   */
  readonly publishedMetrics: ReadonlySet<string>;
}

/**
 * Which exporter the settings drive (src/settings/mod.rs Mode): "sidecar" for EcsEmfExporter,
 * "daemon" for EcsEmfExporterDaemon. Each publishes metrics the other never can.
 */
export type ExporterMode = "sidecar" | "daemon";

const THROTTLING_SIDECAR =
  "only daemon mode publishes CPU throttling: the task metadata endpoint the sidecar reads serves zeros for the throttling counters, so it never reads them (docs/metrics.md, \"CPU throttling\")";
const EXPORTER_METRICS_DAEMON = "the exporter's own metrics are per task in the sidecar";

/**
 * Catalog metrics each mode never publishes, whatever the settings, and why: those
 * `ecs-emf-exporter metrics --json` (the sidecar) and `metrics --json --daemon` list as
 * `published: false` (src/pipeline/catalog.rs DAEMON_ONLY and SIDECAR_ONLY). The sidecar's are
 * the daemon-only CPU throttling metrics; the daemon's are what it cannot know (docs/daemon.md,
 * "What daemon mode cannot know"; the Terraform daemon module's never_published_metrics). They
 * are taken out of publishedMetrics, so no widget, alarm or metric helper names them.
 */
const NEVER_PUBLISHED: Readonly<Record<ExporterMode, Readonly<Record<string, string>>>> = {
  // DAEMON_ONLY
  sidecar: {
    CpuThrottledTime: THROTTLING_SIDECAR,
    CpuThrottledPercent: THROTTLING_SIDECAR,
    ContainerCpuThrottledTime: THROTTLING_SIDECAR,
    ContainerCpuThrottledPercent: THROTTLING_SIDECAR,
  },
  // SIDECAR_ONLY
  daemon: {
    EphemeralStorageUtilized: "the ephemeral storage figures come from Fargate's task metadata only",
    EphemeralStorageReserved: "the ephemeral storage figures come from Fargate's task metadata only",
    ImagePullTime: "the image pull times are in neither the ECS agent introspection API nor Docker's",
    ClockErrorBound: "it comes from Fargate's task metadata only",
    ContainerRestarts: "ECS's restart count is in neither the ECS agent introspection API nor Docker's",
    ExporterErrors: EXPORTER_METRICS_DAEMON,
    ExporterDroppedDatapoints: EXPORTER_METRICS_DAEMON,
    ExporterCycleDuration: EXPORTER_METRICS_DAEMON,
  },
};

/** How the refusal of a never-published metric names the mode. */
const MODE_PHRASES: Readonly<Record<ExporterMode, string>> = { sidecar: "by the sidecar", daemon: "in daemon mode" };

/** Why an exporter in that mode never publishes the metric, whatever the settings; undefined when it can. */
export function neverPublishedIn(mode: ExporterMode, metricName: string): string | undefined {
  const never = NEVER_PUBLISHED[mode];
  return Object.prototype.hasOwnProperty.call(never, metricName) ? never[metricName] : undefined;
}

/** The error for a metric the mode never publishes (the metric helpers throw it); undefined when it can. */
export function neverPublishedError(mode: ExporterMode, metricName: string): Error | undefined {
  const why = neverPublishedIn(mode, metricName);
  return why === undefined
    ? undefined
    : new Error(`ecs-emf-exporter: ${metricName} is never published ${MODE_PHRASES[mode]} (${why}): a metric of it would never see a datapoint`);
}

/** The names of the published metrics, in catalog order. */
export function publishedInCatalogOrder(settings: ResolvedSettings): string[] {
  return METRIC_CATALOG.filter((metric) => settings.publishedMetrics.has(metric.name)).map((metric) => metric.name);
}

const OUTPUTS: readonly string[] = ["stdout", "agent", "cloudwatch"];
const LOG_FORMATS: readonly string[] = ["text", "json"];
const LOG_LEVELS: readonly string[] = ["error", "warn", "info", "debug", "trace"];

/** Built-in dimension names a set may hold; ContainerName only in container sets. */
export const BUILTIN_DIMENSIONS: readonly string[] = [
  "ClusterName",
  "ServiceName",
  "TaskDefinitionFamily",
  "TaskDefinitionRevision",
  "TaskId",
  "ContainerName",
  "LaunchType",
  "AvailabilityZone",
];

/** Root members of EMF documents (src/pipeline/dimensions.rs PROPERTY_NAMES): tag and static
 * dimension names may not reuse them, nor a built-in dimension or metric name. */
const DOCUMENT_PROPERTY_NAMES: readonly string[] = [
  "Type",
  "TaskARN",
  "Image",
  "DockerId",
  "KnownStatus",
  "ClockSynchronizationStatus",
  "ClockReferenceTimestamp",
  // From the ECS agent introspection API (ECS_EMF_INTROSPECTION_URI): two task-document
  // properties and a built-in dimension the binary allows only with that URL, which these
  // constructs do not set, so it is not in BUILTIN_DIMENSIONS; a tag may not take its name.
  "ContainerInstanceArn",
  "AgentVersion",
  "ContainerInstanceId",
  // ContainerExits documents only (OOMKilled in daemon mode, from Docker).
  "ExitCode",
  "FinishedAt",
  "OOMKilled",
  "_aws",
];

const CLOUDWATCH_MAX_DIMENSIONS = 30;

export const DEFAULT_DIMENSIONS = [["ClusterName", "ServiceName"]];
export const DEFAULT_CONTAINER_DIMENSIONS = [["ClusterName", "ServiceName", "ContainerName"]];

function fail(message: string): never {
  throw new Error(`ecs-emf-exporter: ${message}`);
}

/** True when the value is only known at deploy time; such values are not validated here. */
function isToken(value: string): boolean {
  return Token.isUnresolved(value);
}

/** The binary's duration suffixes, by Duration unit label. */
const DURATION_SUFFIXES: Readonly<Record<string, string>> = { millis: "ms", seconds: "s", minutes: "m", hours: "h" };
const SUFFIX_MILLIS: readonly (readonly [string, number])[] = [
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

/** The amount of a Duration in its own unit (a token stays a token). */
function amountInOwnUnit(duration: Duration): number {
  switch (duration.unitLabel()) {
    case "millis":
      return duration.toMilliseconds({ integral: false });
    case "seconds":
      return duration.toSeconds({ integral: false });
    case "minutes":
      return duration.toMinutes({ integral: false });
    case "hours":
      return duration.toHours({ integral: false });
    default:
      return duration.toDays({ integral: false });
  }
}

export interface RenderedDuration {
  /** The binary's form: "90s", "5m", "1h", "1500ms"; a token string for a token amount. */
  readonly text: string;
  /** undefined for a token amount. */
  readonly millis: number | undefined;
}

/**
 * A Duration as the binary reads it, checked against the setting's bounds. A literal is
 * rendered in its own unit when that is a whole number of it ("60s" stays "60s", not "1m"),
 * else in the largest unit that divides it.
 */
export function renderDuration(setting: string, duration: Duration, minMillis: number, maxMillis: number, bounds: string): RenderedDuration {
  const suffix = DURATION_SUFFIXES[duration.unitLabel()];
  if (duration.isUnresolved()) {
    if (suffix === undefined) {
      fail(`${setting}: a Duration whose amount is a token must be given in milliseconds, seconds, minutes or hours (got Duration.${duration.unitLabel()})`);
    }
    return { text: `${Tokenization.stringifyNumber(amountInOwnUnit(duration))}${suffix}`, millis: undefined };
  }
  const millis = duration.toMilliseconds({ integral: false });
  if (!Number.isInteger(millis) || millis < minMillis || millis > maxMillis) {
    fail(`${setting} ${duration.toHumanString()} (${millis} ms) must be a whole number of milliseconds from ${bounds}`);
  }
  const own = amountInOwnUnit(duration);
  if (suffix !== undefined && Number.isInteger(own)) {
    return { text: `${own}${suffix}`, millis };
  }
  const [largest, factor] = SUFFIX_MILLIS.find(([, unitMillis]) => millis % unitMillis === 0) ?? ["ms", 1];
  return { text: `${millis / factor}${largest}`, millis };
}

function checkNamespace(namespace: string): void {
  if (isToken(namespace)) {
    return;
  }
  const printableAscii = /^[\x20-\x7e]*$/.test(namespace);
  if (namespace.trim() === "" || namespace.length > 255 || !printableAscii) {
    fail(`namespace "${namespace}" must be 1-255 printable ASCII characters`);
  }
  if (namespace.startsWith("AWS/")) {
    fail(`namespace "${namespace}" must not start with "AWS/" (reserved for AWS services)`);
  }
}

function checkSets(setting: string, sets: readonly (readonly string[])[], containerLevel: boolean): void {
  if (sets.length === 0) {
    fail(`${setting} needs at least one dimension set (an empty set [] is allowed)`);
  }
  const allowed = BUILTIN_DIMENSIONS.filter((name) => containerLevel || name !== "ContainerName");
  for (const set of sets) {
    for (const name of set) {
      if (!allowed.includes(name)) {
        const where = name === "ContainerName" ? " (ContainerName is only allowed in containerDimensions)" : "";
        fail(`${setting}: unknown dimension "${name}"${where}; accepted: ${allowed.join(", ")}`);
      }
    }
  }
}

/** A tag or static dimension name: what CloudWatch accepts, what our comma/equals rendering
 * can carry, and nothing the exporter already puts on the document root. */
function checkExtraName(setting: string, name: string): void {
  if (isToken(name)) {
    fail(`${setting}: dimension names must be known at synth time`);
  }
  if (!/^[\x20-\x7e]{1,250}$/.test(name) || name.startsWith(":") || /[,;=]/.test(name) || name.trim() !== name) {
    fail(`${setting}: dimension name "${name}" must be 1-250 printable ASCII characters without , ; = or surrounding spaces, not starting with ':'`);
  }
  const taken =
    BUILTIN_DIMENSIONS.includes(name) ||
    DOCUMENT_PROPERTY_NAMES.includes(name) ||
    METRIC_CATALOG.some((metric) => metric.name === name);
  if (taken) {
    fail(`${setting}: dimension name "${name}" collides with a built-in dimension, property or metric name`);
  }
}

function checkStaticValue(name: string, value: string): void {
  if (isToken(value)) {
    return;
  }
  // The binary trims values and splits the list on ",", so neither may be in a value.
  if (value.length === 0 || [...value].length > 1024 || value.includes(",") || value.trim() !== value) {
    fail(`staticDimensions: value of "${name}" must be 1-1024 characters without "," or surrounding spaces`);
  }
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped.replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}

/** Whether the name matches any of the patterns (src/glob.rs NameFilter::matches). */
function matchesAny(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => globToRegExp(pattern).test(name));
}

/** src/settings.rs Settings::publishes, over the whole catalog: what the mode can publish at
 * all (Mode::can_publish), the level switches and the name filters. */
function publishedMetricNames(
  mode: ExporterMode,
  metrics: readonly string[],
  excludeMetrics: readonly string[],
  containerMetrics: boolean,
  selfMetrics: boolean,
): ReadonlySet<string> {
  const switchedOn = { task: true, container: containerMetrics, exporter: selfMetrics };
  return new Set(
    METRIC_CATALOG.filter(
      (metric) =>
        neverPublishedIn(mode, metric.name) === undefined &&
        switchedOn[metric.level] &&
        (metrics.length === 0 || matchesAny(metrics, metric.name)) &&
        !matchesAny(excludeMetrics, metric.name),
    ).map((metric) => metric.name),
  );
}

/** The binary rejects a metric pattern that matches nothing; so do we, at synth time. */
function checkMetricPatterns(setting: string, patterns: readonly string[]): void {
  for (const pattern of patterns) {
    if (!METRIC_CATALOG.some((metric) => matchesAny([pattern], metric.name))) {
      fail(`${setting}: "${pattern}" matches no metric the exporter publishes`);
    }
  }
}

function checkOneOf(setting: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) {
    fail(`${setting} "${value}" must be one of ${allowed.join(", ")}`);
  }
}

function checkListItems(setting: string, items: readonly string[]): void {
  for (const item of items) {
    if (item.trim() === "" || item.includes(",")) {
      fail(`${setting}: "${item}" must be non-empty and contain no ","`);
    }
  }
}

/** Whether excludeContainers leaves the container out (src/settings/glob.rs NameFilter::matches):
 * the exporter then publishes no container metric for it, ContainerRestarts included. */
export function containerExcluded(settings: ResolvedSettings, containerName: string): boolean {
  return matchesAny(settings.excludeContainers, containerName);
}

/** Names appended to every set: tags first, then statics, each once (as the binary does). */
export function extraDimensionNames(settings: ResolvedSettings): string[] {
  const names: string[] = [];
  for (const name of [...settings.tagDimensions, ...settings.staticDimensions.map(([key]) => key)]) {
    if (!names.includes(name)) {
      names.push(name);
    }
  }
  return names;
}

/**
 * Validates every setting and applies the defaults for the exporter of that mode; throws an
 * Error naming the bad setting. A metrics / excludeMetrics pattern may match only metrics the
 * mode never publishes (the binary checks them against the whole catalog too).
 */
export function resolveSettings(settings: ExporterSettings, mode: ExporterMode): ResolvedSettings {
  const output = settings.output ?? ExporterOutput.STDOUT;
  checkOneOf("output", output, OUTPUTS);
  const namespace = settings.namespace ?? "ECS/TaskMetrics";
  checkNamespace(namespace);
  const interval = renderDuration("interval", settings.interval ?? Duration.seconds(60), 1000, 3_600_000, "1s to 1h");
  const tagsRefresh =
    settings.tagsRefresh === undefined ? undefined : renderDuration("tagsRefresh", settings.tagsRefresh, 10_000, 86_400_000, "10s to 24h").text;

  const dimensions = settings.dimensions ?? DEFAULT_DIMENSIONS;
  checkSets("dimensions", dimensions, false);
  const containerDimensions = settings.containerDimensions ?? DEFAULT_CONTAINER_DIMENSIONS;
  checkSets("containerDimensions", containerDimensions, true);
  const tagDimensions = settings.tagDimensions ?? [];
  tagDimensions.forEach((name) => checkExtraName("tagDimensions", name));
  const staticDimensions = Object.entries(settings.staticDimensions ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, value] of staticDimensions) {
    checkExtraName("staticDimensions", name);
    checkStaticValue(name, value);
  }

  const metrics = settings.metrics ?? [];
  const excludeMetrics = settings.excludeMetrics ?? [];
  checkMetricPatterns("metrics", metrics);
  checkMetricPatterns("excludeMetrics", excludeMetrics);
  checkListItems("excludeContainers", settings.excludeContainers ?? []);
  if (settings.maxLineBytes !== undefined && !Token.isUnresolved(settings.maxLineBytes)) {
    const bytes = settings.maxLineBytes;
    if (!Number.isInteger(bytes) || bytes < 1024 || bytes > 1_048_576) {
      fail(`maxLineBytes ${bytes} must be a whole number from 1024 to 1048576`);
    }
  }
  if (settings.agentEndpoint !== undefined && !isToken(settings.agentEndpoint)) {
    if (!/^(tcp|udp):\/\/\S+:\d{1,5}$/.test(settings.agentEndpoint)) {
      fail(`agentEndpoint "${settings.agentEndpoint}" must look like tcp://HOST:PORT or udp://HOST:PORT`);
    }
  }
  if (settings.logFormat !== undefined) {
    checkOneOf("logFormat", settings.logFormat, LOG_FORMATS);
  }
  if (settings.logLevel !== undefined) {
    checkOneOf("logLevel", settings.logLevel, LOG_LEVELS);
  }

  const containerMetrics = settings.containerMetrics ?? true;
  const selfMetrics = settings.selfMetrics ?? true;
  const resolved: ResolvedSettings = {
    output,
    namespace,
    interval: interval.text,
    intervalMillis: interval.millis,
    tagsRefresh,
    dimensions,
    containerDimensions,
    tagDimensions,
    staticDimensions,
    containerMetrics,
    // The binary trims each entry of the comma list.
    excludeContainers: (settings.excludeContainers ?? []).map((pattern) => pattern.trim()),
    tagsFromApi: settings.tagsFromApi ?? false,
    selfMetrics,
    mode,
    publishedMetrics: publishedMetricNames(mode, metrics, excludeMetrics, containerMetrics, selfMetrics),
  };
  const extras = extraDimensionNames(resolved).length;
  const widest = Math.max(...[...dimensions, ...containerDimensions].map((set) => new Set(set).size));
  if (widest + extras > CLOUDWATCH_MAX_DIMENSIONS) {
    fail(`a dimension set would have ${widest + extras} dimensions; CloudWatch allows ${CLOUDWATCH_MAX_DIMENSIONS}`);
  }
  return resolved;
}

function renderSets(sets: readonly (readonly string[])[]): string {
  return sets.map((set) => set.join(",")).join(";");
}

/**
 * The container environment: the always-rendered variables, every other setting only when the
 * deployer set it, and extraEnvironment — sorted by name (the contract's order).
 */
export function renderEnvironment(settings: ExporterSettings, resolved: ResolvedSettings): Record<string, string> {
  const bool = (value: boolean | undefined) => (value === undefined ? undefined : String(value));
  const list = (items: readonly string[] | undefined) =>
    items === undefined || items.length === 0 ? undefined : items.join(",");
  const statics = resolved.staticDimensions.map(([name, value]) => `${name}=${value}`);

  const managed: Record<string, string | undefined> = {
    ECS_EMF_OUTPUT: resolved.output,
    ECS_EMF_NAMESPACE: resolved.namespace,
    ECS_EMF_INTERVAL: resolved.interval,
    ECS_EMF_DIMENSIONS: renderSets(resolved.dimensions),
    ECS_EMF_CONTAINER_DIMENSIONS: renderSets(resolved.containerDimensions),
    ECS_EMF_SELF_METRICS: String(resolved.selfMetrics),
    ECS_EMF_HIGH_RESOLUTION: bool(settings.highResolution),
    ECS_EMF_TAG_DIMENSIONS: list(settings.tagDimensions),
    ECS_EMF_STATIC_DIMENSIONS: list(statics),
    ECS_EMF_METRICS: list(settings.metrics),
    ECS_EMF_EXCLUDE_METRICS: list(settings.excludeMetrics),
    ECS_EMF_CONTAINER_METRICS: bool(settings.containerMetrics),
    ECS_EMF_EXCLUDE_CONTAINERS: list(settings.excludeContainers),
    ECS_EMF_TAGS_REFRESH: resolved.tagsRefresh,
    ECS_EMF_TAGS_FROM_API: bool(settings.tagsFromApi),
    AWS_EMF_AGENT_ENDPOINT: settings.agentEndpoint,
    AWS_EMF_LOG_GROUP_NAME: settings.agentLogGroupName,
    AWS_EMF_LOG_STREAM_NAME: settings.agentLogStreamName,
    ECS_EMF_MAX_LINE_BYTES: settings.maxLineBytes === undefined ? undefined : String(settings.maxLineBytes),
    ECS_EMF_LOG_FORMAT: settings.logFormat,
    ECS_EMF_LOG_LEVEL: settings.logLevel,
  };
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(managed)) {
    if (value !== undefined) {
      environment[name] = value;
    }
  }
  for (const [name, value] of Object.entries(settings.extraEnvironment ?? {})) {
    // A second source for a managed variable would let the dashboard and the exporter disagree.
    if (name in managed) {
      fail(`extraEnvironment must not set ${name}; use the construct's own setting for it`);
    }
    environment[name] = value;
  }
  return Object.fromEntries(Object.entries(environment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
