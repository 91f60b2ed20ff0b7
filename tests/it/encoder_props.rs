//! Property tests of the EMF encoder (proptest), in plain `cargo test`.
//!
//! For generated cycles (0–250 metrics per entity, values including NaN, ±∞, subnormal and
//! extreme ones, 1–4 dimension sets of up to 30 dimensions, dimension values of 1–1024
//! characters of any Unicode including quotes and control characters, properties of any
//! length, line limits from 1024 to 1048576 bytes) every encoding must keep the rules of
//! docs/limits.md and account for every value. The checks are `fuzz/harness.rs`'s `check_cycle` /
//! `check_entity` (shared with the fuzz targets), on top of `tests/it/support/emf_rules.rs`:
//! - every line at most `max_line_bytes`, valid JSON, no problem for `emf_rules::problems`
//!   (≤ 100 metrics per directive, ≤ 30 dimensions per set, dimension values 1–1024
//!   characters, units, finite numbers, timestamp window, namespace);
//! - no value invented: each finite input value appears exactly once for each dimension
//!   set of its entity, with its exact value; non-finite values never appear and are counted
//!   as rejected; no member, dimension set or metric that is not in the input;
//! - a whole entity is rejected only when one of its values cannot fit in any document.
//!
//! `checks_fail_on_broken_output` shows those checks are not tautologies: each kind of
//! damage to a correct encoding is caught.

use std::collections::BTreeMap;

use ecs_emf_exporter::emf::{EncoderConfig, encode};
use ecs_emf_exporter::pipeline::cycle::{Cycle, Entity};
use ecs_emf_exporter::pipeline::dimensions::{
    Builtin, DimensionConfig, Labeler, PROPERTY_NAMES, Tags,
};
use ecs_emf_exporter::pipeline::{ContainerMeasurement, Level, Measurements, Sample};
use ecs_emf_exporter::source::metadata::TaskMetadata;
use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::test_runner::Config;

/// Timestamps are "now" minus up to a day, so the timestamp-window rule is checked too.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn odd_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => (0x20u8..=0x7e).prop_map(char::from),
        2 => prop::sample::select(vec![
            '"', '\\', '/', '\0', '\n', '\r', '\t', '\u{8}', '\u{1f}', '\u{7f}', '\u{a0}',
            '\u{2028}', '\u{2029}', '\u{feff}', '\u{fffd}', '\u{200b}', '\u{3000}', '\u{301}',
            'é', '日', '\u{1f600}', '\u{10ffff}',
        ]),
        2 => any::<char>(),
    ]
}

fn string_of(len: impl Into<prop::collection::SizeRange>) -> impl Strategy<Value = String> {
    prop::collection::vec(odd_char(), len).prop_map(String::from_iter)
}

/// A dimension value as the labeler leaves it: 1–1024 characters, not blank. Often long,
/// sometimes exactly 1024.
fn dimension_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => string_of(1..=40),
        1 => string_of(1000..=1024),
        1 => (Just(1024usize), odd_char()).prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
    ]
    .prop_filter("not blank", |v| !v.trim().is_empty())
}

/// A dimension name settings accept (built-in, or a tag/static name: 1–250 printable
/// ASCII, not starting with ':', no collision with properties or metric names).
fn dimension_name() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(Builtin::ALL.to_vec()).prop_map(|b| b.name().to_string()),
        2 => proptest::string::string_regex("[ -~]{1,40}|[ -~]{245,250}")
            .expect("valid regex")
            .prop_filter("a name settings accept", |n| {
                !n.starts_with(':')
                    && !PROPERTY_NAMES.contains(&n.as_str())
                    && !crate::harness::metric_pool().iter().any(|m| m.name == n)
            }),
    ]
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0..1e12f64,
        2 => any::<f64>(), // every class: normal, subnormal, zero, infinite, NaN
        1 => prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            1e21,
            9_007_199_254_740_993.0,
        ]),
    ]
}

/// Distinct metrics of the pool (catalog + synthetic), with values.
fn samples(max: usize) -> impl Strategy<Value = Vec<Sample>> {
    let pool = crate::harness::metric_pool();
    subsequence((0..pool.len()).collect::<Vec<_>>(), 0..=max.min(pool.len()))
        .prop_flat_map(|indices| {
            let n = indices.len();
            (Just(indices), prop::collection::vec(value(), n))
        })
        .prop_map(|(indices, values)| {
            let pool = crate::harness::metric_pool();
            indices
                .into_iter()
                .zip(values)
                .map(|(i, value)| Sample {
                    metric: pool[i],
                    value,
                })
                .collect()
        })
}

fn entity() -> impl Strategy<Value = Entity> {
    let level = prop::sample::select(vec![Level::Task, Level::Container, Level::Exporter]);
    let names = prop::collection::btree_set(dimension_name(), 0..=40)
        .prop_map(|s| s.into_iter().collect::<Vec<String>>());
    (level, names)
        .prop_flat_map(|(level, names)| {
            let k = names.len().min(30);
            let sets = prop::collection::vec(subsequence(names.clone(), 0..=k), 1..=4);
            let values = prop::collection::vec(dimension_value(), names.len());
            let properties = prop::collection::vec(
                (
                    prop::sample::select(PROPERTY_NAMES.to_vec()),
                    string_of(0..=3000),
                ),
                0..4,
            );
            let count = prop_oneof![0..=8usize, 95..=105usize, 0..=250usize];
            let samples = count.prop_flat_map(samples);
            (
                Just(level),
                Just(names),
                sets,
                values,
                properties,
                samples,
                any::<bool>(),
            )
        })
        .prop_map(
            |(level, names, sets, values, properties, samples, with_type)| {
                let mut dimension_sets: Vec<Vec<String>> = Vec::new();
                for set in sets {
                    if !dimension_sets.contains(&set) {
                        dimension_sets.push(set);
                    }
                }
                let mut fields: Vec<(String, String)> = Vec::new();
                for (name, value) in names.iter().zip(values) {
                    if dimension_sets.iter().flatten().any(|d| d == name) {
                        fields.push((name.clone(), value));
                    }
                }
                if with_type {
                    fields.push(("Type".into(), level.as_str().into()));
                }
                for (name, value) in properties {
                    if name != "_aws" && !fields.iter().any(|(k, _)| k == name) {
                        fields.push((name.to_string(), value));
                    }
                }
                Entity {
                    level,
                    dimension_sets,
                    fields,
                    samples,
                }
            },
        )
}

fn max_line_bytes() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => 1024..=4096usize,
        2 => 4096..=20_000usize,
        1 => Just(16_383usize),
        2 => 1024..=1_048_576usize,
    ]
}

fn encoder_config() -> impl Strategy<Value = EncoderConfig> {
    (
        proptest::string::string_regex("[ -~]{1,255}")
            .expect("valid regex")
            .prop_filter("not AWS/", |n| !n.starts_with("AWS/")),
        any::<bool>(),
        max_line_bytes(),
        prop::option::of(string_of(1..=512)),
        prop::option::of(string_of(1..=512)),
    )
        .prop_map(
            |(namespace, high_resolution, max_line_bytes, log_group, log_stream)| EncoderConfig {
                namespace,
                high_resolution,
                max_line_bytes,
                log_group,
                log_stream,
            },
        )
}

fn config() -> Config {
    Config {
        cases: 128,
        // Failures are reported with their shrunk input; no files written beside the tests.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_line_is_valid_emf_and_every_value_is_accounted_for(
        entities in prop::collection::vec(entity(), 1..=3),
        config in encoder_config(),
        age_ms in 0..86_400_000i64,
    ) {
        let now = now_ms();
        let cycle = Cycle { timestamp_ms: now - age_ms, entities };
        let out = encode(&cycle, &config);
        // The headline properties, spelled out here; check_cycle checks them and the rest.
        for line in String::from_utf8(out.bytes.clone()).expect("UTF-8").lines() {
            prop_assert!(line.len() <= config.max_line_bytes, "{} > {}", line.len(), config.max_line_bytes);
            let doc: serde_json::Value = serde_json::from_str(line).expect("JSON");
            let directive = &doc["_aws"]["CloudWatchMetrics"][0];
            prop_assert!(directive["Metrics"].as_array().expect("Metrics").len() <= 100);
            for set in directive["Dimensions"].as_array().expect("Dimensions") {
                prop_assert!(set.as_array().expect("set").len() <= 30);
            }
        }
        let checked = crate::harness::check_cycle(&cycle, &config, Some(now));
        prop_assert!(checked.is_ok(), "{}", checked.unwrap_err());
    }

    /// Raw identity, tag values and container names (blank, over 1024 characters, any
    /// Unicode) through the labeler, as the exporter does, then the encoder.
    #[test]
    fn labeled_raw_values_encode_to_valid_emf(
        raw in prop::collection::vec(prop::option::of(prop_oneof![string_of(0..=20), string_of(1020..=1100)]), 7),
        tag_keys in prop::collection::btree_set(dimension_name().prop_filter("not built-in", |n| Builtin::parse(n).is_none()), 0..=10),
        tag_values in prop::collection::vec(prop_oneof![string_of(0..=20), string_of(1020..=1100)], 10),
        containers in prop::collection::vec((prop_oneof![string_of(0..=20), string_of(1020..=1100)], samples(40)), 0..=3),
        task_samples in samples(60),
        config in encoder_config(),
    ) {
        let tag_keys: Vec<String> = tag_keys.into_iter().collect();
        let dimensions = DimensionConfig {
            task_sets: vec![Builtin::ALL.into_iter().filter(|b| *b != Builtin::ContainerName).collect(), vec![]],
            container_sets: vec![Builtin::ALL.to_vec(), vec![Builtin::ClusterName, Builtin::ContainerName]],
            tag_keys: tag_keys.clone(),
            static_dims: vec![],
        };
        prop_assume!(dimensions.widest_set() <= 30);
        let task = TaskMetadata {
            cluster: raw[0].clone(),
            task_arn: raw[1].clone(),
            family: raw[2].clone(),
            revision: raw[3].clone(),
            service_name: raw[4].clone(),
            launch_type: raw[5].clone(),
            availability_zone: raw[6].clone(),
            ..TaskMetadata::default()
        };
        let tags = Tags {
            task: tag_keys.iter().cloned().zip(tag_values).collect::<BTreeMap<_, _>>(),
            ..Tags::default()
        };
        let mut measured = Measurements { task: task_samples, ..Measurements::default() };
        measured.containers = containers
            .into_iter()
            .map(|(name, samples)| ContainerMeasurement {
                name,
                docker_id: None,
                image: Some("nginx".into()),
                known_status: Some("RUNNING".into()),
                exit: None,
                samples,
            })
            .collect();
        let entities = Labeler::new(dimensions).label(&task, &tags, measured, Vec::new());
        let now = now_ms();
        let cycle = Cycle { timestamp_ms: now, entities };
        let checked = crate::harness::check_cycle(&cycle, &config, Some(now));
        prop_assert!(checked.is_ok(), "{}", checked.unwrap_err());
    }
}

fn sample_entity() -> Entity {
    let pool = crate::harness::metric_pool();
    Entity {
        level: Level::Container,
        dimension_sets: vec![
            vec!["ClusterName".into(), "ContainerName".into()],
            vec!["ClusterName".into()],
        ],
        fields: vec![
            ("ClusterName".into(), "prod \"blue\"".into()),
            ("ContainerName".into(), "app\u{2028}".into()),
            ("Type".into(), "Container".into()),
            ("Image".into(), "nginx".into()),
        ],
        samples: (0..5)
            .map(|i| Sample {
                metric: pool[i],
                value: 1.5 * i as f64,
            })
            .collect(),
    }
}

/// The checks above are not tautologies: a correct encoding passes, and each kind of
/// damage to it (a changed value, a lost or repeated line, a cut line, an invented member,
/// wrong counts, a line over the limit, a NaN written as 0) is caught.
#[test]
fn checks_fail_on_broken_output() {
    let config = EncoderConfig {
        namespace: "ECS/TaskMetrics".into(),
        high_resolution: false,
        max_line_bytes: 400,
        log_group: None,
        log_stream: None,
    };
    let entity = sample_entity();
    let now = now_ms();
    let cycle = Cycle {
        timestamp_ms: now,
        entities: vec![entity.clone()],
    };
    let good = encode(&cycle, &config);
    assert!(good.documents >= 2, "the case must split: {good:?}");
    crate::harness::check_entity(&entity, now, &config, &good, Some(now))
        .expect("correct encoding");

    let text = String::from_utf8(good.bytes.clone()).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    let with_bytes = |bytes: String, line_values: Vec<usize>| {
        let mut out = good.clone();
        out.values = line_values.iter().sum();
        out.documents = line_values.len();
        out.bytes = bytes.into_bytes();
        out.line_values = line_values;
        out
    };
    let join = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let owned: Vec<String> = lines.iter().map(|l| l.to_string()).collect();

    let mut broken = Vec::new();
    // A value changed ("\"m1\":1.5" → 1.6).
    let mut changed = owned.clone();
    changed[0] = changed[0].replacen(":1.5", ":1.6", 1);
    assert_ne!(changed, owned, "the replacement must hit");
    broken.push((
        "changed value",
        with_bytes(join(&changed), good.line_values.clone()),
    ));
    // A line lost.
    broken.push((
        "lost line",
        with_bytes(join(&owned[1..]), good.line_values[1..].to_vec()),
    ));
    // A line repeated.
    let mut repeated = owned.clone();
    repeated.push(owned[0].clone());
    let mut repeated_values = good.line_values.clone();
    repeated_values.push(good.line_values[0]);
    broken.push((
        "repeated line",
        with_bytes(join(&repeated), repeated_values),
    ));
    // A line cut.
    let mut cut = owned.clone();
    let half = cut[0].len() / 2;
    cut[0].truncate(half);
    broken.push(("cut line", with_bytes(join(&cut), good.line_values.clone())));
    // A member the entity does not have.
    let mut invented = owned.clone();
    invented[0] = invented[0].replacen("{\"_aws\"", "{\"Extra\":\"x\",\"_aws\"", 1);
    broken.push((
        "invented member",
        with_bytes(join(&invented), good.line_values.clone()),
    ));
    // Counts that do not match the lines.
    let mut miscounted = good.clone();
    miscounted.values += 1;
    broken.push(("miscounted values", miscounted));
    // Values rejected that were published.
    let mut misrejected = good.clone();
    misrejected.rejected.push(ecs_emf_exporter::emf::Rejected {
        entity: "x".into(),
        values: 1,
        reason: "x".into(),
    });
    broken.push(("rejected count", misrejected));
    for (what, out) in &broken {
        assert!(
            crate::harness::check_entity(&entity, now, &config, out, Some(now)).is_err(),
            "{what} was not caught"
        );
    }
    // A line over the limit: the same output checked against a smaller limit.
    let tighter = EncoderConfig {
        max_line_bytes: lines.iter().map(|l| l.len()).max().unwrap_or(0) - 1,
        ..config.clone()
    };
    assert!(crate::harness::check_entity(&entity, now, &tighter, &good, Some(now)).is_err());
    // A NaN published as 0 (what the encoder once did).
    let mut nan = entity.clone();
    nan.samples[0].value = f64::NAN; // published as "m0":0 by `good`
    assert!(crate::harness::check_entity(&nan, now, &config, &good, Some(now)).is_err());
    // A whole entity rejected although it fits.
    let mut all_rejected = good.clone();
    all_rejected.bytes.clear();
    all_rejected.documents = 0;
    all_rejected.values = 0;
    all_rejected.line_values.clear();
    all_rejected.rejected.push(ecs_emf_exporter::emf::Rejected {
        entity: "x".into(),
        values: entity.samples.len(),
        reason: "x".into(),
    });
    assert!(crate::harness::check_entity(&entity, now, &config, &all_rejected, Some(now)).is_err());
}

/// Non-finite values are left out and counted, the finite ones of the same entity published
/// (the regression the fuzz target found first; also in tests/fuzz_regressions.rs).
#[test]
fn non_finite_values_are_rejected_not_written() {
    let mut entity = sample_entity();
    entity.samples[1].value = f64::NAN;
    entity.samples[2].value = f64::INFINITY;
    entity.samples[3].value = f64::NEG_INFINITY;
    let config = EncoderConfig {
        namespace: "N".into(),
        high_resolution: true,
        max_line_bytes: 16_383,
        log_group: None,
        log_stream: None,
    };
    let now = now_ms();
    let cycle = Cycle {
        timestamp_ms: now,
        entities: vec![entity],
    };
    let out = encode(&cycle, &config);
    assert_eq!(
        out.values, 2,
        "2 finite values, in one document with both sets"
    );
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].values, 3);
    crate::harness::check_cycle(&cycle, &config, Some(now)).expect("valid");
}
