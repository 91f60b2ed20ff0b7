//! The fault matrix: the exporter's run loop against the simulator while one route
//! misbehaves, and against replayed stats whose counters and clocks misbehave. For every
//! fault: no panic, no invalid or invented value (every value published is the scenario's
//! own, worked out by hand from crates/tmde-simulator/src/scenario.rs), exactly one log line
//! for the problem, and metrics again from the next good poll.
//!
//! The run loop runs in the test's process on tokio's paused clock (`support::inproc`), so a
//! case takes milliseconds; the same faults over real HTTP against the real binary are in
//! `end_to_end` (HTTP 500, truncated JSON, 429).

use crate::support::inproc;
use crate::support::process::{approx, container_docs, metric_values, task_docs};
use serde_json::Value;

/// The default Fargate scenario (3 containers, awsvpc): what each task metric must be whenever
/// it is published. Container k uses (k+1) × 51.2 CPU units and (k+1) × 64 MiB; the task ENI
/// receives 100,000 B/s and sends 40,000 B/s; task Limits are 1 vCPU and 2048 MiB.
const FARGATE_TASK: [(&str, f64); 8] = [
    ("CpuUtilized", 307.2),
    ("CpuReserved", 1024.0),
    ("CpuUtilization", 30.0),
    ("MemoryUtilized", 384.0),
    ("MemoryReserved", 2048.0),
    ("NetworkRxBytes", 100_000.0),
    ("NetworkTxBytes", 40_000.0),
    ("RunningContainerCount", 3.0),
];

/// Every published value is finite and not negative, and every task value the scenario
/// defines is exactly (rates: within 0.1 %) the scenario's.
fn assert_only_true_values(docs: &[Value], what: &str) {
    for doc in docs {
        for (name, value) in metric_values(doc) {
            assert!(
                value.is_finite() && value >= 0.0,
                "{what}: {name} = {value}"
            );
        }
    }
    for task in task_docs(docs) {
        for (name, expected) in FARGATE_TASK {
            if let Some(v) = task[name].as_f64() {
                assert!(
                    approx(Some(v), expected, 1e-3),
                    "{what}: {name} = {v}, the scenario says {expected}"
                );
            }
        }
    }
}

/// One fault on the default Fargate task: `fault` on requests 2–3 of its route.
async fn fault_case(fault: &str, log: &str) {
    // Requests 2 and 3 of the route fail (with `all`, two cycles of /task then two of
    // /task/stats: a failed /task asks for no stats); the good cycles after show the recovery.
    let run = inproc::run(&["--fault", fault], &[], 9).await;
    let (docs, stderr) = (&run.docs, &run.logs);
    assert!(
        task_docs(docs).len() >= 5,
        "{fault}: metrics resume after the fault; stderr:\n{stderr}"
    );
    assert!(stderr.contains(log), "{fault}: no {log:?} in:\n{stderr}");
    assert_eq!(
        stderr.matches(log).count(),
        1,
        "{fault}: one line for the problem:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_only_true_values(docs, fault);
    // The last cycle is whole again: every scenario value is back.
    let last = *task_docs(docs).last().expect("a task document");
    for (name, _) in FARGATE_TASK {
        assert!(
            last[name].as_f64().is_some(),
            "{fault}: {name} missing after the recovery"
        );
    }
}

macro_rules! fault_matrix {
    ($($test:ident: $fault:expr => $log:expr;)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $test() {
            fault_case($fault, $log).await;
        }
    )*};
}

const FAILED: &str = "metadata endpoint answers again after 2 failed polls";

fault_matrix! {
    task_500: "task:500@2-3" => "answered HTTP 500 for /task ";
    task_429: "task:429@2-3" => "answered HTTP 429 for /task ";
    task_404: "task:404@2-3" => "answered HTTP 404 for /task ";
    task_truncated: "task:truncated@2-3" => "unusable response body from /task: invalid JSON";
    task_not_json: "task:notjson@2-3" => "unusable response body from /task: invalid JSON";
    task_empty_body: "task:empty@2-3" => "unusable response body from /task: empty body";
    task_slower_than_its_timeout: "task:latency=6000@2-3" => "did not answer /task within 5000 ms";
    stats_500: "stats:500@2-3" => "answered HTTP 500 for /task/stats";
    stats_429: "stats:429@2-3" => "answered HTTP 429 for /task/stats";
    stats_404: "stats:404@2-3" => "answered HTTP 404 for /task/stats";
    stats_truncated: "stats:truncated@2-3" => "unusable response body from /task/stats: invalid JSON";
    stats_not_json: "stats:notjson@2-3" => "unusable response body from /task/stats: invalid JSON";
    stats_empty_body: "stats:empty@2-3" => "unusable response body from /task/stats: empty body";
    stats_slower_than_its_timeout: "stats:latency=6000@2-3" => "did not answer /task/stats within 5000 ms";
    stats_null_for_every_container: "stats:nullstats@2-3" => "no stats sample (null or empty: /task/stats";
    stats_empty_for_every_container: "stats:emptystats@2-3" => "no stats sample (null or empty: /task/stats";
    recovery_is_logged_once: "stats:500@2-3" => FAILED;
}

/// Every route fails at once (the endpoint restarting): one line per route, one recovery line.
#[tokio::test(start_paused = true)]
async fn every_route_failing_then_recovering() {
    fault_case("all:500@2-3", "answered HTTP 500 for /task/stats").await;
}

/// `/taskWithTags` failing (EC2, tag dimensions): the tag keeps its value `unknown` until a
/// read works, the metrics never stop, one line says why.
#[tokio::test(start_paused = true)]
async fn task_with_tags_errors_leave_the_metrics_flowing() {
    for (fault, log) in [
        ("tags:500@1", "HTTP 500 for /taskWithTags"),
        (
            "tags:notjson@1",
            "unusable response body from /taskWithTags",
        ),
    ] {
        let run = inproc::run(
            &["--platform", "ec2", "--tag", "env=prod", "--fault", fault],
            &[("ECS_EMF_TAG_DIMENSIONS", "env")],
            3,
        )
        .await;
        let (docs, stderr) = (&run.docs, &run.logs);
        assert!(task_docs(docs).len() >= 3, "{fault}: {stderr}");
        assert_eq!(
            stderr.matches(log).count(),
            1,
            "{fault}: one line:\n{stderr}"
        );
        // The tag was never read: "unknown", never a made-up value.
        assert!(
            task_docs(docs).iter().all(|t| t["env"] == "unknown"),
            "{fault}"
        );
        assert!(!stderr.contains("panicked"));
    }
}

/// A container restarting between polls (EC2, bridge: counters start again from 0): no
/// negative or wrapped value, the interval across the restart has no CPU value, one line.
#[tokio::test(start_paused = true)]
async fn a_restart_between_polls_leaves_one_interval_out_and_says_so() {
    let run = inproc::run(
        &[
            "--platform",
            "ec2",
            "--restart",
            "0@3",
            "--restart-count-field",
        ],
        &[],
        5,
    )
    .await;
    let (docs, stderr) = (&run.docs, &run.logs);
    assert!(container_docs(docs, "worker-2").len() >= 5, "{stderr}");
    let app = container_docs(docs, "app");
    assert!(app.len() >= 5, "{stderr}");
    for doc in docs {
        for (name, value) in metric_values(doc) {
            assert!(value.is_finite() && value >= 0.0, "{name} = {value}");
        }
    }
    // Request 3 is the restart: the third document of app has no CPU rate (its counter went
    // down), the fourth has 51.2 again.
    assert_eq!(app[2]["ContainerCpuUtilized"].as_f64(), None, "{}", app[2]);
    assert!(
        approx(app[3]["ContainerCpuUtilized"].as_f64(), 51.2, 1e-3),
        "{}",
        app[3]
    );
    assert_eq!(
        stderr
            .matches("counters went down (restart or reset)")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"containers ["app"]: counters went down"#),
        "{stderr}"
    );
}

/// Replayed EC2 fixture (tests/fixtures/ecs_exporter) with one /task and one /task/stats file
/// per poll, edited so that between polls a container appears and later stops, and the
/// `ecs-exporter` container's CPU counter and stats clock misbehave.
mod replayed {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/ecs_exporter/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON")
    }

    /// The fixture's stats with the exporter container read at `read_offset_s` seconds after
    /// its captured `read` (07.856950259) and its CPU counter `cpu_add_ns` above 331,125,000.
    fn stats(read_offset_s: u32, cpu_add_ns: u64) -> Value {
        let mut s = fixture("ec2_task_stats.json");
        let id = s
            .as_object()
            .and_then(|o| o.keys().find(|k| k.starts_with("01cf1f320800")).cloned())
            .expect("the exporter container's stats");
        let c = &mut s[&id];
        c["read"] = format!("2025-02-27T05:18:{:02}.856950259Z", 7 + read_offset_s).into();
        c["cpu_stats"]["cpu_usage"]["total_usage"] = (331_125_000 + cpu_add_ns).into();
        s
    }

    /// The fixture's task with `prometheus` absent (`None`) or in `status`.
    fn task(prometheus: Option<&str>) -> Value {
        let mut t = fixture("ec2_task_metadata.json");
        let containers = t["Containers"].as_array_mut().expect("containers");
        match prometheus {
            None => containers.retain(|c| c["Name"] != "prometheus"),
            Some(status) => {
                for c in containers.iter_mut().filter(|c| c["Name"] == "prometheus") {
                    c["KnownStatus"] = status.into();
                }
            }
        }
        t
    }

    #[tokio::test(start_paused = true)]
    async fn containers_come_and_go_and_counters_and_clocks_go_wrong_without_a_wrong_value() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, v: &Value| {
            let p = dir.path().join(name);
            std::fs::write(&p, v.to_string()).expect("write");
            p.to_str().expect("utf-8").to_string()
        };
        // Poll n gets task file n and stats file n (the last ones repeat).
        let tasks = [
            write("t1.json", &task(None)),
            write("t2.json", &task(Some("RUNNING"))),
            write("t3.json", &task(Some("RUNNING"))),
            write("t4.json", &task(Some("RUNNING"))),
            write("t5.json", &task(Some("STOPPED"))),
        ];
        let stats = [
            write("s1.json", &stats(0, 0)),
            // +10 s, +1 s of CPU: 0.1 CPU = 102.4 units.
            write("s2.json", &stats(10, 1_000_000_000)),
            // The clock stands still while the counter moves, then goes back 5 s.
            write("s3.json", &stats(10, 2_000_000_000)),
            write("s4.json", &stats(5, 3_000_000_000)),
            // The counter goes down (a reset): no rate for this interval.
            write("s5.json", &stats(30, 500_000_000)),
            // Normal again: +10 s, +1 s of CPU = 102.4 units.
            write("s6.json", &stats(40, 1_500_000_000)),
        ];
        let mut args = Vec::new();
        for t in &tasks {
            args.extend(["--replay-task", t.as_str()]);
        }
        for s in &stats {
            args.extend(["--replay-stats", s.as_str()]);
        }
        let run = inproc::run(&args, &[], 7).await;
        let (docs, stderr) = (&run.docs, &run.logs);
        let tasks = task_docs(docs);
        assert!(tasks.len() >= 7, "{stderr}");
        for doc in docs {
            for (name, value) in metric_values(doc) {
                assert!(value.is_finite() && value >= 0.0, "{name} = {value}");
            }
        }

        // Working sets: ecs-exporter 47,607,808 B = 45 MiB + 421,888 B = 45.40234375 MiB; prometheus
        // 49,934,336 B; both 93.0234375 MiB.
        let running: Vec<f64> = tasks
            .iter()
            .map(|t| t["RunningContainerCount"].as_f64().unwrap_or(-1.0))
            .collect();
        assert_eq!(
            running[..7],
            [1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0],
            "prometheus appears at poll 2, stops at poll 5"
        );
        let memory: Vec<f64> = tasks
            .iter()
            .map(|t| t["MemoryUtilized"].as_f64().unwrap_or(-1.0))
            .collect();
        assert_eq!(
            memory[..7],
            [
                45.40234375,
                93.0234375,
                93.0234375,
                93.0234375,
                45.40234375,
                45.40234375,
                45.40234375
            ]
        );
        let prometheus = container_docs(docs, "prometheus");
        assert_eq!(
            prometheus.len(),
            4,
            "a document for each poll it ran in, and one for its exit"
        );
        // Poll 5 lists it STOPPED: one exit, said once (polls 6 and 7 list it stopped still).
        // The replayed entry has no ExitCode or FinishedAt, so the document shows neither.
        let exit = prometheus[3];
        assert_eq!(
            (
                exit["ContainerExits"].as_f64(),
                exit["KnownStatus"].as_str(),
                exit.get("ExitCode"),
                exit.get("FinishedAt"),
                exit.get("ContainerMemoryUtilized"),
            ),
            (Some(1.0), Some("STOPPED"), None, None, None)
        );
        // `nonessential` was stopped at the first poll: it exited before this run.
        assert!(container_docs(docs, "nonessential").is_empty());

        let exporter_docs = container_docs(docs, "ecs-exporter");
        let cpu: Vec<Option<f64>> = exporter_docs
            .iter()
            .map(|d| d["ContainerCpuUtilized"].as_f64())
            .collect();
        // Poll 1: the fixture's embedded precpu, 5,162,000 ns over 1.003225381 s.
        assert!(
            approx(cpu[0], 5_162_000.0 / 1_003_225_381.0 * 1024.0, 1e-9),
            "{cpu:?}"
        );
        assert!(approx(cpu[1], 102.4, 1e-9), "{cpu:?}");
        // Polls 3 and 4: the stats clock did not move forward; the rate falls back to the
        // time between the polls (about 1 s for 1 s of CPU), a real measurement.
        for n in [2, 3] {
            assert!(
                cpu[n].is_some_and(|v| v > 500.0 && v < 1100.0),
                "poll {}: {cpu:?}",
                n + 1
            );
        }
        assert_eq!(
            cpu[4], None,
            "the counter went down: no rate, never a negative one"
        );
        assert!(approx(cpu[5], 102.4, 1e-9), "{cpu:?}");

        assert_eq!(
            stderr
                .matches("stats time `read` did not move forward")
                .count(),
            1,
            "{stderr}"
        );
        assert_eq!(
            stderr
                .matches("counters went down (restart or reset)")
                .count(),
            1,
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
}
