//! From what was read to what is published, with no I/O: the metric catalog, the
//! computation of a cycle's values (`compute`, platform quirks in `platform`), and their
//! dimensions and properties (`dimensions`), giving a [`cycle::Cycle`].

pub mod catalog;
pub mod compute;
pub mod cycle;
pub mod dimensions;
pub mod platform;

pub use catalog::{CATALOG, Level, MetricDef, Unit};
pub use compute::{Collector, ContainerMeasurement, Measurements, Sample};
