//! What the settings publish, decided once at start, so that a cycle computes only that
//! (and what it is computed from) and publishes only that.

use super::catalog::{CATALOG, Level, MetricDef, MetricSet};
use super::compute::DERIVED_FROM;
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Selection {
    /// The metrics documents carry: `ECS_EMF_METRICS` / `ECS_EMF_EXCLUDE_METRICS`, with
    /// container metrics and the exporter's own metrics each behind their switch.
    pub(crate) published: MetricSet,
    /// `published` and every metric those are derived from.
    pub(crate) computed: MetricSet,
}

impl Selection {
    pub(crate) fn new(settings: &Settings) -> Selection {
        Selection::of(CATALOG.iter().copied().filter(|m| settings.publishes(m)))
    }

    /// Publishes `metrics`, computing what they need.
    pub(crate) fn of<'a>(metrics: impl IntoIterator<Item = &'a MetricDef>) -> Selection {
        let published = MetricSet::of(metrics);
        Selection {
            published,
            computed: with_inputs(published),
        }
    }

    /// Whether any metric of `level` is published.
    pub(crate) fn publishes_level(&self, level: Level) -> bool {
        CATALOG
            .iter()
            .any(|m| m.level == level && self.published.contains(m))
    }
}

/// `metrics` and, transitively, what they are derived from.
fn with_inputs(metrics: MetricSet) -> MetricSet {
    let mut all = metrics;
    loop {
        let before = all;
        for (metric, inputs) in DERIVED_FROM {
            if all.contains(metric) {
                inputs.iter().for_each(|input| all.insert(input));
            }
        }
        if all == before {
            return all;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::catalog as m;

    #[test]
    fn a_task_utilization_alone_computes_the_container_values_it_sums() {
        let s = Selection::of([&m::CpuUtilization]);
        assert!(s.published.contains(&m::CpuUtilization));
        for needed in [&m::CpuUtilized, &m::CpuReserved, &m::ContainerCpuUtilized] {
            assert!(s.computed.contains(needed), "{}", needed.name);
            assert!(!s.published.contains(needed), "{}", needed.name);
        }
        for not_needed in [
            &m::ContainerCpuReserved,
            &m::MemoryUtilized,
            &m::ContainerMemoryUtilized,
            &m::NetworkRxBytes,
        ] {
            assert!(!s.computed.contains(not_needed), "{}", not_needed.name);
        }
    }

    #[test]
    fn a_plain_metric_computes_only_itself() {
        let s = Selection::of([&m::ContainerPidCount, &m::NetworkTxBytes]);
        assert_eq!(s.computed, s.published);
        assert!(s.publishes_level(Level::Container));
        assert!(!s.publishes_level(Level::Exporter));
    }
}
