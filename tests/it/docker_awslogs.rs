//! The stdout path end to end: the image's EMF lines carried by Docker's real `awslogs` log
//! driver into CloudWatch Logs (moto), in blocking and non-blocking mode, for a task shaped to
//! produce the longest lines. Every event read back must be one whole, valid EMF document (or
//! one of the sidecar's own log lines, which the driver ships from stderr), none may be missing,
//! and the values must be those `--once` prints for the same simulator and those worked out by
//! hand from the simulator's scenario (crates/tmde-simulator/src/scenario.rs).
//! Run by scripts/e2e-docker.sh (a private dockerd); ignored by a plain `cargo test`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::support::docker::{Container, Docker};
use crate::support::moto::Moto;
use crate::support::process::{Exporter, Sim, approx, run_once_with, task_docs};
use serde_json::Value;

const GROUP: &str = "/e2e/ecs-emf-exporter";
const WAIT: Duration = Duration::from_secs(30);
/// Docker cuts a line longer than this into several log messages (its 16 KiB read buffer).
const DOCKER_LINE_BUFFER: usize = 16 * 1024;

/// EC2 bridge task, 10 containers with 200-character names, 15 task tags of 1000 characters
/// used as dimensions: every document is ~16 KB of dimensions before its first metric, so the
/// encoder fills lines to just under its 16,383-byte limit.
struct LongestLines {
    sim: Sim,
    tag_dimensions: String,
}

fn longest_lines_task() -> LongestLines {
    let tags: Vec<String> = (0..15u8)
        .map(|i| format!("t{i}={}", ((b'a' + i) as char).to_string().repeat(1000)))
        .collect();
    let mut args = vec![
        "--platform",
        "ec2",
        "--network",
        "bridge",
        "--containers",
        "10",
        "--name-length",
        "200",
    ];
    for tag in &tags {
        args.extend(["--tag", tag.as_str()]);
    }
    LongestLines {
        sim: Sim::start(&args),
        tag_dimensions: (0..15)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Runs the image with the awslogs driver into GROUP/`stream`, lets it publish `cycles` more
/// cycles after the first, stops it (SIGTERM) and returns the events moto holds once the
/// sidecar's final log line has arrived.
fn ship(
    docker: &Docker,
    moto: &Moto,
    task: &LongestLines,
    stream: &str,
    log_opts: &[&str],
    extra_env: &[&str],
    cycles: u64,
) -> Vec<String> {
    let mut options: Vec<String> = vec![
        "--network".into(),
        "host".into(),
        "--read-only".into(),
        "--log-driver".into(),
        "awslogs".into(),
    ];
    for opt in [
        format!("awslogs-endpoint={}", moto.moto_url),
        "awslogs-region=us-east-1".into(),
        format!("awslogs-group={GROUP}"),
        format!("awslogs-stream={stream}"),
        "awslogs-create-group=true".into(),
    ]
    .into_iter()
    .chain(log_opts.iter().map(|s| s.to_string()))
    {
        options.extend(["--log-opt".into(), opt]);
    }
    for env in [
        format!("ECS_CONTAINER_METADATA_URI_V4={}", task.sim.base_url),
        "ECS_EMF_INTERVAL=1s".into(),
        format!("ECS_EMF_TAG_DIMENSIONS={}", task.tag_dimensions),
    ]
    .into_iter()
    .chain(extra_env.iter().map(|s| s.to_string()))
    {
        options.extend(["-e".into(), env]);
    }
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let sidecar: Container = docker.start(&options, &[]);
    assert!(
        sidecar.wait_healthy(WAIT),
        "{stream}: the sidecar never completed a cycle"
    );
    std::thread::sleep(Duration::from_secs(cycles));
    assert_eq!(
        sidecar.stop(),
        0,
        "{stream}: SIGTERM ends the sidecar with 0"
    );

    // The driver may still be sending when `docker stop` returns: wait for the last line.
    let deadline = Instant::now() + WAIT;
    loop {
        let events: Vec<String> = moto
            .log_events(GROUP, stream)
            .as_array()
            .expect("a list")
            .iter()
            .map(|e| e["message"].as_str().expect("a message").to_string())
            .collect();
        if events.iter().any(|m| m.contains(" INFO stopped cycles=")) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "{stream}: the final log line never arrived"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// One of the sidecar's own log lines (text format: RFC 3339 time, level, message).
fn is_log_line(message: &str) -> bool {
    let b = message.as_bytes();
    message.len() > 30
        && b[4] == b'-'
        && b[10] == b'T'
        && message[..27].ends_with('Z')
        && ["INFO", "WARN", "ERROR"]
            .contains(&message[27..].trim_start().split(' ').next().unwrap_or(""))
}

/// `documents=N` of the sidecar's final `stopped …` line: how many EMF lines it wrote.
fn documents_written(events: &[String]) -> usize {
    let stopped = events
        .iter()
        .find(|m| m.contains(" INFO stopped cycles="))
        .expect("the final line");
    stopped
        .split_whitespace()
        .find_map(|field| field.strip_prefix("documents="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no documents= in {stopped}"))
}

/// Every (metric or dimension) value of a document but the timestamp, keyed by the entity it
/// describes: `(Type, ContainerName, name) -> value`.
fn values_by_entity(docs: &[&Value]) -> BTreeMap<(String, String, String), Value> {
    let mut out = BTreeMap::new();
    for doc in docs {
        let entity = (
            doc["Type"].as_str().unwrap_or_default().to_string(),
            doc["ContainerName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        for (key, value) in doc.as_object().expect("an object") {
            if key != "_aws" {
                out.insert(
                    (entity.0.clone(), entity.1.clone(), key.clone()),
                    value.clone(),
                );
            }
        }
    }
    out
}

/// `(Type, ContainerName, metric name, unit, dimension sets)` of every metric the documents
/// declare.
fn metric_definitions(docs: &[&Value]) -> BTreeSet<(String, String, String, String, String)> {
    let mut out = BTreeSet::new();
    for doc in docs {
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        for metric in directive["Metrics"].as_array().into_iter().flatten() {
            out.insert((
                doc["Type"].as_str().unwrap_or_default().to_string(),
                doc["ContainerName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                metric["Name"].as_str().unwrap_or_default().to_string(),
                metric["Unit"].as_str().unwrap_or_default().to_string(),
                directive["Dimensions"].to_string(),
            ));
        }
    }
    out
}

/// What the run must have carried: lines up to `max_line_bytes`, the longest at least
/// `longest_at_least` bytes long.
struct Lines {
    max_line_bytes: usize,
    longest_at_least: usize,
}

/// The limit the exporter ships with: lines just under it.
const DEFAULT_LINES: Lines = Lines {
    max_line_bytes: 16_383,
    longest_at_least: 16_000,
};

fn check_shipped(events: &[String], once: &[Value], mode: &str, lines: &Lines) {
    let (emf, other): (Vec<&String>, Vec<&String>) =
        events.iter().partition(|m| m.starts_with('{'));
    // A line Docker had split would leave a tail that is neither EMF nor a log line.
    for message in &other {
        assert!(
            is_log_line(message),
            "{mode}: an event that is neither EMF nor a log line: {message:.200}"
        );
        assert!(
            !message.contains("WARN") && !message.contains("ERROR"),
            "{mode}: {message}"
        );
    }
    let docs: Vec<Value> = emf
        .iter()
        .map(|line| {
            let problems = crate::support::emf_rules::problems(line, lines.max_line_bytes, None);
            assert!(
                problems.is_empty(),
                "{mode}: invalid EMF event {problems:?}: {line:.300}"
            );
            serde_json::from_str(line).expect("validated JSON")
        })
        .collect();
    assert_eq!(
        docs.len(),
        documents_written(events),
        "{mode}: every line the sidecar wrote arrived, once"
    );
    let longest = emf.iter().map(|m| m.len()).max().unwrap_or(0);
    assert!(
        (lines.longest_at_least..=lines.max_line_bytes).contains(&longest),
        "{mode}: the test must carry lines of at least {} bytes; longest {longest}",
        lines.longest_at_least
    );

    let mut cycles: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for doc in &docs {
        let ts = doc["_aws"]["Timestamp"].as_i64().expect("a timestamp");
        cycles.entry(ts).or_default().push(doc);
    }
    assert!(cycles.len() >= 3, "{mode}: {} cycles", cycles.len());

    // The first cycle is what `--once` printed for the same simulated task: the same metrics,
    // units and dimension sets for the same entities, the same values (CPU is a rate over the
    // simulator's own 1 s window of rounded counters, so it differs in the 6th digit). How the
    // metrics are packed into lines may differ: it follows the lengths of the printed numbers.
    let first: Vec<&Value> = cycles.values().next().expect("a cycle").clone();
    let once_refs: Vec<&Value> = once.iter().collect();
    assert_eq!(
        metric_definitions(&first),
        metric_definitions(&once_refs),
        "{mode}: the first cycle's metric definitions"
    );
    let shipped = values_by_entity(&first);
    let printed = values_by_entity(&once_refs);
    assert_eq!(
        shipped.keys().collect::<Vec<_>>(),
        printed.keys().collect::<Vec<_>>()
    );
    for (key, value) in &printed {
        match (value.as_f64(), shipped[key].as_f64()) {
            (Some(p), s @ Some(_)) => {
                assert!(approx(s, p, 1e-4), "{mode}: {key:?}: {s:?} vs --once {p}")
            }
            _ => assert_eq!(&shipped[key], value, "{mode}: {key:?}"),
        }
    }

    // Every cycle, by hand from the scenario: container k uses (k+1) × 51.2 CPU units and
    // (k+1) × 64 MiB, reserves 256 units and 512 MiB (EC2: no task Limits); bridge network
    // (k+1) × 10,000 B/s received. k = 0..10: Σ(k+1) = 55.
    for (n, docs) in cycles.values().enumerate() {
        let v = values_by_entity(docs);
        let task = |name: &str| {
            v.get(&("Task".to_string(), String::new(), name.to_string()))
                .and_then(Value::as_f64)
        };
        assert_eq!(task("CpuReserved"), Some(2560.0), "{mode} cycle {n}");
        assert_eq!(
            task("MemoryUtilized"),
            Some(3520.0),
            "{mode} cycle {n}: 55 × 64"
        );
        assert_eq!(task("MemoryReserved"), Some(5120.0), "{mode} cycle {n}");
        assert_eq!(
            task("RunningContainerCount"),
            Some(10.0),
            "{mode} cycle {n}"
        );
        assert!(
            approx(task("CpuUtilized"), 2816.0, 1e-3),
            "{mode} cycle {n}: 55 × 51.2, got {:?}",
            task("CpuUtilized")
        );
        if n > 0 {
            assert!(
                approx(task("NetworkRxBytes"), 550_000.0, 1e-3),
                "{mode} cycle {n}: {:?}",
                task("NetworkRxBytes")
            );
        }
        let containers: BTreeSet<&str> = docs
            .iter()
            .filter(|d| d["Type"] == "Container")
            .filter_map(|d| d["ContainerName"].as_str())
            .collect();
        assert_eq!(containers.len(), 10, "{mode} cycle {n}: every container");
        assert_eq!(
            v[&("Task".to_string(), String::new(), "t14".to_string())],
            "o".repeat(1000)
        );
    }
}

fn awslogs_run(stream: &str, log_opts: &[&str], extra_env: &[(&str, &str)], lines: &Lines) {
    let docker = Docker::from_env();
    let Some(moto) = Moto::start() else {
        return;
    };
    let task = longest_lines_task();
    let mut env = vec![("ECS_EMF_TAG_DIMENSIONS", task.tag_dimensions.as_str())];
    env.extend_from_slice(extra_env);
    let (code, once, stderr) = run_once_with(&task.sim.base_url, &env, lines.max_line_bytes);
    assert_eq!(code, Some(0), "{stderr}");
    let container_env: Vec<String> = extra_env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let container_env: Vec<&str> = container_env.iter().map(String::as_str).collect();
    let events = ship(&docker, &moto, &task, stream, log_opts, &container_env, 3);
    check_shipped(&events, &once, stream, lines);
}

#[test]
#[ignore = "needs dockerd and the image: scripts/e2e-docker.sh"]
fn blocking_awslogs_carries_every_line_whole() {
    awslogs_run("blocking", &["mode=blocking"], &[], &DEFAULT_LINES);
}

#[test]
#[ignore = "needs dockerd and the image: scripts/e2e-docker.sh"]
fn non_blocking_awslogs_with_the_deployed_buffer_carries_every_line_whole() {
    // What infra/ deploys: non-blocking with a 4 MiB buffer.
    awslogs_run(
        "non-blocking",
        &["mode=non-blocking", "max-buffer-size=4m"],
        &[],
        &DEFAULT_LINES,
    );
}

/// A platform fact, checked: Docker's awslogs driver raises the 16 KiB read buffer to 262,118
/// bytes, so lines over 16 KiB also arrive whole through it, in either mode. The 16,383-byte
/// default is for the log routers that do cut at 16 KiB (FireLens / the fluentd driver).
#[test]
#[ignore = "needs dockerd and the image: scripts/e2e-docker.sh"]
fn awslogs_also_carries_lines_over_16_kib_whole() {
    awslogs_run(
        "over-16-kib",
        &["mode=non-blocking", "max-buffer-size=4m"],
        &[("ECS_EMF_MAX_LINE_BYTES", "32768")],
        &Lines {
            max_line_bytes: 32_768,
            longest_at_least: DOCKER_LINE_BUFFER + 1,
        },
    );
}

/// The control for the checks above, without Docker: the same task's lines written by the
/// exporter on this machine pass them as they are, and fail them once one line is cut where
/// a 16 KiB log router would cut it.
#[test]
fn the_checks_reject_a_line_cut_at_16_kib() {
    let task = longest_lines_task();
    let env = [("ECS_EMF_TAG_DIMENSIONS", task.tag_dimensions.as_str())];
    let (code, once, stderr) = run_once_with(&task.sim.base_url, &env, 16_383);
    assert_eq!(code, Some(0), "{stderr}");
    let mut exporter = Exporter::start(&task.sim.base_url, &env, &[]);
    let docs = exporter.read_until(WAIT, |d| task_docs(d).len() >= 4);
    assert!(task_docs(&docs).len() >= 4, "{}", exporter.stderr.text());
    assert_eq!(exporter.terminate(WAIT), Some(0));
    // What the awslogs driver would ship: stdout's lines, then stderr's.
    let mut events = exporter
        .stdout
        .text()
        .lines()
        .map(str::to_string)
        .collect::<Vec<_>>();
    events.extend(exporter.stderr.text().lines().map(str::to_string));
    check_shipped(&events, &once, "uncut", &DEFAULT_LINES);

    let longest = events
        .iter()
        .enumerate()
        .max_by_key(|(_, m)| m.len())
        .map(|(i, _)| i)
        .expect("events");
    let line = events[longest].clone();
    let cut_at = 16_000;
    events.splice(
        longest..=longest,
        [line[..cut_at].to_string(), line[cut_at..].to_string()],
    );
    let cut = std::panic::catch_unwind(|| check_shipped(&events, &once, "cut", &DEFAULT_LINES));
    assert!(cut.is_err(), "a cut line must fail the checks");
}
