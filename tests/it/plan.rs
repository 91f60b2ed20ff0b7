//! `ecs-emf-exporter plan`: the metrics it lists must be exactly those the exporter
//! publishes with the same settings, its counts must be those worked out by hand from the
//! catalog (docs/metrics.md) and the simulator's documented task (src/simulator/scenario.rs),
//! and its costs the hand-worked products of those counts and the documented prices.
//!
//! Each comparison runs the real binary twice: `plan --demo --json`, and `demo --cycles 2`
//! (the sidecar against the same simulated task), whose second cycle is the steady state the
//! plan is made from.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use crate::support::process::{Sim, bin, free_port};
use serde_json::Value;

/// A metric as CloudWatch identifies it: name and dimension name → value.
type MetricKey = (String, BTreeMap<String, String>);

fn run(env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(bin())
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `command` (`plan` or `demo`) with `args`, which must succeed: its stdout.
fn stdout_of(env: &[(&str, &str)], command: &[&str], args: &[&str]) -> Vec<u8> {
    let all = [command, args].concat();
    let out = run(env, &all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{all:?} failed: {stderr}");
    out.stdout
}

/// `plan --demo --json` with `env` and extra `args`.
fn plan(env: &[(&str, &str)], args: &[&str]) -> Value {
    let stdout = stdout_of(env, &["plan", "--demo", "--json"], args);
    serde_json::from_slice(&stdout).expect("stdout is one JSON document")
}

fn planned_metrics(plan: &Value) -> BTreeSet<MetricKey> {
    plan["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| {
            let dims = m["dimensions"]
                .as_object()
                .expect("dimensions")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("value").to_string()))
                .collect();
            (m["name"].as_str().expect("name").to_string(), dims)
        })
        .collect()
}

/// What the exporter itself publishes in its second cycle (`demo --cycles 2`): the distinct
/// metrics, the namespace and resolution of each, and the cycle's line bytes (newline
/// excluded).
struct Emitted {
    metrics: BTreeSet<MetricKey>,
    namespaces: BTreeSet<String>,
    resolutions: BTreeSet<i64>,
    bytes: usize,
    documents: usize,
}

fn emitted(env: &[(&str, &str)], args: &[&str]) -> Emitted {
    let stdout = stdout_of(env, &["demo", "--cycles", "2"], args);
    let text = String::from_utf8(stdout).expect("UTF-8");
    let docs = crate::support::emf_rules::assert_valid_lines(&text, 16_383);
    let lines: Vec<&str> = text.lines().collect();
    let last = docs
        .iter()
        .filter_map(|d| d["_aws"]["Timestamp"].as_i64())
        .max()
        .expect("documents");
    let mut e = Emitted {
        metrics: BTreeSet::new(),
        namespaces: BTreeSet::new(),
        resolutions: BTreeSet::new(),
        bytes: 0,
        documents: 0,
    };
    for (doc, line) in docs.iter().zip(&lines) {
        if doc["_aws"]["Timestamp"].as_i64() != Some(last) {
            continue;
        }
        e.bytes += line.len();
        e.documents += 1;
        for directive in doc["_aws"]["CloudWatchMetrics"]
            .as_array()
            .expect("directives")
        {
            e.namespaces
                .insert(directive["Namespace"].as_str().expect("ns").to_string());
            for set in directive["Dimensions"].as_array().expect("sets") {
                let dims: BTreeMap<String, String> = set
                    .as_array()
                    .expect("set")
                    .iter()
                    .map(|d| {
                        let name = d.as_str().expect("name");
                        (
                            name.to_string(),
                            doc[name].as_str().expect("value").to_string(),
                        )
                    })
                    .collect();
                for m in directive["Metrics"].as_array().expect("metrics") {
                    let name = m["Name"].as_str().expect("name").to_string();
                    e.resolutions
                        .insert(m["StorageResolution"].as_i64().unwrap_or(60));
                    e.metrics.insert((name, dims.clone()));
                }
            }
        }
    }
    e
}

fn count(plan: &Value, field: &str) -> u64 {
    plan["counts"][field].as_u64().expect(field)
}

/// Equal within what the JSON carries: USD to a millionth of a dollar.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 + 1e-9 * b.abs()
}

fn item<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["cost"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["item"] == name)
        .unwrap_or_else(|| panic!("no cost item {name}: {}", plan["cost"]))
}

fn has_item(plan: &Value, name: &str) -> bool {
    plan["cost"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|i| i["item"] == name)
}

/// Runs both and checks the plan lists exactly what the exporter published; returns the plan.
fn plan_matches_the_exporter(env: &[(&str, &str)], args: &[&str]) -> Value {
    let p = plan(env, args);
    let e = emitted(env, args);
    let planned = planned_metrics(&p);
    assert_eq!(
        planned,
        e.metrics,
        "planned but not published: {:?}\npublished but not planned: {:?}",
        planned.difference(&e.metrics).collect::<Vec<_>>(),
        e.metrics.difference(&planned).collect::<Vec<_>>()
    );
    let namespace = p["settings"]["namespace"].as_str().expect("namespace");
    assert_eq!(e.namespaces, BTreeSet::from([namespace.to_string()]));
    for m in p["metrics"].as_array().expect("metrics") {
        assert_eq!(m["namespace"], namespace);
        assert_eq!(
            BTreeSet::from([m["storage_resolution"].as_i64().expect("resolution")]),
            e.resolutions
        );
    }
    // The counts add up to the list.
    let n = planned.len() as u64;
    assert_eq!(count(&p, "one_task"), n);
    assert_eq!(
        count(&p, "task") + count(&p, "container") + count(&p, "exporter"),
        n
    );
    assert_eq!(
        count(&p, "shared") + count(&p, "per_task") + count(&p, "per_value"),
        n
    );
    p
}

// Hand-worked counts. Fargate (scenario: task Limits, EphemeralStorageMetrics, ClockDrift,
// awsvpc, container Limits.CPU 2, no container memory limit, cgroup v1, no RestartCount),
// steady cycle:
//   task: CpuUtilized, CpuReserved, CpuUtilization, MemoryUtilized, MemoryReserved,
//         MemoryUtilization (6) + Network Rx/Tx Bytes, Rx/Tx Packets (4) + Rx/Tx Dropped,
//         Rx/Tx Errors (4) + StorageRead/WriteBytes (2) + EphemeralStorageUtilized/Reserved (2)
//         + RunningContainerCount (1) + ClockErrorBound (1) = 20; ImagePullTime is
//         first-cycle only.
//   container: ContainerCpuUtilized, ContainerMemoryUtilized, ContainerStorageRead/WriteBytes
//         = 4 (CPU 2 = none set, no memory limit: no reservations or utilizations; awsvpc:
//         no container network; cgroup v1: no pids; no RestartCount: no restarts).
const FARGATE_TASK: u64 = 20;
const FARGATE_CONTAINER: u64 = 4;
// EC2 (cgroup v2, bridge, container Limits CPU 256 / memory 512, no task Limits):
//   task: the 20 above less the 2 ephemeral storage metrics and ClockErrorBound (Fargate
//         only) = 17.
//   container: Cpu Utilized/Reserved/Utilization (3) + Memory Utilized/Reserved/Utilization
//         (3) + ContainerNetworkRx/TxBytes (2, bridge) + Storage Read/Write (2) + PidCount (1,
//         cgroup v2) = 11.
const EC2_TASK: u64 = 17;
const EC2_CONTAINER: u64 = 11;

#[test]
fn default_settings_plan_what_the_exporter_publishes_and_do_not_grow_with_tasks() {
    let p = plan_matches_the_exporter(&[], &[]);
    // 20 + 3 containers × 4 = 32, all shared (ClusterName, ServiceName[, ContainerName]).
    assert_eq!(count(&p, "task"), FARGATE_TASK);
    assert_eq!(count(&p, "container"), 3 * FARGATE_CONTAINER);
    assert_eq!(count(&p, "one_task"), 32);
    assert_eq!(count(&p, "shared"), 32);
    assert_eq!(p["projection"]["grows_with_tasks"], false);
    let starts: Vec<&str> = p["start_only_metrics"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(starts, ["ImagePullTime"]);
    assert!(
        p["growth"]
            .as_str()
            .is_some_and(|g| g.starts_with("Does not grow with tasks")),
        "{}",
        p["growth"]
    );
}

#[test]
fn task_id_makes_the_task_metrics_per_task_and_tasks_multiply_only_that_part() {
    let env = [(
        "ECS_EMF_DIMENSIONS",
        "ClusterName,ServiceName;ClusterName,TaskId",
    )];
    let p = plan_matches_the_exporter(&env, &[]);
    // 20 task metrics × 2 sets + 12 container metrics = 52; the TaskId set's 20 are per task.
    assert_eq!(count(&p, "one_task"), 52);
    assert_eq!(count(&p, "per_task"), 20);
    assert_eq!(count(&p, "shared"), 32);
    let per_task: Vec<&Value> = p["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter(|m| m["growth"] == "per_task")
        .collect();
    assert!(
        per_task
            .iter()
            .all(|m| m["dimensions"]["TaskId"].is_string())
    );
    // 10 tasks: 32 shared + 10 × 20 = 232.
    let ten = plan(&env, &["--tasks", "10"]);
    assert_eq!(ten["projection"]["metrics"], 232);
    assert_eq!(
        ten["counts"], p["counts"],
        "--tasks changes only the projection"
    );
    assert_eq!(ten["projection"]["grows_with_tasks"], true);
    // 232 × $0.30 = $69.60.
    assert!(close(
        item(&ten, "custom_metrics")["usd"].as_f64().expect("usd"),
        69.6
    ));
}

#[test]
fn tag_dimensions_are_reported_as_per_value_and_static_ones_as_shared() {
    // EC2's /taskWithTags serves ContainerInstanceTags {"team": "platform"}; `env` is static.
    let env = [
        ("ECS_EMF_TAG_DIMENSIONS", "team"),
        ("ECS_EMF_STATIC_DIMENSIONS", "env=prod"),
    ];
    let p = plan_matches_the_exporter(&env, &["--platform", "ec2"]);
    let n = EC2_TASK + 3 * EC2_CONTAINER; // 17 + 33 = 50
    assert_eq!(count(&p, "one_task"), n);
    assert_eq!(count(&p, "per_value"), n);
    for m in p["metrics"].as_array().expect("metrics") {
        assert_eq!(m["dimensions"]["team"], "platform");
        assert_eq!(m["dimensions"]["env"], "prod");
        assert_eq!(m["varying_dimensions"], serde_json::json!(["team"]));
    }
    // 4 tasks: counted once (50) when they share the tag value, 4 × 50 when each differs.
    let four = plan(&env, &["--platform", "ec2", "--tasks", "4"]);
    assert_eq!(four["projection"]["metrics"], 50);
    assert_eq!(four["projection"]["metrics_if_values_differ"], 200);
    // 200 × 0.30 = 60.
    assert!(close(
        four["cost"]["metrics_usd_if_values_differ"]
            .as_f64()
            .expect("usd"),
        60.0
    ));
    // A static dimension alone never varies between tasks (Fargate: the tag would be unknown).
    let statics = plan_matches_the_exporter(&[("ECS_EMF_STATIC_DIMENSIONS", "env=prod")], &[]);
    assert_eq!(count(&statics, "shared"), 32);
}

#[test]
fn metric_filters_and_self_metrics_are_planned_as_published() {
    let env = [
        ("ECS_EMF_METRICS", "Cpu*,Container*"),
        ("ECS_EMF_EXCLUDE_METRICS", "*Reserved"),
        ("ECS_EMF_SELF_METRICS", "true"),
        ("ECS_EMF_NAMESPACE", "Team/Payments"),
    ];
    let p = plan_matches_the_exporter(&env, &[]);
    // Task: CpuUtilized, CpuUtilization (2); containers 3 × 4 (none is *Reserved on
    // Fargate); the exporter's 3 own metrics are not selected by "Cpu*,Container*".
    assert_eq!(count(&p, "task"), 2);
    assert_eq!(count(&p, "container"), 12);
    assert_eq!(count(&p, "exporter"), 0);
    let selfish = plan_matches_the_exporter(&[("ECS_EMF_SELF_METRICS", "true")], &[]);
    // 32 + ExporterErrors, ExporterDroppedDatapoints, ExporterCycleDuration.
    assert_eq!(count(&selfish, "exporter"), 3);
    assert_eq!(count(&selfish, "one_task"), 35);
}

#[test]
fn without_container_metrics_only_the_task_metrics_remain() {
    let p = plan_matches_the_exporter(&[("ECS_EMF_CONTAINER_METRICS", "false")], &[]);
    assert_eq!(count(&p, "one_task"), FARGATE_TASK);
    assert_eq!(count(&p, "container"), 0);
}

#[test]
fn high_resolution_is_planned_with_storage_resolution_1() {
    let p = plan_matches_the_exporter(&[("ECS_EMF_HIGH_RESOLUTION", "true")], &[]);
    assert_eq!(p["settings"]["storage_resolution"], 1);
    assert_eq!(count(&p, "one_task"), 32);
}

#[test]
fn ec2_and_ten_containers_are_planned_as_published() {
    let ec2 = plan_matches_the_exporter(&[], &["--platform", "ec2"]);
    // 17 + 3 × 11 = 50.
    assert_eq!(count(&ec2, "one_task"), EC2_TASK + 3 * EC2_CONTAINER);
    let ten = plan_matches_the_exporter(&[], &["--containers", "10"]);
    // 20 + 10 × 4 = 60.
    assert_eq!(
        count(&ten, "one_task"),
        FARGATE_TASK + 10 * FARGATE_CONTAINER
    );
}

#[test]
fn emf_bytes_are_what_the_exporter_writes_and_are_priced_per_gb() {
    let p = plan(&[], &[]);
    let e = emitted(&[], &[]);
    let bytes = p["cycle"]["emf_bytes"].as_u64().expect("bytes") as f64;
    assert_eq!(p["cycle"]["emf_documents"], e.documents as u64);
    // The same documents; values can differ by a digit or two between the two runs.
    let written = e.bytes as f64;
    assert!(
        (bytes - written).abs() <= 0.01 * written,
        "planned {bytes} bytes, the exporter wrote {written}"
    );
    // 60 s interval: 730 h × 3600 / 60 = 43,800 cycles; GB = 10^9 bytes; $0.50 per GB.
    assert!(close(
        p["cost"]["cycles_per_month"].as_f64().expect("cycles"),
        43_800.0
    ));
    let gb = bytes * 43_800.0 / 1e9;
    let ingest = item(&p, "log_ingestion");
    assert!(close(ingest["quantity"].as_f64().expect("GB"), gb));
    assert!(close(ingest["usd"].as_f64().expect("usd"), gb * 0.50));
    // Storage shown at $0.03 per GB-month, not in the total; no requests for stdout.
    let storage = item(&p, "log_storage");
    assert_eq!(storage["in_total"], false);
    assert!(close(storage["usd"].as_f64().expect("usd"), gb * 0.03));
    assert!(!has_item(&p, "put_metric_data_requests"));
    // 32 × 0.30 + ingestion.
    assert!(close(
        p["cost"]["total_usd"].as_f64().expect("total"),
        9.60 + gb * 0.50
    ));
    // At 90 s: 29,200 cycles.
    let slow = plan(&[("ECS_EMF_INTERVAL", "90s")], &[]);
    assert!(close(
        slow["cost"]["cycles_per_month"].as_f64().expect("cycles"),
        29_200.0
    ));
}

#[test]
fn the_cloudwatch_output_pays_requests_split_like_its_batches_and_no_ingestion() {
    let env = [("ECS_EMF_OUTPUT", "cloudwatch")];
    let p = plan(&env, &["--containers", "500"]);
    // 20 + 500 × 4 = 2,020 datums (one set each) → batches of 1,000: 3 requests per cycle.
    assert_eq!(p["cycle"]["datums"], 2_020);
    assert_eq!(p["cycle"]["put_metric_data_requests"], 3);
    // 3 × 43,800 cycles = 131,400 requests; / 1,000 × $0.01 = $1.314.
    let requests = item(&p, "put_metric_data_requests");
    assert!(close(requests["quantity"].as_f64().expect("n"), 131_400.0));
    assert!(close(requests["usd"].as_f64().expect("usd"), 1.314));
    assert!(!has_item(&p, "log_ingestion"));
    // 2,020 × $0.30 = $606.00; total $606.00 + $1.314 = $607.314.
    assert!(close(
        p["cost"]["total_usd"].as_f64().expect("total"),
        607.314
    ));
    // Two tasks send twice the requests; the shared metrics stay 2,020.
    let two = plan(&env, &["--containers", "500", "--tasks", "2"]);
    assert!(close(
        item(&two, "put_metric_data_requests")["quantity"]
            .as_f64()
            .expect("n"),
        262_800.0
    ));
    assert_eq!(two["projection"]["metrics"], 2_020);
}

#[test]
fn metric_tiers_apply_past_10000_metrics_and_prices_can_be_overridden() {
    // Every set names TaskId: all 32 metrics per task; 400 tasks → 12,800 metrics
    // = 10,000 × $0.30 + 2,800 × $0.10 = $3,280.
    let env = [
        ("ECS_EMF_DIMENSIONS", "TaskId"),
        ("ECS_EMF_CONTAINER_DIMENSIONS", "TaskId,ContainerName"),
    ];
    let p = plan(&env, &["--tasks", "400"]);
    assert_eq!(count(&p, "per_task"), 32);
    assert_eq!(p["projection"]["metrics"], 12_800);
    let metrics = item(&p, "custom_metrics");
    assert!(close(metrics["usd"].as_f64().expect("usd"), 3_280.0));
    assert_eq!(metrics["tiers"][1]["metrics"], 2_800);
    assert_eq!(p["prices"]["as_of"], "2026-11-30");
    assert_eq!(
        p["prices"]["source"],
        "https://aws.amazon.com/cloudwatch/pricing/"
    );
    // Overrides: 32 metrics at 10 × $1 + 22 × $0.50 = $21.00; ingestion at $1 per GB.
    let o = plan(
        &[],
        &[
            "--price-metric-tiers",
            "10=1,rest=0.5",
            "--price-log-ingest-per-gb",
            "1",
        ],
    );
    assert!(close(
        item(&o, "custom_metrics")["usd"].as_f64().expect("usd"),
        21.0
    ));
    let ingest = item(&o, "log_ingestion");
    assert!(close(
        ingest["usd"].as_f64().expect("usd"),
        ingest["quantity"].as_f64().expect("GB")
    ));
    assert_eq!(
        o["prices"]["overridden"],
        serde_json::json!(["--price-metric-tiers", "--price-log-ingest-per-gb"])
    );
}

#[test]
fn without_demo_the_plan_reads_the_endpoint_like_the_sidecar() {
    let sim = Sim::start(&["--platform", "fargate"]);
    let env = [("ECS_CONTAINER_METADATA_URI_V4", sim.base_url.as_str())];
    let out = run(&env, &["plan", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(p["source"]["kind"], "endpoint");
    assert_eq!(planned_metrics(&p), planned_metrics(&plan(&[], &[])));
}

#[test]
fn the_readable_plan_has_the_table_counts_cost_and_prices_and_nothing_else_on_stdout() {
    let out = run(&[], &["plan", "--demo"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    for needle in [
        "Task metrics: 20",
        "Container metrics: 12",
        "[ClusterName=sim-cluster, ServiceName=sim-service]",
        "CpuUtilized",
        "one task creates",
        "Does not grow with tasks",
        "Monthly cost estimate",
        "32 × $0.30",
        "log ingestion",
        "https://aws.amazon.com/cloudwatch/pricing/",
        "2026-11-30",
        "730 hours",
        "not subtracted",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    assert!(
        !text.contains(" INFO ") && !text.contains(" WARN "),
        "logs on stdout:\n{text}"
    );
}

#[test]
fn a_missing_or_failing_endpoint_and_bad_prices_fail_clearly() {
    // No endpoint: exit 2, the sidecar's message, pointing at --demo.
    let out = run(&[], &["plan"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ECS_CONTAINER_METADATA_URI_V4 is not set"),
        "{stderr}"
    );
    assert!(stderr.contains("plan --demo"), "{stderr}");
    assert!(out.stdout.is_empty());
    // Nobody listening: exit 1, the reason, no panic, nothing on stdout.
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = run(
        &[("ECS_CONTAINER_METADATA_URI_V4", &url)],
        &["plan", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read the task from the metadata endpoint"),
        "{stderr}"
    );
    assert!(stderr.contains("unreachable"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty());
    // Bad prices and counts: exit 2 naming the flag.
    for (flag, value) in [
        ("--price-metric-tiers", "10000=0.30"),
        ("--price-metric-tiers", "rest=abc"),
        ("--price-requests-per-1000", "-1"),
        ("--price-log-ingest-per-gb", "cheap"),
        ("--tasks", "0"),
    ] {
        let out = run(&[], &["plan", "--demo", flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    // An invalid setting is refused like the sidecar refuses it.
    let out = run(&[("ECS_EMF_INTERVAL", "0s")], &["plan", "--demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ECS_EMF_INTERVAL"));
}
