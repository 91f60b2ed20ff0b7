//! Container exits against the simulator's `--exit K@N:CODE` and `--oom-kill K@N`
//! (crates/tmde-simulator/src/scenario.rs): from `/task` request N on, container K is
//! `STOPPED` with `ExitCode` CODE (137 for an OOM kill) and `FinishedAt` = the time request N
//! arrived. With a 1 s interval, poll n makes `/task` request n. Run in-process on tokio's
//! paused clock, so request N's time is cycle N's timestamp.

use serde_json::Value;

use crate::support::inproc;
use crate::support::process::{container_docs, task_docs};

fn exit_docs(docs: &[Value]) -> Vec<&Value> {
    docs.iter()
        .filter(|d| d.get("ContainerExits").is_some())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn an_oom_kill_is_one_exit_with_code_137_at_the_time_it_happened() {
    // EC2: app, ecs-emf-exporter, worker-2; worker-2 is OOM-killed at /task request 3.
    let run = inproc::run(&["--platform", "ec2", "--oom-kill", "2@3"], &[], 5).await;
    let tasks = task_docs(&run.docs);
    assert_eq!(tasks.len(), 5, "{}", run.logs);
    let running: Vec<Option<f64>> = tasks
        .iter()
        .map(|t| t["RunningContainerCount"].as_f64())
        .collect();
    assert_eq!(
        running,
        [Some(3.0), Some(3.0), Some(2.0), Some(2.0), Some(2.0)]
    );
    let exits = exit_docs(&run.docs);
    assert_eq!(
        exits.len(),
        1,
        "published once, not every poll it is listed"
    );
    let exit = exits[0];
    assert_eq!(exit["ContainerName"], "worker-2");
    assert_eq!(exit["ContainerExits"], 1.0);
    assert_eq!(exit["ExitCode"], "137");
    assert_eq!(exit["KnownStatus"], "STOPPED");
    // Request 3 arrived when cycle 3 read the endpoint: FinishedAt is that cycle's time.
    let cycle_3 = tasks[2]["_aws"]["Timestamp"].as_i64().expect("timestamp");
    assert_eq!(exit["_aws"]["Timestamp"].as_i64(), Some(cycle_3));
    let finished = chrono::DateTime::parse_from_rfc3339(exit["FinishedAt"].as_str().expect("set"))
        .expect("RFC 3339");
    assert_eq!(finished.timestamp_millis(), cycle_3);
    // The exit document is about the exit only; the container's metrics stop with it.
    let names: Vec<&str> = exit["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(|m| m["Name"].as_str())
        .collect();
    assert_eq!(names, ["ContainerExits"]);
    assert_eq!(
        container_docs(&run.docs, "worker-2").len(),
        3,
        "polls 1 and 2, then the exit"
    );
    assert!(!run.logs.contains("WARN"), "{}", run.logs);
}

#[tokio::test(start_paused = true)]
async fn containers_stopped_before_the_first_poll_are_not_exits_of_this_run() {
    // `stopped-0` exited before the exporter started; `app` exits with code 3 at request 2.
    let run = inproc::run(
        &["--platform", "fargate", "--stopped", "1", "--exit", "0@2:3"],
        &[],
        3,
    )
    .await;
    let exits = exit_docs(&run.docs);
    let said: Vec<(&str, &str)> = exits
        .iter()
        .map(|d| {
            (
                d["ContainerName"].as_str().unwrap_or_default(),
                d["ExitCode"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(said, [("app", "3")], "{}", run.logs);
    assert!(container_docs(&run.docs, "stopped-0").is_empty());
}

#[tokio::test(start_paused = true)]
async fn excluding_the_metric_or_the_container_publishes_no_exit() {
    for env in [
        [("ECS_EMF_EXCLUDE_METRICS", "ContainerExits")],
        [("ECS_EMF_EXCLUDE_CONTAINERS", "worker-*")],
    ] {
        let run = inproc::run(&["--platform", "ec2", "--oom-kill", "2@2"], &env, 3).await;
        assert_eq!(task_docs(&run.docs).len(), 3);
        assert!(exit_docs(&run.docs).is_empty(), "{env:?}");
    }
}

/// The simulator can serve the throttling counters a plain Docker host has; the sidecar
/// still publishes no throttling metric (docs/metrics.md, "CPU throttling").
#[tokio::test(start_paused = true)]
async fn real_throttling_counters_in_the_stats_publish_no_throttling_metric() {
    let run = inproc::run(&["--platform", "ec2", "--throttled"], &[], 2).await;
    assert!(!run.docs.is_empty());
    for doc in &run.docs {
        for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics")
        {
            let name = m["Name"].as_str().unwrap_or_default();
            assert!(!name.to_lowercase().contains("throttl"), "{name}");
        }
    }
}
