//! Daemon mode's source: every task on one EC2 container instance, found through the ECS
//! agent introspection API (`/v1/metadata`, `/v1/tasks`) and read through the Docker Engine
//! API (inspect, and the stats of the containers that run), made into one [`Snapshot`] per
//! task ([`assemble`]) so the sidecar's pipeline measures each.

pub(crate) mod assemble;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::Utc;

use super::cgroup::{CgroupDriver, CgroupTree, CpuStat};
use super::docker::{ContainerRead, Docker, DockerHost, INSPECT_CONCURRENCY, STATS_CONCURRENCY};
use super::ecs_api::{ServiceAnswer, ServiceLookup};
use super::introspection::{AgentTask, HostView, Introspection};
use super::metadata::{EndpointUrl, Snapshot};

/// One task's read.
#[derive(Debug)]
pub(crate) struct TaskRead {
    pub(crate) arn: String,
    /// Whether the agent says the task runs (`KnownStatus` RUNNING): a task is first
    /// measured while it runs (a task already stopped when first seen exited before the
    /// daemon watched, like the sidecar's first poll).
    pub(crate) running: bool,
    /// Whether the agent says it stopped (`KnownStatus` STOPPED): its last step is measured
    /// (its exits), then it is not measured again, though the agent lists it until it
    /// cleans the task up (3 h by default).
    pub(crate) stopped: bool,
    /// Whether Docker described every listed container it still knows. When it could not
    /// (it is down, the socket is denied, a request timed out), the snapshot would be a
    /// task without those containers: not measured this cycle rather than published as a
    /// task where nothing runs.
    pub(crate) complete: bool,
    pub(crate) snapshot: Snapshot,
    /// The task's tags from `ecs:DescribeTasks` (`ECS_EMF_TAGS_FROM_API`), when known.
    pub(crate) tags: Option<BTreeMap<String, String>>,
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
    /// Why a task's cgroup counters could not be read, when they could not (then that
    /// task has no task-level throttling this cycle; its containers' come from Docker).
    pub(crate) cgroup_problem: Option<String>,
    /// `ecs:DescribeTasks` (`ECS_EMF_SERVICE_FROM_API`): why it failed, on the first
    /// failure of a run of them only, and whether it answers again after one.
    pub(crate) service_problem: Option<String>,
    pub(crate) service_recovered: bool,
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
    /// The host's cgroup tree, or why it is not usable (said once at the start).
    cgroups: Result<CgroupTree, String>,
    /// Docker's cgroup driver, once Docker has said it (`GET /info`).
    driver: Option<CgroupDriver>,
    /// Each task's service and tags through `ecs:DescribeTasks`, when asked for.
    services: Option<ServiceLookup>,
    /// Whether the services the lookup learns name the tasks' `ServiceName`
    /// (`ECS_EMF_SERVICE_FROM_API`); the lookup may run for the tags alone.
    names_services: bool,
}

impl HostSource {
    pub(crate) fn new(
        introspection: &EndpointUrl,
        docker: &DockerHost,
        cgroup_root: &std::path::Path,
        timeout: Duration,
    ) -> HostSource {
        HostSource {
            introspection: Introspection::new(introspection, timeout),
            docker: Docker::new(docker, timeout, INSPECT_CONCURRENCY, STATS_CONCURRENCY),
            cgroups: CgroupTree::detect(cgroup_root),
            driver: None,
            services: None,
            names_services: false,
        }
    }

    /// From now on, `ecs:DescribeTasks` gives each task its ServiceName when `services`
    /// (`ECS_EMF_SERVICE_FROM_API=true`) and its tags, read again every `tags_refresh`, when
    /// that is given (`ECS_EMF_TAGS_FROM_API=true`).
    #[must_use]
    pub(crate) fn with_ecs_lookup(
        mut self,
        services: bool,
        tags_refresh: Option<Duration>,
    ) -> HostSource {
        if services || tags_refresh.is_some() {
            self.services = Some(ServiceLookup::new(tags_refresh));
            self.names_services = services;
        }
        self
    }

    /// The cgroup tree when it is usable, or why not.
    pub(crate) fn cgroups(&self) -> Result<&CgroupTree, &str> {
        self.cgroups.as_ref().map_err(String::as_str)
    }

    /// What the Docker daemon says of itself (its cgroup driver and version), for the
    /// start's log line and the cgroup paths.
    pub(crate) async fn docker_info(&mut self) -> Result<super::docker::DockerInfo, String> {
        let info = self.docker.info().await?;
        self.driver = info.cgroup_driver.as_deref().and_then(CgroupDriver::parse);
        Ok(info)
    }

    /// Where Docker is read.
    pub(crate) fn docker_host(&self) -> &DockerHost {
        self.docker.host()
    }

    /// The agent's tasks, then every listed container's inspect and (while it runs) stats.
    pub(crate) async fn read(&mut self) -> HostRead {
        if self.driver.is_none() && self.cgroups.is_ok() {
            // Not known yet (Docker did not answer at the start): asked again, since the
            // task cgroups' paths depend on it. A failure here shows in the reads below.
            let _ = self.docker_info().await;
        }
        let read_at = Utc::now();
        let view = match self.introspection.host().await {
            Ok(view) => view,
            Err(e) => {
                return HostRead {
                    agent: Err(e),
                    tasks: Vec::new(),
                    docker_problem: None,
                    cgroup_problem: None,
                    service_problem: None,
                    service_recovered: false,
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
        let mut cgroup_problem = None;
        let mut services = match &mut self.services {
            Some(lookup) => {
                let arns: Vec<String> = tasks
                    .iter()
                    .filter_map(|t| t.arn.clone())
                    .filter(|a| !a.trim().is_empty())
                    .collect();
                let cluster = cluster.as_deref().unwrap_or_default();
                lookup
                    .services(cluster, &arns, std::time::Instant::now())
                    .await
            }
            None => ServiceAnswer::default(),
        };
        let agent = AgentSummary {
            instance,
            tasks: tasks.len(),
        };
        // Each task's tags are moved into its read, not copied.
        let mut tags_by_task = std::mem::take(&mut services.tags);
        let tasks = tasks
            .iter()
            .filter_map(|task| {
                let arn = task.arn.clone().filter(|a| !a.trim().is_empty())?;
                let running = task
                    .known_status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("RUNNING"));
                let task_cpu_stat = match self.task_cpu_stat(task, &by_id) {
                    Ok(stat) => stat,
                    Err(e) => {
                        cgroup_problem.get_or_insert(e);
                        None
                    }
                };
                let mut snapshot =
                    assemble::snapshot(cluster.as_deref(), task, &by_id, task_cpu_stat, read_at);
                if self.names_services {
                    snapshot.task.service_name = services.services.get(&arn).cloned().flatten();
                }
                let tags = tags_by_task
                    .remove(&arn)
                    .map(|t| task_tags(t, self.names_services));
                let complete = task
                    .containers
                    .iter()
                    .filter_map(|c| by_id.get(c.docker_id.as_deref()?))
                    .all(|r| r.inspect.is_ok() || r.gone);
                let stopped = task
                    .known_status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("STOPPED"));
                Some(TaskRead {
                    arn,
                    running,
                    stopped,
                    complete,
                    snapshot,
                    tags,
                })
            })
            .collect();
        HostRead {
            agent: Ok(agent),
            tasks,
            docker_problem,
            cgroup_problem,
            service_problem: services.problem,
            service_recovered: services.recovered,
        }
    }

    /// The counters of `task`'s own cgroup: `Ok(None)` when it has none (its containers'
    /// `CgroupParent` is not a task cgroup the agent made: task limits off, or Docker's
    /// default parent) or the tree or Docker's driver is not known.
    fn task_cpu_stat(
        &self,
        task: &AgentTask,
        reads: &HashMap<&str, &ContainerRead>,
    ) -> Result<Option<CpuStat>, String> {
        let (Ok(tree), Some(driver)) = (&self.cgroups, self.driver) else {
            return Ok(None);
        };
        // The agent gives every container of a task the same parent; the first Docker
        // describes says it.
        let parent = task
            .containers
            .iter()
            .filter_map(|c| reads.get(c.docker_id.as_deref()?))
            .filter_map(|r| r.inspect.as_ref().ok()?.host_config.as_ref())
            .find_map(|h| h.cgroup_parent.clone());
        match tree.task_dir(driver, parent.as_deref()) {
            Some(dir) => tree.cpu_stat(&dir).map(Some),
            None => Ok(None),
        }
    }
}

/// The tags a task is labelled with. Without `ECS_EMF_SERVICE_FROM_API` (`names_services`
/// false) the ECS-managed `aws:ecs:serviceName` tag is left out: the labels would take the
/// service from it, and the documents would name a `ServiceName` that the dimension sets
/// `metrics --json --daemon` lists for these settings do not (they name
/// `TaskDefinitionFamily`).
fn task_tags(mut tags: BTreeMap<String, String>, names_services: bool) -> BTreeMap<String, String> {
    if !names_services {
        tags.remove("aws:ecs:serviceName");
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_managed_service_tag_names_the_service_only_when_the_service_comes_from_the_api() {
        let tags = BTreeMap::from([
            ("aws:ecs:serviceName".to_string(), "web".to_string()),
            ("aws:ecs:clusterName".to_string(), "prod".to_string()),
            ("team".to_string(), "payments".to_string()),
        ]);
        assert_eq!(task_tags(tags.clone(), true), tags);
        assert_eq!(
            task_tags(tags, false),
            BTreeMap::from([
                ("aws:ecs:clusterName".to_string(), "prod".to_string()),
                ("team".to_string(), "payments".to_string()),
            ])
        );
    }
}
