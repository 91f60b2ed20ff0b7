//! Per-cycle CPU cost of the exporter's own work: parse the two responses, the pipeline step
//! (compute the metrics against the previous poll, label them: `Pipeline::step`, as the run
//! loop calls it) and encode EMF lines. Bodies are built from the real Fargate fixture
//! (tests/fixtures/ecs_exporter), with its `prometheus` container repeated N times under
//! distinct DockerIds, for 1, 3, 10 and 50 containers. `cycle/…` is the whole path;
//! `stage/parse`, `stage/compute+label` (the step) and `stage/encode` are its parts on their
//! own.
//!
//! `cargo bench --bench cycle` — results are recorded in docs/performance.md.

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use ecs_emf_exporter::emf::encode;
use ecs_emf_exporter::pipeline::cycle::Cycle;
use ecs_emf_exporter::pipeline::{Input, Pipeline, Totals};
use ecs_emf_exporter::settings::{RawSettings, Settings};
use ecs_emf_exporter::source::metadata::Snapshot;
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

/// The sidecar's settings, every one at its default.
fn settings() -> Settings {
    Settings::from_raw(&RawSettings::default()).expect("the defaults are valid")
}

const CONTAINERS: [usize; 4] = [1, 3, 10, 50];

/// The step's input for one poll, as the run loop hands it over (no tags read this cycle).
fn input(snapshot: Snapshot) -> Input {
    Input {
        poll: Ok(snapshot),
        tags: None,
        own_container: None,
        container_instance: None,
        now: std::time::Instant::now(),
        elapsed: std::time::Duration::ZERO,
        totals: Totals::default(),
    }
}

/// One step; its cycle.
fn step(pipeline: &mut Pipeline, snapshot: Snapshot) -> Cycle {
    pipeline
        .step(input(snapshot))
        .cycle
        .expect("a parsed poll gives a cycle")
}

/// A pipeline that has seen the first poll, so the next one yields every rate.
fn primed(settings: &Settings, task: &[u8], stats1: &[u8], t0: chrono::DateTime<Utc>) -> Pipeline {
    let mut pipeline = Pipeline::new(settings);
    step(
        &mut pipeline,
        Snapshot::from_bodies(task, stats1, t0).expect("parses"),
    );
    pipeline
}

/// The whole per-cycle path, and each of its stages on its own.
fn cycle(c: &mut Criterion) {
    let settings = settings();
    let encoder = settings.encoder();
    let t0 = Utc::now();
    let t1 = t0 + Duration::seconds(10);
    let mut whole = c.benchmark_group("cycle");
    for n in CONTAINERS {
        let (task, stats1, stats2) = bodies(n);
        // Each iteration gets a pipeline that has seen only the first poll: a pipeline fed
        // the same second poll again would see its stats clock stand still and leave the
        // rates out, which is not the work of a real cycle.
        whole.bench_with_input(BenchmarkId::new("parse+compute+encode", n), &n, |b, _| {
            b.iter_batched(
                || primed(&settings, &task, &stats1, t0),
                |mut pipeline| {
                    let snap = Snapshot::from_bodies(black_box(&task), black_box(&stats2), t1)
                        .expect("parses");
                    let cycle = step(&mut pipeline, snap);
                    encode(&cycle, &encoder).bytes.len()
                },
                BatchSize::SmallInput,
            );
        });
    }
    whole.finish();

    let mut stages = c.benchmark_group("stage");
    for n in CONTAINERS {
        let (task, stats1, stats2) = bodies(n);
        stages.bench_with_input(BenchmarkId::new("parse", n), &n, |b, _| {
            b.iter(|| {
                Snapshot::from_bodies(black_box(&task), black_box(&stats2), t1).expect("parses")
            });
        });
        let snap = Snapshot::from_bodies(&task, &stats2, t1).expect("parses");
        stages.bench_with_input(BenchmarkId::new("compute+label", n), &n, |b, _| {
            b.iter_batched(
                || (primed(&settings, &task, &stats1, t0), snap.clone()),
                |(mut pipeline, snap)| step(&mut pipeline, snap),
                BatchSize::SmallInput,
            );
        });
        let cycle = step(&mut primed(&settings, &task, &stats1, t0), snap.clone());
        // The rates need both polls: a cycle without them would measure too little work.
        let values = cycle.value_count();
        assert!(
            cycle.entities[0]
                .samples
                .iter()
                .any(|s| s.metric.name == "CpuUtilized"),
            "the benchmark's cycle has no CPU rate ({values} values)"
        );
        stages.bench_with_input(BenchmarkId::new("encode", n), &n, |b, _| {
            b.iter(|| encode(black_box(&cycle), &encoder).bytes.len());
        });
    }
    stages.finish();
}

criterion_group!(benches, cycle);
criterion_main!(benches);
