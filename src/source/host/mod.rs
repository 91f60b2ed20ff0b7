//! Daemon mode's source: every task on one EC2 container instance, found through the ECS
//! agent introspection API (`/v1/metadata`, `/v1/tasks`) and read through the Docker Engine
//! API (inspect, and the stats of the containers that run), made into one [`Snapshot`] per
//! task ([`assemble`]) so the sidecar's pipeline measures each.

pub(crate) mod assemble;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;

use super::docker::{ContainerRead, Docker, DockerHost};
use super::introspection::{HostView, Introspection};
use super::metadata::{EndpointUrl, Snapshot};

/// How many containers Docker is asked about at once: enough that 200 containers take a
/// few round trips of the local socket, few enough that the daemon's memory stays bounded
/// (each request holds at most one body; docs/limits.md).
pub(crate) const DOCKER_CONCURRENCY: usize = 4;

/// One task's read.
#[derive(Debug)]
pub(crate) struct TaskRead {
    pub(crate) arn: String,
    /// Whether the agent says the task runs (`KnownStatus` RUNNING): a task is first
    /// measured while it runs (a task already stopped when first seen exited before the
    /// daemon watched, like the sidecar's first poll).
    pub(crate) running: bool,
    pub(crate) snapshot: Snapshot,
}

/// One read of the host.
#[derive(Debug)]
pub(crate) struct HostRead {
    /// The agent's view of its instance, or why it could not be read (then nothing else
    /// was).
    pub(crate) agent: Result<AgentSummary, String>,
    /// The tasks with an ARN, in the agent's order.
    pub(crate) tasks: Vec<TaskRead>,
    /// Why Docker could not describe containers it should know, when it could not (a
    /// container Docker no longer knows is not a problem: the agent lists a task's
    /// containers until it cleans the task up).
    pub(crate) docker_problem: Option<String>,
}

/// What the rest of the run needs of [`HostView`] besides the tasks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgentSummary {
    pub(crate) instance: crate::pipeline::dimensions::ContainerInstance,
    pub(crate) tasks: usize,
}

pub(crate) struct HostSource {
    introspection: Introspection,
    docker: Docker,
}

impl HostSource {
    pub(crate) fn new(
        introspection: &EndpointUrl,
        docker: &DockerHost,
        timeout: Duration,
    ) -> HostSource {
        HostSource {
            introspection: Introspection::new(introspection, timeout),
            docker: Docker::new(docker, timeout, DOCKER_CONCURRENCY),
        }
    }

    /// What the Docker daemon says of itself (its cgroup driver and version), for the
    /// start's log line and the cgroup paths.
    pub(crate) async fn docker_info(&self) -> Result<super::docker::DockerInfo, String> {
        self.docker.info().await
    }

    /// Where Docker is read.
    pub(crate) fn docker_host(&self) -> &DockerHost {
        self.docker.host()
    }

    /// The agent's tasks, then every listed container's inspect and (while it runs) stats.
    pub(crate) async fn read(&self) -> HostRead {
        let read_at = Utc::now();
        let view = match self.introspection.host().await {
            Ok(view) => view,
            Err(e) => {
                return HostRead {
                    agent: Err(e),
                    tasks: Vec::new(),
                    docker_problem: None,
                };
            }
        };
        let ids: Vec<String> = view
            .tasks
            .iter()
            .flat_map(|t| t.containers.iter().filter_map(|c| c.docker_id.clone()))
            .collect();
        let reads = self.docker.read_containers(&ids).await;
        let docker_problem = reads.iter().find_map(ContainerRead::problem);
        let by_id: HashMap<&str, &ContainerRead> =
            reads.iter().map(|r| (r.id.as_str(), r)).collect();
        let HostView {
            cluster,
            instance,
            tasks,
        } = view;
        let agent = AgentSummary {
            instance,
            tasks: tasks.len(),
        };
        let tasks = tasks
            .iter()
            .filter_map(|task| {
                let arn = task.arn.clone().filter(|a| !a.trim().is_empty())?;
                let running = task
                    .known_status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("RUNNING"));
                Some(TaskRead {
                    arn,
                    running,
                    snapshot: assemble::snapshot(cluster.as_deref(), task, &by_id, read_at),
                })
            })
            .collect();
        HostRead {
            agent: Ok(agent),
            tasks,
            docker_problem,
        }
    }
}
