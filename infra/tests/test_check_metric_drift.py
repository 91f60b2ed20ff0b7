"""The drift checker catches each kind of drift, against the real binary's catalog.

A small plan and a small template that match the exporter pass; each mutation (a renamed
metric, a wrong unit, a missing dimension, another namespace, a metric the settings switch
off, the '...' shorthand, a missing sidecar, an alarm that could never fire or would fire for
no reason, no alarm for a silent sidecar, metric math naming an id nothing defines or a metric that
drifted inside it, an alarm returning two queries) must fail with a line that says what is wrong; a
body shaped as the CDK's L2 dashboard renders it (a join around tokens, sorted dimensions, no
"stat" for Average) is read line by line. Daemon renderings (DaemonTest): the exporter is the
container running `daemon`, whatever its name, and its catalog is the binary's `metrics --json
--daemon`; a dashboard over the throttling metrics and an alarm on a container of another task
pass; what the daemon never publishes, a dimension set it does not publish, the settings it
refuses (the binary's own refusal) and a sidecar's throttling metrics fail; with tag dimensions
from the ECS API, a dashboard naming the tag passes and one missing it fails. CatalogForModeTest
asks the binary for each mode's catalog directly. Every expected value is worked out from the
rules (docs/daemon.md, "What daemon mode cannot know"), never copied from the binary's output.
Run: python3 -m unittest discover -s infra/tests  (ECS_EMF_EXPORTER_BIN overrides the binary).
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import unittest
from pathlib import Path

import check_metric_drift as drift

REPO = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("ECS_EMF_EXPORTER_BIN", str(REPO / "target/release/ecs-emf-exporter"))

ENV = [
    {"name": "ECS_EMF_NAMESPACE", "value": "Team/Payments"},
    {"name": "ECS_EMF_SELF_METRICS", "value": "true"},
    {"name": "ECS_EMF_STATIC_DIMENSIONS", "value": "team=payments"},
]
TASK_DIMS = ["ClusterName", "prod", "ServiceName", "api", "team", "payments"]
TASK_DIM_MAP = {"ClusterName": "prod", "ServiceName": "api", "team": "payments"}


def plan() -> dict:
    """A Terraform plan shaped like `terraform show -json`, sidecar in a child module."""
    sidecar = {"name": "ecs-emf-exporter", "image": "x", "environment": ENV,
               "restartPolicy": {"enabled": True, "ignoredExitCodes": [0]}}
    app = {"name": "app", "image": "y", "restartPolicy": {"enabled": True}}
    dashboard = {"widgets": [{"type": "metric", "properties": {"title": "CPU", "metrics": [
        ["Team/Payments", "CpuUtilized", *TASK_DIMS, {"stat": "Average"}],
        ["Team/Payments", "ContainerCpuUtilized", "ClusterName", "prod", "ServiceName", "api",
         "ContainerName", "app", "team", "payments"],
    ]}}, {"type": "metric", "properties": {"title": "Tasks reporting", "period": 300, "metrics": [
        ["Team/Payments", "RunningContainerCount", *TASK_DIMS,
         {"stat": "SampleCount", "id": "m1", "visible": False}],
        [{"expression": "m1 / 5", "id": "e1", "label": "Tasks reporting"}],
    ]}}]}
    alarm = {"namespace": "Team/Payments", "metric_name": "ExporterErrors", "unit": "Count",
             "dimensions": dict(TASK_DIM_MAP), "treat_missing_data": "notBreaching"}
    no_data = {"namespace": "Team/Payments", "metric_name": "RunningContainerCount",
               "unit": "Count", "statistic": "SampleCount", "dimensions": dict(TASK_DIM_MAP),
               "treat_missing_data": "breaching"}
    restarts = {"namespace": "Team/Payments", "metric_name": "ContainerRestarts", "unit": "Count",
                "dimensions": {**TASK_DIM_MAP, "ContainerName": "app"},
                "treat_missing_data": "notBreaching"}
    # Tasks reporting, as the dashboard module renders it (metric_query is a set in the plan).
    tasks = {"comparison_operator": "LessThanThreshold", "threshold": 2.5,
             "treat_missing_data": "notBreaching", "metric_name": None, "metric_query": [
                 {"id": "e1", "expression": "m1 / 5", "label": "Tasks reporting",
                  "return_data": True, "metric": []},
                 {"id": "m1", "expression": None, "return_data": False, "metric": [
                     {"namespace": "Team/Payments", "metric_name": "RunningContainerCount",
                      "dimensions": dict(TASK_DIM_MAP), "stat": "SampleCount", "unit": "Count",
                      "period": 300}]}]}
    return {"planned_values": {"root_module": {
        "resources": [{"address": "aws_ecs_task_definition.this", "type": "aws_ecs_task_definition",
                       "values": {"container_definitions": json.dumps([app, sidecar])}}],
        "child_modules": [{"resources": [
            {"address": "module.d.aws_cloudwatch_dashboard.this", "type": "aws_cloudwatch_dashboard",
             "values": {"dashboard_body": json.dumps(dashboard)}},
            {"address": "module.d.aws_cloudwatch_metric_alarm.errors",
             "type": "aws_cloudwatch_metric_alarm", "values": alarm},
            {"address": "module.d.aws_cloudwatch_metric_alarm.no_data",
             "type": "aws_cloudwatch_metric_alarm", "values": no_data},
            {"address": "module.d.aws_cloudwatch_metric_alarm.restarts",
             "type": "aws_cloudwatch_metric_alarm", "values": restarts},
            {"address": "module.d.aws_cloudwatch_metric_alarm.tasks",
             "type": "aws_cloudwatch_metric_alarm", "values": tasks},
        ]}],
    }}}


def template() -> dict:
    """A synthesized CDK template: the body is a join around a region token."""
    env = [{"Name": e["name"], "Value": e["value"]} for e in ENV]
    line = json.dumps(["Team/Payments", "MemoryUtilization", *TASK_DIMS])
    body = {"Fn::Join": ["", ['{"widgets":[{"type":"metric","properties":{"region":"',
                              {"Ref": "AWS::Region"}, f'","metrics":[{line}]}}}}]}}']]}
    dims = [{"Name": "ClusterName", "Value": {"Ref": "Cluster"}},
            {"Name": "ServiceName", "Value": "api"}, {"Name": "team", "Value": "payments"}]
    return {"Resources": {
        "TaskDef": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [
            {"Name": "app", "Environment": [{"Name": "ECS_EMF_NAMESPACE", "Value": "Other"}]},
            {"Name": "ecs-emf-exporter", "Environment": env}]}},
        "Dash": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": body}},
        "MemHigh": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": "Team/Payments", "MetricName": "MemoryUtilization", "Unit": "Percent",
            "Dimensions": dims, "TreatMissingData": "notBreaching"}},
        "NoData": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": "Team/Payments", "MetricName": "RunningContainerCount", "Unit": "Count",
            "Statistic": "SampleCount", "Dimensions": copy.deepcopy(dims),
            "TreatMissingData": "breaching"}},
        # Tasks reporting, as cloudwatch.MathExpression synthesizes it.
        "TasksLow": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "ComparisonOperator": "LessThanThreshold", "Threshold": 1.5,
            "TreatMissingData": "notBreaching", "Metrics": [
                {"Expression": "m1 / 2", "Id": "expr_1", "Label": "Tasks reporting",
                 "ReturnData": True},
                {"Id": "m1", "ReturnData": False, "MetricStat": {
                    "Metric": {"Namespace": "Team/Payments", "MetricName": "RunningContainerCount",
                               "Dimensions": copy.deepcopy(dims)},
                    "Period": 60, "Stat": "SampleCount", "Unit": "Count"}}]}},
    }}


def l2_template() -> dict:
    """template() with the dashboard as the CDK's L2 cloudwatch.Dashboard synthesizes it: an
    Fn::Join around the region and a dimension value token, GraphWidget lines with the dimensions
    sorted by name, no "stat" for Average, "period" per line, a right-axis line."""
    doc = template()
    cluster = {"Ref": "Cluster"}

    def line(metric, options, container=None):
        dims = ['"ClusterName","', cluster, '",']
        if container:
            dims += [f'"ContainerName","{container}",']
        dims += ['"ServiceName","api","team","payments",']
        return ['["Team/Payments",', f'"{metric}",', *dims, json.dumps(options), "]"]

    def widget(x, title, lines):
        parts = [f'{{"type":"metric","width":12,"height":6,"x":{x},"y":0,"properties":'
                 f'{{"view":"timeSeries","title":"{title}","region":"', {"Ref": "AWS::Region"},
                 '","stacked":false,"metrics":[']
        for i, one in enumerate(lines):
            parts += ([","] if i else []) + one
        return parts + ['],"yAxis":{},"period":60}}']

    cpu = widget(0, "Task CPU (CPU units)", [
        line("CpuUtilized", {"label": "CpuUtilized", "period": 60}),
        line("CpuUtilization", {"label": "CpuUtilization (max)", "period": 60, "stat": "Maximum"})])
    health = widget(12, "Exporter health", [
        line("ExporterErrors", {"label": "ExporterErrors", "period": 60, "stat": "Sum"}),
        line("ExporterCycleDuration", {"label": "ExporterCycleDuration", "period": 60,
                                       "yAxis": "right"})])
    restarts = widget(0, "Container restarts", [
        line("ContainerRestarts", {"label": "app ContainerRestarts", "period": 60, "stat": "Sum"},
             container="app")])
    doc["Resources"]["Dash"]["Properties"]["DashboardBody"] = {
        "Fn::Join": ["", ['{"widgets":[', *cpu, ",", *health, ",", *restarts, "]}"]]}
    return doc


def l2_body(doc: dict) -> list:
    """The join parts of l2_template()'s dashboard body, to mutate."""
    return doc["Resources"]["Dash"]["Properties"]["DashboardBody"]["Fn::Join"][1]


class DriftTest(unittest.TestCase):
    def problems(self, doc: dict, kind: str) -> list:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        self.addCleanup(os.unlink, f.name)
        rendered = (drift.from_terraform_plan if kind == "tf" else drift.from_cdk_template)(f.name)
        return drift.check(rendered, BINARY, "ecs-emf-exporter")

    def assert_one_problem(self, doc: dict, kind: str, *fragments: str) -> None:
        problems = self.problems(doc, kind)
        self.assertEqual(len(problems), 1, problems)
        for fragment in fragments:
            self.assertIn(fragment, problems[0])

    def test_matching_plan_and_template_pass(self):
        self.assertEqual(self.problems(plan(), "tf"), [])
        self.assertEqual(self.problems(template(), "cdk"), [])

    def test_counts_what_it_checked(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(plan(), f)
        self.addCleanup(os.unlink, f.name)
        rendered = drift.from_terraform_plan(f.name)
        self.assertEqual(
            [(r.name, sorted(r.dimensions), r.checks_unit) for r in rendered.refs],
            [("CpuUtilized", ["ClusterName", "ServiceName", "team"], False),
             ("ContainerCpuUtilized", ["ClusterName", "ContainerName", "ServiceName", "team"], False),
             # the hidden m1 of the tasks-reporting widget: checked like any line
             ("RunningContainerCount", ["ClusterName", "ServiceName", "team"], False),
             ("ExporterErrors", ["ClusterName", "ServiceName", "team"], True),
             ("RunningContainerCount", ["ClusterName", "ServiceName", "team"], True),
             ("ContainerRestarts", ["ClusterName", "ContainerName", "ServiceName", "team"], True),
             # m1 inside the tasks-reporting alarm's metric math
             ("RunningContainerCount", ["ClusterName", "ServiceName", "team"], True)])
        self.assertEqual([(c.name, c.restart_policy) for c in rendered.containers],
                         [("app", True), ("ecs-emf-exporter", True)])

    def test_an_l2_dashboard_body_is_read_line_by_line(self):
        doc = l2_template()
        self.assertEqual(self.problems(doc, "cdk"), [])
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        self.addCleanup(os.unlink, f.name)
        rendered = drift.from_cdk_template(f.name)
        lines = [(r.name, r.dimensions) for r in rendered.refs if not r.checks_unit]
        self.assertEqual(lines, [
            ("CpuUtilized", {"ClusterName": drift.TOKEN, "ServiceName": "api", "team": "payments"}),
            ("CpuUtilization", {"ClusterName": drift.TOKEN, "ServiceName": "api", "team": "payments"}),
            ("ExporterErrors", {"ClusterName": drift.TOKEN, "ServiceName": "api", "team": "payments"}),
            ("ExporterCycleDuration",
             {"ClusterName": drift.TOKEN, "ServiceName": "api", "team": "payments"}),
            ("ContainerRestarts", {"ClusterName": drift.TOKEN, "ContainerName": "app",
                                   "ServiceName": "api", "team": "payments"}),
        ])
        self.assertEqual(rendered.dashboards, 1)

    def test_drift_inside_an_l2_dashboard_body_fails(self):
        doc = l2_template()
        parts = l2_body(doc)
        parts[parts.index('"CpuUtilized",')] = '"CpuUtilised",'
        self.assert_one_problem(doc, "cdk", "widget 'Task CPU (CPU units)' line 0",
                                "'CpuUtilised' is not a metric of the exporter")
        doc = l2_template()
        parts = l2_body(doc)
        # The static dimension dropped from the right-axis line only.
        at = max(i for i, p in enumerate(parts) if p == '"ExporterCycleDuration",')
        parts[at + 4] = '"ServiceName","api",'
        self.assert_one_problem(doc, "cdk", "widget 'Exporter health' line 1",
                                "ExporterCycleDuration with dimensions ['ClusterName', 'ServiceName']")

    def test_a_renamed_metric_fails(self):
        doc = plan()
        body = json.loads(doc["planned_values"]["root_module"]["child_modules"][0]["resources"][0]
                          ["values"]["dashboard_body"])
        body["widgets"][0]["properties"]["metrics"][0][1] = "CPUUtilized"
        doc["planned_values"]["root_module"]["child_modules"][0]["resources"][0]["values"][
            "dashboard_body"] = json.dumps(body)
        self.assert_one_problem(doc, "tf", "'CPUUtilized' is not a metric of the exporter")

    def test_an_alarm_with_another_unit_fails(self):
        doc = template()
        doc["Resources"]["MemHigh"]["Properties"]["Unit"] = "Megabytes"
        self.assert_one_problem(doc, "cdk", "MemoryUtilization unit 'Megabytes'", "'Percent'")

    def test_an_alarm_without_a_unit_fails(self):
        doc = plan()
        del doc["planned_values"]["root_module"]["child_modules"][0]["resources"][1]["values"]["unit"]
        self.assert_one_problem(doc, "tf", "ExporterErrors unit None")

    def test_a_dimension_set_the_sidecar_does_not_publish_fails(self):
        doc = template()
        doc["Resources"]["MemHigh"]["Properties"]["Dimensions"].pop()  # drops the static 'team'
        self.assert_one_problem(doc, "cdk", "dimensions ['ClusterName', 'ServiceName']")

    def test_another_namespace_fails(self):
        doc = plan()
        alarm = doc["planned_values"]["root_module"]["child_modules"][0]["resources"][1]["values"]
        alarm["namespace"] = "ECS/TaskMetrics"
        self.assert_one_problem(doc, "tf", "namespace 'ECS/TaskMetrics'", "'Team/Payments'")

    def test_a_metric_the_settings_switch_off_fails(self):
        doc = plan()
        res = doc["planned_values"]["root_module"]["resources"][0]["values"]
        app, sidecar = json.loads(res["container_definitions"])
        sidecar["environment"] = [e for e in ENV if e["name"] != "ECS_EMF_SELF_METRICS"]
        res["container_definitions"] = json.dumps([app, sidecar])
        self.assert_one_problem(doc, "tf", "ExporterErrors is not published")

    def test_a_sidecar_alarm_on_a_throttling_metric_fails(self):
        # CPU throttling is read from the host's cgroup tree: the daemon's only, whatever the
        # sidecar's settings (here all metrics are published).
        doc = template()
        mem = doc["Resources"]["MemHigh"]["Properties"]
        mem["MetricName"] = "CpuThrottledPercent"
        self.assert_one_problem(doc, "cdk", "MemHigh: CpuThrottledPercent is not published with "
                                "the sidecar's settings")

    def test_the_shorthand_is_refused(self):
        doc = plan()
        values = doc["planned_values"]["root_module"]["child_modules"][0]["resources"][0]["values"]
        body = json.loads(values["dashboard_body"])
        body["widgets"][0]["properties"]["metrics"][1] = ["...", "ContainerName", "worker"]
        values["dashboard_body"] = json.dumps(body)
        self.assert_one_problem(doc, "tf", "shorthand")

    def test_a_missing_sidecar_fails(self):
        doc = template()
        doc["Resources"]["TaskDef"]["Properties"]["ContainerDefinitions"].pop()
        self.assert_one_problem(doc, "cdk", "expected one container named 'ecs-emf-exporter'")

    def test_invalid_sidecar_settings_fail(self):
        doc = copy.deepcopy(template())
        env = doc["Resources"]["TaskDef"]["Properties"]["ContainerDefinitions"][1]["Environment"]
        env.append({"Name": "ECS_EMF_DIMENSIONS", "Value": "Cluster"})
        self.assert_one_problem(doc, "cdk", "invalid setting ECS_EMF_DIMENSIONS")

    def test_nothing_to_check_fails(self):
        doc = template()
        for name in ("Dash", "MemHigh", "NoData", "TasksLow"):
            del doc["Resources"][name]
        self.assert_one_problem(doc, "cdk", "nothing was checked")

    def alarms(self, doc: dict) -> dict:
        """The plan's alarms by resource name."""
        resources = doc["planned_values"]["root_module"]["child_modules"][0]["resources"]
        return {r["address"].rsplit(".", 1)[1]: r["values"] for r in resources
                if r["type"] == "aws_cloudwatch_metric_alarm"}

    def test_an_alarm_without_a_missing_data_treatment_fails(self):
        doc = plan()
        del self.alarms(doc)["errors"]["treat_missing_data"]
        self.assert_one_problem(doc, "tf", "errors: states no missing-data treatment")

    def test_breaching_on_a_metric_not_published_every_cycle_fails(self):
        doc = template()
        doc["Resources"]["MemHigh"]["Properties"]["TreatMissingData"] = "breaching"
        self.assert_one_problem(doc, "cdk", "MemHigh: reads missing data as breaching",
                                "MemoryUtilization is not published every cycle")

    def test_no_alarm_for_a_silent_sidecar_fails(self):
        doc = template()
        del doc["Resources"]["NoData"]
        self.assert_one_problem(doc, "cdk", "no alarm fires when the sidecar stops publishing")
        # Nor does one whose metric the settings switch off count (self metrics are on here).
        doc = plan()
        self.alarms(doc)["no_data"]["treat_missing_data"] = "notBreaching"
        self.alarms(doc)["errors"]["treat_missing_data"] = "breaching"
        self.assertEqual(self.problems(doc, "tf"), [])

    def test_a_restart_alarm_on_a_container_without_a_restart_policy_fails(self):
        doc = template()
        dims = [*doc["Resources"]["MemHigh"]["Properties"]["Dimensions"],
                {"Name": "ContainerName", "Value": "app"}]
        doc["Resources"]["AppRestarts"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": "Team/Payments", "MetricName": "ContainerRestarts", "Unit": "Count",
            "Dimensions": dims, "TreatMissingData": "notBreaching"}}
        self.assert_one_problem(doc, "cdk", "AppRestarts: container 'app' has no enabled restart "
                                "policy", "could never fire")
        app = doc["Resources"]["TaskDef"]["Properties"]["ContainerDefinitions"][0]
        app["RestartPolicy"] = {"Enabled": True, "IgnoredExitCodes": [0]}
        self.assertEqual(self.problems(doc, "cdk"), [])
        app["RestartPolicy"] = {"Enabled": False}
        self.assertEqual(len(self.problems(doc, "cdk")), 1)

    def test_an_alarm_on_a_container_the_task_does_not_have_fails(self):
        doc = plan()
        self.alarms(doc)["restarts"]["dimensions"]["ContainerName"] = "ghost"
        self.assert_one_problem(doc, "tf", "ContainerName 'ghost' is not a container of the task")

    def test_an_alarm_on_an_excluded_container_fails(self):
        doc = plan()
        res = doc["planned_values"]["root_module"]["resources"][0]["values"]
        app, sidecar = json.loads(res["container_definitions"])
        sidecar["environment"] = [*ENV, {"name": "ECS_EMF_EXCLUDE_CONTAINERS", "value": "db, a*"}]
        res["container_definitions"] = json.dumps([app, sidecar])
        self.assert_one_problem(doc, "tf", "ContainerName 'app' is left out by "
                                "ECS_EMF_EXCLUDE_CONTAINERS")


class ContainerAlarmRulesTest(unittest.TestCase):
    """The per-container alarm rules, without the binary: only ContainerRestarts needs a restart
    policy; an exit alarm (ContainerExits, counted for every container) needs the container to
    exist and not be excluded, like any alarm on a container."""

    def rendered(self) -> "drift.Rendered":
        out = drift.Rendered(source="test")
        out.containers = [drift.Container("worker", {}, False),
                          drift.Container("ecs-emf-exporter", dict(TASK_DIM_MAP), True)]
        return out

    def ref(self, metric: str, container: str) -> "drift.MetricRef":
        return drift.MetricRef(f"{metric}-{container}", "Team/Payments", metric,
                               {**TASK_DIM_MAP, "ContainerName": container}, "Count", True,
                               "notBreaching")

    def test_an_exit_alarm_needs_no_restart_policy(self):
        self.assertIsNone(drift.container_problem(self.ref("ContainerExits", "worker"),
                                                  self.rendered(), {}))
        self.assertIn("has no enabled restart policy",
                      drift.container_problem(self.ref("ContainerRestarts", "worker"),
                                              self.rendered(), {}))

    def test_an_exit_alarm_on_a_missing_or_excluded_container_fails(self):
        self.assertIn("is not a container of the task definition",
                      drift.container_problem(self.ref("ContainerExits", "db"), self.rendered(), {}))
        env = {"ECS_EMF_EXCLUDE_CONTAINERS": "envoy, w?rk*"}
        self.assertIn("left out by ECS_EMF_EXCLUDE_CONTAINERS",
                      drift.container_problem(self.ref("ContainerExits", "worker"),
                                              self.rendered(), env))


class MetricMathTest(unittest.TestCase):
    """Tasks reporting: metric math over RunningContainerCount's SampleCount (infra/README.md)."""

    # DriftTest's helpers (not its tests: subclassing would run those twice).
    problems = DriftTest.problems
    assert_one_problem = DriftTest.assert_one_problem
    alarms = DriftTest.alarms

    def tasks_widget(self, doc: dict) -> tuple:
        values = doc["planned_values"]["root_module"]["child_modules"][0]["resources"][0]["values"]
        body = json.loads(values["dashboard_body"])
        return values, body, body["widgets"][1]["properties"]["metrics"]

    def test_a_metric_math_widget_and_alarm_pass_and_their_metrics_are_checked(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(template(), f)
        self.addCleanup(os.unlink, f.name)
        rendered = drift.from_cdk_template(f.name)
        inside = [r for r in rendered.refs if r.where.startswith("TasksLow")]
        self.assertEqual([(r.where, r.name, r.unit, r.missing) for r in inside],
                         [("TasksLow query m1", "RunningContainerCount", "Count", "notBreaching")])
        self.assertEqual(rendered.problems, [])

    def test_an_expression_naming_an_undefined_id_fails(self):
        doc = plan()
        values, body, lines = self.tasks_widget(doc)
        lines[1][0]["expression"] = "m2 / 5"
        values["dashboard_body"] = json.dumps(body)
        self.assert_one_problem(doc, "tf", "widget 'Tasks reporting' line 1",
                                "refers to m2, which no metric or expression of it defines")
        doc = template()
        doc["Resources"]["TasksLow"]["Properties"]["Metrics"][0]["Expression"] = "m1 / 2 + x9"
        self.assert_one_problem(doc, "cdk", "TasksLow query expr_1", "refers to x9")

    def test_a_drifted_metric_inside_a_widget_expression_fails(self):
        doc = plan()
        values, body, lines = self.tasks_widget(doc)
        lines[0][1] = "RunningTaskCount"
        values["dashboard_body"] = json.dumps(body)
        self.assert_one_problem(doc, "tf", "widget 'Tasks reporting' line 0",
                                "'RunningTaskCount' is not a metric of the exporter")

    def test_a_drifted_metric_inside_an_alarm_expression_fails(self):
        doc = plan()
        m1 = self.alarms(doc)["tasks"]["metric_query"][1]["metric"][0]
        del m1["dimensions"]["team"]
        self.assert_one_problem(doc, "tf", "tasks query m1",
                                "RunningContainerCount with dimensions ['ClusterName', 'ServiceName']")
        doc = template()
        stat = doc["Resources"]["TasksLow"]["Properties"]["Metrics"][1]["MetricStat"]
        stat["Unit"] = "Percent"
        self.assert_one_problem(doc, "cdk", "TasksLow query m1",
                                "RunningContainerCount unit 'Percent', published as 'Count'")
        # Inside metric math the unit is optional: unstated, CloudWatch reads every unit.
        del stat["Unit"]
        self.assertEqual(self.problems(doc, "cdk"), [])

    def test_an_expression_over_a_filtered_out_metric_fails(self):
        doc = template()
        env = doc["Resources"]["TaskDef"]["Properties"]["ContainerDefinitions"][1]["Environment"]
        env.append({"Name": "ECS_EMF_EXCLUDE_METRICS", "Value": "RunningContainerCount"})
        del doc["Resources"]["NoData"]
        problems = self.problems(doc, "cdk")
        self.assertIn("TasksLow query m1: RunningContainerCount is not published with the "
                      "sidecar's settings", problems)

    def test_a_math_alarm_follows_the_missing_data_rule(self):
        doc = template()
        del doc["Resources"]["TasksLow"]["Properties"]["TreatMissingData"]
        self.assert_one_problem(doc, "cdk", "TasksLow query m1: states no missing-data treatment")
        doc = template()
        props = doc["Resources"]["TasksLow"]["Properties"]
        props["TreatMissingData"] = "breaching"
        props["Metrics"][1]["MetricStat"]["Metric"]["MetricName"] = "MemoryUtilization"
        props["Metrics"][1]["MetricStat"]["Unit"] = "Percent"
        self.assert_one_problem(doc, "cdk", "TasksLow query m1: reads missing data as breaching",
                                "MemoryUtilization is not published every cycle")
        # Breaching over RunningContainerCount samples does catch a silent sidecar.
        doc = template()
        doc["Resources"]["TasksLow"]["Properties"]["TreatMissingData"] = "breaching"
        del doc["Resources"]["NoData"]
        self.assertEqual(self.problems(doc, "cdk"), [])

    def test_an_alarm_must_return_exactly_one_query(self):
        doc = plan()
        self.alarms(doc)["tasks"]["metric_query"][1]["return_data"] = True
        self.assert_one_problem(doc, "tf", "tasks: 2 queries return data")
        doc = template()
        doc["Resources"]["TasksLow"]["Properties"]["Metrics"][0]["ReturnData"] = False
        self.assert_one_problem(doc, "cdk", "TasksLow: 0 queries return data")

    def test_a_search_expression_is_refused(self):
        doc = template()
        doc["Resources"]["TasksLow"]["Properties"]["Metrics"][0]["Expression"] = (
            "SUM(SEARCH('{Team/Payments,ClusterName} RunningContainerCount', 'SampleCount'))")
        self.assert_one_problem(doc, "cdk", "SEARCH/SELECT", "cannot be checked")

    def test_quoted_text_and_functions_are_not_ids(self):
        self.assertEqual(drift.expression_problems("w", "FILL(m1, 0) / 5", {"m1"}), [])
        self.assertEqual(drift.expression_problems("w", "IF(m1 < 1, 0, m1 * 30 / 60)", {"m1"}), [])
        self.assertEqual(len(drift.expression_problems("w", "e1 + 1", {"e1"}, "e1")), 1)
        self.assertEqual(len(drift.expression_problems("w", "  ", set())), 1)


# ---------------------------------------------------------------- daemon mode

DAEMON_ENV = [
    {"name": "ECS_EMF_CGROUP_ROOT", "value": "/host/sys/fs/cgroup"},
    {"name": "ECS_EMF_HEALTH_FILE", "value": "/run/ecs-emf-exporter/ecs-emf-exporter.health"},
    {"name": "ECS_EMF_NAMESPACE", "value": "Team/Payments"},
    {"name": "ECS_EMF_SERVICE_FROM_API", "value": "true"},
    {"name": "ECS_EMF_STATIC_DIMENSIONS", "value": "team=payments"},
]
WEB_DIMS = ["ClusterName", "prod", "ServiceName", "api", "ContainerName", "web", "team", "payments"]


def daemon_plan() -> dict:
    """The ec2-daemon example's shape: the daemon's task definition holds only the exporter
    (named "metrics-daemon" here, running `daemon`); the dashboard and alarms are over service
    "api", whose container "web" is in no task definition of the plan."""
    daemon = {"name": "metrics-daemon", "image": "x", "command": ["daemon"], "user": "0",
              "environment": DAEMON_ENV}
    throttling = {"title": "CPU throttling", "metrics": [
        ["Team/Payments", "CpuThrottledPercent", *TASK_DIMS, {"stat": "Maximum"}],
        ["Team/Payments", "ContainerCpuThrottledTime", *WEB_DIMS, {"stat": "Sum"}],
    ]}
    running = {"title": "Running containers", "metrics": [
        ["Team/Payments", "RunningContainerCount", *TASK_DIMS, {"stat": "Minimum"}],
    ]}
    dashboard = {"widgets": [{"type": "metric", "properties": throttling},
                             {"type": "metric", "properties": running}]}
    no_data = {"namespace": "Team/Payments", "metric_name": "RunningContainerCount",
               "unit": "Count", "statistic": "SampleCount", "dimensions": dict(TASK_DIM_MAP),
               "treat_missing_data": "breaching"}
    exits = {"namespace": "Team/Payments", "metric_name": "ContainerExits", "unit": "Count",
             "dimensions": {**TASK_DIM_MAP, "ContainerName": "web"},
             "treat_missing_data": "notBreaching"}
    throttled = {"namespace": "Team/Payments", "metric_name": "CpuThrottledPercent",
                 "unit": "Percent", "dimensions": dict(TASK_DIM_MAP),
                 "treat_missing_data": "notBreaching"}
    return {"planned_values": {"root_module": {"child_modules": [
        {"resources": [{"address": "module.exporter_daemon.aws_ecs_task_definition.this",
                        "type": "aws_ecs_task_definition",
                        "values": {"container_definitions": json.dumps([daemon])}}]},
        {"resources": [
            {"address": "module.dashboard.aws_cloudwatch_dashboard.this",
             "type": "aws_cloudwatch_dashboard",
             "values": {"dashboard_body": json.dumps(dashboard)}},
            {"address": "module.dashboard.aws_cloudwatch_metric_alarm.no_data",
             "type": "aws_cloudwatch_metric_alarm", "values": no_data},
            {"address": "module.dashboard.aws_cloudwatch_metric_alarm.exits",
             "type": "aws_cloudwatch_metric_alarm", "values": exits},
            {"address": "module.dashboard.aws_cloudwatch_metric_alarm.throttled",
             "type": "aws_cloudwatch_metric_alarm", "values": throttled},
        ]},
    ]}}}


def daemon_container(doc: dict) -> tuple:
    """(the task definition's values, its container definitions) of daemon_plan()."""
    values = doc["planned_values"]["root_module"]["child_modules"][0]["resources"][0]["values"]
    return values, json.loads(values["container_definitions"])


def daemon_alarms(doc: dict) -> dict:
    resources = doc["planned_values"]["root_module"]["child_modules"][1]["resources"]
    return {r["address"].rsplit(".", 1)[1]: r["values"] for r in resources
            if r["type"] == "aws_cloudwatch_metric_alarm"}


def set_daemon_env(doc: dict, env: list) -> None:
    values, (daemon,) = daemon_container(doc)
    daemon["environment"] = env
    values["container_definitions"] = json.dumps([daemon])


def set_widget_line(doc: dict, widget: int, line: list) -> dict:
    """daemon_plan() with `line` appended to the dashboard's widget number `widget`."""
    values = doc["planned_values"]["root_module"]["child_modules"][1]["resources"][0]["values"]
    body = json.loads(values["dashboard_body"])
    body["widgets"][widget]["properties"]["metrics"].append(line)
    values["dashboard_body"] = json.dumps(body)
    return doc


def add_dimension(doc: dict, name: str, value: str) -> dict:
    """daemon_plan() with `name` = `value` on every dashboard line and every alarm."""
    resources = doc["planned_values"]["root_module"]["child_modules"][1]["resources"]
    values = resources[0]["values"]
    body = json.loads(values["dashboard_body"])
    for w in body["widgets"]:
        w["properties"]["metrics"] = [[*line[:-1], name, value, line[-1]]
                                      for line in w["properties"]["metrics"]]
    values["dashboard_body"] = json.dumps(body)
    for alarm in daemon_alarms(doc).values():
        alarm["dimensions"][name] = value
    return doc


class DaemonTest(unittest.TestCase):
    problems = DriftTest.problems
    assert_one_problem = DriftTest.assert_one_problem

    def rendered(self, doc: dict) -> "drift.Rendered":
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        self.addCleanup(os.unlink, f.name)
        return drift.from_terraform_plan(f.name)

    def test_a_daemon_plan_with_a_correct_dashboard_passes(self):
        doc = daemon_plan()
        self.assertEqual(self.problems(doc, "tf"), [])
        rendered = self.rendered(doc)
        drift.check(rendered, BINARY, "ecs-emf-exporter")
        self.assertEqual(rendered.mode, "daemon")
        # 3 dashboard lines, 3 alarms: all of them were checked.
        self.assertEqual([(r.name, r.checks_unit) for r in rendered.refs],
                         [("CpuThrottledPercent", False), ("ContainerCpuThrottledTime", False),
                          ("RunningContainerCount", False), ("RunningContainerCount", True),
                          ("ContainerExits", True), ("CpuThrottledPercent", True)])

    def test_the_same_rendering_as_a_sidecar_fails_on_the_daemon_only_metrics(self):
        # The exporter container without `daemon`, renamed to the sidecar's name: its catalog is
        # then `metrics --json`, where the throttling metrics are never published, and "web" is
        # not a container of its task definition.
        doc = daemon_plan()
        values, (daemon,) = daemon_container(doc)
        daemon["name"] = "ecs-emf-exporter"
        del daemon["command"]
        values["container_definitions"] = json.dumps([daemon])
        self.assertEqual(sorted(self.problems(doc, "tf")), sorted([
            "module.dashboard.aws_cloudwatch_dashboard.this: widget 'CPU throttling' line 0: "
            "CpuThrottledPercent is not published with the sidecar's settings",
            "module.dashboard.aws_cloudwatch_dashboard.this: widget 'CPU throttling' line 1: "
            "ContainerCpuThrottledTime is not published with the sidecar's settings",
            "module.dashboard.aws_cloudwatch_metric_alarm.throttled: CpuThrottledPercent is "
            "not published with the sidecar's settings",
            "module.dashboard.aws_cloudwatch_metric_alarm.exits: ContainerName 'web' is not a "
            "container of the task definition",
        ]))

    def test_a_metric_the_daemon_never_publishes_fails(self):
        doc = daemon_plan()
        alarm = daemon_alarms(doc)["exits"]
        alarm["metric_name"] = "ContainerRestarts"
        self.assert_one_problem(doc, "tf", "module.dashboard.aws_cloudwatch_metric_alarm.exits: "
                                "ContainerRestarts is not published with the daemon's settings")
        doc = daemon_plan()
        daemon_alarms(doc)["throttled"].update(metric_name="ExporterErrors", unit="Count")
        self.assertIn("module.dashboard.aws_cloudwatch_metric_alarm.throttled: ExporterErrors is "
                      "not published with the daemon's settings", self.problems(doc, "tf"))

    def test_a_widget_on_a_metric_the_daemon_never_publishes_fails(self):
        # Task-level metrics the introspection API and Docker do not have (the image pull
        # times, Fargate's ephemeral storage and clock), drawn in the "Running containers"
        # widget with the task dimensions the daemon publishes: the line alone fails.
        for metric in ("ImagePullTime", "EphemeralStorageUtilized", "EphemeralStorageReserved",
                       "ClockErrorBound"):
            with self.subTest(metric=metric):
                doc = set_widget_line(daemon_plan(), 1,
                                      ["Team/Payments", metric, *TASK_DIMS, {"stat": "Average"}])
                self.assert_one_problem(
                    doc, "tf", f"module.dashboard.aws_cloudwatch_dashboard.this: widget "
                    f"'Running containers' line 1: {metric} is not published with the daemon's "
                    f"settings")
        # The exporter's own metrics (per task in the sidecar): not published by the daemon,
        # whatever dimension sets the catalog lists for them.
        for metric in ("ExporterErrors", "ExporterDroppedDatapoints", "ExporterCycleDuration"):
            with self.subTest(metric=metric):
                doc = set_widget_line(daemon_plan(), 1,
                                      ["Team/Payments", metric, *TASK_DIMS, {"stat": "Sum"}])
                self.assertIn(f"module.dashboard.aws_cloudwatch_dashboard.this: widget 'Running "
                              f"containers' line 1: {metric} is not published with the daemon's "
                              f"settings", self.problems(doc, "tf"))

    def test_an_alarm_on_a_dimension_set_the_daemon_does_not_publish_fails(self):
        doc = daemon_plan()
        del daemon_alarms(doc)["exits"]["dimensions"]["team"]
        self.assert_one_problem(
            doc, "tf", "exits: ContainerExits with dimensions ['ClusterName', 'ContainerName', "
            "'ServiceName']; the daemon publishes [['ClusterName', 'ContainerName', 'ServiceName',"
            " 'team']]")

    def test_without_the_service_lookup_the_family_takes_the_service_name_s_place(self):
        doc = daemon_plan()
        set_daemon_env(doc, [e for e in DAEMON_ENV if e["name"] != "ECS_EMF_SERVICE_FROM_API"])
        # Every line and alarm names ServiceName: 3 lines + 3 alarms fail.
        problems = self.problems(doc, "tf")
        self.assertEqual(len(problems), 6, problems)
        self.assertIn("module.dashboard.aws_cloudwatch_metric_alarm.no_data: RunningContainerCount"
                      " with dimensions ['ClusterName', 'ServiceName', 'team']; the daemon "
                      "publishes [['ClusterName', 'TaskDefinitionFamily', 'team']]", problems)
        # Named as published (the family's value in ServiceName's place), everything passes.
        text = json.dumps(doc).replace('\\"ServiceName\\"', '\\"TaskDefinitionFamily\\"')
        text = text.replace('"ServiceName"', '"TaskDefinitionFamily"')
        self.assertEqual(self.problems(json.loads(text), "tf"), [])

    def test_an_alarm_on_another_task_s_container_is_not_looked_up_but_exclusion_applies(self):
        doc = daemon_plan()
        set_daemon_env(doc, [*DAEMON_ENV, {"name": "ECS_EMF_EXCLUDE_CONTAINERS", "value": "w*"}])
        # The dashboard line on "web" is not an alarm: only the exit alarm is refused.
        self.assert_one_problem(doc, "tf", "exits: ContainerName 'web' is left out by "
                                "ECS_EMF_EXCLUDE_CONTAINERS")

    def test_settings_the_daemon_refuses_fail_with_the_binary_s_refusal(self):
        # `metrics --json --daemon` refuses what `daemon` refuses (exit 2, the setting named on
        # stderr): only that refusal is reported, since a daemon that does not start publishes
        # nothing to compare the dashboard with.
        env = [e for e in DAEMON_ENV if e["name"] != "ECS_EMF_SERVICE_FROM_API"]
        refused = [
            ("ECS_EMF_SELF_METRICS", [*DAEMON_ENV, {"name": "ECS_EMF_SELF_METRICS",
                                                    "value": "true"}]),
            ("ECS_EMF_TAG_DIMENSIONS", [*DAEMON_ENV, {"name": "ECS_EMF_TAG_DIMENSIONS",
                                                      "value": "env"}]),
            ("ECS_EMF_SERVICE_FROM_API", [*env, {"name": "ECS_EMF_SERVICE_FROM_API",
                                                 "value": "maybe"}]),
        ]
        for name, daemon_env in refused:
            with self.subTest(setting=name):
                doc = daemon_plan()
                set_daemon_env(doc, daemon_env)
                self.assert_one_problem(doc, "tf", "daemon would not start with these settings",
                                        "`metrics --json --daemon` exits 2", name)
        # An "off" value of a refused setting is what the daemon does anyway, and tags from
        # the API (ecs:DescribeTasks) without a tag dimension change no set: both pass.
        for name, value in (("ECS_EMF_SELF_METRICS", "false"), ("ECS_EMF_TAGS_FROM_API", "true")):
            with self.subTest(setting=name, value=value):
                doc = daemon_plan()
                set_daemon_env(doc, [*DAEMON_ENV, {"name": name, "value": value}])
                self.assertEqual(self.problems(doc, "tf"), [])

    def test_tag_dimensions_from_the_api_must_be_named_by_the_dashboard(self):
        # ECS_EMF_TAGS_FROM_API=true with a tag key: the binary appends the key to every set
        # (before the static "team"), so every line and alarm must name it.
        tag_env = [*DAEMON_ENV, {"name": "ECS_EMF_TAGS_FROM_API", "value": "true"},
                   {"name": "ECS_EMF_TAG_DIMENSIONS", "value": "costcenter"}]
        doc = add_dimension(daemon_plan(), "costcenter", "cc-42")
        set_daemon_env(doc, tag_env)
        self.assertEqual(self.problems(doc, "tf"), [])
        # The same dashboard without the tag: 3 lines and 3 alarms, each on a set the daemon does
        # not publish.
        doc = daemon_plan()
        set_daemon_env(doc, tag_env)
        problems = self.problems(doc, "tf")
        self.assertEqual(len(problems), 6, problems)
        self.assertIn("module.dashboard.aws_cloudwatch_metric_alarm.exits: ContainerExits with "
                      "dimensions ['ClusterName', 'ContainerName', 'ServiceName', 'team']; the "
                      "daemon publishes [['ClusterName', 'ContainerName', 'ServiceName', "
                      "'costcenter', 'team']]", problems)
        # One alarm left without it: that alarm alone fails.
        doc = add_dimension(daemon_plan(), "costcenter", "cc-42")
        set_daemon_env(doc, tag_env)
        del daemon_alarms(doc)["no_data"]["dimensions"]["costcenter"]
        self.assert_one_problem(doc, "tf", "no_data: RunningContainerCount with dimensions "
                                "['ClusterName', 'ServiceName', 'team']; the daemon publishes "
                                "[['ClusterName', 'ServiceName', 'costcenter', 'team']]")

    def test_one_exporter_per_rendering(self):
        doc = daemon_plan()
        values, (daemon,) = daemon_container(doc)
        sidecar = {"name": "ecs-emf-exporter", "image": "x", "environment": ENV}
        values["container_definitions"] = json.dumps([daemon, sidecar])
        self.assert_one_problem(doc, "tf", "found 2 ('metrics-daemon', 'ecs-emf-exporter')")
        doc = daemon_plan()
        values, (daemon,) = daemon_container(doc)
        daemon["command"] = ["daemon", "--namespace", "Other"]
        values["container_definitions"] = json.dumps([daemon])
        self.assert_one_problem(doc, "tf", "arguments after `daemon` ['--namespace', 'Other'] are "
                                "not checked")

    def test_no_alarm_for_a_silent_daemon_fails(self):
        doc = daemon_plan()
        daemon_alarms(doc)["no_data"]["treat_missing_data"] = "notBreaching"
        self.assert_one_problem(doc, "tf", "no alarm fires when the daemon stops publishing")

    def test_a_cdk_daemon_template(self):
        """EcsEmfExporterDaemon's shape: an app task definition and the daemon's (default name,
        `Command: ["daemon"]`) in one template; the restart alarm the construct allows fails."""
        env = [{"Name": e["name"], "Value": e["value"]} for e in DAEMON_ENV]
        dims = [{"Name": "ClusterName", "Value": {"Ref": "Cluster"}},
                {"Name": "ServiceName", "Value": "api"}, {"Name": "team", "Value": "payments"}]
        line = json.dumps(["Team/Payments", "ContainerCpuThrottledPercent", "ClusterName", "c",
                           "ContainerName", "worker", "ServiceName", "api", "team", "payments"])
        body = {"Fn::Join": ["", ['{"widgets":[{"type":"metric","properties":{"region":"',
                                  {"Ref": "AWS::Region"}, f'","metrics":[{line}]}}}}]}}']]}
        doc = {"Resources": {
            "AppTaskDef": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "ContainerDefinitions": [{"Name": "app", "RestartPolicy": {"Enabled": True}}]}},
            "DaemonTaskDef": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "ContainerDefinitions": [{"Name": "ecs-emf-exporter", "Command": ["daemon"],
                                          "Environment": env}]}},
            "Dash": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": body}},
            "NoData": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "Namespace": "Team/Payments", "MetricName": "RunningContainerCount",
                "Unit": "Count", "Statistic": "SampleCount", "Dimensions": dims,
                "TreatMissingData": "breaching"}},
        }}
        self.assertEqual(self.problems(doc, "cdk"), [])
        doc["Resources"]["AppRestarts"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": "Team/Payments", "MetricName": "ContainerRestarts", "Unit": "Count",
            "Dimensions": [*copy.deepcopy(dims), {"Name": "ContainerName", "Value": "app"}],
            "TreatMissingData": "notBreaching"}}
        self.assert_one_problem(doc, "cdk", "AppRestarts: ContainerRestarts is not published with "
                                "the daemon's settings")


class CatalogForModeTest(unittest.TestCase):
    """catalog_for asks the binary for the catalog of the rendering's mode: `metrics --json` for
    the sidecar, `metrics --json --daemon` for the daemon, each with exactly the given
    environment. Expected values from docs/daemon.md ("What daemon mode cannot know")."""

    DAEMON_NEVER = ["EphemeralStorageUtilized", "EphemeralStorageReserved", "ImagePullTime",
                    "ClockErrorBound", "ContainerRestarts", "ExporterErrors",
                    "ExporterDroppedDatapoints", "ExporterCycleDuration"]
    THROTTLING = ["CpuThrottledTime", "CpuThrottledPercent", "ContainerCpuThrottledTime",
                  "ContainerCpuThrottledPercent"]

    def catalog(self, env: dict, mode: str) -> dict:
        return {e["name"]: e for e in drift.catalog_for(BINARY, env, mode)}

    def published(self, catalog: dict, names: list) -> dict:
        return {name: catalog[name]["published"] for name in names}

    def test_what_each_mode_publishes(self):
        # The exporter's own metrics on for the sidecar, so that every name below is published
        # by one mode and not by the other.
        sidecar = self.catalog({"ECS_EMF_SELF_METRICS": "true"}, "sidecar")
        daemon = self.catalog({}, "daemon")
        self.assertEqual(self.published(daemon, self.DAEMON_NEVER),
                         dict.fromkeys(self.DAEMON_NEVER, False))
        self.assertEqual(self.published(daemon, self.THROTTLING),
                         dict.fromkeys(self.THROTTLING, True))
        self.assertEqual(self.published(sidecar, self.DAEMON_NEVER),
                         dict.fromkeys(self.DAEMON_NEVER, True))
        self.assertEqual(self.published(sidecar, self.THROTTLING),
                         dict.fromkeys(self.THROTTLING, False))
        # What neither mode leaves out is published by both.
        for name in ("CpuUtilization", "RunningContainerCount", "ContainerExits"):
            self.assertTrue(sidecar[name]["published"] and daemon[name]["published"], name)

    def test_the_daemon_s_dimension_sets_follow_the_service_lookup(self):
        # Default sets ClusterName,ServiceName / ClusterName,ServiceName,ContainerName.
        off = self.catalog({}, "daemon")
        self.assertEqual(off["CpuUtilization"]["dimension_sets"],
                         [["ClusterName", "TaskDefinitionFamily"]])
        self.assertEqual(off["ContainerExits"]["dimension_sets"],
                         [["ClusterName", "TaskDefinitionFamily", "ContainerName"]])
        self.assertEqual(self.catalog({"ECS_EMF_SERVICE_FROM_API": "false"}, "daemon")
                         ["CpuUtilization"]["dimension_sets"],
                         [["ClusterName", "TaskDefinitionFamily"]])
        on = self.catalog({"ECS_EMF_SERVICE_FROM_API": "true"}, "daemon")
        self.assertEqual(on["CpuUtilization"]["dimension_sets"], [["ClusterName", "ServiceName"]])
        self.assertEqual(on["ContainerExits"]["dimension_sets"],
                         [["ClusterName", "ServiceName", "ContainerName"]])
        # Each name once, each set once, as for a standalone task in the sidecar.
        sets = self.catalog({"ECS_EMF_DIMENSIONS": "ClusterName,ServiceName;"
                                                   "ServiceName,TaskDefinitionFamily;"
                                                   "ClusterName,TaskDefinitionFamily"},
                            "daemon")["CpuUtilization"]["dimension_sets"]
        self.assertEqual(sets, [["ClusterName", "TaskDefinitionFamily"], ["TaskDefinitionFamily"]])
        # The sidecar lists the sets of a task with a service.
        self.assertEqual(self.catalog({}, "sidecar")["CpuUtilization"]["dimension_sets"],
                         [["ClusterName", "ServiceName"]])

    def test_a_refused_setting_raises_with_the_binary_s_message(self):
        with self.assertRaises(ValueError) as caught:
            drift.catalog_for(BINARY, {"ECS_EMF_SELF_METRICS": "true"}, "daemon")
        self.assertIn("exits 2", str(caught.exception))
        self.assertIn("ECS_EMF_SELF_METRICS", str(caught.exception))
        # The same setting is the sidecar's to take.
        self.assertTrue(self.catalog({"ECS_EMF_SELF_METRICS": "true"}, "sidecar")
                        ["ExporterErrors"]["published"])


if __name__ == "__main__":
    unittest.main()
