//! From what was read to what is published, with no I/O: [`Pipeline::step`] owns a cycle's
//! logic. The metric catalog (`catalog`), what the settings select (`select`), the
//! computation of the values (`compute`, platform quirks in `platform`), their dimensions and
//! properties (`dimensions`, the tags in `tags`), what to say about it (`events`), giving a
//! [`cycle::Cycle`].

pub mod catalog;
pub(crate) mod compute;
pub mod cycle;
pub mod dimensions;
pub(crate) mod events;
pub(crate) mod instance;
pub(crate) mod platform;
pub(crate) mod select;
pub(crate) mod step;
pub(crate) mod tags;

pub use catalog::{CATALOG, Level, MetricDef, Unit};
pub(crate) use catalog::{DAEMON_ONLY, EVERY_CYCLE, SIDECAR_ONLY};
pub use compute::{Collector, ContainerMeasurement, Measurements, Sample};
pub use step::{Input, Pipeline, Step, Totals};
