//! The run loop: poll → compute → label → deliver, once per interval, until told to stop.

pub mod health;
pub mod ticker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::output::{Counters, DeliveryReport, Output};
use crate::pipeline::cycle::Cycle;
use crate::pipeline::dimensions::{Labeler, Tags};
use crate::pipeline::{Collector, Sample, catalog};
use crate::run::health::HealthFile;
use crate::run::ticker::Ticker;
use crate::settings::Settings;
use crate::source::metadata::{Client, FetchError, TaskMetadata, TaskTagsResponse};

/// Sees every cycle the run loop delivers (the demo's table).
pub type CycleObserver = Box<dyn FnMut(&Cycle) + Send>;

/// How long shutdown waits for outputs to flush: below ECS's default 30 s stop timeout.
pub const FLUSH_DEADLINE: Duration = Duration::from_secs(20);

/// The longest a single metadata request may take.
pub fn request_timeout(interval: Duration) -> Duration {
    interval.min(Duration::from_secs(5))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Until SIGTERM or SIGINT.
    OnSignal,
    /// After this many cycles (or a signal, whichever comes first).
    AfterCycles(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub cycles: u64,
    pub collected: u64,
    pub delivery: DeliveryReport,
}

/// Logs a failing endpoint once per distinct problem, and once when it recovers.
#[derive(Debug, Default)]
struct ProblemLog {
    current: Option<String>,
    failures: u64,
}

impl ProblemLog {
    fn failed(&mut self, e: &FetchError) {
        let kind = e.kind();
        if self.current.as_deref() != Some(kind.as_str()) {
            tracing::warn!("{e}");
            self.current = Some(kind);
        }
        self.failures += 1;
    }

    fn succeeded(&mut self) {
        if self.current.take().is_some() {
            tracing::info!(
                "metadata endpoint answers again after {} failed polls",
                self.failures
            );
        }
        self.failures = 0;
    }
}

/// Tags from `/taskWithTags`: read at start and every refresh; the last good ones stay in
/// use when a read fails.
#[derive(Debug, Default)]
struct TagState {
    tags: Tags,
    next_read: Option<Instant>,
    problem: Option<String>,
    api_problem: Option<String>,
}

fn tag_map(
    raw: Option<std::collections::BTreeMap<String, serde_json::Value>>,
) -> std::collections::BTreeMap<String, String> {
    raw.unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(n) => Some((k, n.to_string())),
            serde_json::Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect()
}

fn merge(
    current: &mut std::collections::BTreeMap<String, String>,
    read: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    keep_missing: bool,
) {
    match read {
        Some(map) => *current = tag_map(Some(map)),
        None if keep_missing => {}
        None => current.clear(),
    }
}

/// `Errors[]` entries, short: `ErrorField: ErrorCode` (no messages: they can be long).
fn describe_tag_errors(errors: &[serde_json::Value]) -> String {
    errors
        .iter()
        .map(|e| {
            let field = e
                .get("ErrorField")
                .and_then(|v| v.as_str())
                .unwrap_or("tags");
            let code = e
                .get("ErrorCode")
                .and_then(|v| v.as_str())
                .unwrap_or("error");
            format!("{field}: {code}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Logs a problem once when it appears or changes, and once when it is gone.
fn report_once(current: &mut Option<String>, problem: Option<String>, what: &str) {
    match (&problem, &*current) {
        (Some(p), now) if now.as_ref() != Some(p) => {
            tracing::warn!(
                "{what}: {p}; tag dimensions keep their last known values ('unknown' if none)"
            );
        }
        (None, Some(_)) => tracing::info!("{what}: read again successfully"),
        _ => {}
    }
    *current = problem;
}

impl TagState {
    fn due(&self, now: Instant) -> bool {
        self.next_read.is_none_or(|t| now >= t)
    }

    fn report(&mut self, problem: Option<String>) {
        report_once(&mut self.problem, problem, "tags");
    }

    /// Records a `/taskWithTags` answer. `api_fallback`: tags also come from the ECS API.
    fn apply(&mut self, result: Result<TaskTagsResponse, FetchError>, api_fallback: bool) {
        match result {
            Ok(response) => {
                let errors =
                    (!response.errors.is_empty()).then(|| describe_tag_errors(&response.errors));
                // With `Errors`, a map the agent could not read is missing: its last good
                // values stay. Without, a missing map means "no tags" and replaces them.
                let keep_missing = errors.is_some();
                merge(&mut self.tags.task, response.task_tags, keep_missing);
                merge(
                    &mut self.tags.container_instance,
                    response.container_instance_tags,
                    keep_missing,
                );
                self.report(errors.map(|e| {
                    format!("/taskWithTags reports {e} (on EC2 the instance role needs ecs:ListTagsForResource)")
                }));
            }
            Err(e) => {
                let hint = match (&e, api_fallback) {
                    (_, true) => "; reading the task's tags through the ECS API instead",
                    (FetchError::Status { status: 404, .. }, false) => {
                        "; Fargate documents no /taskWithTags path: use ECS_EMF_STATIC_DIMENSIONS, or ECS_EMF_TAGS_FROM_API=true"
                    }
                    _ => "",
                };
                self.report(Some(format!("{e}{hint}")));
            }
        }
    }
}

pub struct Runner {
    settings: Settings,
    client: Client,
    collector: Collector,
    labeler: Labeler,
    output: Box<dyn Output>,
    counters: Arc<Counters>,
    problems: ProblemLog,
    tags: TagState,
    ecs_tags: crate::source::ecs_api::EcsTagReader,
    health: Option<HealthFile>,
    observer: Option<CycleObserver>,
    published_errors: u64,
    published_drops: u64,
    reported_malformed: Vec<String>,
    /// The containers' gaps logged last cycle: a gap is logged when it begins, not every cycle.
    reported_gaps: Vec<(String, crate::pipeline::compute::Gap)>,
}

impl Runner {
    pub fn new(
        settings: Settings,
        client: Client,
        output: Box<dyn Output>,
        counters: Arc<Counters>,
    ) -> Runner {
        Runner {
            collector: Collector::new(settings.exclude_containers.clone()),
            labeler: Labeler::new(settings.dimensions.clone()),
            settings,
            client,
            output,
            counters,
            problems: ProblemLog::default(),
            tags: TagState::default(),
            ecs_tags: crate::source::ecs_api::EcsTagReader::default(),
            health: None,
            observer: None,
            published_errors: 0,
            published_drops: 0,
            reported_malformed: Vec::new(),
            reported_gaps: Vec::new(),
        }
    }

    /// Record each good collection for `healthcheck`.
    pub fn with_health_file(mut self, health: HealthFile) -> Runner {
        self.health = Some(health);
        self
    }

    /// Called with every delivered cycle (the demo's table).
    pub fn with_observer(mut self, observer: CycleObserver) -> Runner {
        self.observer = Some(observer);
        self
    }

    fn tags_needed(&self, task: &TaskMetadata) -> bool {
        self.settings.dimensions.needs_tags()
            || task
                .service_name
                .as_deref()
                .is_none_or(|s| s.trim().is_empty())
    }

    async fn refresh_tags(&mut self, task: &TaskMetadata) {
        let now = Instant::now();
        if !self.tags_needed(task) || !self.tags.due(now) {
            return;
        }
        self.tags.next_read = Some(now + self.settings.tags_refresh);
        let result = self.client.task_with_tags().await;
        if result.is_err() {
            Counters::add(&self.counters.errors, 1);
        }
        // The API is asked only where /taskWithTags cannot answer (interface.md).
        let unavailable = result.as_ref().map_or(true, |r| !r.errors.is_empty());
        let api_fallback = self.settings.tags_from_api;
        self.tags.apply(result, api_fallback);
        let Some(task_arn) = task
            .task_arn
            .as_deref()
            .filter(|_| api_fallback && unavailable)
        else {
            return;
        };
        let problem = match self.ecs_tags.task_tags(task_arn).await {
            Ok(tags) => {
                self.tags.tags.api = tags;
                None
            }
            Err(e) => {
                Counters::add(&self.counters.errors, 1);
                Some(e)
            }
        };
        report_once(
            &mut self.tags.api_problem,
            problem,
            "tags through the ECS API",
        );
    }

    fn exporter_samples(&mut self, started: Instant) -> Vec<Sample> {
        if !self.settings.self_metrics {
            return Vec::new();
        }
        let errors = Counters::get(&self.counters.errors);
        let drops = Counters::get(&self.counters.dropped_values);
        let samples = vec![
            Sample {
                metric: &catalog::ExporterErrors,
                value: errors.saturating_sub(self.published_errors) as f64,
            },
            Sample {
                metric: &catalog::ExporterDroppedDatapoints,
                value: drops.saturating_sub(self.published_drops) as f64,
            },
            Sample {
                metric: &catalog::ExporterCycleDuration,
                value: started.elapsed().as_secs_f64() * 1000.0,
            },
        ];
        self.published_errors = errors;
        self.published_drops = drops;
        samples
            .into_iter()
            .filter(|s| self.settings.metric_selected(s.metric))
            .collect()
    }

    /// One poll and delivery. `Err` says why nothing was collected (already logged, once
    /// per distinct problem).
    pub async fn cycle(&mut self) -> Result<(), String> {
        let started = Instant::now();
        Counters::add(&self.counters.cycles, 1);
        let snapshot = match self.client.snapshot().await {
            Ok(s) => s,
            Err(e) => {
                Counters::add(&self.counters.errors, 1);
                self.problems.failed(&e);
                return Err(e.to_string());
            }
        };
        self.problems.succeeded();
        if snapshot.malformed_stats != self.reported_malformed {
            if !snapshot.malformed_stats.is_empty() {
                Counters::add(&self.counters.errors, 1);
                tracing::warn!(
                    "stats of containers {:?} have an unexpected shape; they are left out until they parse again",
                    snapshot.malformed_stats
                );
            }
            self.reported_malformed = snapshot.malformed_stats.clone();
        }
        self.refresh_tags(&snapshot.task).await;
        let timestamp_ms = snapshot.received_at.timestamp_millis();
        let mut measured = self.collector.collect(snapshot);
        // One line per kind of gap, naming the containers it newly affects (gaps are sorted).
        let new_gaps: Vec<&(String, crate::pipeline::compute::Gap)> = measured
            .gaps
            .iter()
            .filter(|g| !self.reported_gaps.contains(g))
            .collect();
        for kind in new_gaps
            .iter()
            .map(|(_, gap)| *gap)
            .collect::<std::collections::BTreeSet<_>>()
        {
            let names: Vec<&str> = new_gaps
                .iter()
                .filter(|(_, g)| *g == kind)
                .map(|(n, _)| n.as_str())
                .collect();
            tracing::info!("containers {names:?}: {kind}");
        }
        self.reported_gaps = std::mem::take(&mut measured.gaps);
        measured
            .task
            .retain(|s| self.settings.metric_selected(s.metric));
        if !self.settings.container_metrics {
            measured.containers.clear();
        }
        for c in &mut measured.containers {
            c.samples
                .retain(|s| self.settings.metric_selected(s.metric));
        }
        measured.containers.retain(|c| !c.samples.is_empty());
        let exporter = self.exporter_samples(started);
        let Some(task) = self.collector.latest_task() else {
            return Err("the poll left no task to label".to_string());
        };
        let entities = self
            .labeler
            .label(task, &self.tags.tags, measured, exporter);
        let cycle = Arc::new(Cycle {
            timestamp_ms,
            entities,
        });
        if let Some(observer) = self.observer.as_mut() {
            observer(&cycle);
        }
        self.output.deliver(cycle);
        if let Some(health) = self.health.as_mut() {
            health.record();
        }
        Ok(())
    }

    /// Runs until `stop`, then finishes the cycle in flight, flushes the output and reports.
    pub async fn run(mut self, stop: Stop) -> RunSummary {
        tracing::info!(
            "ecs-emf-exporter {}: {}",
            env!("CARGO_PKG_VERSION"),
            self.settings.describe()
        );
        let mut term = signal(SignalKind::terminate()).ok();
        let mut int = signal(SignalKind::interrupt()).ok();
        let mut ticker = Ticker::new(self.settings.interval);
        let (mut cycles, mut collected) = (0u64, 0u64);
        loop {
            // A signal only interrupts the wait between cycles: a cycle in flight finishes.
            tokio::select! {
                biased;
                _ = next_signal(&mut term) => { tracing::info!("SIGTERM received: flushing and exiting"); break; }
                _ = next_signal(&mut int) => { tracing::info!("SIGINT received: flushing and exiting"); break; }
                _ = ticker.tick() => {}
            }
            cycles += 1;
            if self.cycle().await.is_ok() {
                collected += 1;
            }
            if let Stop::AfterCycles(n) = stop
                && cycles >= n
            {
                break;
            }
        }
        let delivery = self.output.close(FLUSH_DEADLINE).await;
        let c = &self.counters;
        tracing::info!(
            cycles,
            collected,
            documents = delivery.documents,
            values = delivery.values,
            errors = Counters::get(&c.errors),
            dropped_values = delivery.dropped_values,
            flushed = delivery.flushed,
            "stopped"
        );
        RunSummary {
            cycles,
            collected,
            delivery,
        }
    }
}

async fn next_signal(signal: &mut Option<Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl TagState {
        fn apply_test(&mut self, result: Result<TaskTagsResponse, FetchError>) {
            self.apply(result, false);
        }
    }

    fn response(json: &str) -> Result<TaskTagsResponse, FetchError> {
        Ok(crate::source::metadata::parse::task_with_tags(json.as_bytes()).expect("valid"))
    }

    #[test]
    fn tags_that_fail_to_read_keep_their_last_good_values() {
        let mut state = TagState::default();
        state.apply_test(response(
            r#"{"TaskTags": {"env": "prod"}, "ContainerInstanceTags": {"team": "platform"}}"#,
        ));
        assert_eq!(
            (state.tags.get("env"), state.tags.get("team")),
            (Some("prod"), Some("platform"))
        );
        // The instance tags fail: task tags update, instance tags stay.
        state.apply_test(response(
            r#"{"TaskTags": {"env": "staging"}, "Errors": [{"ErrorField": "ContainerInstanceTags", "ErrorCode": "AccessDeniedException"}]}"#,
        ));
        assert_eq!(
            (state.tags.get("env"), state.tags.get("team")),
            (Some("staging"), Some("platform"))
        );
        assert!(
            state
                .problem
                .as_deref()
                .is_some_and(|p| p.contains("ContainerInstanceTags: AccessDeniedException"))
        );
        // The endpoint fails entirely: everything stays.
        state.apply_test(Err(FetchError::Status {
            path: crate::source::metadata::Path::TaskWithTags,
            status: 500,
        }));
        assert_eq!(state.tags.get("env"), Some("staging"));
        // A clean answer without instance tags means there are none.
        state.apply_test(response(r#"{"TaskTags": {"env": "prod"}}"#));
        assert_eq!(
            (state.tags.get("env"), state.tags.get("team")),
            (Some("prod"), None)
        );
        assert!(state.problem.is_none());
    }

    #[test]
    fn one_log_line_per_distinct_endpoint_problem() {
        let mut log = ProblemLog::default();
        let e500 = FetchError::Status {
            path: crate::source::metadata::Path::Stats,
            status: 500,
        };
        log.failed(&e500);
        let first = log.current.clone();
        log.failed(&e500);
        assert_eq!(log.current, first);
        assert_eq!(log.failures, 2);
        log.failed(&FetchError::Status {
            path: crate::source::metadata::Path::Stats,
            status: 429,
        });
        assert_eq!(log.current.as_deref(), Some("/task/stats HTTP 429"));
        log.succeeded();
        assert_eq!((log.current.clone(), log.failures), (None, 0));
    }
}
