//! Cycle → EMF lines, within every limit of the EMF specification (docs/limits.md).
//!
//! Each entity becomes one or more documents. The encoder measures every piece of a
//! document before writing it, so it can split an entity's metrics over several documents
//! (at most 100 metrics each, each line at most `max_line_bytes`) without ever cutting a
//! line. When even one metric does not fit, it drops the plain properties (they only help
//! Logs Insights), then writes one dimension set per document; only if that still does not
//! fit are the entity's values reported as undeliverable.

use crate::pipeline::Sample;
use crate::pipeline::cycle::{Cycle, Entity};

/// At most this many metric definitions per directive (EMF specification).
pub(crate) const MAX_METRICS_PER_DOCUMENT: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct EncoderConfig {
    pub namespace: String,
    pub high_resolution: bool,
    /// Longest line, newline excluded.
    pub max_line_bytes: usize,
    /// Agent output: `_aws.LogGroupName` / `_aws.LogStreamName`, which the CloudWatch agent
    /// uses to route the document.
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
}

/// What encoding a cycle produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Encoded {
    /// Newline-terminated lines, one EMF document each.
    pub bytes: Vec<u8>,
    pub documents: usize,
    pub values: usize,
    /// Values carried by each line, in order (for outputs that deliver line by line).
    pub line_values: Vec<usize>,
    /// Values that could not be encoded within the line limit, with the reason.
    pub rejected: Vec<Rejected>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub entity: String,
    pub values: usize,
    pub reason: String,
}

pub fn encode(cycle: &Cycle, config: &EncoderConfig) -> Encoded {
    let mut out = Encoded::default();
    for entity in &cycle.entities {
        encode_entity(entity, cycle.timestamp_ms, config, &mut out);
    }
    out
}

/// Appends `s` as a JSON string literal. Catalog names and most values need no escaping,
/// so the common case is one copy.
fn push_json_string(out: &mut String, s: &str) {
    let plain = s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        // Serializing a str cannot fail; the fallback keeps the document valid regardless.
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\"")));
    }
}

/// A metric's two pieces: its definition in the directive and its value on the root.
struct MetricPieces {
    definition: String,
    member: String,
}

impl MetricPieces {
    fn new(sample: &Sample, high_resolution: bool) -> MetricPieces {
        let name = sample.metric.name;
        let mut definition = String::with_capacity(name.len() + 48);
        definition.push_str("{\"Name\":");
        push_json_string(&mut definition, name);
        definition.push_str(",\"Unit\":\"");
        definition.push_str(sample.metric.unit.as_str());
        definition.push('"');
        if high_resolution {
            definition.push_str(",\"StorageResolution\":1");
        }
        definition.push('}');
        let mut member = String::with_capacity(name.len() + 24);
        push_json_string(&mut member, name);
        member.push(':');
        // Values are finite here (`encode_entity` leaves the others out); zmij (what
        // serde_json uses) gives the shortest text that reads back as the same f64.
        let mut number = zmij::Buffer::new();
        member.push_str(if sample.value.is_finite() {
            number.format_finite(sample.value)
        } else {
            "0"
        });
        MetricPieces { definition, member }
    }

    /// Bytes this metric adds to a document that already has `others` metrics.
    fn cost(&self, others: usize) -> usize {
        let separator = usize::from(others > 0);
        self.definition.len() + separator + 1 + self.member.len()
    }
}

/// The parts of a document that do not depend on which metrics it carries.
struct Frame {
    /// `{"_aws":{…,"Metrics":[`
    head: String,
    /// `]}]}` + `,"field":"value"` for each field.
    tail: String,
}

impl Frame {
    fn new(
        timestamp_ms: i64,
        config: &EncoderConfig,
        sets: &[Vec<String>],
        fields: &[&(String, String)],
    ) -> Frame {
        let mut head = String::with_capacity(128 + config.namespace.len());
        head.push_str("{\"_aws\":{\"Timestamp\":");
        head.push_str(itoa::Buffer::new().format(timestamp_ms));
        if let Some(group) = &config.log_group {
            head.push_str(",\"LogGroupName\":");
            push_json_string(&mut head, group);
        }
        if let Some(stream) = &config.log_stream {
            head.push_str(",\"LogStreamName\":");
            push_json_string(&mut head, stream);
        }
        head.push_str(",\"CloudWatchMetrics\":[{\"Namespace\":");
        push_json_string(&mut head, &config.namespace);
        head.push_str(",\"Dimensions\":[");
        for (i, set) in sets.iter().enumerate() {
            if i > 0 {
                head.push(',');
            }
            head.push('[');
            for (j, d) in set.iter().enumerate() {
                if j > 0 {
                    head.push(',');
                }
                push_json_string(&mut head, d);
            }
            head.push(']');
        }
        head.push_str("],\"Metrics\":[");
        let mut tail = String::with_capacity(
            fields
                .iter()
                .map(|(k, v)| k.len() + v.len() + 6)
                .sum::<usize>()
                + 4,
        );
        tail.push_str("]}]}");
        for (k, v) in fields {
            tail.push(',');
            push_json_string(&mut tail, k);
            tail.push(':');
            push_json_string(&mut tail, v);
        }
        Frame { head, tail }
    }

    /// Bytes of a document with no metrics, closing brace included.
    fn fixed(&self) -> usize {
        self.head.len() + self.tail.len() + 1
    }

    fn write(&self, metrics: &[MetricPieces], out: &mut Vec<u8>) {
        out.extend_from_slice(self.head.as_bytes());
        for (i, m) in metrics.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(m.definition.as_bytes());
        }
        out.extend_from_slice(self.tail.as_bytes());
        for m in metrics {
            out.push(b',');
            out.extend_from_slice(m.member.as_bytes());
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Splits `metrics` into documents that fit; `None` when a single metric cannot fit.
fn pack(
    frame: &Frame,
    metrics: &[MetricPieces],
    max: usize,
) -> Option<Vec<std::ops::Range<usize>>> {
    let mut chunks = Vec::new();
    let (mut start, mut size) = (0, frame.fixed());
    for (i, m) in metrics.iter().enumerate() {
        let count = i - start;
        if count > 0 && (count == MAX_METRICS_PER_DOCUMENT || size + m.cost(count) > max) {
            chunks.push(start..i);
            start = i;
            size = frame.fixed();
        }
        size += m.cost(i - start);
        if size > max {
            return None;
        }
    }
    if start < metrics.len() {
        chunks.push(start..metrics.len());
    }
    Some(chunks)
}

fn encode_entity(entity: &Entity, timestamp_ms: i64, config: &EncoderConfig, out: &mut Encoded) {
    // JSON has no NaN or infinity, and writing a stand-in (this wrote `0`) would publish a
    // value nobody measured (found by fuzzing, see tests/fuzz_regressions.rs): such values
    // are left out and counted as rejected. `compute` never builds them; this keeps the
    // encoder right on its own.
    let non_finite = entity
        .samples
        .iter()
        .filter(|s| !s.value.is_finite())
        .count();
    if non_finite > 0 {
        out.rejected.push(Rejected {
            entity: describe(entity),
            values: non_finite,
            reason: "not a finite number (NaN or infinite), which EMF cannot carry".to_string(),
        });
    }
    let metrics: Vec<MetricPieces> = entity
        .samples
        .iter()
        .filter(|s| s.value.is_finite())
        .map(|s| MetricPieces::new(s, config.high_resolution))
        .collect();
    if metrics.is_empty() {
        return;
    }
    let max = config.max_line_bytes;
    let all_fields: Vec<&(String, String)> = entity.fields.iter().collect();
    // Only the dimension values (and the document type) are required on the root.
    let required: Vec<&(String, String)> = entity
        .fields
        .iter()
        .filter(|(k, _)| k == "Type" || entity.is_dimension(k))
        .collect();

    for fields in [&all_fields, &required] {
        let frame = Frame::new(timestamp_ms, config, &entity.dimension_sets, fields);
        if let Some(chunks) = pack(&frame, &metrics, max) {
            write_chunks(&frame, &metrics, &chunks, out);
            return;
        }
    }
    // One dimension set per document, each with only its own dimension values.
    let mut plans = Vec::new();
    for set in &entity.dimension_sets {
        let fields: Vec<&(String, String)> = entity
            .fields
            .iter()
            .filter(|(k, _)| k == "Type" || set.contains(k))
            .collect();
        let frame = Frame::new(timestamp_ms, config, std::slice::from_ref(set), &fields);
        match pack(&frame, &metrics, max) {
            Some(chunks) => plans.push((frame, chunks)),
            None => {
                out.rejected.push(Rejected {
                    entity: describe(entity),
                    values: metrics.len(),
                    reason: format!(
                        "its dimension values alone make a document longer than the {max}-byte line limit (ECS_EMF_MAX_LINE_BYTES)"
                    ),
                });
                return;
            }
        }
    }
    for (frame, chunks) in &plans {
        write_chunks(frame, &metrics, chunks, out);
    }
}

fn write_chunks(
    frame: &Frame,
    metrics: &[MetricPieces],
    chunks: &[std::ops::Range<usize>],
    out: &mut Encoded,
) {
    for range in chunks {
        frame.write(&metrics[range.clone()], &mut out.bytes);
        out.documents += 1;
        out.values += range.len();
        out.line_values.push(range.len());
    }
}

fn describe(entity: &Entity) -> String {
    match entity.field("ContainerName") {
        Some(name) => format!(
            "{} {}",
            entity.level.as_str(),
            name.chars().take(64).collect::<String>()
        ),
        None => entity.level.as_str().to_string(),
    }
}

impl Encoded {
    /// Each line (newline included) with the number of values it carries.
    pub(crate) fn lines(&self) -> impl Iterator<Item = (&[u8], usize)> {
        self.bytes
            .split_inclusive(|b| *b == b'\n')
            .zip(self.line_values.iter().copied())
    }
}
