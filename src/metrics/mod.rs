//! The metric catalog and the pure computation of a cycle's values. No I/O.

pub mod catalog;
pub mod compute;
pub mod platform;

pub use catalog::{CATALOG, Level, MetricDef, Unit};
pub use compute::{Collector, ContainerMeasurement, Measurements, Sample};
