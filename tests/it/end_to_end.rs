//! The built binary against `ecs-emf-exporter simulate`, as separate processes over real
//! HTTP: rates, HTTP faults, signals, `--once`, `demo`, health, filters. Expected values come
//! from the simulator's documented scenario (crates/tmde-simulator/src/scenario.rs): container k uses (k+1) × 50,000,000 ns of CPU per second
//! (= (k+1) × 51.2 CPU units), has a working set of (k+1) × 64 MiB, and so on.

use std::time::Duration;

use crate::support::process::{
    Exporter, Sim, all_values, approx, container_docs, cycles_done, free_port, task_docs, value,
};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn fargate_rates_appear_from_the_second_cycle_and_equal_the_simulated_rates() {
    let sim = Sim::start(&["--platform", "fargate"]);
    let mut exporter = Exporter::start(&sim.base_url, &[], &[]);
    let docs = exporter.read_until(WAIT, |d| cycles_done(d, "worker-2", 3));
    let tasks = task_docs(&docs);
    assert!(
        tasks.len() >= 3,
        "3 cycles expected; stderr:\n{}",
        exporter.stderr.text()
    );

    // Cycle 1: Fargate's embedded precpu_stats are zeros, so no CPU rate; gauges are there.
    assert_eq!(value(tasks[0], "CpuUtilized"), None);
    assert_eq!(value(tasks[0], "NetworkRxBytes"), None);
    // Working sets 64 + 128 + 192 MiB; reservation 2048 MiB from task Limits.
    assert_eq!(value(tasks[0], "MemoryUtilized"), Some(384.0));
    assert_eq!(value(tasks[0], "MemoryReserved"), Some(2048.0));
    assert_eq!(value(tasks[0], "MemoryUtilization"), Some(18.75));
    // Task Limits.CPU 1.0 vCPU × 1024.
    assert_eq!(value(tasks[0], "CpuReserved"), Some(1024.0));
    assert_eq!(value(tasks[0], "RunningContainerCount"), Some(3.0));
    assert_eq!(value(tasks[0], "ImagePullTime"), Some(12.5));
    assert_eq!(value(tasks[0], "EphemeralStorageUtilized"), Some(512.0));

    for (n, t) in tasks.iter().enumerate().skip(1).take(2) {
        // CPU: (1 + 2 + 3) × 51.2 = 307.2 units = 30 % of 1024.
        assert!(
            approx(value(t, "CpuUtilized"), 307.2, 1e-3),
            "cycle {}: {:?}",
            n + 1,
            value(t, "CpuUtilized")
        );
        assert!(approx(value(t, "CpuUtilization"), 30.0, 1e-3));
        // awsvpc: the three containers show the one task ENI: 100,000 B/s, not 300,000.
        assert!(
            approx(value(t, "NetworkRxBytes"), 100_000.0, 1e-3),
            "{:?}",
            value(t, "NetworkRxBytes")
        );
        assert!(approx(value(t, "NetworkTxBytes"), 40_000.0, 1e-3));
        assert!(approx(value(t, "NetworkRxPackets"), 100.0, 0.03));
        assert!(approx(value(t, "NetworkTxPackets"), 40.0, 0.05));
        assert_eq!(value(t, "NetworkRxErrors"), Some(0.0));
        assert_eq!(value(t, "ImagePullTime"), None, "published once per task");
        // Storage is a per-interval count: (1+2+3) × 4096 B/s over a ~1 s interval.
        let read = value(t, "StorageReadBytes").expect("storage read");
        assert!((0.7 * 24_576.0..1.5 * 24_576.0).contains(&read), "{read}");
    }
    let app = container_docs(&docs, "app");
    let exp = container_docs(&docs, "ecs-emf-exporter");
    let worker = container_docs(&docs, "worker-2");
    assert_eq!(value(app[0], "ContainerCpuUtilized"), None);
    assert!(approx(value(app[1], "ContainerCpuUtilized"), 51.2, 1e-3));
    assert!(approx(value(exp[1], "ContainerCpuUtilized"), 102.4, 1e-3));
    assert!(approx(
        value(worker[2], "ContainerCpuUtilized"),
        153.6,
        1e-3
    ));
    assert_eq!(value(worker[1], "ContainerMemoryUtilized"), Some(192.0));
    // Fargate: CPU 2 means "none set", memory limit 2^63−4096 means unlimited.
    assert_eq!(value(app[1], "ContainerCpuReserved"), None);
    assert_eq!(value(app[1], "ContainerMemoryReserved"), None);
    assert_eq!(
        value(app[1], "ContainerNetworkRxBytes"),
        None,
        "no per-container network in awsvpc"
    );
    assert_eq!(app[1]["ClusterName"], "sim-cluster");
    assert_eq!(app[1]["ServiceName"], "sim-service");
    assert_eq!(
        app[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["ClusterName", "ServiceName", "ContainerName"]])
    );

    assert_eq!(
        exporter.terminate(Duration::from_secs(10)),
        Some(0),
        "SIGTERM exits 0"
    );
    let stderr = exporter.stderr.text();
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
}

#[test]
fn endpoint_down_at_start_is_logged_once_and_metrics_begin_when_it_answers() {
    let port = free_port();
    let uri = format!("http://127.0.0.1:{port}/v4/sim-0001");
    let exporter = Exporter::start(&uri, &[], &[]);
    // The first failed poll says so; a second one (a second later) must not.
    assert!(
        exporter
            .stderr
            .wait_for("metadata endpoint unreachable (/task)", WAIT)
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert!(
        exporter.stdout.next(Duration::from_millis(10)).is_none(),
        "nothing to publish while down"
    );
    let _sim = Sim::start(&["--port", &port.to_string()]);
    let docs = exporter.read_until(WAIT, |d| task_docs(d).len() >= 2);
    assert!(
        task_docs(&docs).len() >= 2,
        "stderr:\n{}",
        exporter.stderr.text()
    );
    assert!(exporter.stderr.wait_for("answers again after", WAIT));
    let stderr = exporter.stderr.text();
    assert_eq!(
        stderr
            .matches("metadata endpoint unreachable (/task)")
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(stderr.matches("answers again after").count(), 1, "{stderr}");
}

fn fault_run(fault: &str, expect_log: &str) {
    let sim = Sim::start(&["--fault", fault]);
    let exporter = Exporter::start(&sim.base_url, &[], &[]);
    let docs = exporter.read_until(WAIT, |d| task_docs(d).len() >= 3);
    assert!(
        exporter.stderr.wait_for(expect_log, WAIT),
        "{}",
        exporter.stderr.text()
    );
    let stderr = exporter.stderr.text();
    assert!(
        task_docs(&docs).len() >= 3,
        "metrics resume after {fault}; stderr:\n{stderr}"
    );
    assert_eq!(
        stderr.matches(expect_log).count(),
        1,
        "one line for {fault}:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for (name, v) in all_values(&docs) {
        assert!(v.is_finite() && v >= 0.0, "{name} = {v}");
    }
}

#[test]
fn http_500_twice_then_recovery() {
    fault_run("stats:500@2-3", "answered HTTP 500 for /task/stats");
}

#[test]
fn truncated_json_is_one_problem_and_the_next_poll_works() {
    fault_run(
        "stats:truncated@2",
        "unusable response body from /task/stats: invalid JSON",
    );
}

#[test]
fn rate_limited_task_path() {
    fault_run("task:429@2-3", "answered HTTP 429 for /task");
}

#[test]
fn ten_containers_with_long_names_and_eight_long_tags_stay_valid_and_within_the_line_limit() {
    let long = |c: char| c.to_string().repeat(1000);
    let tags: Vec<String> = (0..8)
        .map(|i| format!("tag{i}={}", long((b'a' + i as u8) as char)))
        .collect();
    let mut args = vec![
        "--platform",
        "ec2",
        "--containers",
        "10",
        "--name-length",
        "200",
    ];
    for t in &tags {
        args.extend(["--tag", t.as_str()]);
    }
    let sim = Sim::start(&args);
    let exporter = Exporter::start(
        &sim.base_url,
        &[(
            "ECS_EMF_TAG_DIMENSIONS",
            "tag0,tag1,tag2,tag3,tag4,tag5,tag6,tag7",
        )],
        &[],
    );
    // read_until validates every line, including the 16,383-byte limit.
    let docs = exporter.read_until(WAIT, |d| task_docs(d).len() >= 2 && d.len() >= 22);
    let names: std::collections::BTreeSet<&str> = docs
        .iter()
        .filter(|d| d["Type"] == "Container")
        .filter_map(|d| d["ContainerName"].as_str())
        .collect();
    assert_eq!(names.len(), 10, "stderr:\n{}", exporter.stderr.text());
    assert!(names.iter().all(|n| n.chars().count() == 200));
    let t = task_docs(&docs)[0];
    assert_eq!(t["tag7"].as_str().map(str::len), Some(1000));
    assert_eq!(
        t["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            .as_array()
            .map(Vec::len),
        Some(10)
    );
    let stderr = exporter.stderr.text();
    assert!(
        !stderr.contains(&long('a')),
        "full tag values never reach the logs"
    );
}

#[test]
fn once_prints_one_cycle_and_exits_0() {
    let sim = Sim::start(&["--platform", "ec2"]);
    let (code, docs, stderr) = crate::support::process::run_once(&sim.base_url, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    // One task document and one per container.
    assert_eq!(docs.len(), 4);
    assert_eq!(task_docs(&docs).len(), 1);
}

#[test]
fn healthcheck_follows_the_running_sidecar() {
    let dir = tempfile::tempdir().expect("tempdir");
    let health = dir.path().join("health");
    let health_str = health.to_str().expect("utf-8 path");
    let check = || {
        std::process::Command::new(crate::support::process::bin())
            .env_clear()
            .env("ECS_EMF_HEALTH_FILE", health_str)
            .arg("healthcheck")
            .output()
            .expect("runs")
    };
    let before = check();
    assert_eq!(before.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&before.stderr).contains("unhealthy: no health file"));
    let sim = Sim::start(&[]);
    let exporter = Exporter::start(&sim.base_url, &[("ECS_EMF_HEALTH_FILE", health_str)], &[]);
    let docs = exporter.read_until(WAIT, |d| !task_docs(d).is_empty());
    assert!(!docs.is_empty());
    // The file is written after the cycle is handed to stdout: healthy within moments.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while check().status.code() != Some(0) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(check().status.code(), Some(0));
}

#[test]
fn demo_prints_valid_emf_with_rates_from_the_second_cycle() {
    let out = std::process::Command::new(crate::support::process::bin())
        .env_clear()
        .args(["demo", "--cycles", "3"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = crate::support::emf_rules::assert_valid_lines(
        &String::from_utf8(out.stdout).expect("utf-8"),
        16_383,
    );
    let tasks = task_docs(&docs);
    assert_eq!(tasks.len(), 3);
    assert!(value(tasks[1], "CpuUtilized").is_some_and(|v| v > 0.0));
    assert!(value(tasks[2], "NetworkRxBytes").is_some_and(|v| v > 0.0));
    assert!(docs.iter().any(|d| d["Type"] == "Container"));
}

#[test]
fn replayed_fixture_bytes_give_the_hand_computed_values() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ecs_exporter");
    let task = format!("{dir}/ec2_task_metadata.json");
    let stats = format!("{dir}/ec2_task_stats.json");
    let sim = Sim::start(&["--replay-task", &task, "--replay-stats", &stats]);
    let (code, docs, stderr) = crate::support::process::run_once(&sim.base_url, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let t = task_docs(&docs)[0];
    // ecs-exporter 65249280 − 17641472 = 47607808 B; prometheus 60981248 − 11046912 =
    // 49934336 B; Σ 97542144 B / 1048576 = 93.0234375 MiB of 3 × 256 = 768 MiB.
    assert_eq!(value(t, "MemoryUtilized"), Some(93.0234375));
    assert_eq!(value(t, "MemoryReserved"), Some(768.0));
    // CPU from the embedded precpu: ecs-exporter (331125000 − 325963000) ns over
    // 07.856950259 − 06.853724878 = 1.003225381 s; prometheus idle (0).
    let expected_cpu = 5_162_000.0 / 1_003_225_381.0 * 1024.0;
    assert!(
        approx(value(t, "CpuUtilized"), expected_cpu, 1e-12),
        "{:?} vs {expected_cpu}",
        value(t, "CpuUtilized")
    );
    assert_eq!(t["ClusterName"], "prom-ecs-exporter-sandbox");
    assert_eq!(t["ServiceName"], "prom-ecs-exporter-sandbox-main-ec2");
    assert_eq!(
        container_docs(&docs, "prometheus")[0]["ContainerPidCount"],
        25.0
    );
    assert!(
        container_docs(&docs, "nonessential").is_empty(),
        "stopped: no document"
    );
}

#[test]
fn sigint_also_finishes_and_exits_0() {
    let sim = Sim::start(&[]);
    let mut exporter = Exporter::start(&sim.base_url, &[], &[]);
    let docs = exporter.read_until(WAIT, |d| !task_docs(d).is_empty());
    assert!(!docs.is_empty());
    assert_eq!(exporter.interrupt(Duration::from_secs(10)), Some(0));
    assert!(exporter.stderr.text().contains("SIGINT received"));
}

#[test]
fn self_metrics_count_the_failed_poll_in_the_next_cycle() {
    let sim = Sim::start(&["--fault", "stats:500@2"]);
    let exporter = Exporter::start(&sim.base_url, &[("ECS_EMF_SELF_METRICS", "true")], &[]);
    let docs = exporter.read_until(WAIT, |d| {
        d.iter().filter(|x| x["Type"] == "Exporter").count() >= 3
    });
    let own: Vec<&Value> = docs.iter().filter(|d| d["Type"] == "Exporter").collect();
    assert!(own.len() >= 3, "stderr:\n{}", exporter.stderr.text());
    // Cycle 1: no error yet; cycle 2 failed (no documents at all); cycle 3 reports it.
    assert_eq!(value(own[0], "ExporterErrors"), Some(0.0));
    assert_eq!(value(own[1], "ExporterErrors"), Some(1.0));
    assert_eq!(value(own[2], "ExporterErrors"), Some(0.0));
    assert_eq!(value(own[1], "ExporterDroppedDatapoints"), Some(0.0));
    assert!(value(own[0], "ExporterCycleDuration").is_some_and(|ms| ms > 0.0 && ms < 5_000.0));
    assert_eq!(
        own[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["ClusterName", "ServiceName"]])
    );
    assert_eq!(
        own[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][2]["Unit"],
        "Milliseconds"
    );
}

#[test]
fn metric_and_container_filters_and_high_resolution_shape_the_output() {
    let sim = Sim::start(&["--platform", "ec2"]);
    let (code, docs, stderr) = crate::support::process::run_once(
        &sim.base_url,
        &[
            ("ECS_EMF_METRICS", "Cpu*,Memory*,ContainerMemory*"),
            ("ECS_EMF_EXCLUDE_METRICS", "*Reserved"),
            ("ECS_EMF_EXCLUDE_CONTAINERS", "worker-*"),
            ("ECS_EMF_HIGH_RESOLUTION", "true"),
            ("ECS_EMF_NAMESPACE", "Team/Payments"),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let names: std::collections::BTreeSet<String> =
        all_values(&docs).into_iter().map(|(n, _)| n).collect();
    let expected: std::collections::BTreeSet<String> = [
        "CpuUtilized",
        "CpuUtilization",
        "MemoryUtilized",
        "MemoryUtilization",
        "ContainerMemoryUtilized",
        "ContainerMemoryUtilization",
    ]
    .map(String::from)
    .into();
    assert_eq!(names, expected);
    // worker-2 is excluded from documents and from the task sums: app 64 + exporter 128 MiB.
    assert!(container_docs(&docs, "worker-2").is_empty());
    assert_eq!(value(task_docs(&docs)[0], "MemoryUtilized"), Some(192.0));
    let directive = &docs[0]["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Team/Payments");
    assert!(
        directive["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .all(|m| m["StorageResolution"] == 1)
    );
}

#[test]
fn task_metrics_only_when_container_metrics_are_off() {
    let sim = Sim::start(&[]);
    let (code, docs, stderr) =
        crate::support::process::run_once(&sim.base_url, &[("ECS_EMF_CONTAINER_METRICS", "false")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["Type"], "Task");
    // Task sums still include every container: 64 + 128 + 192 MiB.
    assert_eq!(value(&docs[0], "MemoryUtilized"), Some(384.0));
}

/// ECS restarts a crashed sidecar as a new process, whose first poll already sees its own
/// `RestartCount` raised: with nothing to take it from, that restart used to be counted by
/// nobody. The simulator's base URL describes container 0 (`app`), so here `app` plays the
/// exporter's own container; its restart happens before the exporter under test starts.
#[test]
fn a_restarted_exporter_counts_its_own_restart_on_its_first_poll() {
    let sim = Sim::start(&["--restart-count-field", "--restart", "0@1"]);
    let (authority, base_path) = sim
        .base_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .expect("http://host:port/path");
    let addr = authority.parse().expect("a socket address");
    // Stats request 1 restarts container 0: its RestartCount goes from 0 to 1.
    let (status, _) =
        crate::support::moto::http(addr, "GET", &format!("/{base_path}/task/stats"), None)
            .expect("the simulator answers");
    assert_eq!(status, 200);

    let exporter = Exporter::start(&sim.base_url, &[], &[]);
    let docs = exporter.read_until(WAIT, |d| cycles_done(d, "worker-2", 2));
    let stderr = exporter.stderr.text();
    let own = container_docs(&docs, "app");
    let other = container_docs(&docs, "ecs-emf-exporter");
    assert!(own.len() >= 2 && other.len() >= 2, "{stderr}");
    // Its own restart counts once, on the first poll; later polls see no new one.
    assert_eq!(value(own[0], "ContainerRestarts"), Some(1.0), "{}", own[0]);
    assert_eq!(value(own[1], "ContainerRestarts"), Some(0.0), "{}", own[1]);
    // Another container seen for the first time has no baseline: no value, never a guess.
    assert_eq!(value(other[0], "ContainerRestarts"), None, "{}", other[0]);
    assert_eq!(
        value(other[1], "ContainerRestarts"),
        Some(0.0),
        "{}",
        other[1]
    );
    assert!(!stderr.contains("WARN"), "{stderr}");
}

#[test]
fn json_logs_are_one_flat_object_per_line() {
    // Nothing listens on the endpoint's port: the one cycle logs the failed poll as a WARN, and
    // the stop line carries the counters as fields of its own.
    let uri = format!("http://127.0.0.1:{}/v4/sim-0001", free_port());
    let (code, docs, stderr) =
        crate::support::process::run_once(&uri, &[("ECS_EMF_LOG_FORMAT", "json")]);
    assert_eq!(code, Some(1), "nothing collected: {stderr}");
    assert!(docs.is_empty());
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines.len() >= 3, "{stderr}");
    for line in &lines {
        // Logs Insights and ops tools read these keys at the top level.
        assert!(
            line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        assert!(line["level"].as_str().is_some(), "{line}");
        assert!(line["message"].as_str().is_some(), "{line}");
        assert!(line.get("fields").is_none(), "{line}");
        assert!(line.get("_aws").is_none(), "never an EMF document: {line}");
    }
    let unreachable = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("metadata endpoint unreachable (/task)"))
        })
        .unwrap_or_else(|| panic!("the failed poll is logged: {stderr}"));
    assert_eq!(unreachable["level"], "WARN");
    let stopped = lines
        .iter()
        .find(|l| l["message"] == "stopped")
        .unwrap_or_else(|| panic!("the stop line: {stderr}"));
    assert_eq!(stopped["level"], "INFO");
    assert_eq!(stopped["cycles"], 1);
    assert_eq!(stopped["errors"], 1);
    assert_eq!(stopped["documents"], 0);
}

/// An essential container's exit is what stops a task: ECS then sends the sidecar SIGTERM,
/// usually before its next poll. The exporter reads `/task` once more at the stop, so that
/// exit is published. Replayed: poll 1 gets `t1` (prometheus running), the last read `t2`
/// (prometheus stopped by the OOM killer: exit code 137, the only sign Task Metadata v4 gives).
#[test]
fn the_exit_that_stops_the_task_is_published_by_the_last_read_at_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ecs_exporter/");
    let read = |name: &str| -> Value {
        let text = std::fs::read_to_string(format!("{fixtures}{name}")).expect("fixture");
        serde_json::from_str(&text).expect("JSON")
    };
    let write = |name: &str, v: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).expect("write");
        p.to_str().expect("utf-8").to_string()
    };
    let running = read("ec2_task_metadata.json");
    let mut stopped = running.clone();
    for c in stopped["Containers"].as_array_mut().expect("containers") {
        if c["Name"] == "prometheus" {
            c["KnownStatus"] = "STOPPED".into();
            c["ExitCode"] = 137.into();
            c["FinishedAt"] = "2025-02-27T05:20:01.25Z".into();
        }
    }
    let (t1, t2) = (write("t1.json", &running), write("t2.json", &stopped));
    let stats = format!("{fixtures}ec2_task_stats.json");
    let sim = Sim::start(&[
        "--platform",
        "ec2",
        "--replay-task",
        &t1,
        "--replay-task",
        &t2,
        "--replay-stats",
        &stats,
    ]);
    let mut exporter = Exporter::start(&sim.base_url, &[("ECS_EMF_INTERVAL", "60s")], &[]);
    let first = exporter.read_until(WAIT, |d| !task_docs(d).is_empty());
    assert_eq!(task_docs(&first).len(), 1, "{}", exporter.stderr.text());
    assert_eq!(exporter.terminate(Duration::from_secs(15)), Some(0));
    let rest = exporter.read_until(Duration::from_secs(2), |_| false);
    let exits: Vec<&Value> = first
        .iter()
        .chain(&rest)
        .filter(|d| d.get("ContainerExits").is_some())
        .collect();
    assert_eq!(exits.len(), 1, "{}", exporter.stderr.text());
    let exit = exits[0];
    assert_eq!(
        (
            exit["ContainerName"].as_str(),
            exit["ContainerExits"].as_f64(),
            exit["ExitCode"].as_str(),
            exit["FinishedAt"].as_str(),
            exit["KnownStatus"].as_str(),
        ),
        (
            Some("prometheus"),
            Some(1.0),
            Some("137"),
            Some("2025-02-27T05:20:01.250Z"),
            Some("STOPPED")
        )
    );
    // `nonessential` was already stopped at the first poll: not an exit of this run.
    assert!(container_docs(&rest, "nonessential").is_empty());
}
