//! `ECS_EMF_OUTPUT=cloudwatch`: the real AWS SDK (aws-sdk-cloudwatch, Smithy RPC v2 CBOR)
//! against moto, through the translating proxy in `support/cloudwatch_proxy.py`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::support::moto::Moto;
use crate::support::process::{Exporter, Sim};
use serde_json::Value;

/// The longest any wait for the exporter's cycles and deliveries may take.
const WAIT: Duration = Duration::from_secs(20);

/// The exporter's environment for the cloudwatch output against `moto`.
fn cw_env(moto: &Moto, namespace: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = moto.env();
    env.push(("ECS_EMF_OUTPUT".into(), "cloudwatch".into()));
    env.push(("ECS_EMF_NAMESPACE".into(), namespace.into()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn start(sim: &Sim, env: &[(String, String)]) -> Exporter {
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Exporter::start(&sim.base_url, &refs, &[])
}

/// `collected=N` from the exporter's shutdown line.
fn collected(stderr: &str) -> usize {
    crate::support::process::stopped_field(stderr, "collected") as usize
}

fn dims(d: &Value) -> BTreeMap<String, String> {
    d["Dimensions"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Timestamps of the accepted datums of `metric` with exactly `dimensions`, arrival order.
fn timestamps(datums: &[Value], metric: &str, dimensions: &BTreeMap<String, String>) -> Vec<i64> {
    datums
        .iter()
        .filter(|d| d["MetricName"] == metric && &dims(d) == dimensions)
        .filter_map(|d| d["Timestamp"].as_i64())
        .collect()
}

fn task_dims() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("ClusterName".into(), "sim-cluster".into()),
        ("ServiceName".into(), "sim-service".into()),
    ])
}

#[test]
fn put_metric_data_round_trip_matches_what_the_emf_output_publishes() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let sim = Sim::start(&["--platform", "ec2"]);
    // What the EMF output publishes for one cycle: metric names with their dimension sets.
    let (code, docs, stderr) = crate::support::process::run_once(&sim.base_url, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let mut emf: BTreeSet<(String, BTreeMap<String, String>, String)> = BTreeSet::new();
    for d in &docs {
        let directive = &d["_aws"]["CloudWatchMetrics"][0];
        for set in directive["Dimensions"].as_array().into_iter().flatten() {
            let dims: BTreeMap<String, String> = set
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str())
                .map(|k| (k.to_string(), d[k].as_str().unwrap_or_default().to_string()))
                .collect();
            for m in directive["Metrics"].as_array().into_iter().flatten() {
                let name = m["Name"].as_str().unwrap_or_default().to_string();
                emf.insert((
                    name,
                    dims.clone(),
                    m["Unit"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }

    let ns = "E2E/RoundTrip";
    let mut exporter = start(&sim, &cw_env(&moto, ns, &[]));
    // One request per cycle.
    assert!(moto.wait_accepted(3, WAIT), "{}", exporter.stderr.text());
    assert_eq!(exporter.terminate(Duration::from_secs(25)), Some(0));
    let stderr = exporter.stderr.text();
    let cycles = collected(&stderr);
    assert!(cycles >= 3, "{stderr}");
    assert!(stderr.contains("none pending"), "{stderr}");
    assert!(
        exporter.stdout.next(Duration::from_millis(50)).is_none(),
        "cloudwatch output: nothing on stdout"
    );

    let datums = moto.accepted_datums(ns);
    let datums = datums.as_array().expect("list");
    let first_ts = datums
        .iter()
        .filter_map(|d| d["Timestamp"].as_i64())
        .min()
        .expect("datums arrived");
    let first_cycle: BTreeSet<(String, BTreeMap<String, String>, String)> = datums
        .iter()
        .filter(|d| d["Timestamp"].as_i64() == Some(first_ts))
        .map(|d| {
            (
                d["MetricName"].as_str().unwrap_or_default().to_string(),
                dims(d),
                d["Unit"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        first_cycle, emf,
        "the first cycle's datums are the EMF output's metrics, dimensions and units"
    );

    // Values, per cycle: working sets 64 + 128 + 192 MiB of 3 × 512; CPU (1+2+3) × 51.2.
    let value_of = |metric: &str, d: &BTreeMap<String, String>| -> Vec<f64> {
        datums
            .iter()
            .filter(|x| x["MetricName"] == metric && &dims(x) == d)
            .filter_map(|x| x["Value"].as_f64())
            .collect()
    };
    let task = task_dims();
    assert_eq!(value_of("MemoryUtilized", &task), vec![384.0; cycles]);
    assert_eq!(value_of("MemoryReserved", &task), vec![1536.0; cycles]);
    assert!(
        value_of("CpuUtilized", &task)
            .iter()
            .all(|v| (v - 307.2).abs() < 0.5)
    );
    let mut app = task.clone();
    app.insert("ContainerName".into(), "app".into());
    assert_eq!(
        value_of("ContainerMemoryUtilized", &app),
        vec![64.0; cycles]
    );
    let rx = value_of("NetworkRxBytes", &task);
    assert_eq!(rx.len(), cycles - 1, "rates from the second cycle");
    assert!(rx.iter().all(|v| (v - 60_000.0).abs() < 60.0), "{rx:?}");
    assert!(
        datums
            .iter()
            .all(|d| d.get("StorageResolution").is_none_or(|r| r == 60))
    );

    // And what moto itself answers through GetMetricData.
    let back = moto.readback(ns);
    let mem = back
        .as_array()
        .expect("list")
        .iter()
        .find(|m| m["MetricName"] == "MemoryUtilized" && dims(m) == task)
        .expect("MemoryUtilized is stored");
    assert_eq!(mem["Unit"], "Megabytes");
    let samples: f64 = mem["Datapoints"]
        .as_array()
        .expect("points")
        .iter()
        .filter_map(|p| p["SampleCount"].as_f64())
        .sum();
    assert_eq!(samples, cycles as f64);
}

#[test]
fn an_outage_loses_nothing_and_delivers_each_datum_once_with_its_original_timestamp() {
    let Some(mut moto) = Moto::start() else {
        return;
    };
    let sim = Sim::start(&[]);
    let ns = "E2E/Outage";
    let mut exporter = start(&sim, &cw_env(&moto, ns, &[]));
    assert!(moto.wait_accepted(1, WAIT), "{}", exporter.stderr.text());
    moto.stop_proxy();
    // At least two cycles wait in the backlog.
    assert!(exporter.stderr.wait_for("PutMetricData failed", WAIT));
    std::thread::sleep(Duration::from_millis(1100));
    moto.start_proxy();
    assert!(exporter.stderr.wait_for("PutMetricData works again", WAIT));
    assert_eq!(exporter.terminate(Duration::from_secs(25)), Some(0));
    let stderr = exporter.stderr.text();
    let cycles = collected(&stderr);
    let datums = moto.accepted_datums(ns);
    let stamps = timestamps(
        datums.as_array().expect("list"),
        "MemoryUtilized",
        &task_dims(),
    );
    let unique: BTreeSet<i64> = stamps.iter().copied().collect();
    assert_eq!(unique.len(), stamps.len(), "no datum twice: {stamps:?}");
    assert_eq!(stamps.len(), cycles, "every cycle once:\n{stderr}");
    // Original timestamps: one per cycle, about 1 s apart, also for the cycles sent late.
    let mut sorted = stamps.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, stamps, "delivered in order");
    for pair in sorted.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (700..=1600).contains(&gap),
            "cycle timestamps {gap} ms apart: {sorted:?}"
        );
    }
    assert_eq!(
        stderr.matches("PutMetricData failed").count(),
        1,
        "one line for the outage:\n{stderr}"
    );
    assert!(stderr.contains("PutMetricData works again"), "{stderr}");
}

#[test]
fn throttling_is_retried_until_delivered() {
    let Some(moto) = Moto::start() else {
        return;
    };
    // More than the SDK's own three attempts, so the exporter's retry is exercised too.
    moto.inject("PutMetricData", "throttling", 6);
    let sim = Sim::start(&[]);
    let ns = "E2E/Throttled";
    let mut exporter = start(&sim, &cw_env(&moto, ns, &[]));
    assert!(moto.wait_accepted(2, WAIT), "{}", exporter.stderr.text());
    assert_eq!(exporter.terminate(Duration::from_secs(25)), Some(0));
    let stderr = exporter.stderr.text();
    let cycles = collected(&stderr);
    let stamps = timestamps(
        moto.accepted_datums(ns).as_array().expect("list"),
        "MemoryUtilized",
        &task_dims(),
    );
    assert_eq!(stamps.len(), cycles, "{stderr}");
    assert_eq!(stderr.matches("Throttling").count(), 1, "{stderr}");
}

#[test]
fn a_batch_cloudwatch_calls_invalid_is_logged_counted_and_not_retried() {
    let Some(moto) = Moto::start() else {
        return;
    };
    moto.inject("PutMetricData", "invalid", 1);
    let sim = Sim::start(&[]);
    let ns = "E2E/Invalid";
    let mut exporter = start(
        &sim,
        &cw_env(&moto, ns, &[("ECS_EMF_SELF_METRICS", "true")]),
    );
    // The first cycle's request is rejected; the later ones carry the count of its datums.
    assert!(moto.wait_accepted(3, WAIT), "{}", exporter.stderr.text());
    assert_eq!(exporter.terminate(Duration::from_secs(25)), Some(0));
    let stderr = exporter.stderr.text();
    let cycles = collected(&stderr);
    assert_eq!(
        stderr.matches("InvalidParameterValue").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("not retried"), "{stderr}");
    let datums = moto.accepted_datums(ns);
    let datums = datums.as_array().expect("list");
    let stamps = timestamps(datums, "MemoryUtilized", &task_dims());
    assert_eq!(
        stamps.len(),
        cycles - 1,
        "the first cycle's batch was rejected, the rest arrived:\n{stderr}"
    );
    let stats = moto.stats();
    assert_eq!(stats["PutMetricData"]["injected"], 1, "{stats}");
    // The exporter counts what it lost: a later cycle reports dropped datapoints.
    let dropped: f64 = datums
        .iter()
        .filter(|d| d["MetricName"] == "ExporterDroppedDatapoints")
        .filter_map(|d| d["Value"].as_f64())
        .sum();
    assert!(
        dropped > 0.0,
        "ExporterDroppedDatapoints reports the rejected batch"
    );
}

#[test]
fn sigterm_with_a_backlog_flushes_then_exits_within_the_deadline() {
    let Some(mut moto) = Moto::start() else {
        return;
    };
    moto.stop_proxy();
    let sim = Sim::start(&[]);
    let ns = "E2E/Flush";
    let mut exporter = start(&sim, &cw_env(&moto, ns, &[]));
    // A backlog of at least two cycles.
    assert!(exporter.stderr.wait_for("PutMetricData failed", WAIT));
    std::thread::sleep(Duration::from_millis(1100));
    moto.start_proxy();
    let started = std::time::Instant::now();
    assert_eq!(exporter.terminate(Duration::from_secs(25)), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(11),
        "{:?}",
        started.elapsed()
    );
    let stderr = exporter.stderr.text();
    let stamps = timestamps(
        moto.accepted_datums(ns).as_array().expect("list"),
        "MemoryUtilized",
        &task_dims(),
    );
    assert_eq!(
        stamps.len(),
        collected(&stderr),
        "the backlog was flushed at shutdown:\n{stderr}"
    );
    assert!(stderr.contains("none pending"), "{stderr}");
}

#[test]
fn sigterm_while_cloudwatch_stays_down_exits_at_the_deadline_and_says_what_was_lost() {
    let Some(mut moto) = Moto::start() else {
        return;
    };
    moto.stop_proxy();
    let sim = Sim::start(&[]);
    let mut exporter = start(&sim, &cw_env(&moto, "E2E/Down", &[]));
    assert!(exporter.stderr.wait_for("PutMetricData failed", WAIT));
    let started = std::time::Instant::now();
    assert_eq!(exporter.terminate(Duration::from_secs(30)), Some(0));
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(12),
        "below ECS's 30 s stop timeout: {waited:?}"
    );
    let stderr = exporter.stderr.text();
    assert!(
        stderr.contains("not delivered before the stop's deadline"),
        "{stderr}"
    );
}
