#!/usr/bin/env python3
"""Checks the samples and output of one scripts/soak.sh run (Python standard library only).

Input: the samples soak.sh took (tab-separated: t_s cycles rss_kib anon_kib hwm_kib cpu_ns
fds threads), the exporter's stdout and stderr, its exit code and how long it ran. Prints a
table of the samples, one line per check, and a summary line; exits 1 when a check fails.
The bounds are the constants below; soak.sh's header states them too.
"""

import argparse
import json
import math
import re
import sys

RSS_GROWTH_MAX_KIB = 512  # VmRSS, last sample minus first sample after warm-up
CLIMB_MAX_KIB = 48  # RssAnon, still climbing: last sample minus the sample at mid-run
CPU_FACTOR_MAX = 1.5  # CPU per cycle, last third of the run over first third (medians)
TABLE_ROWS = 25  # at most this many sample rows are printed (evenly spread)
LOG_PROBLEM = re.compile(r'^\S+\s+(WARN|ERROR)\s|"level":\s*"(WARN|ERROR)"|panicked at')
STOP_LINE = re.compile(r"\bstopped (cycles=\d+ .*)$")
STOP_FIELD = re.compile(r"(\w+)=(\S+)")
# Fields of the stop line that must all be present; the README's "stopped line" paragraph lists them.
STOP_FIELDS = ("cycles", "collected", "documents", "values", "errors", "dropped_values",
               "not_delivered", "unknown_values", "log_lines_dropped", "flushed")


def load_samples(path):
    rows = []
    with open(path) as f:
        for line in f:
            t, cycles, rss, anon, hwm, cpu, fds, threads = line.split()
            rows.append(
                dict(t=float(t), cycles=int(cycles), rss=int(rss), anon=int(anon),
                     hwm=int(hwm), cpu=int(cpu), fds=int(fds), threads=int(threads))
            )
    return rows


def at(samples, t):
    """The first sample taken at or after t seconds (the last one if none)."""
    return next((s for s in samples if s["t"] >= t), samples[-1])


def cpu_per_cycle_us(a, b):
    n = b["cycles"] - a["cycles"]
    return (b["cpu"] - a["cpu"]) / n / 1000 if n > 0 else float("nan")


def median_cpu_per_cycle_us(samples, start, end):
    """The median of the CPU per cycle between consecutive samples from start to end.

    A median, not the window's mean: on a shared machine another process's burst (a build, a
    test run beside the soak) inflates a few seconds' figures, and a mean over a 15 s window
    takes them in whole, while a leak-like growth (more work every cycle) moves every sample.
    """
    window = [s for s in samples if start["t"] <= s["t"] <= end["t"]]
    values = sorted(v for a, b in zip(window, window[1:])
                    if not math.isnan(v := cpu_per_cycle_us(a, b)))
    if not values:
        return float("nan")
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def print_table(samples, warmup_end):
    step = max(1, math.ceil(len(samples) / TABLE_ROWS))
    shown = [s for i, s in enumerate(samples) if i % step == 0 or s is samples[-1] or s is warmup_end]
    print("     t_s  cycles  rss_KiB  anon_KiB  peak_KiB  cpu/cycle_us  fds  threads")
    prev = None
    for s in shown:
        per = f"{cpu_per_cycle_us(prev, s):.0f}" if prev and s["cycles"] > prev["cycles"] else "-"
        mark = "  <- warm-up ends" if s is warmup_end else ""
        print(f"{s['t']:8.1f} {s['cycles']:7d} {s['rss']:8d} {s['anon']:9d} {s['hwm']:9d}"
              f" {per:>13} {s['fds']:4d} {s['threads']:8d}{mark}")
        prev = s
    if step > 1:
        print(f"(every {step}th of {len(samples)} samples; cpu/cycle is since the previous row)")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", required=True)
    p.add_argument("--stdout", required=True)
    p.add_argument("--stderr", required=True)
    p.add_argument("--exit-code", type=int, required=True)
    p.add_argument("--elapsed", type=float, required=True, help="seconds from start to SIGTERM")
    p.add_argument("--containers", type=int, required=True)
    a = p.parse_args()

    samples = load_samples(a.samples)
    failures = []

    def check(ok, what, detail):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: {detail}")
        if not ok:
            failures.append(what)

    # Warm-up: the first 10 % of the run, at least 5 s (5 cycles). After it, the windows.
    warmup = max(5.0, 0.10 * a.elapsed)
    post = [s for s in samples if s["t"] >= warmup]
    if len(post) < 4:
        print(f"soak: FAIL: only {len(post)} samples after the {warmup:.0f} s warm-up; run longer")
        return 1
    first, last = post[0], post[-1]
    span = last["t"] - first["t"]
    mid = at(post, first["t"] + span / 2)
    third1_end = at(post, first["t"] + span / 3)
    third3_start = at(post, first["t"] + 2 * span / 3)

    print_table(samples, first)
    print(f"checks (after the {warmup:.0f} s warm-up, {span:.0f} s measured):")

    growth = last["rss"] - first["rss"]
    check(growth <= RSS_GROWTH_MAX_KIB, "memory flat",
          f"VmRSS {first['rss']} -> {last['rss']} KiB ({growth:+d} KiB, bound +{RSS_GROWTH_MAX_KIB})")
    climb = last["anon"] - mid["anon"]
    check(climb <= CLIMB_MAX_KIB, "no climb",
          f"RssAnon {mid['anon']} KiB at {mid['t']:.0f} s -> {last['anon']} KiB at"
          f" {last['t']:.0f} s ({climb:+d} KiB over {last['cycles'] - mid['cycles']} cycles,"
          f" bound +{CLIMB_MAX_KIB})")

    cpu1 = median_cpu_per_cycle_us(post, first, third1_end)
    cpu3 = median_cpu_per_cycle_us(post, third3_start, last)
    ratio = cpu3 / cpu1 if cpu1 > 0 else float("inf")
    check(ratio <= CPU_FACTOR_MAX, "CPU per cycle stable",
          f"median first third {cpu1:.0f} us, last third {cpu3:.0f} us (x{ratio:.2f},"
          f" bound x{CPU_FACTOR_MAX})")

    fd_growth = min(s["fds"] for s in post if s["t"] >= third3_start["t"]) - first["fds"]
    check(fd_growth <= 0, "no fd growth",
          f"{first['fds']} -> {last['fds']} (max {max(s['fds'] for s in post)})")
    thread_growth = min(s["threads"] for s in post if s["t"] >= third3_start["t"]) - first["threads"]
    check(thread_growth <= 0, "no thread growth",
          f"{first['threads']} -> {last['threads']} (max {max(s['threads'] for s in post)})")

    # Every line a JSON object with _aws; one Task document and one per container each cycle.
    lines = bad = tasks = containers = 0
    first_bad = None
    with open(a.stdout, "rb") as f:
        for n, raw in enumerate(f, 1):
            lines += 1
            try:
                doc = json.loads(raw)
                if not isinstance(doc, dict) or "_aws" not in doc:
                    raise ValueError("not an EMF document")
            except ValueError as e:
                bad += 1
                first_bad = first_bad or f"line {n}: {e}: {raw[:80]!r}"
                continue
            tasks += doc.get("Type") == "Task"
            containers += doc.get("Type") == "Container"
    check(bad == 0 and lines > 0, "stdout valid JSON",
          f"{lines} lines, {bad} invalid" + (f" (first: {first_bad})" if first_bad else ""))

    expected = math.floor(a.elapsed) + 1  # the first cycle runs at once, then one per second
    short = expected - tasks
    check(-1 <= short <= max(2, a.elapsed / 100), "every cycle",
          f"{tasks} cycles in {a.elapsed:.1f} s (expected {expected}, up to"
          f" {max(2, int(a.elapsed / 100))} fewer)")
    check(containers == a.containers * tasks, "every container",
          f"{containers} container documents for {tasks} cycles of {a.containers} containers")

    with open(a.stderr, errors="replace") as f:
        log = f.read().splitlines()
    problems = [line for line in log if LOG_PROBLEM.search(line)]
    check(not problems, "stderr clean",
          f"{len(log)} lines, {len(problems)} WARN/ERROR/panic" + (f": {problems[0]}" if problems else ""))

    stop = next((STOP_LINE.search(line) for line in log if STOP_LINE.search(line)), None)
    fields = dict(STOP_FIELD.findall(stop.group(1))) if stop else {}
    missing = [name for name in STOP_FIELDS if name not in fields]
    if stop and not missing:
        losses = ("errors", "dropped_values", "not_delivered", "unknown_values", "log_lines_dropped")
        ok = (a.exit_code == 0
              and fields["cycles"] == fields["collected"] == str(tasks)
              and fields["documents"] == str(lines)
              and all(fields[name] == "0" for name in losses)
              and fields["flushed"] == "true")
        detail = f"exit {a.exit_code}, " + " ".join(f"{n}={fields[n]}" for n in STOP_FIELDS)
    elif stop:
        ok, detail = False, f"exit {a.exit_code}, stop line lacks {', '.join(missing)}"
    else:
        ok, detail = False, f"exit {a.exit_code}, no 'stopped' line on stderr"
    check(ok, "clean stop on SIGTERM", detail)

    summary = (
        f"{a.elapsed:.0f} s, {tasks} cycles, {a.containers} containers;"
        f" RSS {first['rss']} -> {last['rss']} KiB after warm-up, peak {last['hwm']} KiB;"
        f" CPU/cycle {cpu1:.0f} -> {cpu3:.0f} us; fds {first['fds']} -> {last['fds']};"
        f" threads {first['threads']} -> {last['threads']}"
    )
    if failures:
        print(f"soak: FAIL ({', '.join(failures)}): {summary}")
        return 1
    print(f"soak: PASS: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
