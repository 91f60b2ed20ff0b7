#!/usr/bin/env python3
"""Reads back from moto everything stored in one CloudWatch namespace, as one JSON document.

Usage:
  cloudwatch_readback.py --endpoint MOTO_URL --namespace NS [--start EPOCH --end EPOCH]
                         [--period SECONDS] [--region REGION]
  cloudwatch_readback.py --endpoint MOTO_URL --namespace NS --raw

Default mode prints a list, sorted by (MetricName, Dimensions, Unit), of
  {"MetricName", "Dimensions": {name: value}, "Unit",
   "Datapoints": [{"Timestamp": epoch_ms, "Sum", "SampleCount", "Minimum", "Maximum"}]}
with datapoints in time order, one per non-empty bucket of --period seconds (default 60),
labelled with the bucket's start: buckets are laid from --start, or else from the multiple
of the period at or before the first datum. moto drops StorageResolution, so it cannot tell
high-resolution data apart: the caller picks the period (1 gives per-second buckets).

boto3 talks to moto directly (botocore picks awsJson 1.0 for CloudWatch, which moto serves),
never through the CBOR proxy, so the readback does not depend on the code under test.

Which moto APIs give exact answers (checked against moto 5.2.5's cloudwatch/models.py):
  * ListMetrics returns one entry per stored datum for most dimension sets: deduplicated here.
  * GetMetricStatistics honours the namespace but matches dimensions as a SUBSET (a query for
    {A} also counts data stored with {A, B}), and its buckets start at the first datum's
    timestamp rather than at period boundaries.
  * GetMetricData matches dimensions exactly and aligns buckets to StartTime, but ignores the
    namespace when dimensions are given (and filters none when none are given), and compares
    dimension lists sorted with a broken order (see MotoDimension), so a query must list the
    dimensions in the order they were stored in (ListMetrics shows it).
So the statistics come from GetMetricData, after checking that no other namespace holds the
same metric name with the same dimensions, and (for a metric without dimensions) that the
namespace holds no dimensioned variant of it. GetMetricStatistics (period 1) only finds the
time span of the data, where its over-matching merely widens the span. Units come from
moto's /moto-api/data.json (per metric name); a name stored with several units gives one
entry per unit (GetMetricData filters on Unit), but moto cannot select "no unit", so a name
stored both with and without one is ambiguous. When moto cannot give an exact answer the
script says why on stderr and exits 3 rather than print numbers that mix several metrics.
Cost: moto deduplicates ListMetrics in quadratic time, so this is made for test-sized data
(thousands of datums: about a second).

--raw prints what moto itself stored, one object per stored datum in storage order (plain
values first, then StatisticValues datums), from
/moto-api/data.json: {"MetricName", "Unit", "Value"} or {"MetricName", "Unit",
"StatisticValues": {"Sum", "SampleCount", "Minimum", "Maximum"}} (a Values/Counts datum is
stored as Counts[i] copies of Values[i]). moto's data.json leaves out every attribute that
is not plain JSON, which drops the timestamp and any non-empty dimension list, so raw
entries carry neither; the per-datum timestamps and dimensions the SDK sent are in the
proxy's GET /_proxy/datums log, which records every datum moto accepted.
"""

import argparse
import datetime
import json
import math
import sys
import urllib.request

import boto3
from botocore.config import Config

UTC = datetime.timezone.utc
STATS = ("Sum", "SampleCount", "Minimum", "Maximum")
# A span wide enough for any test data: moto's GetMetricStatistics walks only from the first
# to the last datum it finds, so a wide window costs nothing.
FAR_PAST = datetime.datetime(1971, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime.datetime(2200, 1, 1, tzinfo=UTC)


class Ambiguous(Exception):
    """moto cannot answer exactly for this metric."""


def moto_data(endpoint):
    with urllib.request.urlopen(endpoint.rstrip("/") + "/moto-api/data.json", timeout=30) as r:
        data = json.load(r)
    return data.get("cloudwatch", {})


def stored_datums(endpoint, namespace):
    """moto's stored datums of `namespace` from data.json (see --raw in the module doc)."""
    cloudwatch = moto_data(endpoint)
    out = []
    for item in cloudwatch.get("MetricDatum", []):
        if item.get("namespace") == namespace:
            out.append({"MetricName": item["name"], "Unit": item.get("unit"), "Value": item["value"]})
    for item in cloudwatch.get("MetricAggregatedDatum", []):
        if item.get("namespace") == namespace:
            out.append(
                {
                    "MetricName": item["name"],
                    "Unit": item.get("unit"),
                    "StatisticValues": {
                        "Sum": item["sum"],
                        "SampleCount": item["sample_count"],
                        "Minimum": item["min"],
                        "Maximum": item["max"],
                    },
                }
            )
    return out


def list_metrics(client, **filters):
    """ListMetrics, every page, duplicates removed.

    Returns {(namespace, name, sorted dims): {dims in each order they were stored in}}: the
    stored orders matter to GetMetricData (see `moto_sorted`).
    """
    found = {}
    for page in client.get_paginator("list_metrics").paginate(**filters):
        for metric in page.get("Metrics", []):
            stored = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            key = (metric["Namespace"], metric["MetricName"], tuple(sorted(stored)))
            found.setdefault(key, set()).add(stored)
    return found


class MotoDimension:
    """Orders like moto's cloudwatch Dimension, whose __lt__ compares self.value with the
    OTHER's name. GetMetricData matches dimensions as `sorted(stored) == sorted(query)`
    with that order, which is no real order: the same set sorts differently depending on
    the order it came in, so a query only matches datums whose dimensions moto-sort alike.
    """

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __lt__(self, other):
        return self.name < other.name and self.value < other.name


def moto_sorted(dims):
    # Python's sort is deterministic, so this reproduces what moto compares.
    return tuple((d.name, d.value) for d in sorted(MotoDimension(n, v) for n, v in dims))


def as_dimensions(dims):
    return [{"Name": name, "Value": value} for name, value in dims]


def check_exact(namespace, name, dims, everything):
    """Raises Ambiguous when GetMetricData would mix other data into this metric's.

    `everything` is list_metrics() over all namespaces.
    """
    if dims:
        # GetMetricData ignores the namespace when dimensions are given.
        elsewhere = [
            ns for ns, n, other in everything if n == name and other == dims and ns != namespace
        ]
        if elsewhere:
            raise Ambiguous(
                f"{name} {dict(dims)} also exists in namespace(s) {sorted(set(elsewhere))}; "
                "moto's GetMetricData ignores the namespace when dimensions are given"
            )
    else:
        # Without dimensions GetMetricData (and GetMetricStatistics) filter none, so a
        # dimensioned variant of the same name would be counted in.
        variants = [
            other for ns, n, other in everything if ns == namespace and n == name and other
        ]
        if variants:
            raise Ambiguous(
                f"{name} without dimensions shares its name with dimensioned variants "
                f"{[dict(v) for v in variants]}; moto cannot query it alone"
            )


def data_span(client, namespace, name, dims, start, end):
    """[first, last] datum times (seconds, UTC) of the metric, or None when it has no data."""
    response = client.get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=as_dimensions(dims),
        StartTime=start or FAR_PAST,
        EndTime=end or FAR_FUTURE,
        Period=1,
        Statistics=["SampleCount"],
    )
    stamps = [p["Timestamp"].timestamp() for p in response.get("Datapoints", [])]
    if not stamps:
        return None
    # Each period-1 bucket is labelled with its first datum's time; the last datum lies
    # within one second after the last label.
    return min(stamps), max(stamps) + 1.0


def datapoints(client, name, namespace, stored_orders, unit, start, end, period):
    """Datapoints in time order of one metric whose dimensions were stored in `orders`.

    One GetMetricData per distinct moto-sorted form of the stored orders (see
    MotoDimension): each query then matches its datums exactly once, and the buckets of the
    queries are merged.
    """
    forms = {}
    for order in sorted(stored_orders):
        forms.setdefault(moto_sorted(order), order)
    merged = {}
    for order in forms.values():
        for point in query_datapoints(client, name, namespace, order, unit, start, end, period):
            into = merged.setdefault(point["Timestamp"], {"Timestamp": point["Timestamp"]})
            for stat, value in point.items():
                if stat == "Timestamp":
                    continue
                if stat not in into:
                    into[stat] = value
                elif stat == "Minimum":
                    into[stat] = min(into[stat], value)
                elif stat == "Maximum":
                    into[stat] = max(into[stat], value)
                else:
                    into[stat] += value
    return [merged[ms] for ms in sorted(merged)]


def query_datapoints(client, name, namespace, dims, unit, start, end, period):
    """GetMetricData for the four statistics, merged into datapoints in time order."""
    queries = []
    for i, stat in enumerate(STATS):
        metric_stat = {
            "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": as_dimensions(dims)},
            "Period": period,
            "Stat": stat,
        }
        if unit is not None:
            metric_stat["Unit"] = unit
        queries.append({"Id": f"q{i}", "MetricStat": metric_stat, "ReturnData": True})
    response = client.get_metric_data(
        MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
    )
    points = {}
    for result in response.get("MetricDataResults", []):
        stat = STATS[int(result["Id"][1:])]
        for stamp, value in zip(result.get("Timestamps", []), result.get("Values", [])):
            ms = int(round(stamp.timestamp() * 1000))
            points.setdefault(ms, {"Timestamp": ms})[stat] = value
    return [points[ms] for ms in sorted(points)]


def readback(client, endpoint, namespace, start, end, period):
    # One unfiltered ListMetrics serves both the listing and the cross-namespace check:
    # moto deduplicates in quadratic time, so each call over many datums is expensive.
    everything = list_metrics(client)
    in_namespace = {key: orders for key, orders in everything.items() if key[0] == namespace}
    # Units per metric name: data.json has no dimensions for most datums, so this is the set
    # of units the name was stored with, across its dimension sets.
    units = {}
    for datum in stored_datums(endpoint, namespace):
        units.setdefault(datum["MetricName"], set()).add(datum["Unit"])

    out = []
    problems = []
    for (_, name, dims), stored_orders in sorted(in_namespace.items()):
        try:
            check_exact(namespace, name, dims, everything)
            span = data_span(client, namespace, name, dims, start, end)
            if span is None:
                continue
            first = start.timestamp() if start else math.floor(span[0] / period) * period
            last = end.timestamp() if end else (math.floor(span[1] / period) + 1) * period
            window = (
                datetime.datetime.fromtimestamp(first, UTC),
                datetime.datetime.fromtimestamp(last, UTC),
            )
            names_units = units.get(name, {None})
            if len(names_units) == 1:
                # One unit: no filter needed (moto cannot filter on "no unit" anyway).
                candidates = [(next(iter(names_units)), None)]
            elif None in names_units:
                raise Ambiguous(
                    f"{name} was stored both with and without a unit ({sorted(map(str, names_units))}); "
                    "moto cannot select the datums without one"
                )
            else:
                candidates = [(u, u) for u in sorted(names_units)]
            for unit, unit_filter in candidates:
                points = datapoints(
                    client, name, namespace, stored_orders, unit_filter, *window, period
                )
                if points:
                    out.append(
                        {
                            "MetricName": name,
                            "Dimensions": dict(dims),
                            "Unit": unit,
                            "Datapoints": points,
                        }
                    )
        except Ambiguous as e:
            problems.append(str(e))
    if problems:
        raise Ambiguous("; ".join(problems))
    out.sort(key=lambda m: (m["MetricName"], sorted(m["Dimensions"].items()), m["Unit"] or ""))
    return out


def epoch_arg(text):
    return datetime.datetime.fromtimestamp(float(text), UTC)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", required=True, help="moto's URL (not the proxy's)")
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--start", type=epoch_arg, help="epoch seconds (default: the data's)")
    parser.add_argument("--end", type=epoch_arg, help="epoch seconds (default: the data's)")
    parser.add_argument("--period", type=int, default=60, help="bucket size in seconds")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--raw", action="store_true", help="moto's stored datums, one by one")
    args = parser.parse_args()

    if args.raw:
        json.dump(stored_datums(args.endpoint, args.namespace), sys.stdout)
        print()
        return 0

    client = boto3.client(
        "cloudwatch",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # A readback that retried a failing moto would only hide the failure.
        config=Config(retries={"max_attempts": 1}),
    )
    try:
        result = readback(client, args.endpoint, args.namespace, args.start, args.end, args.period)
    except Ambiguous as e:
        print(f"cloudwatch_readback: moto cannot answer exactly: {e}", file=sys.stderr)
        return 3
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
