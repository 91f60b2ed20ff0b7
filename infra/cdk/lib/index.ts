// The package's public API (the jsii entry point): what a CDK app imports. Everything else in
// lib/ is internal.
export { EcsEmfExporter } from "./ecs-emf-exporter";
export type { EcsEmfExporterDashboardOptions, EcsEmfExporterProps, ExporterMetricOptions, ExporterRestartPolicy, TasksReportingMetricOptions } from "./ecs-emf-exporter";
export { EcsEmfExporterDaemon } from "./daemon";
export type { EcsEmfExporterDaemonDashboardOptions, EcsEmfExporterDaemonProps, EcsEmfExporterDaemonSettings } from "./daemon";
export type { ExporterAlarms } from "./alarms";
export { ExporterLogFormat, ExporterLogLevel, ExporterOutput } from "./settings";
export type { ExporterSettings } from "./settings";
