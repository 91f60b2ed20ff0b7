#!/usr/bin/env python3
"""The infra's copies of the metric catalog agree with the binary's.

The Terraform module (modules/ecs-emf-exporter/catalog.tf, `metric_names`: the names a tag or
static dimension must not take) and the CDK construct (lib/metric-catalog.ts: name, unit and
level of each metric, from which alarms take their unit) each keep a copy of what
`ecs-emf-exporter metrics --json` lists (src/pipeline/catalog.rs). A metric added to the binary
and missing from a copy would let a dimension clash through, or leave a metric with no unit for
its alarms; this check fails the build when a copy parts from the binary.

Usage: check_catalogs.py --binary BIN [--terraform-catalog catalog.tf] [--cdk-catalog metric-catalog.ts]
"""
import argparse
import re
import sys

from check_metric_drift import catalog_for

# aws-cdk-lib's cloudwatch.Unit members, as the CDK copy names them, and the unit strings the
# binary publishes (the CloudWatch StandardUnit values).
CDK_UNITS = {
    "NONE": "None",
    "PERCENT": "Percent",
    "SECONDS": "Seconds",
    "MILLISECONDS": "Milliseconds",
    "BYTES": "Bytes",
    "MEGABYTES": "Megabytes",
    "COUNT": "Count",
    "BYTES_PER_SECOND": "Bytes/Second",
    "COUNT_PER_SECOND": "Count/Second",
}


def binary_catalog(binary: str) -> dict:
    """name -> (unit, level) for every metric the binary knows, published by default or not."""
    return {e["name"]: (e["unit"], e["level"].lower()) for e in catalog_for(binary, {})}


def terraform_names(text: str) -> list:
    """The quoted names of catalog.tf's `metric_names = [ ... ]`."""
    found = re.search(r"metric_names\s*=\s*\[(.*?)\]", text, re.S)
    if not found:
        raise ValueError("catalog.tf: no `metric_names = [ ... ]` list")
    return re.findall(r'"([^"]+)"', found.group(1))


def cdk_entries(text: str) -> dict:
    """name -> (unit, level) of metric-catalog.ts's `{ name: "X", unit: U.Y, level: "z" }` rows."""
    rows = re.findall(r'\{\s*name:\s*"([^"]+)",\s*unit:\s*U\.([A-Z_]+),\s*level:\s*"([a-z]+)"\s*\}',
                      text)
    if not rows:
        raise ValueError("metric-catalog.ts: no `{ name, unit, level }` rows")
    return {name: (CDK_UNITS.get(unit, f"U.{unit}"), level) for name, unit, level in rows}


def differences(where: str, copy: set, binary: set) -> list:
    problems = [f"{where}: {n} is published by the binary but missing here" for n in sorted(binary - copy)]
    problems += [f"{where}: {n} is not a metric of the binary" for n in sorted(copy - binary)]
    return problems


def terraform_problems(text: str, catalog: dict) -> list:
    names = terraform_names(text)
    problems = [f"catalog.tf: {n} is listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
    return problems + differences("catalog.tf metric_names", set(names), set(catalog))


def cdk_problems(text: str, catalog: dict) -> list:
    entries = cdk_entries(text)
    problems = differences("metric-catalog.ts", set(entries), set(catalog))
    for name in sorted(set(entries) & set(catalog)):
        if entries[name] != catalog[name]:
            problems.append(f"metric-catalog.ts: {name} is {entries[name][0]} ({entries[name][1]}), "
                            f"the binary publishes {catalog[name][0]} ({catalog[name][1]})")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--terraform-catalog")
    parser.add_argument("--cdk-catalog")
    args = parser.parse_args(argv)
    catalog = binary_catalog(args.binary)
    problems = []
    if args.terraform_catalog:
        with open(args.terraform_catalog, encoding="utf-8") as f:
            problems += terraform_problems(f.read(), catalog)
    if args.cdk_catalog:
        with open(args.cdk_catalog, encoding="utf-8") as f:
            problems += cdk_problems(f.read(), catalog)
    for p in problems:
        print(f"catalog drift: {p}", file=sys.stderr)
    print(f"{len(catalog)} metrics in the binary's catalog: "
          f"{'the infra copies DIFFER' if problems else 'the infra copies agree'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
