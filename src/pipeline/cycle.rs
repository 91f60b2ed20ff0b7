//! What one collection cycle produced, ready for any output: values with their dimension
//! sets and properties. Outputs only encode and deliver it.

use crate::pipeline::{Level, Sample};

/// One group of metrics that share dimensions: the task, one container, or the exporter.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub level: Level,
    /// Dimension sets by name; every name has a value in `fields`.
    pub dimension_sets: Vec<Vec<String>>,
    /// String members of the document: dimension values first, then plain properties.
    pub fields: Vec<(String, String)>,
    pub samples: Vec<Sample>,
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is a dimension of any set (such fields can never be left out).
    pub(crate) fn is_dimension(&self, name: &str) -> bool {
        self.dimension_sets
            .iter()
            .any(|set| set.iter().any(|d| d == name))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    /// Milliseconds since the epoch: when the `/task/stats` answer arrived.
    pub timestamp_ms: i64,
    pub entities: Vec<Entity>,
}

impl Cycle {
    pub fn value_count(&self) -> usize {
        self.entities.iter().map(|e| e.samples.len()).sum()
    }
}
