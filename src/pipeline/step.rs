//! The whole of a cycle's logic, as one synchronous step with no I/O and no clock of its
//! own: what was read goes in (the poll, the tags if they were read, the time), the cycle
//! to deliver and what to say about it come out. The run loop (`crate::run`), `plan`, the
//! benchmarks and the fuzz targets all drive this same step.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::catalog::{self as m, Level, MetricDef, MetricSet, cloudwatch_accepts};
use super::compute::{Collector, Gap, Measurements, Sample};
use super::cycle::Cycle;
use super::dimensions::ContainerInstance;
use super::dimensions::Labeler;
use super::events::{Change, Event, Ongoing};
use super::instance::InstanceState;
use super::select::Selection;
use super::tags::TagState;
use crate::settings::Settings;
use crate::source::TagsRead;
use crate::source::metadata::{ContainerMetadata, FetchError, Snapshot, TaskMetadata};

/// The exporter's own totals so far (all outputs, all cycles), for its self metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub(crate) errors: u64,
    pub(crate) dropped_values: u64,
}

/// What the shell read for one cycle.
#[derive(Debug)]
pub struct Input {
    /// `/task` then `/task/stats`, or why they could not be read.
    pub poll: Result<Snapshot, FetchError>,
    /// The tags, when the shell read them this cycle ([`Pipeline::wants_tags`] said so).
    pub tags: Option<TagsRead>,
    /// The exporter's own container, when the shell read it this cycle
    /// ([`Pipeline::wants_own_container`] said so).
    pub own_container: Option<Result<ContainerMetadata, FetchError>>,
    /// The container instance from the ECS agent introspection API, when the shell read it
    /// this cycle ([`Pipeline::wants_container_instance`] said so).
    pub container_instance: Option<Result<ContainerInstance, String>>,
    /// When the cycle began (it schedules the next tag read).
    pub now: Instant,
    /// How long the cycle has taken so far (`ExporterCycleDuration`).
    pub elapsed: Duration,
    /// The exporter's totals when the step is called (`ExporterErrors`,
    /// `ExporterDroppedDatapoints`).
    pub totals: Totals,
}

/// What a step made.
#[derive(Debug)]
pub struct Step {
    /// The cycle to deliver, or why nothing could be collected.
    pub cycle: Result<Cycle, FetchError>,
    /// What to say, in order.
    pub(crate) events: Vec<Event>,
    /// Errors found this step (failed reads, unusable answers): the shell adds them to the
    /// exporter's error count.
    pub(crate) errors: u64,
    /// Values left out because CloudWatch would refuse them: the shell adds them to the
    /// exporter's dropped values.
    pub(crate) dropped_values: u64,
}

impl Step {
    /// Says the step's events on the exporter's log (the shell's part: the step does no I/O).
    pub fn log_events(&self) {
        for event in &self.events {
            event.log();
        }
    }
}

/// Everything a cycle needs from earlier cycles, and the settings that shape it.
#[derive(Debug)]
pub struct Pipeline {
    selection: Selection,
    collector: Collector,
    labeler: Labeler,
    tags: TagState,
    instance: InstanceState,
    tag_dimensions: bool,
    tags_refresh: Duration,
    tags_from_api: bool,
    /// The endpoint's problem (its kind: `FetchError::kind`), and the polls it has failed.
    endpoint: Ongoing<String>,
    failed_polls: u64,
    malformed: Ongoing<Vec<String>>,
    /// The containers' gaps of the last cycle: a gap is said when it begins.
    gaps: Vec<(String, Gap)>,
    /// The totals the last self metrics covered.
    published: Totals,
    /// Metrics whose value was refused as out of range, said already.
    said_out_of_range: MetricSet,
    /// Whether a poll succeeded: from then on every container, this one included, has its
    /// restart baseline, and the own container's metadata is no longer needed.
    polled: bool,
    /// Whether it was said that the own container's metadata could not be read.
    said_own_unread: bool,
}

impl Pipeline {
    pub fn new(settings: &Settings) -> Pipeline {
        let selection = Selection::new(settings);
        Pipeline {
            collector: Collector::computing(
                settings.exclude_containers.clone(),
                selection.computed,
            ),
            selection,
            labeler: Labeler::new(settings.dimensions.clone()),
            tags: TagState::default(),
            instance: InstanceState::default(),
            tag_dimensions: settings.dimensions.needs_tags(),
            tags_refresh: settings.tags_refresh,
            tags_from_api: settings.tags_from_api,
            endpoint: Ongoing::default(),
            failed_polls: 0,
            malformed: Ongoing::default(),
            gaps: Vec::new(),
            published: Totals::default(),
            said_out_of_range: MetricSet::default(),
            polled: false,
            said_own_unread: false,
        }
    }

    /// Whether the shell should read the exporter's own container before its first poll.
    /// A restarted sidecar is a new process: its first poll sees its own `RestartCount`
    /// already raised, with nothing to take it from, so without this its own restart would
    /// never be counted (see [`Collector::count_own_restart`]).
    pub fn wants_own_container(&self) -> bool {
        !self.polled && self.selection.computed.contains(&m::ContainerRestarts)
    }

    /// Whether the shell should read the container instance (when it can: the
    /// introspection API is configured) for the step at `now`: before the first labels, then
    /// every `ECS_EMF_TAGS_REFRESH`.
    pub fn wants_container_instance(&self, now: Instant) -> bool {
        self.instance.due(now)
    }

    /// Whether the shell should read the tags of `task` (just polled) for the step at `now`:
    /// only when a tag dimension is configured or the task names no service (the
    /// `aws:ecs:serviceName` tag then does), and only when a refresh is due.
    pub fn wants_tags(&self, task: &TaskMetadata, now: Instant) -> bool {
        let needed = self.tag_dimensions
            || task
                .service_name
                .as_deref()
                .is_none_or(|s| s.trim().is_empty());
        needed && self.tags.due(now)
    }

    /// Whether the shell should read `/task` once more when told to stop: an essential
    /// container's exit is what stops a task, and ECS sends the exporter SIGTERM for it
    /// before the next poll could see the exit. Not while the endpoint is failing: its
    /// problem was said, and one more failure at the stop would only say it again.
    pub fn wants_last_read(&self) -> bool {
        self.polled
            && self.endpoint.current().is_none()
            && self.selection.published.contains(&m::ContainerExits)
    }

    /// The last read at a stop: only the exits of containers seen stopping since the last
    /// poll (nothing else is measured: a part-interval would publish part-interval values).
    /// `None`: nothing to publish.
    pub fn last_step(&mut self, task: &TaskMetadata, received_at: DateTime<Utc>) -> Option<Cycle> {
        let containers = self.collector.exits(task);
        if containers.is_empty() {
            return None;
        }
        let measured = Measurements {
            containers,
            ..Measurements::default()
        };
        let entities = self
            .labeler
            .label(task, &self.tags.tags, measured, Vec::new());
        Some(Cycle {
            timestamp_ms: received_at.timestamp_millis(),
            entities,
        })
    }

    /// One cycle: measures the poll against the previous ones, labels the values and says
    /// what changed.
    pub fn step(&mut self, input: Input) -> Step {
        let mut events = Vec::new();
        match input.own_container {
            Some(Ok(own)) => {
                if let (Some(name), Some(restarts)) = (own.name, own.restart_count) {
                    self.collector.count_own_restart(name, restarts);
                }
            }
            Some(Err(e)) if !self.said_own_unread => {
                self.said_own_unread = true;
                events.push(Event::OwnContainerUnread(e));
            }
            _ => {}
        }
        let snapshot = match input.poll {
            Ok(snapshot) => snapshot,
            Err(e) => {
                if self.endpoint.update(Some(e.kind())) == Change::Began {
                    events.push(Event::EndpointFailed(e.clone()));
                }
                self.failed_polls += 1;
                return Step {
                    cycle: Err(e),
                    events,
                    errors: 1,
                    dropped_values: 0,
                };
            }
        };
        if let Change::Ended(_) = self.endpoint.update(None) {
            events.push(Event::EndpointRecovered {
                failed_polls: self.failed_polls,
            });
        }
        self.failed_polls = 0;
        self.polled = true;
        let mut errors = 0;
        let Snapshot {
            task,
            stats,
            malformed_stats,
            received_at,
            throttling,
        } = snapshot;
        let malformed = (!malformed_stats.is_empty()).then_some(malformed_stats);
        if self.malformed.update(malformed) == Change::Began
            && let Some(containers) = self.malformed.current()
        {
            errors += 1;
            events.push(Event::MalformedStats {
                containers: containers.clone(),
            });
        }
        if let Some(read) = input.tags {
            errors += self.tags.record(
                read,
                input.now,
                self.tags_refresh,
                self.tags_from_api,
                &mut events,
            );
        }
        if let Some(read) = input.container_instance {
            errors += self.instance.record(
                read,
                input.now,
                self.tags_refresh,
                &mut self.labeler,
                &mut events,
            );
        }
        let mut measured = self
            .collector
            .measure(&task, stats, throttling.as_ref(), received_at);
        self.say_new_gaps(&mut measured, &mut events);
        let dropped_values = self.keep_publishable(&mut measured, &mut events);
        let totals = Totals {
            errors: input.totals.errors + errors,
            dropped_values: input.totals.dropped_values + dropped_values,
        };
        let exporter = self.exporter_samples(totals, input.elapsed);
        let entities = self
            .labeler
            .label(&task, &self.tags.tags, measured, exporter);
        events.extend(
            self.labeler
                .take_problems()
                .into_iter()
                .map(Event::Dimension),
        );
        Step {
            cycle: Ok(Cycle {
                timestamp_ms: received_at.timestamp_millis(),
                entities,
            }),
            events,
            errors,
            dropped_values,
        }
    }

    /// One event per kind of gap, naming the containers it newly affects.
    fn say_new_gaps(&mut self, measured: &mut Measurements, events: &mut Vec<Event>) {
        let new: Vec<&(String, Gap)> = measured
            .gaps
            .iter()
            .filter(|g| !self.gaps.contains(g))
            .collect();
        let kinds: BTreeSet<Gap> = new.iter().map(|(_, gap)| *gap).collect();
        for gap in kinds {
            let containers = new
                .iter()
                .filter(|(_, g)| *g == gap)
                .map(|(name, _)| name.clone())
                .collect();
            events.push(Event::Gap { gap, containers });
        }
        self.gaps = std::mem::take(&mut measured.gaps);
    }

    /// Drops what was computed only because a published metric is made from it, and values
    /// CloudWatch would refuse (said once per metric); returns how many of those.
    fn keep_publishable(&mut self, measured: &mut Measurements, events: &mut Vec<Event>) -> u64 {
        let published = self.selection.published;
        let said = &mut self.said_out_of_range;
        let mut refused = 0;
        let mut keep = |s: &Sample| {
            if !published.contains(s.metric) {
                return false;
            }
            if cloudwatch_accepts(s.value) {
                return true;
            }
            refused += 1;
            if !said.contains(s.metric) {
                said.insert(s.metric);
                events.push(Event::OutOfRange {
                    metric: s.metric.name,
                    value: s.value,
                });
            }
            false
        };
        measured.task.retain(&mut keep);
        for c in &mut measured.containers {
            c.samples.retain(&mut keep);
        }
        measured.containers.retain(|c| !c.samples.is_empty());
        refused
    }

    /// `ExporterErrors` and `ExporterDroppedDatapoints` since the last cycle, and this
    /// cycle's duration: those of them the settings publish.
    fn exporter_samples(&mut self, totals: Totals, elapsed: Duration) -> Vec<Sample> {
        if !self.selection.publishes_level(Level::Exporter) {
            return Vec::new();
        }
        let since = self.published;
        self.published = totals;
        let values: [(&'static MetricDef, f64); 3] = [
            (
                &m::ExporterErrors,
                totals.errors.saturating_sub(since.errors) as f64,
            ),
            (
                &m::ExporterDroppedDatapoints,
                totals.dropped_values.saturating_sub(since.dropped_values) as f64,
            ),
            (&m::ExporterCycleDuration, elapsed.as_secs_f64() * 1000.0),
        ];
        values
            .into_iter()
            .filter(|(metric, _)| self.selection.published.contains(metric))
            .map(|(metric, value)| Sample { metric, value })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::events::TagSource;
    use crate::settings::RawSettings;
    use crate::source::metadata::Path;
    use chrono::{TimeZone, Utc};

    fn settings(raw: RawSettings) -> Settings {
        Settings::from_raw(&raw).expect("valid settings")
    }

    /// One container "app" (256 CPU units, 512 MiB) polled `at_s` seconds in, its CPU
    /// counter at `cpu_ns` and its memory usage 64 MiB; `stats` holds the entry.
    fn poll(at_s: i64, cpu_ns: u64, stats: &str) -> Result<Snapshot, FetchError> {
        let task = r#"{"Cluster":"prod","ServiceName":"web","TaskARN":"arn:aws:ecs:us-east-1:1:task/prod/abc",
            "Containers":[{"DockerId":"d1","Name":"app","KnownStatus":"RUNNING","Limits":{"CPU":256,"Memory":512}}]}"#;
        let stats = stats.replace("CPU_NS", &cpu_ns.to_string());
        let at = Utc
            .timestamp_opt(1_700_000_000 + at_s, 0)
            .single()
            .expect("time");
        Ok(Snapshot::from_bodies(task.as_bytes(), stats.as_bytes(), at).expect("parses"))
    }

    const STATS: &str = r#"{"d1":{"cpu_stats":{"cpu_usage":{"total_usage":CPU_NS}},"memory_stats":{"usage":67108864}}}"#;

    fn input(poll: Result<Snapshot, FetchError>) -> Input {
        Input {
            poll,
            tags: None,
            own_container: None,
            container_instance: None,
            now: Instant::now(),
            elapsed: Duration::from_millis(7),
            totals: Totals::default(),
        }
    }

    fn failed(status: u16) -> Result<Snapshot, FetchError> {
        Err(FetchError::Status {
            path: Path::Stats,
            status,
        })
    }

    fn values(cycle: &Cycle) -> Vec<(&str, &'static str, f64)> {
        cycle
            .entities
            .iter()
            .flat_map(|e| {
                e.samples
                    .iter()
                    .map(|s| (e.level.as_str(), s.metric.name, s.value))
            })
            .collect()
    }

    #[test]
    fn an_endpoint_problem_is_said_once_and_its_end_with_the_failed_polls() {
        let mut p = Pipeline::new(&settings(RawSettings::default()));
        let first = p.step(input(failed(500)));
        assert_eq!(first.errors, 1);
        assert!(first.cycle.is_err());
        assert!(
            matches!(
                &first.events[..],
                [Event::EndpointFailed(FetchError::Status {
                    status: 500,
                    ..
                })]
            ),
            "{:?}",
            first.events
        );
        let again = p.step(input(failed(500)));
        assert_eq!(
            (again.errors, again.events.len()),
            (1, 0),
            "the same problem"
        );
        let other = p.step(input(failed(429)));
        assert!(
            matches!(&other.events[..], [Event::EndpointFailed(e)] if e.kind() == "/task/stats HTTP 429"),
            "{:?}",
            other.events
        );
        let back = p.step(input(poll(0, 1_000_000_000, STATS)));
        assert_eq!(back.errors, 0);
        assert!(back.cycle.is_ok());
        assert_eq!(back.events, [Event::EndpointRecovered { failed_polls: 3 }]);
        let steady = p.step(input(poll(10, 2_000_000_000, STATS)));
        assert!(steady.events.is_empty(), "{:?}", steady.events);
    }

    #[test]
    fn a_task_utilization_alone_is_published_from_container_values_that_are_not() {
        let mut p = Pipeline::new(&settings(RawSettings {
            metrics: Some("CpuUtilization".into()),
            ..RawSettings::default()
        }));
        p.step(input(poll(0, 1_000_000_000, STATS)));
        let cycle = p
            .step(input(poll(10, 3_000_000_000, STATS)))
            .cycle
            .expect("collected");
        // 2e9 ns over 10 s = 0.2 vCPU = 204.8 units, of 256 reserved: 80 %.
        assert_eq!(values(&cycle), [("Task", "CpuUtilization", 80.0)]);
    }

    #[test]
    fn the_exporter_counts_its_own_errors_and_the_outputs_since_its_last_cycle() {
        let mut p = Pipeline::new(&settings(RawSettings {
            self_metrics: Some("true".into()),
            metrics: Some("Exporter*".into()),
            ..RawSettings::default()
        }));
        // A failed poll (counted by the shell from `errors`), then a malformed stats entry
        // this cycle, and 5 values an output dropped meanwhile.
        let failed = p.step(input(failed(500)));
        let malformed = r#"{"d1":[1,2,3]}"#;
        let step = p.step(Input {
            totals: Totals {
                errors: failed.errors,
                dropped_values: 5,
            },
            ..input(poll(0, 0, malformed))
        });
        assert_eq!(step.errors, 1, "the malformed entry");
        assert!(
            step.events.contains(&Event::MalformedStats {
                containers: vec!["d1".into()]
            }),
            "{:?}",
            step.events
        );
        let cycle = step.cycle.expect("collected");
        assert_eq!(
            values(&cycle),
            [
                ("Exporter", "ExporterErrors", 2.0),
                ("Exporter", "ExporterDroppedDatapoints", 5.0),
                ("Exporter", "ExporterCycleDuration", 7.0),
            ]
        );
        // Nothing new since: zeros, and the same malformed entry is not said again.
        let step = p.step(Input {
            totals: Totals {
                errors: 2,
                dropped_values: 5,
            },
            ..input(poll(10, 0, malformed))
        });
        assert!(step.events.is_empty(), "{:?}", step.events);
        let cycle = step.cycle.expect("collected");
        assert_eq!(
            values(&cycle)[..2],
            [
                ("Exporter", "ExporterErrors", 0.0),
                ("Exporter", "ExporterDroppedDatapoints", 0.0),
            ]
        );
    }

    #[test]
    fn tags_are_wanted_when_due_and_needed_and_their_failure_is_counted() {
        let p_default = Pipeline::new(&settings(RawSettings::default()));
        let snapshot = poll(0, 0, STATS).expect("parses");
        let now = Instant::now();
        assert!(
            !p_default.wants_tags(&snapshot.task, now),
            "no tag dimension and the task names its service"
        );
        let mut p = Pipeline::new(&settings(RawSettings {
            tag_dimensions: Some("team".into()),
            ..RawSettings::default()
        }));
        assert!(p.wants_tags(&snapshot.task, now));
        let step = p.step(Input {
            tags: Some(TagsRead {
                endpoint: Err(FetchError::Status {
                    path: Path::TaskWithTags,
                    status: 500,
                }),
                api: None,
            }),
            now,
            ..input(Ok(snapshot))
        });
        assert_eq!(step.errors, 1);
        assert!(
            matches!(
                &step.events[..],
                [Event::TagsFailed { from: TagSource::Endpoint, .. }, Event::Dimension(d)] if d.dimension == "team"
            ),
            "{:?}",
            step.events
        );
        let snapshot = poll(1, 0, STATS).expect("parses");
        assert!(!p.wants_tags(&snapshot.task, now + Duration::from_secs(1)));
        assert!(p.wants_tags(&snapshot.task, now + Duration::from_secs(300)));
    }

    #[test]
    fn values_cloudwatch_would_refuse_are_left_out_counted_and_said_once() {
        let task = r#"{"Cluster":"prod","ServiceName":"web","TaskARN":"arn:aws:ecs:us-east-1:1:task/prod/abc",
            "Containers":[{"DockerId":"d1","Name":"app","KnownStatus":"RUNNING","Limits":{"CPU":256,"Memory":1e308}}]}"#;
        let at = Utc.timestamp_opt(1_700_000_000, 0).single().expect("time");
        let snap = || {
            Snapshot::from_bodies(task.as_bytes(), STATS.replace("CPU_NS", "1").as_bytes(), at)
                .expect("parses")
        };
        let mut p = Pipeline::new(&settings(RawSettings::default()));
        let step = p.step(input(Ok(snap())));
        // Limits.Memory 1e308 MiB: the container's and the task's reservation (its sum), and
        // both utilizations (64 / 1e308 × 100 = 6.4e-305): four values, four metrics.
        assert_eq!(step.dropped_values, 4);
        let said: Vec<&str> = step
            .events
            .iter()
            .filter_map(|e| match e {
                Event::OutOfRange { metric, .. } => Some(*metric),
                _ => None,
            })
            .collect();
        assert_eq!(
            said,
            [
                "MemoryReserved",
                "MemoryUtilization",
                "ContainerMemoryReserved",
                "ContainerMemoryUtilization"
            ]
        );
        let cycle = step.cycle.expect("collected");
        let kept = values(&cycle);
        assert!(kept.contains(&("Task", "MemoryUtilized", 64.0)), "{kept:?}");
        assert!(
            kept.iter()
                .all(|(_, name, _)| !name.contains("MemoryReserved"))
        );
        let again = p.step(input(Ok(snap())));
        assert_eq!(again.dropped_values, 4);
        assert!(
            !again
                .events
                .iter()
                .any(|e| matches!(e, Event::OutOfRange { .. })),
            "said once"
        );
    }

    #[test]
    fn the_own_container_is_asked_for_until_a_poll_succeeds_and_its_failure_said_once() {
        let mut p = Pipeline::new(&settings(RawSettings::default()));
        assert!(p.wants_own_container());
        let unread = || {
            Some(Err(FetchError::Status {
                path: Path::Container,
                status: 404,
            }))
        };
        let first = p.step(Input {
            own_container: unread(),
            container_instance: None,
            ..input(failed(500))
        });
        assert!(
            matches!(
                &first.events[..],
                [
                    Event::OwnContainerUnread(FetchError::Status { status: 404, .. }),
                    Event::EndpointFailed(_)
                ]
            ),
            "{:?}",
            first.events
        );
        // Not an error of the exporter's: its metrics are all there without it.
        assert_eq!(first.errors, 1);
        assert!(p.wants_own_container(), "no poll succeeded yet");
        let second = p.step(Input {
            own_container: unread(),
            container_instance: None,
            ..input(poll(0, 1_000_000_000, STATS))
        });
        assert_eq!(
            second.events,
            [Event::EndpointRecovered { failed_polls: 1 }],
            "the own container's problem is said once"
        );
        assert!(
            !p.wants_own_container(),
            "every container has a baseline now"
        );
    }

    #[test]
    fn the_last_read_is_wanted_after_a_good_poll_only_and_only_for_exits() {
        let mut p = Pipeline::new(&settings(RawSettings::default()));
        assert!(
            !p.wants_last_read(),
            "nothing polled: no baseline to compare"
        );
        p.step(input(poll(0, 1_000_000_000, STATS)));
        assert!(p.wants_last_read());
        p.step(input(failed(500)));
        assert!(
            !p.wants_last_read(),
            "the endpoint is failing: said already"
        );
        p.step(input(poll(60, 2_000_000_000, STATS)));
        assert!(p.wants_last_read());
        let mut no_exits = Pipeline::new(&settings(RawSettings {
            exclude_metrics: Some("ContainerExits".into()),
            ..RawSettings::default()
        }));
        no_exits.step(input(poll(0, 1_000_000_000, STATS)));
        assert!(!no_exits.wants_last_read());
        // The read at the stop: the container has stopped since the last poll.
        let stopped = r#"{"Cluster":"prod","ServiceName":"web","TaskARN":"arn:aws:ecs:us-east-1:1:task/prod/abc",
            "Containers":[{"DockerId":"d1","Name":"app","KnownStatus":"STOPPED","ExitCode":143}]}"#;
        let task = crate::source::metadata::parse::task(stopped.as_bytes()).expect("parses");
        let at = Utc.timestamp_opt(1_700_000_090, 0).single().expect("time");
        let cycle = p.last_step(&task, at).expect("one exit");
        assert_eq!(values(&cycle), [("Container", "ContainerExits", 1.0)]);
        assert_eq!(cycle.entities[0].field("ExitCode"), Some("143"));
        assert_eq!(cycle.timestamp_ms, 1_700_000_090_000);
        assert!(p.last_step(&task, at).is_none(), "said once");
    }

    #[test]
    fn no_own_container_is_asked_for_when_neither_restarts_nor_exits_are_published() {
        let p = Pipeline::new(&settings(RawSettings {
            exclude_metrics: Some("ContainerRestarts,ContainerExits".into()),
            ..RawSettings::default()
        }));
        assert!(!p.wants_own_container());
        // A restart is an exit too: ContainerExits alone still needs the own container.
        let p = Pipeline::new(&settings(RawSettings {
            exclude_metrics: Some("ContainerRestarts".into()),
            ..RawSettings::default()
        }));
        assert!(p.wants_own_container());
    }
}
