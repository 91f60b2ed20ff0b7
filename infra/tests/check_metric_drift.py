#!/usr/bin/env python3
"""Fails when a dashboard or alarm in infra/ names a metric the exporter does not publish.

Reads what the infrastructure code really renders — Terraform plans (`terraform show -json`)
and/or synthesized CDK templates — and, for each, runs `ecs-emf-exporter metrics --json` (the
sidecar) or `ecs-emf-exporter metrics --json --daemon` (daemon mode) with the environment of the
rendered exporter container, so the catalog reflects the same mode, namespace, filters and
dimension sets the deployed exporter will use. The exporter container of a rendering is either
the sidecar (a container named --container-name, default ecs-emf-exporter) or the daemon
(`ecs-emf-exporter daemon`, one per EC2 instance: a container, whatever its name, whose command
is `daemon`); a rendering holds exactly one of them. Then every dashboard metric line and every
alarm must name:
  - the namespace the exporter publishes to,
  - a metric the exporter publishes with those settings, in its mode (`published` in the catalog),
  - a set of dimension names equal to one the exporter publishes for that metric,
  - (alarms) exactly the metric's unit: an alarm with another unit never sees a data point.
Metric math (a widget line {"expression": ...}, an alarm's metric_query / Metrics): every metric
inside it is one of its own lines or queries and is checked like any other (namespace, published,
dimension set; in an alarm the unit when one is stated), and the expression may only name ids
that its widget or alarm defines (a SEARCH / SELECT query, which names metrics as text, cannot be
checked and is refused); an alarm returns exactly one query.
Alarms must also be able to fire, and fire only for a reason (infra/README.md, "Missing data"):
  - each states its missing-data treatment;
  - one that reads missing data as breaching watches a metric published every cycle
    (`every_cycle` in the catalog), else a quiet task would set it off;
  - where there are alarms, one of them fires when the exporter stops publishing;
  - one on a container (a ContainerName dimension) names a container that
    ECS_EMF_EXCLUDE_CONTAINERS does not leave out; for the sidecar also a container of the
    rendered task definitions, and ContainerRestarts only one with an enabled restart policy:
    ECS reports no RestartCount otherwise, and it is never published.

The mode's rules come from the binary, never from here: a sidecar rendering is checked against
`metrics --json`, a daemon rendering against `metrics --json --daemon`, which lists the catalog as
`ecs-emf-exporter daemon` publishes it with the same environment (what the daemon never publishes
is `published: false`, the CPU throttling metrics are the daemon's only, the dimension sets name
TaskDefinitionFamily for ServiceName unless ECS_EMF_SERVICE_FROM_API is on). Settings the daemon
refuses to start with make it exit non-zero with the binary's own message, reported as the
rendering's problem (a daemon that does not start publishes nothing). Two rules of the daemon's
rendering stay here, because the catalog cannot say them:
  - daemon: an alarm's ContainerName is not looked up in any task definition. The daemon's
    containers are other tasks' (the monitored service's task definition is not the daemon's,
    and is often not in the rendering at all), so only ECS_EMF_EXCLUDE_CONTAINERS is checked;
    whether that container exists, and has a restart policy, cannot be known here (a
    ContainerRestarts alarm fails anyway: the daemon never publishes it);
  - arguments after `daemon` in its command are refused: settings there would not be in the
    checked catalog, which is listed from the environment only.

Usage:
  check_metric_drift.py --binary target/release/ecs-emf-exporter [--container-name NAME] \
      [--terraform-plan plan.json ...] [--cdk-template Stack.template.json ...]
Exit 0 when everything matches, 1 with one line per problem otherwise.
Only the standard library: runs with any Python 3.9+.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field

# Where CDK puts a token inside a joined string; JSON-safe inside a string literal.
TOKEN = "__TOKEN__"
DEFAULT_CONTAINER = "ecs-emf-exporter"


@dataclass
class MetricRef:
    """One metric a dashboard line or an alarm names."""

    where: str
    namespace: object
    name: object
    dimensions: dict
    unit: object = None  # alarms only
    checks_unit: bool = False  # an alarm: its unit, missing-data treatment and container count
    missing: object = None  # alarms: how missing data is treated ("breaching", ...) or None
    unit_optional: bool = False  # a metric inside an alarm's metric math: its unit, if stated


@dataclass
class Container:
    """One container of a rendered task definition."""

    name: object
    env: dict  # {env name: value, or None when not literal}
    restart_policy: bool  # an enabled restart policy: ECS reports its RestartCount
    command: object = None  # the container's command (a list), or None when it sets none

    @property
    def runs_daemon(self) -> bool:
        """`ecs-emf-exporter daemon`: the image's entrypoint is the binary, the command `daemon`."""
        return isinstance(self.command, list) and bool(self.command) and self.command[0] == "daemon"


@dataclass
class Rendered:
    """What one source (a plan or a template) renders."""

    source: str
    containers: list = field(default_factory=list)  # Container
    refs: list = field(default_factory=list)  # MetricRef
    problems: list = field(default_factory=list)
    dashboards: int = 0
    alarms: int = 0
    mode: str = "sidecar"  # or "daemon": set by check() from the exporter container found


# ---------------------------------------------------------------- metric math (both sources)

# Ids of metric math start with a lower-case letter; functions (SUM, FILL, ...) are upper case.
MATH_ID = re.compile(r"\b[a-z][A-Za-z0-9_]*\b")
MATH_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
MATH_QUERY = re.compile(r"\b(SEARCH|SELECT)\b")


def expression_problems(where: str, expression, defined: set, own_id=None) -> list:
    """What makes a metric math expression name something that is not checked, or nothing."""
    if not isinstance(expression, str) or not expression.strip():
        return [f"{where}: metric math with an empty expression"]
    if MATH_QUERY.search(expression):
        return [f"{where}: expression {expression!r} names metrics inside a SEARCH/SELECT query, "
                f"which cannot be checked against the exporter; give each metric its own id"]
    named = set(MATH_ID.findall(MATH_QUOTED.sub("", expression)))
    problems = []
    if own_id is not None and own_id in named:
        problems.append(f"{where}: expression {expression!r} refers to itself ({own_id})")
    unknown = sorted(named - set(defined) - {own_id})
    if unknown:
        problems.append(f"{where}: expression {expression!r} refers to {', '.join(unknown)}, "
                        f"which no metric or expression of it defines")
    return problems


def returned_queries_problem(where: str, returns: list):
    """An alarm on metric math watches exactly one query: the one with ReturnData true."""
    true = sum(1 for r in returns if r is True)
    unset = sum(1 for r in returns if r is None)
    if true > 1 or (true == 0 and unset != 1):
        return (f"{where}: {true} queries return data; exactly one (the expression the alarm "
                f"watches) must")
    return None


# ---------------------------------------------------------------- dashboards (both sources)


def dashboard_refs(body: dict, where: str, out: Rendered) -> None:
    """Metric lines of a dashboard body, in the full array form the contract requires."""
    out.dashboards += 1
    widgets = body.get("widgets")
    if not isinstance(widgets, list):
        out.problems.append(f"{where}: dashboard body has no widgets list")
        return
    for i, widget in enumerate(widgets):
        props = widget.get("properties") if isinstance(widget, dict) else None
        if not isinstance(props, dict) or widget.get("type") != "metric":
            continue
        title = props.get("title", f"widget {i}")
        lines = props.get("metrics") or []
        # The ids metric math may name: those of the widget's lines (hidden ones included).
        defined = {o.get("id") for line in lines if isinstance(line, list)
                   for o in line if isinstance(o, dict) and o.get("id")}
        for j, line in enumerate(lines):
            at = f"{where}: widget {title!r} line {j}"
            if not isinstance(line, list):
                out.problems.append(f"{at}: not a list")
                continue
            parts = [p for p in line if not isinstance(p, dict)]
            options = [p for p in line if isinstance(p, dict)]
            math = [o for o in options if "expression" in o]
            if math:
                # Names no metric of its own: its metrics are the widget's other lines, each
                # checked below; it may only name their ids.
                out.problems.extend(expression_problems(at, math[0].get("expression"), defined,
                                                        math[0].get("id")))
                continue
            if any(p in ("...", ".") for p in parts):
                out.problems.append(f"{at}: uses the '...'/'.' shorthand; write every line in full")
                continue
            if len(parts) < 2 or len(parts) % 2 != 0:
                out.problems.append(f"{at}: expected [namespace, name, dim, value, ...], got {line}")
                continue
            dims = dict(zip(parts[2::2], parts[3::2]))
            out.refs.append(MetricRef(at, parts[0], parts[1], dims))


# ---------------------------------------------------------------- Terraform plan


def walk_modules(module: dict):
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from walk_modules(child)


def env_map(entries, name_key: str, value_key: str) -> dict:
    env = {}
    for e in entries or []:
        value = e.get(value_key)
        env[e.get(name_key)] = value if isinstance(value, str) else None
    return env


def from_terraform_plan(path: str) -> Rendered:
    with open(path, encoding="utf-8") as f:
        plan = json.load(f)
    out = Rendered(source=f"terraform plan {path}")
    root = plan.get("planned_values", {}).get("root_module", {})
    for res in walk_modules(root):
        kind, values, addr = res.get("type"), res.get("values") or {}, res.get("address")
        if kind == "aws_ecs_task_definition":
            text = values.get("container_definitions")
            if not isinstance(text, str):
                out.problems.append(f"{addr}: container_definitions unknown at plan time")
                continue
            for c in json.loads(text):
                policy = c.get("restartPolicy") or {}
                out.containers.append(Container(c.get("name"),
                                                env_map(c.get("environment"), "name", "value"),
                                                policy.get("enabled") is True, c.get("command")))
        elif kind == "aws_cloudwatch_dashboard":
            text = values.get("dashboard_body")
            if not isinstance(text, str):
                out.problems.append(f"{addr}: dashboard_body unknown at plan time")
                continue
            dashboard_refs(json.loads(text), addr, out)
        elif kind == "aws_cloudwatch_metric_alarm":
            out.alarms += 1
            queries = values.get("metric_query") or []
            missing = values.get("treat_missing_data")
            if values.get("metric_name"):
                out.refs.append(
                    MetricRef(addr, values.get("namespace"), values.get("metric_name"),
                              dict(values.get("dimensions") or {}), values.get("unit"), True,
                              missing))
            ids = {q.get("id") for q in queries if q.get("id")}
            for q in queries:
                if q.get("expression"):
                    out.problems.extend(expression_problems(f"{addr} query {q.get('id')}",
                                                            q.get("expression"), ids, q.get("id")))
                for m in q.get("metric") or []:
                    out.refs.append(
                        MetricRef(f"{addr} query {q.get('id')}", m.get("namespace"),
                                  m.get("metric_name"), dict(m.get("dimensions") or {}),
                                  m.get("unit") or None, True, missing, unit_optional=True))
            if queries:
                problem = returned_queries_problem(addr, [q.get("return_data") for q in queries])
                if problem:
                    out.problems.append(problem)
    return out


# ---------------------------------------------------------------- CDK / CloudFormation


def literal(value, joined: bool = False):
    """A CloudFormation value as a string; intrinsics become a token (inside a join) or None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(literal(p, joined=True) or TOKEN for p in parts)
    return TOKEN if joined else None


def from_cdk_template(path: str) -> Rendered:
    with open(path, encoding="utf-8") as f:
        template = json.load(f)
    out = Rendered(source=f"cdk template {path}")
    for logical_id, res in (template.get("Resources") or {}).items():
        kind, props = res.get("Type"), res.get("Properties") or {}
        if kind == "AWS::ECS::TaskDefinition":
            for c in props.get("ContainerDefinitions") or []:
                env = {e.get("Name"): literal(e.get("Value")) for e in c.get("Environment") or []}
                policy = c.get("RestartPolicy") or {}
                command = c.get("Command")
                if isinstance(command, list):
                    command = [literal(part) for part in command]
                out.containers.append(Container(c.get("Name"), env, policy.get("Enabled") is True,
                                                command))
        elif kind == "AWS::CloudWatch::Dashboard":
            body = literal(props.get("DashboardBody"))
            if body is None:
                out.problems.append(f"{logical_id}: DashboardBody is not a string or a join")
                continue
            dashboard_refs(json.loads(body), logical_id, out)
        elif kind == "AWS::CloudWatch::Alarm":
            out.alarms += 1
            dims = lambda ds: {d.get("Name"): d.get("Value") for d in ds or []}  # noqa: E731
            missing = props.get("TreatMissingData")
            if props.get("MetricName"):
                out.refs.append(
                    MetricRef(logical_id, props.get("Namespace"), props.get("MetricName"),
                              dims(props.get("Dimensions")), props.get("Unit"), True, missing))
            queries = props.get("Metrics") or []
            ids = {q.get("Id") for q in queries if q.get("Id")}
            for q in queries:
                if "Expression" in q:
                    out.problems.extend(expression_problems(f"{logical_id} query {q.get('Id')}",
                                                            q.get("Expression"), ids, q.get("Id")))
                stat = q.get("MetricStat")
                if stat:
                    m = stat.get("Metric") or {}
                    out.refs.append(
                        MetricRef(f"{logical_id} query {q.get('Id')}", m.get("Namespace"),
                                  m.get("MetricName"), dims(m.get("Dimensions")),
                                  stat.get("Unit"), True, missing, unit_optional=True))
            if queries:
                problem = returned_queries_problem(logical_id,
                                                   [q.get("ReturnData") for q in queries])
                if problem:
                    out.problems.append(problem)
    return out


# ---------------------------------------------------------------- the check


def catalog_for(binary: str, env: dict, mode: str = "sidecar") -> list:
    """The catalog as the exporter publishes it in its mode, with exactly the exporter's
    environment (nothing inherited): `metrics --json`, plus `--daemon` for daemon mode. Raises
    ValueError with the binary's message when it refuses the settings."""
    command = [binary, "metrics", "--json"] + (["--daemon"] if mode == "daemon" else [])
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        said = run.stderr.strip() or "(nothing on stderr)"
        if mode == "daemon":
            raise ValueError(f"the daemon would not start with these settings: `metrics --json "
                             f"--daemon` exits {run.returncode}: {said}")
        raise ValueError(f"the exporter's settings are invalid: {said}")
    return json.loads(run.stdout)


def find_exporter(rendered: Rendered, container: str):
    """(the exporter container, its mode) or (None, a problem): exactly one sidecar named
    `container` or one container running `daemon`."""
    daemons = [c for c in rendered.containers if c.runs_daemon]
    sidecars = [c for c in rendered.containers if c.name == container and not c.runs_daemon]
    found = daemons + sidecars
    if len(found) != 1:
        names = ", ".join(repr(c.name) for c in found) or "none"
        return None, (f"{rendered.source}: expected one container named {container!r} (the "
                      f"sidecar) or running `daemon` (daemon mode), found {len(found)} ({names})")
    return found[0], "daemon" if daemons else "sidecar"


def excluded(name: str, env: dict) -> bool:
    """Whether ECS_EMF_EXCLUDE_CONTAINERS (comma-separated names or * ? globs) leaves out `name`."""
    patterns = [p.strip() for p in (env.get("ECS_EMF_EXCLUDE_CONTAINERS") or "").split(",")]
    return any(p and fnmatch.fnmatchcase(name, p) for p in patterns)


def container_problem(ref: MetricRef, rendered: Rendered, env: dict):
    """Why an alarm on one container could never see a data point, or None. In daemon mode the
    container is another task's: only the exclusion is checked (see the module docstring)."""
    name = ref.dimensions.get("ContainerName")
    if name is None:
        return None
    if rendered.mode == "daemon":
        if isinstance(name, str) and excluded(name, env):
            return (f"{ref.where}: ContainerName {name!r} is left out by "
                    f"ECS_EMF_EXCLUDE_CONTAINERS")
        return None
    found = [c for c in rendered.containers if c.name == name]
    if not found:
        return f"{ref.where}: ContainerName {name!r} is not a container of the task definition"
    if excluded(name, env):
        return f"{ref.where}: ContainerName {name!r} is left out by ECS_EMF_EXCLUDE_CONTAINERS"
    if ref.name == "ContainerRestarts" and not any(c.restart_policy for c in found):
        return (f"{ref.where}: container {name!r} has no enabled restart policy: ECS reports no "
                f"RestartCount for it, so ContainerRestarts is never published and the alarm "
                f"could never fire")
    return None


def alarm_problems(rendered: Rendered, by_name: dict, env: dict) -> list:
    """What makes an alarm unable to fire, or fire for no reason (see the module docstring)."""
    problems = []
    alarms = [r for r in rendered.refs if r.checks_unit]
    for ref in alarms:
        entry = by_name.get(ref.name)
        if ref.missing is None:
            problems.append(f"{ref.where}: states no missing-data treatment; say on purpose "
                            f"whether no data is OK")
        elif ref.missing == "breaching" and entry is not None and not entry.get("every_cycle"):
            problems.append(f"{ref.where}: reads missing data as breaching, but {ref.name} is not "
                            f"published every cycle: a quiet task would set it off")
        problem = container_problem(ref, rendered, env)
        if problem:
            problems.append(problem)
    watched = [r for r in alarms if r.missing == "breaching"
               and by_name.get(r.name, {}).get("every_cycle")
               and by_name.get(r.name, {}).get("published")]
    if alarms and not watched:
        problems.append(f"{rendered.source}: no alarm fires when the {rendered.mode} stops "
                        f"publishing (missing data breaching on a metric published every cycle)")
    return problems


def check(rendered: Rendered, binary: str, container: str) -> list:
    problems = list(rendered.problems)
    exporter, found = find_exporter(rendered, container)
    if exporter is None:
        return problems + [found]
    rendered.mode = found
    env = exporter.env
    unresolved = sorted(k for k, v in env.items() if v is None)
    if unresolved:
        return problems + [f"{rendered.source}: {rendered.mode} environment not literal: "
                           f"{unresolved}"]
    if rendered.mode == "daemon" and exporter.command[1:]:
        problems.append(f"{rendered.source}: arguments after `daemon` {exporter.command[1:]}"
                        f" are not checked; give the daemon's settings in its environment")
    try:
        catalog = catalog_for(binary, env, rendered.mode)
    except ValueError as e:
        return problems + [f"{rendered.source}: {e}"]
    by_name = {entry["name"]: entry for entry in catalog}
    if not rendered.refs:
        problems.append(f"{rendered.source}: no dashboard line or alarm found: nothing was checked")
    for ref in rendered.refs:
        entry = by_name.get(ref.name)
        if entry is None:
            problems.append(f"{ref.where}: {ref.name!r} is not a metric of the exporter")
            continue
        if not entry["published"]:
            problems.append(f"{ref.where}: {ref.name} is not published with the "
                            f"{rendered.mode}'s settings")
        if ref.namespace != entry["namespace"]:
            problems.append(f"{ref.where}: namespace {ref.namespace!r}, but the {rendered.mode} "
                            f"publishes to {entry['namespace']!r}")
        names = set(ref.dimensions)
        published_sets = [set(s) for s in entry["dimension_sets"]]
        if names not in published_sets:
            problems.append(f"{ref.where}: {ref.name} with dimensions {sorted(names)}; the "
                            f"{rendered.mode} publishes {[sorted(s) for s in published_sets]}")
        if ref.checks_unit and ref.unit != entry["unit"] and not (ref.unit_optional
                                                                  and ref.unit is None):
            problems.append(f"{ref.where}: {ref.name} unit {ref.unit!r}, published as "
                            f"{entry['unit']!r}")
    return problems + alarm_problems(rendered, by_name, env)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--container-name", default=DEFAULT_CONTAINER,
                        help="the sidecar's container name (a daemon is found by its command)")
    parser.add_argument("--terraform-plan", action="append", default=[],
                        help="`terraform show -json` of a plan; may be given more than once")
    parser.add_argument("--cdk-template", action="append", default=[],
                        help="a synthesized template; may be given more than once")
    args = parser.parse_args(argv)
    sources = [from_terraform_plan(p) for p in args.terraform_plan]
    sources += [from_cdk_template(p) for p in args.cdk_template]
    if not sources:
        parser.error("give at least one --terraform-plan or --cdk-template")
    failed = False
    for rendered in sources:
        problems = check(rendered, args.binary, args.container_name)
        for p in problems:
            print(f"drift: {p}", file=sys.stderr)
        failed |= bool(problems)
        lines = sum(1 for r in rendered.refs if not r.checks_unit)
        alarms = sum(1 for r in rendered.refs if r.checks_unit)
        print(f"{rendered.source} ({rendered.mode}): {rendered.dashboards} dashboard(s), {lines} "
              f"metric lines, {alarms} alarm metrics: {'FAILED' if problems else 'all published'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
