//! The CloudWatch metrics a cycle creates, and how their number grows with tasks.
//!
//! A CloudWatch metric is a namespace, a metric name and a set of dimension name=value
//! pairs (their order does not matter). Every value of a cycle is published once per
//! dimension set of its document, so the metrics are the distinct (name, set with values)
//! among the cycle's entities — read from the same `Cycle` the outputs encode.

use std::collections::HashSet;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::pipeline::cycle::Cycle;
use crate::pipeline::dimensions::Builtin;
use crate::settings::Settings;

/// How a metric's count changes when the service runs more tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Growth {
    /// No dimension differs between the service's tasks: every task feeds the same metric.
    Shared,
    /// A set names `TaskId`: one metric per task.
    PerTask,
    /// A set names a tag dimension, `AvailabilityZone` or `ContainerInstanceId`: one metric per distinct value
    /// among the tasks, which the plan cannot see from one task.
    PerValue,
}

/// One metric the settings create, as CloudWatch will list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PlannedMetric {
    pub(crate) namespace: String,
    pub(crate) name: &'static str,
    pub(crate) unit: &'static str,
    /// `Task`, `Container` or `Exporter`: the document it comes from.
    pub(crate) level: &'static str,
    /// The container of a container metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) container: Option<String>,
    /// Name → value, in the document's order.
    #[serde(serialize_with = "ordered_map")]
    pub(crate) dimensions: Vec<(String, String)>,
    pub(crate) storage_resolution: u8,
    pub(crate) growth: Growth,
    /// The dimensions behind `growth` (empty when shared).
    pub(crate) varying_dimensions: Vec<String>,
}

fn ordered_map<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

impl PlannedMetric {
    /// CloudWatch's identity of the metric: name and dimensions, order ignored.
    pub(crate) fn key(&self) -> (String, Vec<(String, String)>) {
        let mut dims = self.dimensions.clone();
        dims.sort();
        (format!("{}\u{0}{}", self.namespace, self.name), dims)
    }
}

/// Which of `set`'s dimensions make metrics multiply with tasks, and how.
fn growth(set: &[String], settings: &Settings) -> (Growth, Vec<String>) {
    let task_id = Builtin::TaskId.name();
    if set.iter().any(|d| d == task_id) {
        return (Growth::PerTask, vec![task_id.to_string()]);
    }
    let dims = &settings.dimensions;
    // A static dimension wins over a tag of the same name: its value is the same everywhere.
    let varies = |d: &String| {
        d == Builtin::AvailabilityZone.name()
            // One value per EC2 container instance the service's tasks run on.
            || d == Builtin::ContainerInstanceId.name()
            || (dims.tag_keys.contains(d) && !dims.static_dims.iter().any(|(k, _)| k == d))
    };
    let varying: Vec<String> = set.iter().filter(|d| varies(d)).cloned().collect();
    if varying.is_empty() {
        (Growth::Shared, varying)
    } else {
        (Growth::PerValue, varying)
    }
}

/// The distinct metrics `cycle` publishes to, in the order the documents carry them.
pub(crate) fn metrics(cycle: &Cycle, settings: &Settings) -> Vec<PlannedMetric> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for entity in &cycle.entities {
        for set in &entity.dimension_sets {
            let dimensions: Vec<(String, String)> = set
                .iter()
                .map(|d| (d.clone(), entity.field(d).unwrap_or_default().to_string()))
                .collect();
            let (growth, varying_dimensions) = growth(set, settings);
            for sample in &entity.samples {
                let metric = PlannedMetric {
                    namespace: settings.namespace.clone(),
                    name: sample.metric.name,
                    unit: sample.metric.unit.as_str(),
                    level: entity.level.as_str(),
                    container: entity
                        .field(Builtin::ContainerName.name())
                        .filter(|_| entity.level == crate::pipeline::Level::Container)
                        .map(str::to_string),
                    dimensions: dimensions.clone(),
                    storage_resolution: if settings.high_resolution { 1 } else { 60 },
                    growth,
                    varying_dimensions: varying_dimensions.clone(),
                };
                if seen.insert(metric.key()) {
                    out.push(metric);
                }
            }
        }
    }
    out
}

/// Metrics in `first` that `steady` does not publish to (e.g. `ImagePullTime`, sent once
/// when a task starts).
pub(crate) fn start_only(first: &[PlannedMetric], steady: &[PlannedMetric]) -> Vec<PlannedMetric> {
    let steady: HashSet<_> = steady.iter().map(PlannedMetric::key).collect();
    first
        .iter()
        .filter(|m| !steady.contains(&m.key()))
        .cloned()
        .collect()
}

/// How many metrics one task creates, by document and by growth.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Counts {
    /// Every metric one task publishes to.
    pub(crate) one_task: u64,
    pub(crate) task: u64,
    pub(crate) container: u64,
    pub(crate) exporter: u64,
    /// Fed by every task of the service alike.
    pub(crate) shared: u64,
    /// One per task (`TaskId`).
    pub(crate) per_task: u64,
    /// One per distinct tag / `AvailabilityZone` / `ContainerInstanceId` value among the tasks.
    pub(crate) per_value: u64,
}

pub(crate) fn counts(metrics: &[PlannedMetric]) -> Counts {
    let mut c = Counts::default();
    for m in metrics {
        c.one_task += 1;
        match m.level {
            "Container" => c.container += 1,
            "Exporter" => c.exporter += 1,
            _ => c.task += 1,
        }
        match m.growth {
            Growth::Shared => c.shared += 1,
            Growth::PerTask => c.per_task += 1,
            Growth::PerValue => c.per_value += 1,
        }
    }
    c
}

/// The service's metrics with `tasks` tasks running.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Projection {
    pub(crate) tasks: u64,
    /// Shared + per-value (every task has the same tag / zone values) + tasks × per-task.
    pub(crate) metrics: u64,
    /// As `metrics`, with every task's tag / zone values different: shared + tasks ×
    /// (per-task + per-value). Equal to `metrics` without such dimensions.
    pub(crate) metrics_if_values_differ: u64,
    /// Whether the count grows with tasks at all.
    pub(crate) grows_with_tasks: bool,
}

pub(crate) fn project(c: &Counts, tasks: u64) -> Projection {
    let metrics = c.shared + c.per_value + tasks * c.per_task;
    let metrics_if_values_differ = c.shared + tasks * (c.per_task + c.per_value);
    Projection {
        tasks,
        metrics,
        metrics_if_values_differ,
        grows_with_tasks: c.per_task + c.per_value > 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::cycle::Entity;
    use crate::pipeline::{Level, Sample, catalog};
    use crate::settings::RawSettings;

    fn settings(raw: RawSettings) -> Settings {
        Settings::from_raw(&raw).expect("valid settings")
    }

    fn entity(level: Level, sets: &[&[&str]], fields: &[(&str, &str)], n: usize) -> Entity {
        let all = [
            &catalog::CpuUtilized,
            &catalog::MemoryUtilized,
            &catalog::CpuReserved,
        ];
        let own = |s: &str| s.to_string();
        let samples = all[..n].iter().map(|m| Sample {
            metric: m,
            value: 1.0,
        });
        Entity {
            level,
            dimension_sets: sets
                .iter()
                .map(|s| s.iter().map(|d| own(d)).collect())
                .collect(),
            fields: fields.iter().map(|&(k, v)| (own(k), own(v))).collect(),
            samples: samples.collect(),
        }
    }

    #[test]
    fn metrics_are_distinct_names_and_dimension_values_whatever_the_order() {
        let s = settings(RawSettings {
            dimensions: Some("ClusterName,TaskId;TaskId,ClusterName;ClusterName".into()),
            ..RawSettings::default()
        });
        let fields = [("ClusterName", "prod"), ("TaskId", "abc")];
        let cycle = Cycle {
            timestamp_ms: 0,
            entities: vec![entity(
                Level::Task,
                &[
                    &["ClusterName", "TaskId"],
                    &["TaskId", "ClusterName"],
                    &["ClusterName"],
                ],
                &fields,
                2,
            )],
        };
        let m = metrics(&cycle, &s);
        // The first two sets are one CloudWatch metric: 2 metrics × 2 distinct sets.
        assert_eq!(m.len(), 4);
        let c = counts(&m);
        assert_eq!((c.per_task, c.shared, c.per_value), (2, 2, 0));
        // 10 tasks: 2 shared + 10 × 2 per task.
        let p = project(&c, 10);
        assert_eq!((p.metrics, p.metrics_if_values_differ), (22, 22));
        assert!(p.grows_with_tasks);
    }

    #[test]
    fn tag_and_zone_dimensions_may_vary_but_a_static_of_the_same_name_does_not() {
        let s = settings(RawSettings {
            dimensions: Some("ClusterName,AvailabilityZone".into()),
            tag_dimensions: Some("team,env".into()),
            static_dimensions: Some("env=prod".into()),
            ..RawSettings::default()
        });
        let (g, varying) = growth(&["ClusterName".into(), "team".into(), "env".into()], &s);
        assert_eq!((g, varying), (Growth::PerValue, vec!["team".to_string()]));
        let (g, varying) = growth(&["AvailabilityZone".into()], &s);
        assert_eq!(
            (g, varying),
            (Growth::PerValue, vec!["AvailabilityZone".into()])
        );
        assert_eq!(
            growth(&["ClusterName".into(), "env".into()], &s).0,
            Growth::Shared
        );
        let c = Counts {
            shared: 5,
            per_value: 3,
            ..Counts::default()
        };
        // Same values everywhere: 5 + 3; every task different: 5 + 4 × 3.
        let p = project(&c, 4);
        assert_eq!((p.metrics, p.metrics_if_values_differ), (8, 17));
    }

    #[test]
    fn start_only_metrics_are_those_the_steady_cycle_lacks() {
        let s = settings(RawSettings::default());
        let fields = [("ClusterName", "prod"), ("ServiceName", "web")];
        let set: &[&[&str]] = &[&["ClusterName", "ServiceName"]];
        let first = metrics(
            &Cycle {
                timestamp_ms: 0,
                entities: vec![entity(Level::Task, set, &fields, 3)],
            },
            &s,
        );
        let steady = metrics(
            &Cycle {
                timestamp_ms: 0,
                entities: vec![entity(Level::Task, set, &fields, 2)],
            },
            &s,
        );
        let only = start_only(&first, &steady);
        assert_eq!(
            only.iter().map(|m| m.name).collect::<Vec<_>>(),
            ["CpuReserved"]
        );
        assert_eq!(counts(&steady).shared, 2);
        assert!(!project(&counts(&steady), 50).grows_with_tasks);
    }
}
