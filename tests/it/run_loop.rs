//! The sidecar's run loop in-process against the simulated task, on tokio's paused clock
//! (`support::inproc`): platform shapes, restarts and tags, with the values worked out by
//! hand from the simulator's documented scenario (crates/tmde-simulator/src/scenario.rs):
//! container k uses (k+1) × 50,000,000 ns of CPU per second (= (k+1) × 51.2 CPU units), has a
//! working set of (k+1) × 64 MiB, and so on. The real binary over real HTTP is `end_to_end`.

use crate::support::inproc;
use crate::support::process::{all_values, approx, container_docs, task_docs, value};

#[tokio::test(start_paused = true)]
async fn ec2_bridge_sums_containers_and_counts_no_pause_container() {
    let run = inproc::run(&["--platform", "ec2", "--network", "bridge"], &[], 2).await;
    let (docs, stderr) = (&run.docs, &run.logs);
    let tasks = task_docs(docs);
    assert!(tasks.len() >= 2, "stderr:\n{}", stderr);
    // EC2's embedded precpu_stats are real (1 s earlier): CPU from the first cycle.
    assert!(
        approx(value(tasks[0], "CpuUtilized"), 307.2, 1e-3),
        "{:?}",
        value(tasks[0], "CpuUtilized")
    );
    // No task Limits on EC2: Σ containers' 256 CPU units and 512 MiB.
    assert_eq!(value(tasks[0], "CpuReserved"), Some(768.0));
    assert_eq!(value(tasks[0], "MemoryReserved"), Some(1536.0));
    // Bridge: each container its own eth0: (1 + 2 + 3) × 10,000 B/s.
    assert!(
        approx(value(tasks[1], "NetworkRxBytes"), 60_000.0, 1e-3),
        "{:?}",
        value(tasks[1], "NetworkRxBytes")
    );
    assert!(approx(value(tasks[1], "NetworkTxBytes"), 30_000.0, 1e-3));
    let worker = container_docs(docs, "worker-2");
    assert!(approx(
        value(worker[1], "ContainerNetworkRxBytes"),
        30_000.0,
        1e-3
    ));
    assert_eq!(value(worker[0], "ContainerMemoryReserved"), Some(512.0));
    assert_eq!(value(worker[0], "ContainerCpuReserved"), Some(256.0));
    assert!(
        approx(value(worker[0], "ContainerCpuUtilization"), 60.0, 1e-3),
        "153.6 / 256"
    );
    assert_eq!(value(worker[0], "ContainerPidCount"), Some(7.0));
    assert_eq!(worker[0]["ClusterName"], "sim-cluster");
}

#[tokio::test(start_paused = true)]
async fn ec2_awsvpc_leaves_out_the_pause_container() {
    let run = inproc::run(&["--platform", "ec2", "--network", "awsvpc"], &[], 2).await;
    let (docs, stderr) = (&run.docs, &run.logs);
    let tasks = task_docs(docs);
    assert!(tasks.len() >= 2, "stderr:\n{}", stderr);
    assert!(docs.iter().all(|d| {
        !d["ContainerName"]
            .as_str()
            .unwrap_or_default()
            .starts_with("~internal~")
    }));
    assert_eq!(value(tasks[0], "RunningContainerCount"), Some(3.0));
    // The pause container's 999,000,000 ns/s would show here if it were counted.
    assert!(
        approx(value(tasks[0], "CpuUtilized"), 307.2, 1e-3),
        "{:?}",
        value(tasks[0], "CpuUtilized")
    );
    assert!(
        approx(value(tasks[1], "NetworkRxBytes"), 100_000.0, 1e-3),
        "{:?}",
        value(tasks[1], "NetworkRxBytes")
    );
}

#[tokio::test(start_paused = true)]
async fn a_restarted_container_yields_no_negative_value_and_counts_the_restart() {
    let run = inproc::run(
        &[
            "--platform",
            "ec2",
            "--restart-count-field",
            "--restart",
            "0@3",
        ],
        &[],
        5,
    )
    .await;
    let (docs, stderr) = (&run.docs, &run.logs);
    assert!(task_docs(docs).len() >= 5, "stderr:\n{}", stderr);
    for (name, v) in all_values(docs) {
        assert!(v.is_finite() && v >= 0.0, "{name} = {v}");
        assert!(
            v < 1e7 || name.contains("Bytes"),
            "{name} = {v} looks wrapped"
        );
    }
    let app = container_docs(docs, "app");
    // Cycle 3 saw the counters reset: no CPU or network value for app, and one restart.
    assert_eq!(value(app[2], "ContainerCpuUtilized"), None, "{}", app[2]);
    assert_eq!(value(app[2], "ContainerNetworkRxBytes"), None);
    assert_eq!(value(app[1], "ContainerRestarts"), Some(0.0));
    assert_eq!(
        value(app[0], "ContainerRestarts"),
        None,
        "needs two samples"
    );
    // /task may show the new RestartCount one poll after the stats reset: the restart is
    // counted exactly once either way.
    let restarts: f64 = app
        .iter()
        .filter_map(|d| value(d, "ContainerRestarts"))
        .sum();
    assert_eq!(restarts, 1.0);
    // From cycle 4 the rates are back.
    assert!(
        approx(value(app[3], "ContainerCpuUtilized"), 51.2, 1e-3),
        "{:?}",
        value(app[3], "ContainerCpuUtilized")
    );
    // The task sum in cycle 3 includes only the containers with a valid interval.
    let worker = container_docs(docs, "worker-2");
    assert!(approx(
        value(task_docs(docs)[2], "CpuUtilized"),
        102.4 + 153.6,
        1e-3
    ));
    assert!(approx(
        value(worker[2], "ContainerCpuUtilized"),
        153.6,
        1e-3
    ));
}

#[tokio::test(start_paused = true)]
async fn ec2_tags_come_from_task_then_instance_tags_and_missing_ones_are_unknown() {
    let env = [
        ("ECS_EMF_TAG_DIMENSIONS", "env,team,owner"),
        ("ECS_EMF_STATIC_DIMENSIONS", "region=eu"),
    ];
    let run = inproc::run(&["--platform", "ec2", "--tag", "env=prod"], &env, 1).await;
    let (docs, stderr) = (&run.docs, &run.logs);
    let t = task_docs(docs)[0];
    // env: task tag; team: container-instance tag (the simulator's EC2 instance has
    // team=platform); owner: nowhere → unknown; region: static.
    assert_eq!(
        (
            t["env"].as_str(),
            t["team"].as_str(),
            t["owner"].as_str(),
            t["region"].as_str()
        ),
        (Some("prod"), Some("platform"), Some("unknown"), Some("eu"))
    );
    assert_eq!(
        t["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([[
            "ClusterName",
            "ServiceName",
            "env",
            "team",
            "owner",
            "region"
        ]])
    );
    assert!(stderr.contains("dimension owner has no value"), "{stderr}");
    assert_eq!(
        stderr.matches("dimension owner has no value").count(),
        1,
        "{stderr}"
    );
}

#[tokio::test(start_paused = true)]
async fn tag_errors_keep_the_valid_tags_and_are_logged_once() {
    let run = inproc::run(
        &["--platform", "ec2", "--tag", "env=prod", "--tags-error"],
        &[
            ("ECS_EMF_TAG_DIMENSIONS", "env,team"),
            ("ECS_EMF_TAGS_REFRESH", "10s"),
        ],
        2,
    )
    .await;
    let (docs, stderr) = (&run.docs, &run.logs);
    let t = task_docs(docs)[1];
    assert_eq!(
        (t["env"].as_str(), t["team"].as_str()),
        (Some("prod"), Some("unknown"))
    );
    assert!(stderr.contains("AccessDeniedException"), "{stderr}");
    assert_eq!(
        stderr.matches("AccessDeniedException").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("ecs:ListTagsForResource"), "{stderr}");
}

#[tokio::test(start_paused = true)]
async fn fargate_without_task_with_tags_and_without_service_name_falls_back_cleanly() {
    let run = inproc::run(
        &["--platform", "fargate", "--no-service-name"],
        &[("ECS_EMF_TAG_DIMENSIONS", "env")],
        2,
    )
    .await;
    let (docs, stderr) = (&run.docs, &run.logs);
    let t = task_docs(docs)[1];
    // No service: sets naming ServiceName use the family; no ServiceName property.
    assert_eq!(
        t["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["ClusterName", "TaskDefinitionFamily", "env"]])
    );
    assert_eq!(t["TaskDefinitionFamily"], "sim-app");
    assert!(t.get("ServiceName").is_none());
    assert_eq!(t["env"], "unknown");
    assert!(stderr.contains("HTTP 404 for /taskWithTags"), "{stderr}");
    assert_eq!(
        stderr.matches("HTTP 404 for /taskWithTags").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("ECS_EMF_STATIC_DIMENSIONS"),
        "the 404 line says what to do: {stderr}"
    );
}

/// An endpoint that always answers in 1.5 s, at a 1 s interval: data at a lower cadence
/// (each cycle takes two such answers; the first takes three, with the exporter's own
/// container), never none, and one line about the skipped ticks.
/// Before, the request timeout was the interval's length and no answer ever arrived.
#[tokio::test(start_paused = true)]
async fn an_endpoint_slower_than_the_interval_gives_data_less_often_and_says_so_once() {
    let run = inproc::run(&["--fault", "all:latency=1500"], &[], 4).await;
    let (docs, stderr) = (&run.docs, &run.logs);
    assert_eq!(run.summary.collected(), 4, "{stderr}");
    assert_eq!(task_docs(docs).len(), 4, "{stderr}");
    assert_eq!(
        stderr.matches("longer than the interval (1000 ms)").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("a cycle took 4500 ms"), "{stderr}");
}

/// `/task` answering `{}` (or any body naming no task): a failed poll, said once, never
/// metrics under `unknown` dimensions.
#[tokio::test(start_paused = true)]
async fn a_task_body_that_names_no_task_is_a_failed_poll() {
    let dir = tempfile::tempdir().expect("tempdir");
    let task = dir.path().join("task.json");
    let stats = dir.path().join("stats.json");
    std::fs::write(&task, "{}").expect("write");
    std::fs::write(&stats, "{}").expect("write");
    let run = inproc::run(
        &[
            "--replay-task",
            task.to_str().expect("utf-8"),
            "--replay-stats",
            stats.to_str().expect("utf-8"),
        ],
        &[],
        3,
    )
    .await;
    assert!(run.docs.is_empty(), "{:?}", run.docs);
    assert_eq!(run.summary.collected(), 0);
    assert_eq!(
        run.logs.matches("it names no task (no TaskARN)").count(),
        1,
        "{}",
        run.logs
    );
}

/// `Errors[]` of `/taskWithTags` reach the log quoted and capped: a newline cannot forge a
/// log line, a megabyte cannot make a megabyte line. (They were logged raw.)
#[tokio::test(start_paused = true)]
async fn text_from_the_endpoint_cannot_forge_a_log_line_or_make_a_long_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ecs_exporter/");
    let with_tags = serde_json::json!({
        "Errors": [{
            "ErrorField": "TaskTags\n2026-01-01T00:00:00.000000Z  INFO forged line",
            "ErrorCode": "x".repeat(1 << 20),
        }]
    });
    let path = dir.path().join("with-tags.json");
    std::fs::write(&path, with_tags.to_string()).expect("write");
    let run = inproc::run(
        &[
            "--replay-task",
            &format!("{fixtures}ec2_task_metadata.json"),
            "--replay-stats",
            &format!("{fixtures}ec2_task_stats.json"),
            "--replay-task-with-tags",
            path.to_str().expect("utf-8"),
        ],
        &[("ECS_EMF_TAG_DIMENSIONS", "team")],
        2,
    )
    .await;
    let logs = &run.logs;
    assert!(logs.contains("/taskWithTags reports"), "{logs}");
    assert!(
        !logs
            .lines()
            .any(|l| l.starts_with("2026-01-01T00:00:00.000000Z")),
        "a forged line: {logs}"
    );
    let longest = logs.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 2_000, "a log line of {longest} bytes");
}
