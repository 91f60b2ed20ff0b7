//! The ECS agent introspection API (`ECS_EMF_INTROSPECTION_URI`): the run loop against the
//! in-process simulator for the endpoint, and an agent of this file's own on loopback that
//! answers well, for another task, with garbage, with a body over the cap, or never. Every
//! wait is bounded (the client's 5 s request timeout; a few 1 s cycles).

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::support::inproc;
use crate::support::process::{container_docs, read_request_target, task_docs};

const INSTANCE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:container-instance/sim-cluster/4c1d2e3f4a5b46c7d8e9f0a1b2c3d4e5";
const VERSION: &str = "Amazon ECS Agent - v1.89.2 (4c59f4a1)";

/// How the agent of these tests answers.
#[derive(Clone, Copy)]
enum Agent {
    /// `/v1/metadata` as documented; `/v1/tasks?taskarn=X` with `Arn` X (this task).
    Good,
    /// `/v1/tasks` names another task: the URL reaches another instance's agent.
    OtherTask,
    /// `/v1/metadata` is not JSON.
    Garbage,
    /// `/v1/metadata` announces and sends 9 MiB, over the client's 8 MiB cap.
    Huge,
    /// Accepts and never answers.
    Silent,
}

/// An agent on loopback; its URL and how many requests it received.
fn agent(kind: Agent) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&requests);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let count = Arc::clone(&count);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let Some(target) = read_request_target(&mut reader) else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let body: Vec<u8> = match (kind, target.as_str()) {
                    (Agent::Silent, _) => {
                        std::thread::sleep(Duration::from_secs(30));
                        return;
                    }
                    (Agent::Garbage, "/v1/metadata") => b"<html>agent</html>".to_vec(),
                    (Agent::Huge, "/v1/metadata") => {
                        let head = "HTTP/1.1 200 OK\r\nContent-Length: 9437184\r\n\r\n";
                        let _ = conn.write_all(head.as_bytes());
                        let chunk = vec![b' '; 1 << 20];
                        for _ in 0..9 {
                            if conn.write_all(&chunk).is_err() {
                                return;
                            }
                        }
                        return;
                    }
                    (_, "/v1/metadata") => format!(
                        r#"{{"Cluster":"sim-cluster","ContainerInstanceArn":"{INSTANCE_ARN}","Version":"{VERSION}"}}"#
                    )
                    .into_bytes(),
                    (_, t) if t.starts_with("/v1/tasks?taskarn=") => {
                        let asked: String = url::form_urlencoded::parse(
                            t.trim_start_matches("/v1/tasks?").as_bytes(),
                        )
                        .find(|(k, _)| k == "taskarn")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                        let arn = match kind {
                            Agent::OtherTask => "arn:aws:ecs:us-east-1:123456789012:task/sim-cluster/ffffffffffffffffffffffffffffffff".to_string(),
                            _ => asked,
                        };
                        serde_json::json!({"Arn": arn, "KnownStatus": "RUNNING", "Containers": []})
                            .to_string()
                            .into_bytes()
                    }
                    _ => {
                        let _ = conn.write_all(
                            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                        return;
                    }
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn
                    .write_all(head.as_bytes())
                    .and_then(|()| conn.write_all(&body));
            });
        }
    });
    (url, requests)
}

async fn run_with(kind: Agent, cycles: u64) -> (inproc::Run, usize) {
    let (url, requests) = agent(kind);
    let env = [
        ("ECS_EMF_INTROSPECTION_URI", url.as_str()),
        ("ECS_EMF_DIMENSIONS", "ClusterName,ContainerInstanceId"),
        ("ECS_EMF_SELF_METRICS", "true"),
    ];
    let run = inproc::run(&["--platform", "ec2"], &env, cycles).await;
    let seen = requests.load(Ordering::SeqCst);
    (run, seen)
}

#[tokio::test]
async fn the_agent_names_the_container_instance_on_every_task_document() {
    let (run, requests) = run_with(Agent::Good, 3).await;
    let tasks = task_docs(&run.docs);
    assert_eq!(tasks.len(), 3, "{}", run.logs);
    for t in &tasks {
        assert_eq!(t["ContainerInstanceArn"], INSTANCE_ARN);
        assert_eq!(t["AgentVersion"], VERSION);
        // The ID is the ARN's last segment.
        assert_eq!(t["ContainerInstanceId"], "4c1d2e3f4a5b46c7d8e9f0a1b2c3d4e5");
        assert_eq!(
            t["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["ClusterName", "ContainerInstanceId"]])
        );
    }
    // Properties on task documents only; container documents keep their own sets.
    let app = container_docs(&run.docs, "app");
    assert!(!app.is_empty());
    assert!(app.iter().all(|d| d.get("ContainerInstanceArn").is_none()));
    // Read once (two GETs) before the first labels; the next read is a refresh away.
    assert_eq!(requests, 2);
    assert!(!run.logs.contains("WARN"), "{}", run.logs);
}

#[tokio::test]
async fn an_agent_that_does_not_run_this_task_labels_nothing() {
    let (run, _) = run_with(Agent::OtherTask, 2).await;
    let tasks = task_docs(&run.docs);
    assert_eq!(tasks.len(), 2, "{}", run.logs);
    for t in &tasks {
        assert!(t.get("ContainerInstanceArn").is_none(), "{t}");
        assert_eq!(t["ContainerInstanceId"], "unknown");
    }
    assert_eq!(
        run.logs.matches("instead of this one").count(),
        1,
        "said once: {}",
        run.logs
    );
}

/// Garbage, a body over the cap, or silence: one warning, no property, no made-up ID, the
/// failed read counted in ExporterErrors, and every cycle still collected.
#[tokio::test]
async fn a_broken_agent_is_one_warning_and_polling_goes_on() {
    for (kind, said) in [
        (Agent::Garbage, "invalid JSON"),
        (Agent::Huge, "/v1/metadata) unreachable"),
        (Agent::Silent, "timed out"),
    ] {
        let started = std::time::Instant::now();
        let (run, _) = run_with(kind, 2).await;
        assert!(started.elapsed() < Duration::from_secs(20));
        let tasks = task_docs(&run.docs);
        assert_eq!(tasks.len(), 2, "{said}: {}", run.logs);
        for t in &tasks {
            assert!(t.get("ContainerInstanceArn").is_none(), "{said}: {t}");
            assert!(t.get("AgentVersion").is_none(), "{said}: {t}");
            assert_eq!(t["ContainerInstanceId"], "unknown", "{said}");
        }
        assert_eq!(run.logs.matches(said).count(), 1, "{said}: {}", run.logs);
        let errors: f64 = run
            .docs
            .iter()
            .filter(|d| d["Type"] == "Exporter")
            .filter_map(|d| d["ExporterErrors"].as_f64())
            .sum();
        assert_eq!(errors, 1.0, "{said}: one failed read");
        assert_eq!(run.summary.collected(), 2, "{said}");
    }
}

/// The introspection API is off by default: no request, no property.
#[tokio::test]
async fn without_the_setting_nothing_is_asked() {
    let run = inproc::run(&["--platform", "ec2"], &[], 1).await;
    let tasks = task_docs(&run.docs);
    assert_eq!(tasks.len(), 1);
    let task: &Value = tasks[0];
    assert!(task.get("ContainerInstanceArn").is_none());
    assert!(task.get("AgentVersion").is_none());
}

/// The simulator's agent (`simulate --platform ec2` serves `/v1/metadata` and `/v1/tasks` on
/// its port), over real HTTP from the real binary; on Fargate there is no agent API (404).
#[test]
fn the_simulated_agent_labels_the_task_and_fargate_has_none() {
    use crate::support::process::{Exporter, Sim};
    let wait = Duration::from_secs(20);
    let sim = Sim::start(&["--platform", "ec2"]);
    let agent_url = sim.base_url.trim_end_matches("/v4/sim-0001").to_string();
    let env = [
        ("ECS_EMF_INTROSPECTION_URI", agent_url.as_str()),
        ("ECS_EMF_DIMENSIONS", "ClusterName;ContainerInstanceId"),
    ];
    let exporter = Exporter::start(&sim.base_url, &env, &[]);
    let docs = exporter.read_until(wait, |d| task_docs(d).len() >= 2);
    let tasks = task_docs(&docs);
    assert!(tasks.len() >= 2, "{}", exporter.stderr.text());
    let arn = tasks[0]["ContainerInstanceArn"].as_str().expect("ARN");
    let (head, id) = arn.rsplit_once('/').expect("ID at the end");
    assert_eq!(
        head,
        "arn:aws:ecs:us-east-1:123456789012:container-instance/sim-cluster"
    );
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    for t in &tasks {
        assert_eq!(t["ContainerInstanceId"], id);
        assert_eq!(t["AgentVersion"], "Amazon ECS Agent - v1.89.2 (4c59f4a1)");
        assert_eq!(
            t["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["ClusterName"], ["ContainerInstanceId"]])
        );
    }
    drop(exporter);

    let fargate = Sim::start(&["--platform", "fargate"]);
    let agent_url = fargate
        .base_url
        .trim_end_matches("/v4/sim-0001")
        .to_string();
    let env = [("ECS_EMF_INTROSPECTION_URI", agent_url.as_str())];
    let exporter = Exporter::start(&fargate.base_url, &env, &[]);
    let docs = exporter.read_until(wait, |d| task_docs(d).len() >= 2);
    let tasks = task_docs(&docs);
    assert!(tasks.len() >= 2);
    assert!(
        tasks
            .iter()
            .all(|t| t.get("ContainerInstanceArn").is_none())
    );
    let stderr = exporter.stderr.text();
    assert_eq!(
        stderr.matches("/v1/metadata) answered HTTP 404").count(),
        1,
        "{stderr}"
    );
}
