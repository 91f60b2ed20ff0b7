//! What the fuzz targets run, shared with the tests.
//!
//! Included with `#[path]` by the cargo-fuzz targets (`fuzz/fuzz_targets/`), by
//! `tests/fuzz_regressions.rs` (which replays the committed inputs in plain `cargo test`) and
//! by `tests/encoder_props.rs` (the checks of encoded output). It uses nothing beyond the main
//! crate and its own dependencies, so the tests need no extra crate for it. The including
//! crate must also declare `mod emf_rules` (`tests/it/support/emf_rules.rs`, the EMF validator
//! written from docs/limits.md independently of the encoder).
//!
//! Four runs, each `fn(&[u8]) -> Result<(), String>` (an `Err` or a panic is a finding):
//! - [`run_parse`]: arbitrary bytes as a `/task`, `/taskWithTags` and `/task/stats` body,
//!   through the parse functions the exporter's client uses.
//! - [`run_encode`]: encoder input built from the bytes (metric names, values including NaN,
//!   ±∞, huge and subnormal ones, dimension names and values with odd Unicode, quotes,
//!   control characters, long strings, up to 30 dimensions per set, any line limit), either
//!   handed to the encoder directly or first labeled by `dimensions::Labeler` as the
//!   exporter does; every line must pass the EMF rules and every value must be accounted for.
//! - [`run_http`]: the metadata HTTP client against a server answering with the bytes (as
//!   they are, or framed well by `Content-Length` or chunks).
//! - [`run_pipeline`]: bytes split into `/task`, two `/task/stats` and a `/taskWithTags`
//!   body, then parse → compute → label → encode, as one exporter cycle after another.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use ecs_emf_exporter::emf::{Encoded, EncoderConfig, encode};
use ecs_emf_exporter::pipeline::cycle::{Cycle, Entity};
use ecs_emf_exporter::pipeline::dimensions::{
    Builtin, DimensionConfig, Labeler, PROPERTY_NAMES, Tags,
};
use ecs_emf_exporter::pipeline::{
    CATALOG, ContainerMeasurement, Input, Level, Measurements, MetricDef, Pipeline, Sample, Totals,
    Unit,
};
use ecs_emf_exporter::settings::glob::NameFilter;
use ecs_emf_exporter::settings::{RawSettings, Settings};
use ecs_emf_exporter::source::TagsRead;
use ecs_emf_exporter::source::metadata::{FetchError, Path, Snapshot, TaskMetadata, parse};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::emf_rules;

/// A fixed "now" for generated timestamps, so a replayed input gives the same documents.
pub const NOW_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

// ---------------------------------------------------------------------------------------
// Reading structure from bytes.

/// Takes values from the front of the input; an exhausted input reads as zeros, so every
/// input (even an empty one) builds a case.
pub struct Bytes<'a> {
    data: &'a [u8],
}

/// Characters JSON writers and readers get wrong: quotes, backslashes, control characters,
/// the JavaScript line separators, a BOM, non-characters, combining marks, wide characters,
/// Unicode whitespace (which `trim` removes: "blank" is not only ASCII spaces).
const ODD_CHARS: [char; 28] = [
    '"',
    '\\',
    '/',
    '\0',
    '\n',
    '\r',
    '\t',
    '\u{8}',
    '\u{c}',
    '\u{1f}',
    '\u{7f}',
    '\u{80}',
    '\u{a0}',
    '\u{2028}',
    '\u{2029}',
    '\u{feff}',
    '\u{fffd}',
    '\u{fffe}',
    '\u{200b}',
    '\u{3000}',
    '\u{301}',
    'é',
    '日',
    '\u{1f600}',
    '\u{10ffff}',
    '<',
    '&',
    '\'',
];

/// What `str::trim` removes (Unicode White_Space), a few of each kind.
const WHITESPACE: [char; 12] = [
    ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
    '\u{2028}', '\u{3000}',
];

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    pub fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        match n {
            0 | 1 => 0,
            2..=256 => usize::from(self.byte()) % n,
            257..=65_536 => usize::from(self.u16()) % n,
            _ => self.u32() as usize % n,
        }
    }

    /// `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// A metric value: mostly ordinary numbers, often the ones encoders get wrong.
    pub fn value(&mut self) -> f64 {
        match self.byte() % 16 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => 0.0,
            4 => -0.0,
            5 => f64::MAX,
            6 => f64::MIN,
            7 => f64::MIN_POSITIVE,
            8 => f64::from_bits(1), // the smallest subnormal
            9 => -f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal, negated
            10 => f64::from(self.u32()),
            11 => self.u64() as f64,
            12 => f64::from(self.u32()) / 1000.0,
            13 => 1e21 * f64::from(self.u16()), // where writers switch to exponents
            _ => f64::from_bits(self.u64()),    // anything, NaN payloads included
        }
    }

    pub fn char(&mut self) -> char {
        match self.byte() % 8 {
            0..=3 => char::from(0x20 + self.byte() % 95),
            4 => ODD_CHARS[usize::from(self.byte()) % ODD_CHARS.len()],
            5 => char::from(self.byte() % 0x20),
            _ => char::from_u32(self.u32() % 0x11_0000).unwrap_or('\u{fffd}'),
        }
    }

    /// A length in `0..=max`: mostly short, often exactly at or near `max`.
    fn length(&mut self, max: usize) -> usize {
        match self.byte() % 8 {
            0..=3 => self.below(max.min(24) + 1),
            4 => max,
            5 => max.saturating_sub(self.below(3)),
            _ => self.below(max + 1),
        }
    }

    /// 1–8 characters to repeat; sometimes whitespace only (what `trim` removes).
    fn pattern(&mut self) -> Vec<char> {
        let n = 1 + self.below(8);
        if self.byte().is_multiple_of(8) {
            (0..n)
                .map(|_| WHITESPACE[usize::from(self.byte()) % WHITESPACE.len()])
                .collect()
        } else {
            (0..n).map(|_| self.char()).collect()
        }
    }

    /// Up to `max_chars` characters of anything. Long strings repeat short patterns, so a
    /// few input bytes make a 1024-character value; sometimes a second pattern takes over
    /// near the end (1100 spaces then `x`: not blank, but blank once cut to 1024).
    pub fn string(&mut self, max_chars: usize) -> String {
        let len = self.length(max_chars);
        let split = match self.byte() % 8 {
            0 => self.below(len + 1),
            1 => len.saturating_sub(1 + self.below(4)),
            _ => len,
        };
        let first = self.pattern();
        let second = if split < len {
            self.pattern()
        } else {
            Vec::new()
        };
        (0..len)
            .map(|i| match i.checked_sub(split) {
                None => first[i % first.len()],
                Some(j) => second[j % second.len()],
            })
            .collect()
    }

    /// Up to `max_chars` printable ASCII characters (names: namespace, metric, dimension).
    pub fn ascii(&mut self, max_chars: usize) -> String {
        let len = self.length(max_chars);
        let pattern: Vec<char> = (0..1 + self.below(8))
            .map(|_| char::from(0x20 + self.byte() % 95))
            .collect();
        (0..len).map(|i| pattern[i % pattern.len()]).collect()
    }

    /// `count` distinct indices of `0..n`.
    pub fn distinct(&mut self, count: usize, n: usize) -> Vec<usize> {
        let mut taken = vec![false; n];
        let mut out = Vec::with_capacity(count.min(n));
        for _ in 0..count.min(n) {
            let mut i = self.below(n);
            while taken[i] {
                i = (i + 1) % n;
            }
            taken[i] = true;
            out.push(i);
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Encoder input.

/// The catalog, then synthetic metrics (so an entity can have more than 100, with names up
/// to the 255-character limit and with characters that need escaping). Built once and kept
/// for the process (reachable, so no leak report).
pub fn metric_pool() -> &'static [&'static MetricDef] {
    static POOL: OnceLock<Vec<&'static MetricDef>> = OnceLock::new();
    POOL.get_or_init(|| {
        const UNITS: [Unit; 9] = [
            Unit::None,
            Unit::Percent,
            Unit::Megabytes,
            Unit::Bytes,
            Unit::BytesPerSecond,
            Unit::CountPerSecond,
            Unit::Count,
            Unit::Seconds,
            Unit::Milliseconds,
        ];
        let mut pool: Vec<&'static MetricDef> = CATALOG.to_vec();
        for i in 0..165 {
            let name = match i % 5 {
                0 => format!("m{i}"),
                1 => format!("m{i}{}", "x".repeat(255 - 1 - i.to_string().len())),
                2 => format!("m{i} \"quoted\" \\back\\ {{}}[]:,"),
                3 => format!("m{i}/Per Second-_.#~"),
                _ => format!("m{i}<&'>"),
            };
            let def = MetricDef {
                index: MetricDef::NOT_IN_CATALOG,
                name: Box::leak(name.into_boxed_str()),
                unit: UNITS[i % UNITS.len()],
                level: Level::Task,
                description: "synthetic (fuzzing)",
            };
            pool.push(Box::leak(Box::new(def)));
        }
        pool
    })
}

/// `count` samples of distinct metrics.
fn samples(b: &mut Bytes, count: usize) -> Vec<Sample> {
    let pool = metric_pool();
    b.distinct(count, pool.len())
        .into_iter()
        .map(|i| Sample {
            metric: pool[i],
            value: b.value(),
        })
        .collect()
}

/// How many samples an entity gets: few, around the 100-per-document limit, or up to all.
fn sample_count(b: &mut Bytes) -> usize {
    match b.byte() % 4 {
        0 => b.below(8),
        1 => b.range(95, 105),
        2 => b.below(101),
        _ => b.below(metric_pool().len() + 1),
    }
}

/// A tag or static dimension name as settings accept it (`check_extra_name`): 1–250
/// printable ASCII, not starting with ':', colliding with no property or metric name.
fn extra_name(b: &mut Bytes) -> Option<String> {
    let name = b.ascii(250);
    let ok = !name.is_empty()
        && !name.starts_with(':')
        && !name.contains(',')
        && name.trim() == name
        && !PROPERTY_NAMES.contains(&name.as_str())
        && !metric_pool().iter().any(|m| m.name == name);
    ok.then_some(name)
}

/// A dimension value as the labeler leaves it: 1–1024 characters, not blank.
fn clean_value(b: &mut Bytes) -> String {
    let mut v = b.string(1024);
    if v.trim().is_empty() {
        v.pop();
        v.insert(0, 'x');
    }
    v
}

fn level(b: &mut Bytes) -> Level {
    [Level::Task, Level::Container, Level::Exporter][b.below(3)]
}

/// An entity as the encoder's contract describes it (`cycle::Entity`): every dimension
/// name has a clean value in `fields`, dimension values first, then plain properties;
/// metric names are distinct and collide with no field.
fn direct_entity(b: &mut Bytes) -> Entity {
    let level = level(b);
    let mut names: Vec<String> = Vec::new();
    for _ in 0..b.below(41) {
        let name = if b.bool() {
            Some(Builtin::ALL[b.below(Builtin::ALL.len())].name().to_string())
        } else {
            extra_name(b)
        };
        if let Some(name) = name.filter(|n| !names.contains(n)) {
            names.push(name);
        }
    }
    let mut dimension_sets: Vec<Vec<String>> = Vec::new();
    for _ in 0..1 + b.below(4) {
        let size = b.below(names.len().min(30) + 1);
        let set: Vec<String> = b
            .distinct(size, names.len())
            .into_iter()
            .map(|i| names[i].clone())
            .collect();
        if !dimension_sets.contains(&set) {
            dimension_sets.push(set);
        }
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for name in dimension_sets.iter().flatten() {
        if !fields.iter().any(|(k, _)| k == name) {
            fields.push((name.clone(), clean_value(b)));
        }
    }
    if !b.byte().is_multiple_of(8) {
        fields.push(("Type".to_string(), level.as_str().to_string()));
    }
    // Plain properties can be anything (empty, blank, long): they are not dimensions.
    for name in PROPERTY_NAMES {
        if name != "_aws" && !fields.iter().any(|(k, _)| k == name) && b.byte().is_multiple_of(4) {
            fields.push((name.to_string(), b.string(2000)));
        }
    }
    let count = sample_count(b);
    Entity {
        level,
        dimension_sets,
        fields,
        samples: samples(b, count),
    }
}

fn builtin_sets(b: &mut Bytes, container: bool) -> Vec<Vec<Builtin>> {
    let allowed: Vec<Builtin> = Builtin::ALL
        .into_iter()
        .filter(|d| container || *d != Builtin::ContainerName)
        .collect();
    let mut sets: Vec<Vec<Builtin>> = Vec::new();
    for _ in 0..1 + b.below(3) {
        let size = b.below(allowed.len() + 1);
        let set: Vec<Builtin> = b
            .distinct(size, allowed.len())
            .into_iter()
            .map(|i| allowed[i])
            .collect();
        if !sets.contains(&set) {
            sets.push(set);
        }
    }
    sets
}

/// Dimension settings as `Settings::from_raw` would accept them.
fn dimension_config(b: &mut Bytes) -> DimensionConfig {
    let mut config = DimensionConfig {
        task_sets: builtin_sets(b, false),
        container_sets: builtin_sets(b, true),
        tag_keys: Vec::new(),
        static_dims: Vec::new(),
    };
    for _ in 0..b.below(32) {
        if let Some(k) = extra_name(b).filter(|k| !config.tag_keys.contains(k)) {
            config.tag_keys.push(k);
        }
    }
    for _ in 0..b.below(8) {
        let Some(k) = extra_name(b) else { continue };
        let v = clean_value(b).trim().to_string();
        if !v.is_empty() && !config.static_dims.iter().any(|(name, _)| *name == k) {
            config.static_dims.push((k, v));
        }
    }
    while config.widest_set() > 30 {
        if config.tag_keys.pop().is_none() {
            config.static_dims.pop();
        }
    }
    config
}

/// A value as the endpoint may send it: absent, blank, over 1024 characters, anything.
fn raw_value(b: &mut Bytes) -> Option<String> {
    b.bool().then(|| b.string(1100))
}

fn tag_map(b: &mut Bytes, keys: &[String]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for _ in 0..b.below(6) {
        let key = match b.byte() % 4 {
            0 if !keys.is_empty() => keys[b.below(keys.len())].clone(),
            1 => "aws:ecs:serviceName".to_string(),
            _ => b.string(40),
        };
        map.insert(key, b.string(1100));
    }
    map
}

/// Entities as the exporter makes them: raw identity, tags and container names through
/// `dimensions::Labeler` (which replaces or truncates values CloudWatch would reject).
fn labeled_entities(b: &mut Bytes) -> Vec<Entity> {
    let config = dimension_config(b);
    let keys: Vec<String> = config.tag_keys.clone();
    let task = TaskMetadata {
        cluster: raw_value(b).map(|c| {
            if c.len() % 2 == 0 {
                format!("arn:aws:ecs:us-east-1:123456789012:cluster/{c}")
            } else {
                c
            }
        }),
        task_arn: raw_value(b),
        family: raw_value(b),
        revision: raw_value(b),
        service_name: raw_value(b),
        launch_type: raw_value(b),
        availability_zone: raw_value(b),
        ..TaskMetadata::default()
    };
    let tags = Tags {
        task: tag_map(b, &keys),
        container_instance: tag_map(b, &keys),
        api: tag_map(b, &keys),
    };
    let task_count = sample_count(b);
    let mut measured = Measurements {
        task: samples(b, task_count),
        ..Measurements::default()
    };
    for _ in 0..b.below(4) {
        let count = sample_count(b);
        measured.containers.push(ContainerMeasurement {
            name: b.string(1100),
            docker_id: raw_value(b),
            image: raw_value(b),
            known_status: raw_value(b),
            exit: None,
            samples: samples(b, count),
        });
    }
    let exporter_count = b.below(8);
    let exporter = samples(b, exporter_count);
    Labeler::new(config).label(&task, &tags, measured, exporter)
}

pub fn encoder_config(b: &mut Bytes) -> EncoderConfig {
    let mut namespace = b.ascii(255);
    if namespace.is_empty() || namespace.starts_with("AWS/") {
        namespace.insert(0, 'N');
        namespace.truncate(255);
    }
    EncoderConfig {
        namespace,
        high_resolution: b.bool(),
        max_line_bytes: match b.byte() % 4 {
            // Below what settings accept: the encoder must still reject cleanly.
            0 => b.below(1024),
            1 => b.range(1024, 20_000),
            2 => 16_383,
            _ => b.range(1024, 1_048_576),
        },
        log_group: b.bool().then(|| b.string(600)),
        log_stream: b.bool().then(|| b.string(600)),
    }
}

/// A cycle and an encoder configuration built from `data`.
pub fn encoder_case(data: &[u8]) -> (Cycle, EncoderConfig) {
    let mut b = Bytes::new(data);
    let config = encoder_config(&mut b);
    let timestamp_ms = match b.byte() % 4 {
        0 => b.u64() as i64,
        1 => i64::MAX,
        _ => NOW_MS - b.below(86_400_000) as i64,
    };
    let mut entities = Vec::new();
    for _ in 0..b.below(4) {
        if b.bool() {
            entities.extend(labeled_entities(&mut b));
        } else {
            entities.push(direct_entity(&mut b));
        }
    }
    (
        Cycle {
            timestamp_ms,
            entities,
        },
        config,
    )
}

pub fn run_encode(data: &[u8]) -> Result<(), String> {
    let (cycle, config) = encoder_case(data);
    check_cycle(&cycle, &config, None)
}

// ---------------------------------------------------------------------------------------
// Checks of encoded output.

/// A JSON object's members in order, duplicates kept, values as their exact text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

fn excerpt(line: &str) -> String {
    line.chars().take(300).collect()
}

/// Encodes the cycle, and each entity on its own, and checks both (see [`check_entity`]).
/// `now_ms`: reference for the timestamp window, `None` to skip that rule.
pub fn check_cycle(
    cycle: &Cycle,
    config: &EncoderConfig,
    now_ms: Option<i64>,
) -> Result<(), String> {
    let whole = encode(cycle, config);
    let mut joined = Encoded::default();
    for (i, entity) in cycle.entities.iter().enumerate() {
        let single = Cycle {
            timestamp_ms: cycle.timestamp_ms,
            entities: vec![entity.clone()],
        };
        let out = encode(&single, config);
        check_entity(entity, cycle.timestamp_ms, config, &out, now_ms)
            .map_err(|e| format!("entity {i} ({:?}): {e}", entity.level))?;
        joined.bytes.extend_from_slice(&out.bytes);
        joined.documents += out.documents;
        joined.values += out.values;
        joined.line_values.extend_from_slice(&out.line_values);
        joined.rejected.extend(out.rejected);
    }
    if whole != joined {
        return Err("encoding the cycle differs from encoding its entities one by one".into());
    }
    Ok(())
}

/// The shortest document that can carry `sample` for `set`: the frame, only the set's
/// dimension values (and `Type`), one metric. Built with serde_json, not the encoder.
pub fn minimal_document_len(
    entity: &Entity,
    timestamp_ms: i64,
    config: &EncoderConfig,
    set: &[String],
    sample: &Sample,
) -> usize {
    let mut definition = serde_json::Map::new();
    definition.insert("Name".into(), sample.metric.name.into());
    definition.insert("Unit".into(), sample.metric.unit.as_str().into());
    if config.high_resolution {
        definition.insert("StorageResolution".into(), 1.into());
    }
    let mut aws = serde_json::Map::new();
    aws.insert("Timestamp".into(), timestamp_ms.into());
    if let Some(group) = &config.log_group {
        aws.insert("LogGroupName".into(), group.as_str().into());
    }
    if let Some(stream) = &config.log_stream {
        aws.insert("LogStreamName".into(), stream.as_str().into());
    }
    aws.insert(
        "CloudWatchMetrics".into(),
        serde_json::json!([{"Namespace": config.namespace, "Dimensions": [set], "Metrics": [definition]}]),
    );
    let mut root = serde_json::Map::new();
    root.insert("_aws".into(), aws.into());
    for (k, v) in &entity.fields {
        if k == "Type" || set.contains(k) {
            root.insert(k.clone(), v.as_str().into());
        }
    }
    let value = serde_json::Number::from_f64(sample.value).map_or(Value::Null, Value::Number);
    root.insert(sample.metric.name.into(), value);
    serde_json::to_string(&Value::Object(root)).map_or(usize::MAX, |s| s.len())
}

/// What one entity's encoding must be, whatever the input:
/// - valid UTF-8, one document per line, every line passing `emf_rules::problems` (length,
///   JSON, units, ≤ 100 metrics per directive, ≤ 30 dimensions per set, dimension values,
///   finite numbers), counts (`documents`, `values`, `line_values`) that match the lines;
/// - nothing invented: the timestamp, namespace and log group/stream are the configured
///   ones, every dimension set is one of the entity's, every other root member is one of
///   its fields with the same value, every metric one of its samples with its unit and
///   its exact value, no member twice;
/// - nothing lost: every finite sample appears exactly once for each of the entity's
///   dimension sets; non-finite samples never appear and are counted as rejected; when the
///   entity is rejected as too long, some sample cannot fit even alone in a document with
///   only one set's dimension values, and all its values are counted as rejected.
pub fn check_entity(
    entity: &Entity,
    timestamp_ms: i64,
    config: &EncoderConfig,
    out: &Encoded,
    now_ms: Option<i64>,
) -> Result<(), String> {
    let text = std::str::from_utf8(&out.bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("output does not end with a newline".into());
    }
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    if lines.len() != out.documents || out.line_values.len() != out.documents {
        return Err(format!(
            "{} lines, documents = {}, line_values has {}",
            lines.len(),
            out.documents,
            out.line_values.len()
        ));
    }
    if out.line_values.iter().sum::<usize>() != out.values {
        return Err(format!(
            "values = {} but line_values add up to {}",
            out.values,
            out.line_values.iter().sum::<usize>()
        ));
    }
    let mut published: HashMap<(&str, usize), usize> = HashMap::new();
    for (n, line) in lines.iter().enumerate() {
        let problems = emf_rules::problems(line, config.max_line_bytes, now_ms);
        if !problems.is_empty() {
            return Err(format!(
                "line {n} breaks the EMF rules: {problems:?}\n{}",
                excerpt(line)
            ));
        }
        check_document(
            entity,
            timestamp_ms,
            config,
            line,
            out.line_values[n],
            |key| {
                *published.entry(key).or_insert(0) += 1;
            },
        )
        .map_err(|e| format!("line {n}: {e}\n{}", excerpt(line)))?;
    }

    let non_finite = entity
        .samples
        .iter()
        .filter(|s| !s.value.is_finite())
        .count();
    let finite: Vec<&Sample> = entity
        .samples
        .iter()
        .filter(|s| s.value.is_finite())
        .collect();
    let rejected: usize = out.rejected.iter().map(|r| r.values).sum();
    if lines.is_empty() && !finite.is_empty() {
        // The entity was rejected: only right when some value cannot fit in any document.
        if rejected != entity.samples.len() {
            return Err(format!(
                "no document for {} values, {rejected} counted as rejected",
                entity.samples.len()
            ));
        }
        let cannot_fit = entity.dimension_sets.iter().any(|set| {
            finite.iter().any(|s| {
                minimal_document_len(entity, timestamp_ms, config, set, s) > config.max_line_bytes
            })
        });
        if !cannot_fit {
            return Err(format!(
                "rejected, but every value fits in a {}-byte line with one dimension set",
                config.max_line_bytes
            ));
        }
        return Ok(());
    }
    for s in &finite {
        for (i, set) in entity.dimension_sets.iter().enumerate() {
            let times = published.get(&(s.metric.name, i)).copied().unwrap_or(0);
            if times != 1 {
                return Err(format!(
                    "{} = {} is published {times} times for dimension set {set:?}",
                    s.metric.name, s.value
                ));
            }
        }
    }
    if rejected != non_finite {
        return Err(format!(
            "{non_finite} non-finite values, {rejected} counted as rejected"
        ));
    }
    Ok(())
}

/// One document of `entity` (already valid EMF). `seen` gets (metric, dimension set index)
/// for each value it carries.
fn check_document<'e>(
    entity: &'e Entity,
    timestamp_ms: i64,
    config: &EncoderConfig,
    line: &str,
    line_values: usize,
    mut seen: impl FnMut((&'e str, usize)),
) -> Result<(), String> {
    let Members(members) =
        serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut keys = HashSet::new();
    for (k, _) in &members {
        if !keys.insert(k.as_str()) {
            return Err(format!("member {k:?} twice"));
        }
    }
    let aws_raw = members
        .iter()
        .find(|(k, _)| k == "_aws")
        .map(|(_, v)| v.get())
        .ok_or("no _aws")?;
    let aws: serde_json::Map<String, Value> =
        serde_json::from_str(aws_raw).map_err(|e| format!("_aws: {e}"))?;
    let mut expected_aws = vec!["CloudWatchMetrics", "Timestamp"];
    if config.log_group.is_some() {
        expected_aws.push("LogGroupName");
    }
    if config.log_stream.is_some() {
        expected_aws.push("LogStreamName");
    }
    let mut aws_keys: Vec<&str> = aws.keys().map(String::as_str).collect();
    aws_keys.sort_unstable();
    expected_aws.sort_unstable();
    if aws_keys != expected_aws {
        return Err(format!("_aws has {aws_keys:?}, expected {expected_aws:?}"));
    }
    if aws["Timestamp"].as_i64() != Some(timestamp_ms) {
        return Err(format!(
            "Timestamp {} is not the cycle's {timestamp_ms}",
            aws["Timestamp"]
        ));
    }
    for (key, want) in [
        ("LogGroupName", &config.log_group),
        ("LogStreamName", &config.log_stream),
    ] {
        if let Some(want) = want
            && aws[key].as_str() != Some(want.as_str())
        {
            return Err(format!("{key} is not the configured value"));
        }
    }
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .ok_or("CloudWatchMetrics")?;
    if directives.len() != 1 {
        return Err(format!("{} directives, expected 1", directives.len()));
    }
    let directive = &directives[0];
    if directive["Namespace"].as_str() != Some(config.namespace.as_str()) {
        return Err("Namespace is not the configured one".into());
    }
    let mut sets = Vec::new();
    for set in directive["Dimensions"].as_array().ok_or("Dimensions")? {
        let set: Vec<String> =
            serde_json::from_value(set.clone()).map_err(|e| format!("dimension set: {e}"))?;
        let index = entity
            .dimension_sets
            .iter()
            .position(|s| *s == set)
            .ok_or_else(|| format!("dimension set {set:?} is not one of the entity's"))?;
        if sets.contains(&index) {
            return Err(format!("dimension set {set:?} twice"));
        }
        sets.push(index);
    }
    let definitions = directive["Metrics"].as_array().ok_or("Metrics")?;
    if definitions.len() != line_values {
        return Err(format!(
            "{} metrics, but line_values says {line_values}",
            definitions.len()
        ));
    }
    let mut metric_names = HashSet::new();
    for definition in definitions {
        let name = definition["Name"].as_str().ok_or("metric Name")?;
        let sample = entity
            .samples
            .iter()
            .find(|s| s.metric.name == name)
            .ok_or_else(|| format!("metric {name:?} is not in the input"))?;
        let mut want = serde_json::json!({"Name": name, "Unit": sample.metric.unit.as_str()});
        if config.high_resolution {
            want["StorageResolution"] = 1.into();
        }
        if *definition != want {
            return Err(format!("metric definition {definition}, expected {want}"));
        }
        let text = members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.get())
            .ok_or_else(|| format!("no value for {name:?}"))?;
        // Compared as text read back with Rust's correctly rounded parser.
        let value: f64 = text
            .parse()
            .map_err(|_| format!("value of {name:?} is {text}, not a number"))?;
        if !sample.value.is_finite() || value != sample.value {
            return Err(format!(
                "value of {name:?} is {text}, the input was {:?}",
                sample.value
            ));
        }
        metric_names.insert(name);
        for &set in &sets {
            seen((sample.metric.name, set));
        }
    }
    for (k, v) in &members {
        if k == "_aws" || metric_names.contains(k.as_str()) {
            continue;
        }
        let value: String =
            serde_json::from_str(v.get()).map_err(|_| format!("member {k:?} is not a string"))?;
        if entity.field(k) != Some(value.as_str()) {
            return Err(format!(
                "member {k:?} = {:?} is not the entity's field ({:?})",
                excerpt(&value),
                entity.field(k).map(excerpt)
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Parsing.

fn has_samples(s: &ecs_emf_exporter::source::metadata::ContainerStats) -> bool {
    s.cpu_stats.is_some()
        || s.memory_stats.is_some()
        || s.networks.is_some()
        || s.blkio_stats.is_some()
        || s.pids_stats.as_ref().is_some_and(|p| p.current.is_some())
}

/// How `/task/stats` classified one DockerId.
#[derive(Debug, PartialEq)]
enum Class {
    Stats(String),
    Malformed,
    Absent,
}

fn classify(s: &parse::StatsResponse, id: &str) -> Class {
    match (s.containers.get(id), s.malformed.iter().any(|m| m == id)) {
        (Some(stats), false) => Class::Stats(format!("{stats:?}")),
        (None, true) => Class::Malformed,
        (None, false) => Class::Absent,
        (Some(_), true) => Class::Malformed, // reported as an error by the caller
    }
}

/// `data` as each of the three bodies. No panic, a reason for every error, and for
/// `/task/stats` the promises of `metadata::parse`: a valid JSON object is never lost whole,
/// each DockerId is classified once, an entry that is not an object is reported as
/// malformed, `null`/`{}` entries are absent, and one entry's damage costs only that entry
/// (each entry is classified as it would be alone).
pub fn run_parse(data: &[u8]) -> Result<(), String> {
    let task = parse::task(data);
    let tags = parse::task_with_tags(data);
    let stats = parse::stats(data);
    for (what, err) in [
        ("/task", task.as_ref().err()),
        ("/taskWithTags", tags.as_ref().err()),
        ("/task/stats", stats.as_ref().err()),
    ] {
        if err.is_some_and(|e| e.0.is_empty()) {
            return Err(format!("{what}: an error without a reason"));
        }
    }
    let json: Option<Value> = serde_json::from_slice(data).ok();
    if let Some(json) = &json
        && !json.is_object()
    {
        for (what, ok) in [("/task", task.is_ok()), ("/taskWithTags", tags.is_ok())] {
            if ok {
                return Err(format!(
                    "{what}: a body that is not a JSON object was accepted"
                ));
            }
        }
    }
    let Some(Value::Object(object)) = json else {
        return Ok(());
    };
    let stats = stats.map_err(|e| format!("/task/stats: a JSON object was rejected whole: {e}"))?;
    if !stats.malformed.is_sorted() {
        return Err("malformed ids are not sorted".into());
    }
    let mut ids = HashSet::new();
    for id in stats.containers.keys().chain(&stats.malformed) {
        if !ids.insert(id) {
            return Err(format!("{id:?} is classified twice"));
        }
        if !object.contains_key(id) {
            return Err(format!("{id:?} is not in the body"));
        }
    }
    for (id, s) in &stats.containers {
        if !has_samples(s) {
            return Err(format!("{id:?} has no sample but is kept"));
        }
    }
    // Each entry against the same entry alone (only ids given once: with a repeated id the
    // last one counts, and the text of which one that was is not known here).
    let Members(members) = serde_json::from_slice(data).map_err(|e| e.to_string())?;
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (id, _) in &members {
        *count.entry(id).or_insert(0) += 1;
    }
    for (id, raw) in &members {
        if count[id.as_str()] != 1 {
            continue;
        }
        let whole = classify(&stats, id);
        let entry: Value = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        let expected_kind = match &entry {
            Value::Null => Some(Class::Absent),
            Value::Object(o) if o.is_empty() => Some(Class::Absent),
            Value::Object(_) => None,
            _ => Some(Class::Malformed),
        };
        if let Some(kind) = expected_kind
            && whole != kind
        {
            return Err(format!("{id:?}: {} read as {whole:?}", raw.get()));
        }
        let key = serde_json::to_string(id).map_err(|e| e.to_string())?;
        let alone_body = format!("{{{key}:{}}}", raw.get());
        let alone = parse::stats(alone_body.as_bytes())
            .map_err(|e| format!("{id:?} alone was rejected whole: {e}"))?;
        let alone = classify(&alone, id);
        if alone != whole {
            return Err(format!(
                "{id:?} is {whole:?} in the body but {alone:?} alone"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The whole cycle: bodies → parse → compute → label → encode.

/// `data` = `/task` NUL `/task/stats` NUL `/task/stats` (next poll) NUL `/taskWithTags`
/// NUL settings bytes. Two cycles of the exporter's own pipeline step, the tags read with the
/// first; every cycle's documents must pass [`check_cycle`], and every published value must
/// be finite and not negative.
pub fn run_pipeline(data: &[u8]) -> Result<(), String> {
    let mut parts = data.splitn(5, |b| *b == 0);
    let task_body = parts.next().unwrap_or_default();
    let stats_bodies = [
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    ];
    let tags_body = parts.next().unwrap_or_default();
    let mut b = Bytes::new(parts.next().unwrap_or_default());
    let config = encoder_config(&mut b);
    let mut settings = Settings::from_raw(&RawSettings::default()).map_err(|e| e.to_string())?;
    settings.dimensions = dimension_config(&mut b);
    settings.exclude_containers = NameFilter::new(
        (0..b.below(3))
            .map(|_| b.string(12))
            .collect::<Vec<String>>(),
    );
    let mut pipeline = Pipeline::new(&settings);
    let mut tags = Some(TagsRead {
        endpoint: parse::task_with_tags(tags_body).map_err(|error| FetchError::Body {
            path: Path::TaskWithTags,
            error,
        }),
        api: None,
    });
    let start: DateTime<Utc> = Utc.timestamp_millis_opt(NOW_MS).single().ok_or("NOW_MS")?;
    let mut at = start;
    let now = std::time::Instant::now();
    for stats_body in stats_bodies {
        // Polls 0 to ~18 hours apart (0: the same instant twice).
        at += chrono::Duration::milliseconds(i64::from(b.u16()) * i64::from(b.byte()) * 4);
        let Ok(snapshot) = Snapshot::from_bodies(task_body, stats_body, at) else {
            continue;
        };
        let timestamp_ms = snapshot.received_at.timestamp_millis();
        let step = pipeline.step(Input {
            poll: Ok(snapshot),
            tags: tags.take(),
            own_container: None,
            container_instance: None,
            now,
            elapsed: std::time::Duration::ZERO,
            totals: Totals::default(),
        });
        let cycle = step
            .cycle
            .map_err(|e| format!("a parsed poll gave no cycle: {e}"))?;
        for s in cycle.entities.iter().flat_map(|e| &e.samples) {
            if !s.value.is_finite() || s.value < 0.0 {
                return Err(format!("computed {} = {}", s.metric.name, s.value));
            }
        }
        check_cycle(&cycle, &config, Some(timestamp_ms))?;
    }
    Ok(())
}

/// How the fault server answers, chosen by the input's first byte.
enum Answer {
    /// The rest of the input, as is, on every connection, which is then closed.
    Raw(Vec<u8>),
    /// A well-formed 200 answer to every request on a kept-alive connection, its body the
    /// rest of the input, framed by `Content-Length` or in chunks of the given sizes.
    Framed {
        body: Vec<u8>,
        chunks: Option<Vec<usize>>,
    },
}

impl Answer {
    fn from(data: &[u8]) -> Answer {
        let Some((&mode, rest)) = data.split_first() else {
            return Answer::Raw(Vec::new());
        };
        match mode % 3 {
            0 => Answer::Raw(rest.to_vec()),
            1 => Answer::Framed {
                body: rest.to_vec(),
                chunks: None,
            },
            _ => {
                // Chunk sizes from the body's own bytes (1 to 64), so any split is reachable.
                let mut sizes = Vec::new();
                let mut left = rest.len();
                let mut i = 0;
                while left > 0 {
                    let size = (usize::from(rest[i % rest.len()]) % 64 + 1).min(left);
                    sizes.push(size);
                    left -= size;
                    i += 1;
                }
                Answer::Framed {
                    body: rest.to_vec(),
                    chunks: Some(sizes),
                }
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match self {
            Answer::Raw(bytes) => bytes.clone(),
            Answer::Framed { body, chunks: None } => {
                let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                    .into_bytes();
                out.extend_from_slice(body);
                out
            }
            Answer::Framed {
                body,
                chunks: Some(sizes),
            } => {
                let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                let mut at = 0;
                for size in sizes {
                    out.extend_from_slice(format!("{size:x}\r\n").as_bytes());
                    out.extend_from_slice(&body[at..at + size]);
                    out.extend_from_slice(b"\r\n");
                    at += size;
                }
                out.extend_from_slice(b"0\r\n\r\n");
                out
            }
        }
    }
}

/// Reads one request head (up to its blank line, at most 64 KiB); false when the client
/// closed first.
async fn read_request(conn: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65_536 {
        match conn.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

/// The metadata client (`source::metadata::http`, hyper underneath) against a server that
/// answers with bytes made from `data`: either the bytes themselves, then a close, or a
/// well-formed answer on a kept-alive connection. Two GETs, as a cycle makes. No panic, no
/// hang (the server always ends its answer, so the client's timeout is a finding), every
/// error with a reason, no body over the cap, and a well-formed answer read exactly.
pub fn run_http(data: &[u8]) -> Result<(), String> {
    use ecs_emf_exporter::source::metadata::http::{HttpClient, HttpError, MAX_BODY_BYTES};
    use tokio::io::AsyncWriteExt;

    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    });
    let answer = Answer::from(data);
    let bytes = answer.bytes();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let address = listener
            .local_addr()
            .map_err(|e| e.to_string())?
            .to_string();
        let keep_alive = matches!(answer, Answer::Framed { .. });
        let server = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let bytes = bytes.clone();
                tokio::spawn(async move {
                    while read_request(&mut conn).await {
                        if conn.write_all(&bytes).await.is_err() || !keep_alive {
                            break;
                        }
                    }
                });
            }
        });
        let client = HttpClient::new(
            &address,
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(1),
        );
        let mut outcome = Ok(());
        for path in ["/task", "/task/stats"] {
            let finding = match (client.get(path).await, &answer) {
                (Err(HttpError::Timeout), _) => Some(format!(
                    "{path}: timed out although the server ended its answer"
                )),
                (Err(e), Answer::Framed { .. }) => {
                    Some(format!("{path}: a well-formed answer was refused: {e}"))
                }
                (Err(e), Answer::Raw(_)) if e.to_string().trim().is_empty() => {
                    Some(format!("{path}: an error without a reason: {e:?}"))
                }
                (Ok(r), _) if r.body.len() > MAX_BODY_BYTES => Some(format!(
                    "{path}: a body of {} bytes passed the cap",
                    r.body.len()
                )),
                (Ok(r), Answer::Framed { body, .. }) if r.status != 200 || &r.body != body => {
                    Some(format!(
                        "{path}: read {} {:?}, sent 200 {:?}",
                        r.status,
                        String::from_utf8_lossy(&r.body),
                        String::from_utf8_lossy(body)
                    ))
                }
                _ => None,
            };
            if let Some(finding) = finding {
                outcome = Err(finding);
                break;
            }
        }
        server.abort();
        outcome
    })
}
