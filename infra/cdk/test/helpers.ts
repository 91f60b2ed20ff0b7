// Shared fixtures for the construct tests: a stack with a Fargate task definition whose default
// container is "app", and readers for the synthesized template.
import { App, Duration, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as ecs from "aws-cdk-lib/aws-ecs";
import { EcsEmfExporter, EcsEmfExporterProps } from "../lib/ecs-emf-exporter";

export const TEST_ENV = { account: "123456789012", region: "eu-west-1" };

/** Dimension values most tests deploy the dashboard with, and the exporter's default namespace. */
export const PROD_API = { ClusterName: "prod", ServiceName: "api" };
export const NS = "ECS/TaskMetrics";

/** The contract's 16 dashboard widgets, in order (infra/README.md). */
export const ALL_TITLES = [
  "Task CPU (CPU units)",
  "Task CPU utilization (%)",
  "Task memory (MiB)",
  "Task memory utilization (%)",
  "Task network (bytes/s)",
  "Task storage I/O (bytes per interval)",
  "Ephemeral storage (MiB)",
  "Container CPU (CPU units)",
  "Container memory (MiB)",
  "Container storage I/O (bytes per interval)",
  "Container restarts",
  "Running containers",
  "Exporter health",
  "Tasks reporting",
  "Container exits",
  "Clock error bound (ms, Fargate only)",
];

export interface Fixture {
  readonly stack: Stack;
  readonly taskDefinition: ecs.FargateTaskDefinition;
}

/** The app container's image in every fixture. */
export const APP_IMAGE = ecs.ContainerImage.fromRegistry("public.ecr.aws/nginx/nginx:stable");

/** An app container restart policy, as bin/example.ts gives its app. */
export const APP_RESTART_POLICY: Partial<ecs.ContainerDefinitionOptions> = {
  enableRestartPolicy: true,
  restartIgnoredExitCodes: [0],
  restartAttemptPeriod: Duration.seconds(60),
};

/**
 * `concreteEnv` pins account/region so ARNs and regions render as literals; `app` adds options
 * to the app container (by default it has no restart policy).
 */
export function fargateFixture(concreteEnv = true, app: Partial<ecs.ContainerDefinitionOptions> = {}): Fixture {
  const stack = new Stack(new App(), "TestStack", concreteEnv ? { env: TEST_ENV } : {});
  const taskDefinition = new ecs.FargateTaskDefinition(stack, "TaskDefinition");
  taskDefinition.addContainer("app", { containerName: "app", image: APP_IMAGE, ...app });
  return { stack, taskDefinition };
}

export type ExtraProps = Omit<EcsEmfExporterProps, "taskDefinition" | "image">;

export function addExporter(fixture: Fixture, props: ExtraProps = {}): EcsEmfExporter {
  return new EcsEmfExporter(fixture.stack, "Exporter", {
    taskDefinition: fixture.taskDefinition,
    image: ecs.ContainerImage.fromRegistry("registry.example/ecs-emf-exporter:0.1.0"),
    ...props,
  });
}

/** Synthesizes a fresh fixture with the exporter added. */
export function synthExporter(
  props: ExtraProps = {},
  concreteEnv = true,
  app: Partial<ecs.ContainerDefinitionOptions> = {},
): { template: Template; exporter: EcsEmfExporter; fixture: Fixture } {
  const fixture = fargateFixture(concreteEnv, app);
  const exporter = addExporter(fixture, props);
  return { template: Template.fromStack(fixture.stack), exporter, fixture };
}

type Json = Record<string, unknown>;

/** The rendered container definition with that Name, from the only task definition. */
export function containerDefinition(template: Template, name: string): Json {
  const taskDefinitions = Object.values(template.findResources("AWS::ECS::TaskDefinition"));
  if (taskDefinitions.length !== 1) {
    throw new Error(`expected one task definition, found ${taskDefinitions.length}`);
  }
  const containers = (taskDefinitions[0] as { Properties: { ContainerDefinitions: Json[] } }).Properties.ContainerDefinitions;
  const found = containers.find((container) => container["Name"] === name);
  if (found === undefined) {
    throw new Error(`no container named ${name}`);
  }
  return found;
}

/** A CloudFormation intrinsic as a readable placeholder, e.g. <Ref:AWS::Region>. */
function placeholder(intrinsic: Json): string {
  const [kind, argument] = Object.entries(intrinsic)[0] ?? ["?", undefined];
  return kind === "Ref" ? `<Ref:${String(argument)}>` : `<${kind}>`;
}

/**
 * The parsed DashboardBody of the only dashboard: a literal string when every value is known at
 * synth time, else an Fn::Join whose intrinsics become placeholders.
 */
export function dashboardBody(template: Template): { widgets: Widget[] } {
  const dashboards = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
  if (dashboards.length !== 1) {
    throw new Error(`expected one dashboard, found ${dashboards.length}`);
  }
  const body = (dashboards[0] as { Properties: { DashboardBody: unknown } }).Properties.DashboardBody;
  if (typeof body === "string") {
    return JSON.parse(body);
  }
  const [separator, parts] = (body as { "Fn::Join": [string, (string | Json)[]] })["Fn::Join"];
  return JSON.parse(parts.map((part) => (typeof part === "string" ? part : placeholder(part))).join(separator));
}

export interface Widget {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title: string;
    region: string;
    period: number;
    metrics: unknown[][];
    annotations?: { horizontal: { label: string; value: number }[] };
  };
}

/** A line's statistic: GraphWidget writes "stat" only when it is not Average, CloudWatch's default. */
export function statOf(line: readonly unknown[]): string {
  const options = line.at(-1);
  if (typeof options !== "object" || options === null) {
    throw new Error(`line without options: ${JSON.stringify(line)}`);
  }
  return (options as { stat?: string }).stat ?? "Average";
}

export function widget(template: Template, title: string): Widget {
  const found = dashboardBody(template).widgets.find((candidate) => candidate.properties.title === title);
  if (found === undefined) {
    throw new Error(`no widget titled ${title}`);
  }
  return found;
}

export function widgetTitles(template: Template): string[] {
  return dashboardBody(template).widgets.map((candidate) => candidate.properties.title);
}

/** The CloudWatch alarms' properties keyed by MetricName (a list, as restarts repeat). */
export function alarmsByMetric(template: Template): Map<string, Json[]> {
  const byMetric = new Map<string, Json[]>();
  for (const resource of Object.values(template.findResources("AWS::CloudWatch::Alarm"))) {
    const properties = (resource as { Properties: Json }).Properties;
    const metric = String(properties["MetricName"]);
    byMetric.set(metric, [...(byMetric.get(metric) ?? []), properties]);
  }
  return byMetric;
}

/** The ContainerName of each ContainerRestarts alarm, sorted ("all-containers" has none: "-"). */
export function restartAlarmContainers(template: Template): string[] {
  return (alarmsByMetric(template).get("ContainerRestarts") ?? [])
    .map((alarm) => (alarm["Dimensions"] as { Name: string; Value: string }[]).find((d) => d.Name === "ContainerName")?.Value ?? "-")
    .sort();
}

/** The properties of the only alarm on that metric. */
export function onlyAlarm(template: Template, metricName: string): Json {
  const alarms = alarmsByMetric(template).get(metricName) ?? [];
  if (alarms.length !== 1) {
    throw new Error(`expected one ${metricName} alarm, found ${alarms.length}`);
  }
  return alarms[0] as Json;
}
