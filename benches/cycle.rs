//! Per-cycle CPU cost of the exporter's own work: parse the two responses, compute the
//! metrics against the previous poll, label them and encode EMF lines. Bodies are built
//! from the real Fargate fixture (tests/fixtures/ecs_exporter), with its `prometheus`
//! container repeated N times under distinct DockerIds.
//!
//! `cargo bench --bench cycle` — results are recorded in docs/performance.md.

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ecs_emf_exporter::cycle::Cycle;
use ecs_emf_exporter::dimensions::{DimensionConfig, Labeler, Tags};
use ecs_emf_exporter::emf::{EncoderConfig, encode};
use ecs_emf_exporter::glob::NameFilter;
use ecs_emf_exporter::metadata::Snapshot;
use ecs_emf_exporter::metrics::Collector;
use serde_json::Value;

const TASK: &str = include_str!("../tests/fixtures/ecs_exporter/fargate_task_metadata.json");
const STATS: &str = include_str!("../tests/fixtures/ecs_exporter/fargate_task_stats.json");

/// `/task` and two `/task/stats` bodies (10 s apart, counters advanced) for n containers.
fn bodies(n: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let task: Value = serde_json::from_str(TASK).expect("fixture");
    let stats: Value = serde_json::from_str(STATS).expect("fixture");
    let template_c = task["Containers"][1].clone();
    let template_s = stats["bae32def0ab64f06818e8862e58f8d6d-1819985369"].clone();
    let mut task = task;
    let mut containers = Vec::new();
    let mut first = serde_json::Map::new();
    let mut second = serde_json::Map::new();
    for i in 0..n {
        let id = format!("bae32def0ab64f06818e8862e58f8d6d-{i:010}");
        let mut c = template_c.clone();
        c["DockerId"] = Value::from(id.clone());
        c["Name"] = Value::from(format!("container-{i}"));
        containers.push(c);
        let s = template_s.clone();
        let mut s2 = s.clone();
        s2["read"] = Value::from("2025-02-27T05:22:59.186680233Z");
        s2["cpu_stats"]["cpu_usage"]["total_usage"] = Value::from(942_439_492u64);
        s2["networks"]["eth1"]["rx_bytes"] = Value::from(129_145_374u64);
        first.insert(id.clone(), s);
        second.insert(id, s2);
    }
    task["Containers"] = Value::from(containers);
    let enc = |v: &Value| serde_json::to_vec(v).expect("serializes");
    (
        enc(&task),
        enc(&Value::Object(first)),
        enc(&Value::Object(second)),
    )
}

fn cycle(c: &mut Criterion) {
    let encoder = EncoderConfig {
        namespace: "ECS/TaskMetrics".into(),
        high_resolution: false,
        max_line_bytes: 16_383,
        log_group: None,
        log_stream: None,
    };
    let mut group = c.benchmark_group("cycle");
    for n in [1usize, 3, 10, 50] {
        let (task, stats1, stats2) = bodies(n);
        let t0 = Utc::now();
        group.bench_with_input(BenchmarkId::new("parse+compute+encode", n), &n, |b, _| {
            let mut collector = Collector::new(NameFilter::default());
            let mut labeler = Labeler::new(DimensionConfig::default());
            let first = Snapshot::from_bodies(&task, &stats1, t0).expect("parses");
            collector.collect(first);
            b.iter(|| {
                let snap = Snapshot::from_bodies(
                    black_box(&task),
                    black_box(&stats2),
                    t0 + Duration::seconds(10),
                )
                .expect("parses");
                let task_meta = snap.task.clone();
                let measured = collector.collect(snap);
                let entities = labeler.label(&task_meta, &Tags::default(), measured, Vec::new());
                let out = encode(
                    &Cycle {
                        timestamp_ms: 0,
                        entities,
                    },
                    &encoder,
                );
                black_box(out.bytes.len())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, cycle);
criterion_main!(benches);
