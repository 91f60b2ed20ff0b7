//! Golden EMF files: every fixture task (tests/fixtures, real captures by other projects and
//! the AWS documentation) through the exporter's pipeline step and encoder with the default
//! settings (or the capture's own `run.json`), compared byte for byte with
//! `tests/golden/<case>.emf`. Any change to what the exporter publishes (a value, a name, a
//! property, their order, the document split) shows as a diff of those files.
//!
//! The formulas behind the values are checked by hand in `formulas.rs`; here, beside the byte
//! comparison, each case asserts the values its capture's SOURCE.md works out by hand. The
//! files were read line by line when they were made (tests/golden/README.md says how).
//! `UPDATE_GOLDEN=1 cargo test --test it golden` writes them again after a deliberate change.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use ecs_emf_exporter::emf::encode;
use ecs_emf_exporter::pipeline::{Input, Pipeline, Totals};
use ecs_emf_exporter::source::TagsRead;
use ecs_emf_exporter::source::metadata::{FetchError, Path as Route, Snapshot, parse};
use serde_json::Value;

use crate::support::inproc;
use crate::support::process::{approx, container_docs, task_docs, value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

/// One fixture task: its `/task`, the `/task/stats` of each poll in order, its
/// `/taskWithTags` (`None`: the endpoint answers 404, as Fargate's does), and settings.
struct Case {
    name: &'static str,
    task: &'static str,
    polls: &'static [&'static str],
    task_with_tags: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
}

const CASES: [Case; 10] = [
    Case {
        name: "ecs_exporter-fargate",
        task: "ecs_exporter/fargate_task_metadata.json",
        polls: &["ecs_exporter/fargate_task_stats.json"],
        task_with_tags: None,
        env: &[],
    },
    Case {
        name: "ecs_exporter-ec2",
        task: "ecs_exporter/ec2_task_metadata.json",
        polls: &["ecs_exporter/ec2_task_stats.json"],
        task_with_tags: None,
        env: &[],
    },
    Case {
        name: "otel-ec2-stopped-containers",
        task: "otel_awsecscontainermetrics/task_metadata.json",
        polls: &["otel_awsecscontainermetrics/task_stats.json"],
        task_with_tags: None,
        env: &[],
    },
    Case {
        name: "otel-earlier-revision",
        task: "otel_awsecscontainermetrics/earlier_revision/task_metadata.json",
        polls: &["otel_awsecscontainermetrics/earlier_revision/task_stats.json"],
        task_with_tags: None,
        env: &[],
    },
    Case {
        name: "otel-fargate",
        task: "otel_awsecscontainermetrics/task_metadata2.json",
        polls: &["otel_awsecscontainermetrics/task_stats2.json"],
        task_with_tags: None,
        env: &[],
    },
    Case {
        name: "real-ec2-tags",
        task: "real-captures/ec2-v1-awsvpc-tags-awsdocs/task.json",
        polls: &[
            "real-captures/ec2-v1-awsvpc-tags-awsdocs/stats_prev.json",
            "real-captures/ec2-v1-awsvpc-tags-awsdocs/stats.json",
        ],
        task_with_tags: Some("real-captures/ec2-v1-awsvpc-tags-awsdocs/taskWithTags.json"),
        env: &[("ECS_EMF_TAG_DIMENSIONS", "tag-use")],
    },
    Case {
        name: "real-ec2-tag-errors",
        task: "real-captures/ec2-v1-awsvpc-tagerrors-awsdocs/task.json",
        polls: &[
            "real-captures/ec2-v1-awsvpc-tagerrors-awsdocs/stats_prev.json",
            "real-captures/ec2-v1-awsvpc-tagerrors-awsdocs/stats.json",
        ],
        task_with_tags: Some("real-captures/ec2-v1-awsvpc-tagerrors-awsdocs/taskWithTags.json"),
        env: &[("ECS_EMF_TAG_DIMENSIONS", "tag-use")],
    },
    Case {
        name: "real-ec2-pause-only",
        task: "real-captures/ec2-v2-awsvpc-pauseonly-telegraf/task.json",
        polls: &["real-captures/ec2-v2-awsvpc-pauseonly-telegraf/stats.json"],
        task_with_tags: None,
        env: &[],
    },
    Case {
        name: "real-fargate-two-containers",
        task: "real-captures/fargate-v1-awsvpc-2ctr-ddic/task.json",
        polls: &["real-captures/fargate-v1-awsvpc-2ctr-ddic/stats.json"],
        task_with_tags: None,
        env: &[],
    },
    Case {
        name: "real-fargate-zero-precpu",
        task: "real-captures/fargate-v1-zeroprecpu-awsdocs2020/task.json",
        polls: &["real-captures/fargate-v1-zeroprecpu-awsdocs2020/stats.json"],
        task_with_tags: None,
        env: &[],
    },
];

/// The managed-instances capture: its task.json is synthesized (SOURCE.md), so it is a case
/// of its own only for the values that must be absent.
const MANAGED_INSTANCES: Case = Case {
    name: "real-managed-instances",
    task: "real-captures/mi-v2-awsvpc-2ctr-dda/task.json",
    polls: &["real-captures/mi-v2-awsvpc-2ctr-dda/stats.json"],
    task_with_tags: None,
    env: &[],
};

fn read(rel: &str) -> Vec<u8> {
    let path = Path::new(FIXTURES).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// When the first poll's answer arrived: fixed, so the files do not change with the clock.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-03-01T00:00:00Z")
        .expect("valid time")
        .with_timezone(&Utc)
}

/// What the exporter writes on stdout for `case`: one cycle per poll, 20 s apart.
fn emitted(case: &Case) -> String {
    let settings = inproc::settings(case.env);
    let mut pipeline = Pipeline::new(&settings);
    let task = read(case.task);
    let now = Instant::now();
    let mut out = Vec::new();
    for (n, stats) in case.polls.iter().enumerate() {
        let at = t0() + TimeDelta::seconds(20 * n as i64);
        let snapshot = Snapshot::from_bodies(&task, &read(stats), at).expect("fixture parses");
        let tags = pipeline.wants_tags(&snapshot.task, now).then(|| TagsRead {
            endpoint: match case.task_with_tags {
                Some(rel) => parse::task_with_tags(&read(rel)).map_err(|error| FetchError::Body {
                    path: Route::TaskWithTags,
                    error,
                }),
                None => Err(FetchError::Status {
                    path: Route::TaskWithTags,
                    status: 404,
                }),
            },
            api: None,
        });
        let step = pipeline.step(Input {
            poll: Ok(snapshot),
            tags,
            own_container: None,
            container_instance: None,
            now: now + Duration::from_secs(20 * n as u64),
            elapsed: Duration::ZERO,
            totals: Totals::default(),
        });
        let cycle = step.cycle.expect("a parsed poll gives a cycle");
        out.extend(encode(&cycle, &settings.encoder()).bytes);
    }
    String::from_utf8(out).expect("EMF is UTF-8")
}

fn golden_path(case: &Case) -> PathBuf {
    Path::new(GOLDEN).join(format!("{}.emf", case.name))
}

/// The case's documents, compared with (or, with UPDATE_GOLDEN=1, written to) its file.
fn check(case: &Case) -> Vec<Value> {
    let text = emitted(case);
    let path = golden_path(case);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (UPDATE_GOLDEN=1 cargo test --test it golden writes it)",
            path.display()
        )
    });
    if let Some((n, (want, got))) = golden
        .lines()
        .zip(text.lines())
        .enumerate()
        .find(|(_, (want, got))| want != got)
    {
        panic!(
            "{}: line {} differs\n golden: {want}\n    now: {got}\n(a deliberate change: UPDATE_GOLDEN=1 cargo test --test it golden, then review the diff)",
            path.display(),
            n + 1
        );
    }
    assert_eq!(
        golden.lines().count(),
        text.lines().count(),
        "{}: the number of documents differs",
        path.display()
    );
    crate::support::emf_rules::assert_valid_lines_at(&text, 16_383, t0().timestamp_millis())
}

#[test]
fn every_fixture_task_publishes_its_golden_file() {
    for case in CASES.iter().chain([&MANAGED_INSTANCES]) {
        check(case);
    }
}

/// The values each capture's SOURCE.md works out by hand.
#[test]
fn the_golden_files_hold_the_values_their_sources_work_out() {
    let docs = check(&CASES[7]);
    // EC2 pause container only: no container document; task Limits 0.5 vCPU = 512 units and
    // 1024 MiB; no counted container running; 14.782436285 s of image pull.
    assert!(docs.iter().all(|d| d["Type"] == "Task"), "{docs:?}");
    let task = task_docs(&docs)[0];
    assert_eq!(value(task, "CpuReserved"), Some(512.0));
    assert_eq!(value(task, "MemoryReserved"), Some(1024.0));
    assert_eq!(value(task, "RunningContainerCount"), Some(0.0));
    assert_eq!(value(task, "ImagePullTime"), Some(14.782436285));

    // Fargate 2020: all-zero precpu_stats, so the only cycle has gauges and no CPU.
    let docs = check(&CASES[9]);
    assert!(
        docs.iter()
            .all(|d| d.get("CpuUtilized").is_none() && d.get("ContainerCpuUtilized").is_none()),
        "{docs:?}"
    );
    // 0.25 vCPU × 1024; 512 MiB.
    assert_eq!(value(task_docs(&docs)[0], "CpuReserved"), Some(256.0));
    assert_eq!(value(task_docs(&docs)[0], "MemoryReserved"), Some(512.0));

    // The tags case: the task tag from /taskWithTags; the error case: unknown.
    let docs = check(&CASES[5]);
    assert!(
        task_docs(&docs)
            .iter()
            .all(|t| t["tag-use"] == "task-metadata-endpoint-test")
    );
    let docs = check(&CASES[6]);
    assert!(task_docs(&docs).iter().all(|t| t["tag-use"] == "unknown"));
    // The second cycle's CPU of `curl`: 379,075,681 − 360,968,065 = 18,107,616 ns over the
    // two `read`s, 00:51:32.512771349 − 00:51:13.410254284 = 19.102517065 s: × 1024 / 1e9 =
    // 0.9707 CPU units.
    let curl = container_docs(&docs, "curl");
    assert_eq!(curl.len(), 2, "{docs:?}");
    let cpu = value(curl[1], "ContainerCpuUtilized").expect("a rate in cycle 2");
    assert!(
        approx(Some(cpu), 18_107_616.0 / 19_102_517_065.0 * 1024.0, 1e-9),
        "{cpu}"
    );

    // Managed Instances, its task synthesized without Limits, pull times or ephemeral
    // storage: none of those, nor a utilization, is invented.
    let docs = check(&MANAGED_INSTANCES);
    for absent in [
        "CpuReserved",
        "CpuUtilization",
        "MemoryReserved",
        "MemoryUtilization",
        "ImagePullTime",
        "EphemeralStorageUtilized",
        "EphemeralStorageReserved",
        "ContainerCpuReserved",
        "ContainerMemoryReserved",
        "ContainerMemoryUtilization",
    ] {
        assert!(
            docs.iter().all(|d| d.get(absent).is_none()),
            "{absent} in {docs:?}"
        );
    }
    assert_eq!(container_docs(&docs, "datadog-agent").len(), 1);
    // ...and no ClockDrift in its task: no clock error bound, no clock properties.
    for d in &docs {
        assert!(d.get("ClockErrorBound").is_none(), "{d}");
        assert!(d.get("ClockSynchronizationStatus").is_none(), "{d}");
    }

    // Fargate's ClockDrift, as the two captures carry it: the bound in milliseconds, the
    // status and the reference time as properties of the task document only.
    for (case, bound, reference) in [
        (&CASES[0], 0.33292849999999996, "2025-02-27T05:22:43Z"),
        (&CASES[8], 0.4347665, "2023-06-20T01:18:13Z"),
    ] {
        let docs = check(case);
        let task = task_docs(&docs)[0];
        assert_eq!(value(task, "ClockErrorBound"), Some(bound), "{}", case.name);
        assert_eq!(task["ClockSynchronizationStatus"], "SYNCHRONIZED");
        assert_eq!(task["ClockReferenceTimestamp"], reference);
        for d in docs.iter().filter(|d| d["Type"] != "Task") {
            assert!(d.get("ClockErrorBound").is_none(), "{d}");
            assert!(d.get("ClockReferenceTimestamp").is_none(), "{d}");
        }
    }
    // The EC2 captures have none.
    for case in [&CASES[1], &CASES[5], &CASES[7]] {
        for d in check(case) {
            assert!(d.get("ClockErrorBound").is_none(), "{}: {d}", case.name);
            assert!(d.get("ClockSynchronizationStatus").is_none(), "{d}");
        }
    }
}
