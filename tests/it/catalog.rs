//! `ecs-emf-exporter metrics --json` is what infra/ checks dashboards and alarms against, so
//! it must report exactly what the documents carry: run it and the sidecar (against
//! `simulate`) with the same settings and compare namespace, names, units, resolution and
//! dimension sets. The expected sets are written out by hand from the settings.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use crate::support::process::{Exporter, Sim, bin, cycles_done};
use serde_json::Value;

fn catalog(env: &[(&str, &str)]) -> Vec<Value> {
    let out = Command::new(bin())
        .env_clear()
        .envs(env.iter().copied())
        .args(["metrics", "--json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).expect("json") {
        Value::Array(entries) => entries,
        other => panic!("not an array: {other}"),
    }
}

fn sets(v: &Value) -> Vec<Vec<String>> {
    serde_json::from_value(v.clone()).expect("a list of lists of names")
}

fn owned(sets: &[&[&str]]) -> Vec<Vec<String>> {
    sets.iter()
        .map(|s| s.iter().map(|n| n.to_string()).collect())
        .collect()
}

#[test]
fn the_catalog_reports_the_namespace_names_units_and_dimension_sets_the_documents_carry() {
    let env = [
        ("ECS_EMF_NAMESPACE", "Team/Payments"),
        (
            "ECS_EMF_DIMENSIONS",
            "ClusterName,ServiceName;ClusterName;TaskDefinitionFamily,LaunchType",
        ),
        ("ECS_EMF_CONTAINER_DIMENSIONS", "ClusterName,ContainerName"),
        ("ECS_EMF_TAG_DIMENSIONS", "env"),
        ("ECS_EMF_STATIC_DIMENSIONS", "team=payments"),
        ("ECS_EMF_SELF_METRICS", "true"),
        ("ECS_EMF_EXCLUDE_METRICS", "*Packets"),
        ("ECS_EMF_HIGH_RESOLUTION", "true"),
    ];
    let entries = catalog(&env);
    let by_name: BTreeMap<&str, &Value> = entries
        .iter()
        .map(|e| (e["name"].as_str().expect("name"), e))
        .collect();
    // 34 task and container metrics, 4 throttling ones (daemon mode), 3 exporter ones.
    assert_eq!(by_name.len(), 41);
    // Throttling, daemon mode only: milliseconds held back and the share of periods.
    for (name, unit, level) in [
        ("CpuThrottledTime", "Milliseconds", "Task"),
        ("CpuThrottledPercent", "Percent", "Task"),
        ("ContainerCpuThrottledTime", "Milliseconds", "Container"),
        ("ContainerCpuThrottledPercent", "Percent", "Container"),
    ] {
        let entry = by_name[name];
        assert_eq!(
            (&entry["unit"], &entry["level"], &entry["every_cycle"]),
            (&Value::from(unit), &Value::from(level), &Value::from(false)),
            "{name}"
        );
    }
    // Fargate's clock error bound: a task metric in milliseconds, not published every cycle
    // (EC2 tasks have no ClockDrift), so an alarm must not read its absence as breaching.
    let clock = by_name["ClockErrorBound"];
    assert_eq!(
        (&clock["unit"], &clock["level"], &clock["every_cycle"]),
        (
            &Value::from("Milliseconds"),
            &Value::from("Task"),
            &Value::from(false)
        )
    );

    // By hand: built-ins of each set, then the tag, then the static name.
    let task_sets = owned(&[
        &["ClusterName", "ServiceName", "env", "team"],
        &["ClusterName", "env", "team"],
        &["TaskDefinitionFamily", "LaunchType", "env", "team"],
    ]);
    let container_sets = owned(&[&["ClusterName", "ContainerName", "env", "team"]]);
    for e in &entries {
        let expected = match e["level"].as_str() {
            Some("Container") => &container_sets,
            _ => &task_sets,
        };
        assert_eq!(&sets(&e["dimension_sets"]), expected, "{}", e["name"]);
        assert_eq!(e["namespace"], "Team/Payments");
        assert_eq!(e["storage_resolution"], 1);
    }
    let unpublished: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e["published"] == false)
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    // The packet rates by the filter; the throttling metrics because only the daemon reads
    // them (`metrics --daemon` below).
    assert_eq!(
        unpublished,
        BTreeSet::from([
            "NetworkRxPackets",
            "NetworkTxPackets",
            "CpuThrottledTime",
            "CpuThrottledPercent",
            "ContainerCpuThrottledTime",
            "ContainerCpuThrottledPercent",
        ])
    );

    // The same settings, for real, on a simulated EC2 task (bridge networking, so container
    // network metrics exist), for two cycles so rates are there.
    let sim = Sim::start(&["--platform", "ec2"]);
    let mut exporter = Exporter::start(&sim.base_url, &env, &[]);
    let docs = exporter.read_until(Duration::from_secs(20), |d| {
        cycles_done(d, "worker-2", 2) && d.iter().filter(|d| d["Type"] == "Exporter").count() >= 2
    });
    assert_eq!(exporter.terminate(Duration::from_secs(10)), Some(0));
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for doc in &docs {
        let directives = doc["_aws"]["CloudWatchMetrics"]
            .as_array()
            .expect("directives");
        for directive in directives {
            assert_eq!(directive["Namespace"], "Team/Payments");
            let expected = if doc["Type"] == "Container" {
                &container_sets
            } else {
                &task_sets
            };
            assert_eq!(&sets(&directive["Dimensions"]), expected, "{doc}");
            for m in directive["Metrics"].as_array().expect("metrics") {
                let name = m["Name"].as_str().expect("name");
                let entry = by_name
                    .get(name)
                    .unwrap_or_else(|| panic!("{name} not in catalog"));
                assert_eq!(entry["published"], true, "{name} is published");
                assert_eq!(m["Unit"], entry["unit"], "{name}");
                assert_eq!(
                    m["StorageResolution"], entry["storage_resolution"],
                    "{name}"
                );
                assert_eq!(doc["Type"], entry["level"], "{name}");
                seen.insert(name.to_string());
            }
        }
    }
    // What the catalog marks as published every cycle is in every cycle, the first one
    // included: an alarm reads its absence as the exporter not publishing.
    let every_cycle: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e["every_cycle"] == true)
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        every_cycle,
        BTreeSet::from([
            "RunningContainerCount",
            "ExporterErrors",
            "ExporterDroppedDatapoints",
            "ExporterCycleDuration"
        ])
    );
    let mut by_cycle: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for doc in &docs {
        let names = by_cycle
            .entry(doc["_aws"]["Timestamp"].as_i64().expect("timestamp"))
            .or_default();
        for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics")
        {
            names.insert(m["Name"].as_str().expect("name"));
        }
    }
    assert!(by_cycle.len() >= 2, "{by_cycle:?}");
    for (at, names) in &by_cycle {
        assert!(every_cycle.is_subset(names), "cycle {at}: {names:?}");
    }
    // Everything published appears, except what this scenario cannot produce: ephemeral
    // storage and the clock error bound (Fargate only), restarts (the scenario has no
    // RestartCount field) and exits (no container stops in it);
    // `a_fargate_task_publishes_the_clock_error_bound` covers the first two, end_to_end's
    // exit tests the last.
    let published: BTreeSet<String> = entries
        .iter()
        .filter(|e| e["published"] == true)
        .map(|e| e["name"].as_str().expect("name").to_string())
        .collect();
    let missing: BTreeSet<&str> = published
        .iter()
        .filter(|n| !seen.contains(*n))
        .map(String::as_str)
        .collect();
    assert_eq!(
        missing,
        BTreeSet::from([
            "EphemeralStorageReserved",
            "EphemeralStorageUtilized",
            "ClockErrorBound",
            "ContainerRestarts",
            "ContainerExits",
        ])
    );
}

/// `metrics --json` with `args` and exactly `env`: (exit code, stdout, stderr).
fn metrics(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = Command::new(bin())
        .env_clear()
        .envs(env.iter().copied())
        .args(["metrics", "--json"])
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `metrics --daemon` is the daemon's catalog (docs/daemon.md): the throttling metrics are
/// published; what neither the agent nor Docker has (ephemeral storage and the clock bound,
/// Fargate's; image pull times; the agent's restart count) and the exporter's own metrics
/// are not; without `ECS_EMF_SERVICE_FROM_API` a set naming `ServiceName` carries
/// `TaskDefinitionFamily`; tag dimensions need `ECS_EMF_TAGS_FROM_API`; and the settings
/// `daemon` refuses are refused here too.
#[test]
fn the_daemon_catalog_is_what_daemon_mode_publishes() {
    let (code, out, err) = metrics(&["--daemon"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let entries: Vec<Value> = serde_json::from_str(&out).expect("a JSON list");
    assert_eq!(entries.len(), 41);
    let unpublished: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e["published"] == false)
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        unpublished,
        BTreeSet::from([
            "EphemeralStorageUtilized",
            "EphemeralStorageReserved",
            "ImagePullTime",
            "ClockErrorBound",
            "ContainerRestarts",
            "ExporterErrors",
            "ExporterDroppedDatapoints",
            "ExporterCycleDuration",
        ])
    );
    // The defaults, ClusterName,ServiceName and ClusterName,ServiceName,ContainerName, with
    // the family in the service's place.
    for e in &entries {
        let expected: &[&[&str]] = if e["level"] == "Container" {
            &[&["ClusterName", "TaskDefinitionFamily", "ContainerName"]]
        } else {
            &[&["ClusterName", "TaskDefinitionFamily"]]
        };
        assert_eq!(sets(&e["dimension_sets"]), owned(expected), "{}", e["name"]);
    }

    // With the service from ecs:DescribeTasks (the flag or the variable), ServiceName stays.
    for (args, env) in [
        (&["--daemon", "--service-from-api", "true"][..], &[][..]),
        (
            &["--daemon"][..],
            &[("ECS_EMF_SERVICE_FROM_API", "yes")][..],
        ),
    ] {
        let (code, out, err) = metrics(args, env);
        assert_eq!(code, Some(0), "{err}");
        let entries: Vec<Value> = serde_json::from_str(&out).expect("a JSON list");
        let cpu = entries
            .iter()
            .find(|e| e["name"] == "CpuThrottledPercent")
            .expect("present");
        assert_eq!(cpu["published"], true);
        assert_eq!(
            sets(&cpu["dimension_sets"]),
            owned(&[&["ClusterName", "ServiceName"]])
        );
    }

    // Refused as `daemon` refuses them: exit 2, the setting named, nothing on stdout.
    for (env, named) in [
        (("ECS_EMF_SELF_METRICS", "true"), "ECS_EMF_SELF_METRICS"),
        (
            ("ECS_EMF_TAG_DIMENSIONS", "team"),
            "ECS_EMF_TAGS_FROM_API=true",
        ),
        (
            ("ECS_EMF_SERVICE_FROM_API", "maybe"),
            "ECS_EMF_SERVICE_FROM_API",
        ),
    ] {
        let (code, out, err) = metrics(&["--daemon"], &[env]);
        assert_eq!(code, Some(2), "{env:?}: {err}");
        assert!(err.contains(named), "{env:?}: {err}");
        assert!(out.is_empty(), "{env:?}: {out}");
    }
    // Tags through ecs:DescribeTasks: the tag joins every set.
    let (code, out, err) = metrics(
        &["--daemon"],
        &[
            ("ECS_EMF_TAGS_FROM_API", "true"),
            ("ECS_EMF_TAG_DIMENSIONS", "team"),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let entries: Vec<Value> = serde_json::from_str(&out).expect("a JSON list");
    let memory = entries
        .iter()
        .find(|e| e["name"] == "ContainerMemoryUtilized")
        .expect("present");
    assert_eq!(
        sets(&memory["dimension_sets"]),
        owned(&[&[
            "ClusterName",
            "TaskDefinitionFamily",
            "ContainerName",
            "team"
        ]])
    );
    // The sidecar takes those settings (ECS_EMF_SERVICE_FROM_API is not one of its own).
    let (code, _, err) = metrics(&[], &[("ECS_EMF_SELF_METRICS", "true")]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn switches_and_filters_show_as_unpublished() {
    let entries = catalog(&[
        ("ECS_EMF_CONTAINER_METRICS", "false"),
        ("ECS_EMF_METRICS", "Cpu*,Container*,Exporter*"),
    ]);
    let published: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e["published"] == true)
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    // Container metrics are off and self metrics default to off: only the task CPU
    // metrics, and of those not the throttling pair (the daemon's).
    assert_eq!(
        published,
        BTreeSet::from(["CpuReserved", "CpuUtilization", "CpuUtilized"])
    );
    let cpu = entries
        .iter()
        .find(|e| e["name"] == "CpuUtilized")
        .expect("present");
    assert_eq!(
        sets(&cpu["dimension_sets"]),
        owned(&[&["ClusterName", "ServiceName"]])
    );
    assert_eq!(cpu["namespace"], "ECS/TaskMetrics");
    assert_eq!(cpu["storage_resolution"], 60);
}

/// The simulator's `ClockDrift` modes (crates/tmde-simulator/src/scenario.rs) through the real
/// sidecar: the bound in milliseconds when it is a number, the status and reference time as
/// task properties; a malformed, negative or missing `ClockDrift` leaves them out and every
/// cycle still publishes the rest.
#[test]
fn a_fargate_task_publishes_the_clock_error_bound_and_bad_clock_drifts_leave_it_out() {
    // (mode, ClockErrorBound, ClockSynchronizationStatus, ClockReferenceTimestamp), by hand from
    // the scenario's documented values.
    let cases = [
        (
            "synchronized",
            Some(0.3329285),
            Some("SYNCHRONIZED"),
            Some("2026-01-01T00:00:00Z"),
        ),
        (
            "not-synchronized",
            Some(12.5),
            Some("NOT_SYNCHRONIZED"),
            Some("2026-01-01T00:00:00Z"),
        ),
        // The bound a string, the time "yesterday", the status the number 1: nothing kept.
        ("malformed", None, None, None),
        // -0.5 ms: no bound; the status and time are fine and kept.
        (
            "negative",
            None,
            Some("SYNCHRONIZED"),
            Some("2026-01-01T00:00:00Z"),
        ),
        ("missing", None, None, None),
    ];
    for (mode, bound, status, reference) in cases {
        let sim = Sim::start(&["--platform", "fargate", "--clock-drift", mode]);
        let mut exporter = Exporter::start(&sim.base_url, &[], &[]);
        let docs = exporter.read_until(Duration::from_secs(20), |d| cycles_done(d, "worker-2", 2));
        assert_eq!(
            exporter.terminate(Duration::from_secs(10)),
            Some(0),
            "{mode}"
        );
        let tasks: Vec<&Value> = docs.iter().filter(|d| d["Type"] == "Task").collect();
        assert!(tasks.len() >= 2, "{mode}: {docs:?}");
        for task in tasks {
            assert_eq!(
                task.get("ClockErrorBound").and_then(Value::as_f64),
                bound,
                "{mode}"
            );
            let declared = task["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .expect("metrics")
                .iter()
                .find(|m| m["Name"] == "ClockErrorBound")
                .map(|m| m["Unit"].clone());
            assert_eq!(
                declared,
                bound.map(|_| Value::from("Milliseconds")),
                "{mode}"
            );
            assert_eq!(
                task.get("ClockSynchronizationStatus")
                    .and_then(Value::as_str),
                status,
                "{mode}"
            );
            assert_eq!(
                task.get("ClockReferenceTimestamp").and_then(Value::as_str),
                reference,
                "{mode}"
            );
            // The cycle went on: the task's every-cycle metric is there.
            assert_eq!(task["RunningContainerCount"], 3.0, "{mode}");
        }
        for container in docs.iter().filter(|d| d["Type"] == "Container") {
            assert!(container.get("ClockErrorBound").is_none(), "{mode}");
            assert!(
                container.get("ClockSynchronizationStatus").is_none(),
                "{mode}"
            );
        }
    }
}
