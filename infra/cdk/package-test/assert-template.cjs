// Checks what the consumer app synthesized with the installed package, and the package itself.
"use strict";
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const template = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const resources = Object.values(template.Resources);
const ofType = (type) => resources.filter((resource) => resource.Type === type).map((resource) => resource.Properties);

const [taskDefinition] = ofType("AWS::ECS::TaskDefinition");
const sidecar = taskDefinition.ContainerDefinitions.find((container) => container.Name === "ecs-emf-exporter");
assert.ok(sidecar, "the sidecar container is in the task definition");
const environment = Object.fromEntries(sidecar.Environment.map((variable) => [variable.Name, variable.Value]));
assert.equal(environment.ECS_EMF_OUTPUT, "cloudwatch");
assert.equal(environment.ECS_EMF_INTERVAL, "30s");
assert.equal(sidecar.Essential, false);
assert.deepEqual(sidecar.RestartPolicy, { Enabled: true, IgnoredExitCodes: [0], RestartAttemptPeriod: 60 });

const alarms = ofType("AWS::CloudWatch::Alarm");
const noData = alarms.find((alarm) => alarm.MetricName === "RunningContainerCount");
assert.ok(noData, "the no-data alarm exists");
assert.equal(noData.Statistic, "SampleCount");
assert.equal(noData.TreatMissingData, "breaching");
const peak = alarms.find((alarm) => alarm.MetricName === "MemoryUtilization" && alarm.Statistic === "Maximum");
assert.ok(peak, "the alarm made from metricMemoryUtilization() exists");
assert.equal(peak.Unit, "Percent");
assert.equal(peak.Namespace, "ECS/TaskMetrics");
assert.deepEqual(
  alarms.filter((alarm) => alarm.MetricName === "ContainerRestarts").map((alarm) => alarm.Dimensions.find((d) => d.Name === "ContainerName").Value).sort(),
  ["app", "ecs-emf-exporter"],
);
// minTasksReporting 2, interval 30 s, period 60 s: 2 samples per task, "m1 / 2" below 1.5, 5 of 5.
const tasks = alarms.find((alarm) => Array.isArray(alarm.Metrics) && alarm.Metrics.some((query) => query.Expression !== undefined));
assert.ok(tasks, "the tasks-reporting alarm exists");
assert.equal(tasks.Metrics.find((query) => query.ReturnData).Expression, "m1 / 2");
assert.equal(tasks.Metrics.find((query) => query.Id === "m1").MetricStat.Stat, "SampleCount");
assert.equal(tasks.Threshold, 1.5);
assert.equal(tasks.EvaluationPeriods, 5);
assert.equal(tasks.TreatMissingData, "notBreaching");
assert.equal(ofType("AWS::CloudWatch::Dashboard").length, 1);
const statements = ofType("AWS::IAM::Policy").flatMap((policy) => policy.PolicyDocument.Statement);
assert.ok(statements.some((statement) => statement.Action === "cloudwatch:PutMetricData"));
assert.ok(statements.some((statement) => statement.Action === "ecs:ListTagsForResource" && statement.Resource === "arn:aws:ecs:eu-west-1:123456789012:task/prod/*"));

// The installed package: its jsii assembly names the public API.
const installed = path.dirname(require.resolve("ecs-emf-exporter-cdk/package.json", { paths: [process.cwd()] }));
const assembly = JSON.parse(fs.readFileSync(path.join(installed, ".jsii"), "utf8"));
assert.equal(assembly.name, "ecs-emf-exporter-cdk");
for (const type of ["EcsEmfExporter", "EcsEmfExporterProps", "ExporterMetricOptions", "ExporterOutput", "TasksReportingMetricOptions"]) {
  assert.ok(assembly.types[`ecs-emf-exporter-cdk.${type}`], `${type} in the .jsii assembly`);
}
console.log(`check-package: the tarball installs, compiles and synthesizes: ${resources.length} resources, ${alarms.length} alarms`);
