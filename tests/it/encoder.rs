//! The EMF encoder keeps every limit of docs/limits.md, checked by the independent validator in
//! `support/emf_rules.rs` (which is itself checked first, on lines it must reject).

use crate::support::emf_rules::{assert_valid_lines, problems};
use ecs_emf_exporter::emf::{EncoderConfig, encode};
use ecs_emf_exporter::pipeline::cycle::{Cycle, Entity};
use ecs_emf_exporter::pipeline::{CATALOG, Level, MetricDef, Sample, Unit, catalog};
use serde_json::Value;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn config(max_line_bytes: usize) -> EncoderConfig {
    EncoderConfig {
        namespace: "ECS/TaskMetrics".into(),
        high_resolution: false,
        max_line_bytes,
        log_group: None,
        log_stream: None,
    }
}

fn entity(fields: &[(&str, &str)], sets: &[&[&str]], samples: Vec<Sample>) -> Entity {
    Entity {
        level: Level::Container,
        dimension_sets: sets
            .iter()
            .map(|s| s.iter().map(|d| d.to_string()).collect())
            .collect(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        samples,
    }
}

fn all_metrics(value: f64) -> Vec<Sample> {
    CATALOG
        .iter()
        .map(|m| Sample { metric: m, value })
        .collect()
}

fn lines(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

/// Every (metric name, value) pair the documents publish, per dimension set.
fn published(docs: &[Value]) -> Vec<(String, f64, Vec<String>)> {
    let mut out = Vec::new();
    for d in docs {
        let directive = &d["_aws"]["CloudWatchMetrics"][0];
        for set in directive["Dimensions"].as_array().expect("dims") {
            let set: Vec<String> = set
                .as_array()
                .expect("set")
                .iter()
                .map(|k| k.as_str().expect("str").to_string())
                .collect();
            for m in directive["Metrics"].as_array().expect("metrics") {
                let name = m["Name"].as_str().expect("name").to_string();
                out.push((name.clone(), d[&name].as_f64().expect("value"), set.clone()));
            }
        }
    }
    out.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    out
}

#[test]
fn the_validator_rejects_what_cloudwatch_would_drop() {
    let now = now_ms();
    let ok = &r#"{"_aws":{"Timestamp":TS,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["A"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"A":"x","M":1}"#.replace("TS", &now.to_string());
    assert_eq!(problems(ok, 16383, Some(now)), Vec::<String>::new());
    let bad = [
        (ok.replace("\"Count\"", "\"Counts\""), "invalid unit"),
        (ok.replace(",\"A\":\"x\"", ""), "no string value"),
        (ok.replace("\"A\":\"x\"", "\"A\":\"\""), "1-1024"),
        (ok.replace("\"M\":1}", "\"M\":\"1\"}"), "finite number"),
        (
            ok.replace("\"Namespace\":\"N\"", "\"Namespace\":\"AWS/ECS\""),
            "bad namespace",
        ),
        (
            ok.replace(&now.to_string(), &(now - 15 * 86_400_000).to_string()),
            "outside",
        ),
        (ok[..ok.len() - 1].to_string(), "not valid JSON"),
    ];
    for (line, expected) in bad {
        let p = problems(&line, 16383, Some(now));
        assert!(
            p.iter().any(|x| x.contains(expected)),
            "{expected:?} not in {p:?}"
        );
    }
    assert!(
        problems(ok, 100, None)
            .iter()
            .any(|x| x.contains("bytes (max 100)"))
    );
}

#[test]
fn a_container_document_has_dimensions_properties_and_values() {
    let e = entity(
        &[
            ("ClusterName", "prod"),
            ("ServiceName", "web"),
            ("ContainerName", "app"),
            ("Type", "Container"),
            ("Image", "nginx"),
        ],
        &[&["ClusterName", "ServiceName", "ContainerName"]],
        vec![
            Sample {
                metric: &catalog::ContainerCpuUtilized,
                value: 51.2,
            },
            Sample {
                metric: &catalog::ContainerMemoryUtilized,
                value: 64.0,
            },
        ],
    );
    let at = now_ms();
    let out = encode(
        &Cycle {
            timestamp_ms: at,
            entities: vec![e],
        },
        &config(16383),
    );
    assert_eq!((out.documents, out.values), (1, 2));
    let text = lines(&out.bytes);
    let docs = assert_valid_lines(&text, 16383);
    let d = &docs[0];
    assert_eq!(d["_aws"]["Timestamp"], at);
    assert_eq!(
        d["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "ECS/TaskMetrics"
    );
    assert_eq!(
        d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][2],
        "ContainerName"
    );
    assert_eq!(
        d["_aws"]["CloudWatchMetrics"][0]["Metrics"][1],
        serde_json::json!({"Name": "ContainerMemoryUtilized", "Unit": "Megabytes"})
    );
    assert_eq!(d["ContainerCpuUtilized"], 51.2);
    assert_eq!(d["Image"], "nginx");
    assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
}

#[test]
fn more_than_100_metrics_are_split_into_documents_of_at_most_100() {
    // The catalog has 35 metrics; the cap is enforced anyway, with 150 distinct ones.
    let defs: Vec<&'static MetricDef> = (0..150)
        .map(|i| {
            let name: &'static str = Box::leak(format!("Metric{i:03}").into_boxed_str());
            let def: &'static MetricDef = Box::leak(Box::new(MetricDef {
                index: MetricDef::NOT_IN_CATALOG,
                name,
                unit: Unit::Count,
                level: Level::Task,
                description: "",
            }));
            def
        })
        .collect();
    let samples = defs
        .iter()
        .enumerate()
        .map(|(i, m)| Sample {
            metric: m,
            value: i as f64,
        })
        .collect();
    let e = entity(&[("Type", "Task")], &[&[]], samples);
    let out = encode(
        &Cycle {
            timestamp_ms: now_ms(),
            entities: vec![e],
        },
        &config(1_048_576),
    );
    assert_eq!((out.documents, out.values), (2, 150));
    let docs = assert_valid_lines(&lines(&out.bytes), 1_048_576);
    let counts: Vec<usize> = docs
        .iter()
        .map(|d| {
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .expect("metrics")
                .len()
        })
        .collect();
    assert_eq!(counts, vec![100, 50]);
    assert_eq!(docs[1]["Metric149"], 149.0);
}

#[test]
fn a_tight_line_limit_splits_metrics_without_losing_or_duplicating_any() {
    let e = entity(
        &[("Type", "Task"), ("ClusterName", "c")],
        &[&["ClusterName"]],
        all_metrics(123_456.789),
    );
    let cycle = Cycle {
        timestamp_ms: now_ms(),
        entities: vec![e],
    };
    let whole = encode(&cycle, &config(16383));
    let split = encode(&cycle, &config(1024));
    assert!(
        split.documents > 1,
        "expected a split, got {}",
        split.documents
    );
    assert_eq!(split.values, CATALOG.len());
    let text = lines(&split.bytes);
    for line in text.lines() {
        assert!(line.len() <= 1024, "{} bytes", line.len());
    }
    let docs_split = assert_valid_lines(&text, 1024);
    let docs_whole = assert_valid_lines(&lines(&whole.bytes), 16383);
    assert_eq!(published(&docs_split), published(&docs_whole));
}

#[test]
fn when_properties_do_not_fit_only_the_dimension_values_are_kept() {
    let long_image = "i".repeat(3000);
    let e = entity(
        &[
            ("Type", "Container"),
            ("ContainerName", "app"),
            ("Image", &long_image),
        ],
        &[&["ContainerName"]],
        vec![Sample {
            metric: &catalog::ContainerCpuUtilized,
            value: 1.0,
        }],
    );
    let out = encode(
        &Cycle {
            timestamp_ms: now_ms(),
            entities: vec![e],
        },
        &config(2048),
    );
    let docs = assert_valid_lines(&lines(&out.bytes), 2048);
    assert_eq!(docs.len(), 1);
    assert!(docs[0].get("Image").is_none());
    assert_eq!(docs[0]["ContainerName"], "app");
    assert_eq!(docs[0]["ContainerCpuUtilized"], 1.0);
}

#[test]
fn when_all_sets_together_do_not_fit_each_set_gets_its_own_documents() {
    let a = "a".repeat(1000);
    let b = "b".repeat(1000);
    let e = entity(
        &[("Type", "Task"), ("TagA", &a), ("TagB", &b)],
        &[&["TagA"], &["TagB"]],
        vec![Sample {
            metric: &catalog::CpuUtilized,
            value: 7.0,
        }],
    );
    let out = encode(
        &Cycle {
            timestamp_ms: now_ms(),
            entities: vec![e],
        },
        &config(1500),
    );
    let docs = assert_valid_lines(&lines(&out.bytes), 1500);
    assert_eq!(docs.len(), 2);
    assert_eq!(
        published(&docs),
        vec![
            ("CpuUtilized".to_string(), 7.0, vec!["TagA".to_string()]),
            ("CpuUtilized".to_string(), 7.0, vec!["TagB".to_string()])
        ]
    );
    assert!(out.rejected.is_empty());
}

#[test]
fn values_that_cannot_fit_at_all_are_reported_not_cut() {
    let huge = "v".repeat(1024);
    let e = entity(
        &[("Type", "Task"), ("TagA", &huge)],
        &[&["TagA"]],
        vec![Sample {
            metric: &catalog::CpuUtilized,
            value: 1.0,
        }],
    );
    let out = encode(
        &Cycle {
            timestamp_ms: now_ms(),
            entities: vec![e],
        },
        &config(1024),
    );
    assert!(out.bytes.is_empty());
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].values, 1);
    assert!(
        out.rejected[0].reason.contains("1024-byte line limit"),
        "{}",
        out.rejected[0].reason
    );
}

#[test]
fn high_resolution_marks_every_metric_and_escaping_keeps_json_valid() {
    let e = entity(
        &[("Type", "Task"), ("team", "pay\"ments\\\u{1}\u{e9}")],
        &[&["team"]],
        vec![Sample {
            metric: &catalog::MemoryUtilized,
            value: 0.1,
        }],
    );
    let mut cfg = config(16383);
    cfg.high_resolution = true;
    let out = encode(
        &Cycle {
            timestamp_ms: now_ms(),
            entities: vec![e],
        },
        &cfg,
    );
    let docs = assert_valid_lines(&lines(&out.bytes), 16383);
    assert_eq!(
        docs[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["StorageResolution"],
        1
    );
    assert_eq!(docs[0]["team"], "pay\"ments\\\u{1}\u{e9}");
    assert_eq!(docs[0]["MemoryUtilized"], 0.1);
}

#[test]
fn exact_line_limit_is_inclusive() {
    let e = entity(
        &[("Type", "Task"), ("ClusterName", "c")],
        &[&["ClusterName"]],
        vec![Sample {
            metric: &catalog::CpuUtilized,
            value: 1.0,
        }],
    );
    let cycle = Cycle {
        timestamp_ms: now_ms(),
        entities: vec![e],
    };
    let one = encode(&cycle, &config(16383));
    let len = one.bytes.len() - 1; // newline excluded
    let exact = encode(&cycle, &config(len));
    assert_eq!(exact.documents, 1);
    assert_eq!(exact.bytes, one.bytes);
}
