//! Daemon mode's part of the run loop: one read of the host, then one [`Pipeline`] step per
//! task, each task with its own pipeline (its own previous poll, its own exits), made when
//! the task is first seen running and dropped when the agent no longer lists it.

use std::collections::{HashMap, HashSet};

use crate::pipeline::events::{Change, Ongoing, Outside};
use crate::pipeline::{Input, Pipeline, Step, Totals};
use crate::settings::Settings;
use crate::source::TagsRead;
use crate::source::host::HostSource;
use crate::source::metadata::TaskTagsResponse;

/// What one read of the host gave the run loop.
pub(crate) struct HostCycle {
    /// One step per task measured, in the agent's order.
    pub(crate) steps: Vec<Step>,
    /// Errors of the host read itself (the agent or Docker failing), besides the steps'.
    pub(crate) errors: u64,
    /// Whether the agent answered: a host with no task is a good collection too.
    pub(crate) collected: bool,
}

pub(crate) struct HostWork {
    source: HostSource,
    settings: Settings,
    /// By task ARN.
    pipelines: HashMap<String, Pipeline>,
    agent: Ongoing<String>,
    /// Docker and the cgroups: whether there is a problem, not which (one outage fails
    /// different requests with different messages; the first is said, then its end).
    docker: Ongoing<()>,
    cgroup: Ongoing<()>,
    /// Reads of the agent that failed since it last answered.
    failed_reads: u64,
}

impl HostWork {
    pub(crate) fn new(source: HostSource, settings: &Settings) -> HostWork {
        HostWork {
            source,
            settings: settings.clone(),
            pipelines: HashMap::new(),
            agent: Ongoing::default(),
            docker: Ongoing::default(),
            cgroup: Ongoing::default(),
            failed_reads: 0,
        }
    }

    pub(crate) async fn cycle(
        &mut self,
        started: tokio::time::Instant,
        totals: Totals,
    ) -> HostCycle {
        let read = self.source.read().await;
        let now = started.into_std();
        let summary = match read.agent {
            Ok(summary) => summary,
            Err(problem) => {
                self.failed_reads += 1;
                if self.agent.update(Some(problem.clone())) == Change::Began {
                    tracing::warn!(
                        "{problem}: no task on this instance is measured until it answers"
                    );
                }
                return HostCycle {
                    steps: Vec::new(),
                    errors: 1,
                    collected: false,
                };
            }
        };
        if let Change::Ended(_) = self.agent.update(None) {
            tracing::info!(
                "the ECS agent introspection API answers again after {} failed reads",
                self.failed_reads
            );
        }
        self.failed_reads = 0;
        let errors = u64::from(read.docker_problem.is_some());
        match (
            self.docker.update(read.docker_problem.as_ref().map(|_| ())),
            &read.docker_problem,
        ) {
            (Change::Began, Some(problem)) => tracing::warn!(
                "{problem}: a task whose containers Docker cannot describe is not measured until it can"
            ),
            (Change::Ended(()), _) => tracing::info!("Docker describes every container again"),
            _ => {}
        }
        let errors = errors + u64::from(read.cgroup_problem.is_some());
        match (
            self.cgroup.update(read.cgroup_problem.as_ref().map(|_| ())),
            &read.cgroup_problem,
        ) {
            (Change::Began, Some(problem)) => tracing::warn!(
                "{problem}: task-level CPU throttling is left out where the task cgroup cannot be read"
            ),
            (Change::Ended(()), _) => tracing::info!("every task cgroup can be read again"),
            _ => {}
        }
        if let Some(problem) = &read.service_problem {
            tracing::warn!(
                "{problem}; meanwhile those tasks publish TaskDefinitionFamily where a set names ServiceName, and tag dimensions as 'unknown'"
            );
        }
        if read.service_recovered {
            tracing::info!("ecs:DescribeTasks answers again");
        }
        let errors = errors + u64::from(read.service_problem.is_some());
        let listed: HashSet<String> = read.tasks.iter().map(|t| t.arn.clone()).collect();
        let mut steps = Vec::with_capacity(read.tasks.len());
        let mut finished = Vec::new();
        for task in read.tasks {
            if !task.complete {
                // Not measured this cycle: without the containers Docker could not describe
                // it would read as a task where nothing runs, and its pipeline would forget
                // the exits it published. Its pipeline waits for the next complete read.
                continue;
            }
            if !self.pipelines.contains_key(&task.arn) {
                if !task.running {
                    continue;
                }
                tracing::info!("measuring task {}", Outside(&task.arn));
            }
            if task.stopped {
                finished.push(task.arn.clone());
            }
            let pipeline = self
                .pipelines
                .entry(task.arn)
                .or_insert_with(|| Pipeline::new(&self.settings));
            let container_instance = pipeline
                .wants_container_instance(now)
                .then(|| Ok(summary.instance.clone()));
            // Tags from ecs:DescribeTasks, given as the task's own tags of a /taskWithTags
            // answer when the pipeline wants a read (a task not described yet waits).
            let tags = task
                .tags
                .as_ref()
                .filter(|_| pipeline.wants_tags(&task.snapshot.task, now))
                .map(described_tags);
            steps.push(pipeline.step(Input {
                poll: Ok(task.snapshot),
                tags,
                own_container: None,
                container_instance,
                now,
                elapsed: started.elapsed(),
                totals,
            }));
        }
        for arn in finished {
            // Its last step published its exits; the agent keeps listing it until it cleans
            // the task up, and measuring it meanwhile would publish a task with nothing
            // running. Not made again: a stopped task is not running.
            self.pipelines.remove(&arn);
            tracing::info!("task {} stopped", Outside(&arn));
        }
        self.pipelines.retain(|arn, _| {
            let keep = listed.contains(arn);
            if !keep {
                tracing::info!("task {} is no longer listed by the agent", Outside(arn));
            }
            keep
        });
        HostCycle {
            steps,
            errors,
            collected: true,
        }
    }
}

/// A task's tags from `ecs:DescribeTasks` as the pipeline reads tags: the task's own tags of
/// a `/taskWithTags` answer, without container instance tags (no API call asks for them).
fn described_tags(tags: &std::collections::BTreeMap<String, String>) -> TagsRead {
    TagsRead {
        endpoint: Ok(TaskTagsResponse {
            task_tags: Some(
                tags.iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
            ),
            container_instance_tags: None,
            errors: Vec::new(),
        }),
        api: None,
    }
}
