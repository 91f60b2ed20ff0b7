//! The fuzz targets' checks, in plain `cargo test`: every committed input (the seed corpus
//! in `fuzz/seeds/<target>/` and the inputs that once crashed a target in
//! `tests/fuzz_regressions/<target>/`) is run through the same code the cargo-fuzz targets
//! run (`fuzz/harness.rs`), so the harness is compiled and exercised in CI and a fixed crash
//! stays fixed. `scripts/fuzz.sh` runs the targets themselves (not in CI).

use std::path::{Path, PathBuf};

use ecs_emf_exporter::emf::EncoderConfig;
use ecs_emf_exporter::settings::{RawSettings, Settings};

/// The encoder as the sidecar builds it with every setting at its default.
fn default_encoder() -> EncoderConfig {
    Settings::from_raw(&RawSettings::default())
        .expect("the defaults are valid")
        .encoder()
}

/// Files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on every committed input of `target`; `minimum`: how many seeds there must
/// be (so an emptied or moved corpus fails instead of passing on nothing).
fn replay(target: &str, minimum: usize, check: fn(&[u8]) -> Result<(), String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = inputs(&root.join("fuzz/seeds").join(target));
    assert!(
        seeds.len() >= minimum,
        "fuzz/seeds/{target}/ has {} inputs, expected at least {minimum}",
        seeds.len()
    );
    let regressions = inputs(&root.join("tests/fuzz_regressions").join(target));
    let mut failures = Vec::new();
    for path in seeds.iter().chain(&regressions) {
        let data = std::fs::read(path).expect("readable input");
        let outcome = std::panic::catch_unwind(|| check(&data));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(finding)) => failures.push(format!("{}: {finding}", path.display())),
            Err(_) => failures.push(format!("{}: panicked", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn metadata_http_inputs() {
    replay("metadata_http", 8, crate::harness::run_http);
}

#[test]
fn parse_metadata_inputs() {
    replay("parse_metadata", 10, crate::harness::run_parse);
}

#[test]
fn encode_inputs() {
    replay("encode", 10, crate::harness::run_encode);
}

#[test]
fn pipeline_inputs() {
    replay("pipeline", 4, crate::harness::run_pipeline);
}

// What the fuzz targets found, as explicit cases (the seed inputs above found them too).

/// Found by `encode`: a NaN or infinite value was written as `0`, a value nobody measured.
/// Now it is left out and counted as rejected; the entity's other values are published.
#[test]
fn encode_non_finite_values_are_not_written_as_zero() {
    use ecs_emf_exporter::emf::encode;
    use ecs_emf_exporter::pipeline::cycle::{Cycle, Entity};
    use ecs_emf_exporter::pipeline::{Level, Sample};

    let pool = crate::harness::metric_pool();
    let values = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 2.5];
    let cycle = Cycle {
        timestamp_ms: crate::harness::NOW_MS,
        entities: vec![Entity {
            level: Level::Task,
            dimension_sets: vec![vec!["ClusterName".into()]],
            fields: vec![
                ("ClusterName".into(), "prod".into()),
                ("Type".into(), "Task".into()),
            ],
            samples: values
                .iter()
                .zip(pool)
                .map(|(&value, &metric)| Sample { metric, value })
                .collect(),
        }],
    };
    let config = default_encoder();
    crate::harness::check_cycle(&cycle, &config, None).expect("valid and complete");
    let out = encode(&cycle, &config);
    let text = String::from_utf8(out.bytes).expect("UTF-8");
    assert_eq!((out.documents, out.values), (1, 1), "{text}");
    assert!(
        text.contains(&format!("\"{}\":2.5", pool[3].name)),
        "{text}"
    );
    for metric in &pool[..3] {
        assert!(
            !text.contains(metric.name),
            "{} written: {text}",
            metric.name
        );
    }
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].values, 3);
}

/// Found by `parse_metadata`: serde's derived `Deserialize` reads a struct from a JSON array,
/// so `[]` was an empty task and `["prod", …]` a task of cluster `prod`.
#[test]
fn parse_a_task_body_that_is_not_an_object_is_an_error() {
    use ecs_emf_exporter::source::metadata::parse;

    for body in [
        &b"[]"[..],
        br#"["prod", "arn:aws:ecs:us-east-1:1:task/prod/abc"]"#,
        b" [{}] ",
    ] {
        let text = String::from_utf8_lossy(body);
        let err = parse::task(body).expect_err(&text);
        assert!(err.0.starts_with("unexpected JSON shape"), "{text}: {err}");
        let err = parse::task_with_tags(body).expect_err(&text);
        assert!(err.0.starts_with("unexpected JSON shape"), "{text}: {err}");
        crate::harness::run_parse(body).expect("checks hold");
    }
    // Still accepted: objects, with leading whitespace too.
    assert!(parse::task(b" \n{\"Cluster\": \"prod\"}").is_ok());
    assert!(parse::task_with_tags(b"{}").is_ok());
}

/// Found by `parse_metadata`: when the one-pass stats parse fell back to one entry at a time
/// (valid JSON that does not fit, e.g. a repeated key inside an entry), an entry that is a
/// list was read as stats (`[null, null, {"cpu_usage": …}]` gave CPU stats) or dropped,
/// instead of reported as malformed as the one-pass parse does.
#[test]
fn parse_a_stats_entry_that_is_a_list_is_malformed_in_both_parses() {
    use ecs_emf_exporter::source::metadata::parse;

    let list = r#"[null, null, {"cpu_usage": {"total_usage": 5}}]"#;
    let one_pass = format!(r#"{{"l": {list}, "e": [], "ok": {{"memory_stats": {{"usage": 7}}}}}}"#);
    let fallback = format!(
        r#"{{"dup": {{"read": "a", "read": "b"}}, "l": {list}, "e": [], "ok": {{"memory_stats": {{"usage": 7}}}}}}"#
    );
    for body in [&one_pass, &fallback] {
        let parsed = parse::stats(body.as_bytes()).expect(body);
        assert!(!parsed.containers.contains_key("l"), "{body}");
        assert!(parsed.malformed.contains(&"l".to_string()), "{body}");
        assert!(parsed.malformed.contains(&"e".to_string()), "{body}");
        assert!(parsed.containers.contains_key("ok"), "{body}");
        crate::harness::run_parse(body.as_bytes()).expect("checks hold");
    }
}

/// Found while writing the `encode` fuzz target: a dimension value over 1024 characters is
/// cut to its first 1024 (`Warnings::clean` in src/dimensions.rs), and when those were all
/// whitespace the published value was blank, which CloudWatch rejects (the document would be
/// dropped). Now such a value is 'unknown', like any other blank value.
#[test]
fn labeler_never_publishes_a_value_that_is_blank_after_truncation() {
    use ecs_emf_exporter::pipeline::cycle::Cycle;
    use ecs_emf_exporter::pipeline::dimensions::{DimensionConfig, Labeler, Tags};
    use ecs_emf_exporter::pipeline::{Measurements, Sample, catalog};
    use ecs_emf_exporter::source::metadata::TaskMetadata;

    let task = TaskMetadata {
        cluster: Some(format!("{}x", " ".repeat(1100))),
        service_name: Some("orders".into()),
        ..TaskMetadata::default()
    };
    let measured = Measurements {
        task: vec![Sample {
            metric: &catalog::CpuUtilized,
            value: 1.0,
        }],
        ..Measurements::default()
    };
    let entities =
        Labeler::new(DimensionConfig::default()).label(&task, &Tags::default(), measured, vec![]);
    let cycle = Cycle {
        timestamp_ms: crate::harness::NOW_MS,
        entities,
    };
    let config = default_encoder();
    crate::harness::check_cycle(&cycle, &config, None).expect("valid EMF");
}
