//! `ecs-emf-exporter metrics [--json] [--daemon]`: the metric catalog as published under the
//! current settings, by the sidecar or (`--daemon`) the daemon — which metrics, in which
//! namespace, with which dimension sets. Dashboards and
//! alarms (infra/) are checked against this JSON, so it is derived from the same code the
//! documents are built with (`DimensionConfig::name_sets`, `Settings::publishes`).

use std::io::Write;

use serde::Serialize;

use crate::pipeline::{CATALOG, EVERY_CYCLE, Level, MetricDef};
use crate::settings::Settings;

/// One catalog entry with what the settings make of it.
#[derive(Debug, Serialize)]
pub(crate) struct Entry<'a> {
    #[serde(flatten)]
    pub(crate) metric: &'a MetricDef,
    pub(crate) namespace: &'a str,
    /// False when a setting leaves the metric out (filters, container or self metrics off)
    /// or the mode never publishes it (`--daemon`: [`crate::settings::Mode`]).
    pub(crate) published: bool,
    /// The dimension names of each set, for a task that belongs to a service. (A standalone
    /// task publishes `TaskDefinitionFamily` where a set names `ServiceName`, and so does
    /// every task in daemon mode without `ECS_EMF_SERVICE_FROM_API`.)
    pub(crate) dimension_sets: Vec<Vec<String>>,
    /// 1 with `ECS_EMF_HIGH_RESOLUTION=true`, else 60.
    pub(crate) storage_resolution: u8,
    /// Every collected cycle publishes it, whatever the task ([`EVERY_CYCLE`]): an alarm may
    /// read its absence as the exporter not publishing.
    pub(crate) every_cycle: bool,
}

pub(crate) fn entries(settings: &Settings) -> Vec<Entry<'_>> {
    let sets = |level: Level| -> Vec<Vec<String>> {
        settings
            .dimensions
            .name_sets(level, settings.mode.knows_services())
            .iter()
            .map(|set| set.iter().map(|d| d.as_str().to_string()).collect())
            .collect()
    };
    CATALOG
        .iter()
        .map(|metric| Entry {
            metric,
            namespace: &settings.namespace,
            published: settings.publishes(metric),
            dimension_sets: sets(metric.level),
            storage_resolution: if settings.high_resolution { 1 } else { 60 },
            every_cycle: EVERY_CYCLE.iter().any(|m| m.index == metric.index),
        })
        .collect()
}

/// Prints the entries: JSON for machines, else a table with the settings on top.
pub(crate) fn print(settings: &Settings, json: bool) -> std::io::Result<()> {
    let entries = entries(settings);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &entries).map_err(std::io::Error::other)?;
        return writeln!(out);
    }
    writeln!(out, "mode: {}", settings.mode.as_str())?;
    writeln!(out, "namespace: {}", settings.namespace)?;
    for level in [Level::Task, Level::Container] {
        let sets = entries
            .iter()
            .find(|e| e.metric.level == level)
            .map(|e| {
                e.dimension_sets
                    .iter()
                    .map(|s| s.join(","))
                    .collect::<Vec<_>>()
                    .join(" ; ")
            })
            .unwrap_or_default();
        writeln!(out, "{} dimension sets: {sets}", level.as_str())?;
    }
    writeln!(
        out,
        "(metrics marked - are not published with these settings)"
    )?;
    for e in &entries {
        let m = e.metric;
        writeln!(
            out,
            "{} {:<10} {:<28} {:<14} {}",
            if e.published { ' ' } else { '-' },
            m.level.as_str(),
            m.name,
            m.unit.as_str(),
            m.description
        )?;
    }
    Ok(())
}
