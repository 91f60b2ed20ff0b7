//! Daemon mode's input, made into the sidecar's: one task of the agent's `/v1/tasks` and its
//! containers' Docker inspect and stats become the [`Snapshot`] the Task Metadata Endpoint
//! would have served that task (`/task` and `/task/stats`), so the pipeline computes, names
//! and labels it exactly as it does in the sidecar. Pure: no I/O.
//!
//! Where the two differ (docs/daemon.md, "What daemon mode cannot know"):
//! - `ServiceName`, `AvailabilityZone` and the task-level `Limits` are not in either API: they
//!   are left out (`None`), never guessed, and the dimensions fall back as they do for a
//!   standalone task (`TaskDefinitionFamily` where a set names `ServiceName`).
//! - `KnownStatus` is Docker's state: `running` is RUNNING, `exited` and `dead` are STOPPED,
//!   anything else (created, restarting, paused, removing) is not running and not stopped.
//! - `Limits.CPU` is Docker's `CpuShares`: the agent sets a container's CPU units as its
//!   shares (the task definition's `cpu`; 2, Docker's minimum, when it sets none), the same
//!   number the endpoint serves. `Limits.Memory` is the hard limit (`Memory`) or, without
//!   one, the soft limit (`MemoryReservation`), in MiB, as the task definition gave it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::source::cgroup::CpuStat;
use crate::source::docker::{ContainerRead, Inspect};
use crate::source::introspection::AgentTask;
use crate::source::metadata::model::{ContainerMetadata, ContainerNetwork, Limits, Throttling};
use crate::source::metadata::{ContainerStats, Snapshot, TaskMetadata};

/// Bytes per MiB: Docker gives memory limits in bytes, the endpoint in MiB.
const MIB: f64 = 1_048_576.0;

/// The snapshot of `task`: its containers Docker could describe (a container Docker no
/// longer knows is left out: the agent lists a task's containers until it cleans the task
/// up), and the stats of those that run. `received_at`: when the stats answered (the
/// latest of the task's answers; `read_at` when none ran).
pub(crate) fn snapshot(
    cluster: Option<&str>,
    task: &AgentTask,
    reads: &HashMap<&str, &ContainerRead>,
    task_cpu_stat: Option<CpuStat>,
    read_at: DateTime<Utc>,
) -> Snapshot {
    let mut containers = Vec::with_capacity(task.containers.len());
    let mut stats: HashMap<String, ContainerStats> = HashMap::new();
    let mut received_at: Option<DateTime<Utc>> = None;
    for listed in &task.containers {
        let Some(id) = listed.docker_id.as_deref() else {
            continue;
        };
        let Some(read) = reads.get(id) else {
            continue;
        };
        let Ok(inspect) = &read.inspect else {
            continue;
        };
        containers.push(container(listed.name.clone(), id, inspect));
        if let (Some(Ok(entry)), Some(at)) = (&read.stats, read.stats_received_at) {
            stats.insert(id.to_string(), entry.clone());
            received_at = Some(received_at.map_or(at, |t| t.max(at)));
        }
    }
    let task_metadata = TaskMetadata {
        cluster: cluster
            .map(str::to_string)
            .or_else(|| label_of_any(reads, task, "com.amazonaws.ecs.cluster")),
        task_arn: task.arn.clone(),
        family: task.family.clone(),
        revision: task.version.clone(),
        launch_type: Some("EC2".to_string()),
        containers,
        ..TaskMetadata::default()
    };
    Snapshot {
        task: task_metadata,
        stats,
        malformed_stats: Vec::new(),
        received_at: received_at.unwrap_or(read_at),
        // Docker's stats carry the containers' real counters; the task's come from its
        // cgroup when it has one.
        throttling: Some(Throttling {
            task: task_cpu_stat,
        }),
    }
}

/// A label of the first of the task's containers Docker describes that carries it.
fn label_of_any(
    reads: &HashMap<&str, &ContainerRead>,
    task: &AgentTask,
    key: &str,
) -> Option<String> {
    task.containers
        .iter()
        .filter_map(|c| reads.get(c.docker_id.as_deref()?))
        .filter_map(|r| r.inspect.as_ref().ok())
        .find_map(|i| i.config.as_ref()?.labels.as_ref()?.get(key).cloned())
}

/// One container as the endpoint's `/task` would list it.
fn container(name: Option<String>, id: &str, inspect: &Inspect) -> ContainerMetadata {
    let state = inspect.state.as_ref();
    let status = state.and_then(|s| s.status.as_deref());
    let known_status = match status.map(str::to_ascii_lowercase).as_deref() {
        Some("running") => "RUNNING",
        Some("exited" | "dead") => "STOPPED",
        Some(_) => "PENDING",
        // Docker always says; an answer without it tells nothing about the container.
        None => "UNKNOWN",
    };
    let stopped = known_status == "STOPPED";
    let host = inspect.host_config.as_ref();
    let cpu = host
        .and_then(|h| h.cpu_shares)
        .filter(|s| *s > 0)
        .map(|s| s as f64);
    let memory = host
        .and_then(|h| h.memory.filter(|m| *m > 0).or(h.memory_reservation))
        .filter(|m| *m > 0)
        .map(|m| m as f64 / MIB);
    let network_mode = host.and_then(|h| h.network_mode.clone());
    ContainerMetadata {
        docker_id: Some(id.to_string()),
        name: name.or_else(|| {
            inspect
                .config
                .as_ref()?
                .labels
                .as_ref()?
                .get("com.amazonaws.ecs.container-name")
                .cloned()
        }),
        image: inspect.config.as_ref().and_then(|c| c.image.clone()),
        known_status: Some(known_status.to_string()),
        kind: Some("NORMAL".to_string()),
        limits: (cpu.is_some() || memory.is_some()).then_some(Limits { cpu, memory }),
        restart_count: None,
        exit_code: state
            .filter(|_| stopped)
            .and_then(|s| s.exit_code)
            .map(|c| c as f64),
        finished_at: state
            .filter(|_| stopped)
            .and_then(|s| s.finished_at.clone()),
        oom_killed: state.filter(|_| stopped).and_then(|s| s.oom_killed),
        networks: network_mode
            .map(|mode| {
                vec![ContainerNetwork {
                    network_mode: Some(mode),
                }]
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::introspection::AgentContainer;

    // Captured from a real Docker Engine 20.10.24 (tests/fixtures/docker-engine/README.md).
    const RUNNING: &str =
        include_str!("../../../tests/fixtures/docker-engine/inspect-running.json");
    const RUNNING_STATS: &str =
        include_str!("../../../tests/fixtures/docker-engine/stats-running.json");
    const EXITED: &str = include_str!("../../../tests/fixtures/docker-engine/inspect-exited.json");
    const OOM: &str = include_str!("../../../tests/fixtures/docker-engine/inspect-oom-killed.json");

    const APP: &str = "5a8ff9a502a6869964772b868ccac279dfa146a0493428d89996e3d685bc0653";
    const WORKER: &str = "96de64cf03f94217bcce0dd6f699400b7a019a0ab6bd76b01eb317fcf806595e";
    const HOG: &str = "e2b182afc4eab542e28132117ef98f9d3230c8b2a1a67703b55504ca98507df5";
    const GONE: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a test time")
            .with_timezone(&Utc)
    }

    fn read(id: &str, inspect: &str, stats: Option<&str>) -> ContainerRead {
        ContainerRead {
            id: id.to_string(),
            inspect: Ok(serde_json::from_str(inspect).expect("a captured inspect")),
            stats: stats.map(|s| Ok(serde_json::from_str(s).expect("captured stats"))),
            stats_received_at: stats.map(|_| at("2026-12-05T19:12:03.790Z")),
            gone: false,
        }
    }

    fn listed(name: Option<&str>, id: &str) -> AgentContainer {
        AgentContainer {
            docker_id: Some(id.to_string()),
            docker_name: None,
            name: name.map(str::to_string),
        }
    }

    fn task() -> AgentTask {
        AgentTask {
            arn: Some(
                "arn:aws:ecs:us-west-2:123456789012:task/prod/0123456789abcdef0123456789abcdef"
                    .to_string(),
            ),
            desired_status: Some("RUNNING".to_string()),
            known_status: Some("RUNNING".to_string()),
            family: Some("web".to_string()),
            version: Some("1".to_string()),
            containers: vec![
                listed(Some("app"), APP),
                // No name from the agent: the container-name label gives it.
                listed(None, WORKER),
                listed(Some("hog"), HOG),
                listed(Some("gone"), GONE),
            ],
        }
    }

    #[test]
    fn a_task_becomes_the_snapshot_the_endpoint_would_serve() {
        let reads = [
            read(APP, RUNNING, Some(RUNNING_STATS)),
            read(WORKER, EXITED, None),
            read(HOG, OOM, None),
            ContainerRead {
                id: GONE.to_string(),
                inspect: Err("HTTP 404: No such container".to_string()),
                stats: None,
                stats_received_at: None,
                gone: true,
            },
        ];
        let by_id: HashMap<&str, &ContainerRead> =
            reads.iter().map(|r| (r.id.as_str(), r)).collect();
        let read_at = at("2026-12-05T19:12:04Z");
        let snapshot = snapshot(Some("prod-from-agent"), &task(), &by_id, None, read_at);

        let t = &snapshot.task;
        assert_eq!(t.cluster.as_deref(), Some("prod-from-agent"));
        assert_eq!(t.family.as_deref(), Some("web"));
        assert_eq!(t.revision.as_deref(), Some("1"));
        assert_eq!(t.launch_type.as_deref(), Some("EC2"));
        // Docker no longer knows the fourth: left out, not listed with made-up values.
        assert_eq!(t.containers.len(), 3);

        let app = &t.containers[0];
        assert_eq!(app.name.as_deref(), Some("app"));
        assert_eq!(app.known_status.as_deref(), Some("RUNNING"));
        assert_eq!(app.image.as_deref(), Some("loadgen:e2e"));
        let limits = app.limits.as_ref().expect("the app's limits");
        // --cpu-shares 256 → 256 CPU units; --memory 64m = 67,108,864 B = 64 MiB.
        assert_eq!((limits.cpu, limits.memory), (Some(256.0), Some(64.0)));
        assert_eq!(app.exit_code, None);
        assert_eq!(app.networks[0].network_mode.as_deref(), Some("none"));

        let worker = &t.containers[1];
        assert_eq!(worker.name.as_deref(), Some("worker"));
        assert_eq!(worker.known_status.as_deref(), Some("STOPPED"));
        assert_eq!(worker.exit_code, Some(3.0));
        assert_eq!(
            worker.finished_at.as_deref(),
            Some("2026-12-05T19:12:14.003632699Z")
        );
        assert_eq!(worker.oom_killed, Some(false));
        // Neither shares nor a memory limit were set.
        assert!(worker.limits.is_none());

        let hog = &t.containers[2];
        assert_eq!((hog.exit_code, hog.oom_killed), (Some(137.0), Some(true)));
        // --memory 16m.
        assert_eq!(hog.limits.as_ref().and_then(|l| l.memory), Some(16.0));

        // Stats only for the one that runs, stamped when they answered.
        assert_eq!(snapshot.stats.len(), 1);
        let stats = &snapshot.stats[APP];
        assert!(stats.memory_stats.is_some());
        assert_eq!(snapshot.received_at, at("2026-12-05T19:12:03.790Z"));
    }

    #[test]
    fn the_cluster_comes_from_the_labels_when_the_agent_does_not_say() {
        let reads = [read(APP, RUNNING, Some(RUNNING_STATS))];
        let by_id: HashMap<&str, &ContainerRead> =
            reads.iter().map(|r| (r.id.as_str(), r)).collect();
        let read_at = at("2026-12-05T19:12:04Z");
        let snapshot = snapshot(None, &task(), &by_id, None, read_at);
        assert_eq!(snapshot.task.cluster.as_deref(), Some("prod"));
    }

    #[test]
    fn a_task_whose_containers_docker_cannot_describe_is_empty_and_stamped_at_the_read() {
        let failed = ContainerRead {
            id: APP.to_string(),
            inspect: Err(
                "Docker Engine API (unix:///x) GET /containers/a/json: no answer within 5000 ms"
                    .to_string(),
            ),
            stats: None,
            stats_received_at: None,
            gone: false,
        };
        let by_id: HashMap<&str, &ContainerRead> = [(APP, &failed)].into_iter().collect();
        let read_at = at("2026-12-05T19:12:04Z");
        let snapshot = snapshot(None, &task(), &by_id, None, read_at);
        assert!(snapshot.task.containers.is_empty());
        assert!(snapshot.task.cluster.is_none());
        assert!(snapshot.stats.is_empty());
        assert_eq!(snapshot.received_at, read_at);
    }
}
