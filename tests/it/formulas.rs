//! Every formula of `docs/metrics.md`, checked on the real fixtures in
//! `tests/fixtures/` (see both `SOURCE.md` files for each file's quirks).
//!
//! Every expected value is worked out by hand from the fixture's numbers (the arithmetic is in
//! the comment next to it); none is computed with the crate's helpers or copied from its output.
//! Megabytes values are MiB (bytes / 1048576); CPU is in CPU units (1024 = 1 vCPU).

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use ecs_emf_exporter::pipeline::catalog::{self, MetricDef};
use ecs_emf_exporter::pipeline::{Collector, Measurements};
use ecs_emf_exporter::settings::glob::NameFilter;
use ecs_emf_exporter::source::metadata::Snapshot;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

/// Bytes per MiB, for the few expected values written as `bytes / MIB`.
const MIB: f64 = 1_048_576.0;

// DockerIds of the ecs_exporter fixtures (stats map keys).
const FG_NONESSENTIAL: &str = "bae32def0ab64f06818e8862e58f8d6d-1585788040";
const FG_PROMETHEUS: &str = "bae32def0ab64f06818e8862e58f8d6d-1819985369";
const FG_EXPORTER: &str = "bae32def0ab64f06818e8862e58f8d6d-4159844948";
const EC2_NONESSENTIAL: &str = "213e1203f4bb72af185724d937e698d2724acf35b57ec2dd5f3c963adbd2d38c";
const EC2_EXPORTER: &str = "01cf1f3208005cda71d5ac936ded65d2ecc0a8cc8ff8a82d2e00410bf4fbbd6d";
const EC2_PROMETHEUS: &str = "6b80adab0733f579594eccae31e5b0056b9544b805450ad6e278fed7f5e1c5ba";

// DockerIds of the OTel receiver fixtures.
const NGINX100: &str = "5302b3fac16c62951717f444030cb1b8f233f40c03fe5507fc127ca1a70597da";
const NGINX300: &str = "4a984770705c4f4f95e1267af3623ab0923c602b7cd4ed7d77b7f8356537337f";

// ---------------------------------------------------------------------------------------------
// Helpers: fixture loading, JSON edits, float comparison.
// ---------------------------------------------------------------------------------------------

fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}{rel}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path} must be readable: {e}"))
}

fn fixture_json(rel: &str) -> Value {
    serde_json::from_slice(&fixture_bytes(rel))
        .unwrap_or_else(|e| panic!("fixture {rel} must be JSON: {e}"))
}

fn fixture_text(rel: &str) -> String {
    String::from_utf8(fixture_bytes(rel)).expect("snapshot text is UTF-8")
}

/// Wall-clock time at which the test pretends to have received the first poll.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-03-01T00:00:00Z")
        .expect("valid time")
        .with_timezone(&Utc)
}

fn at(seconds_after_t0: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(seconds_after_t0)
}

/// One poll: the `/task` and `/task/stats` bodies as editable JSON.
#[derive(Clone)]
struct Poll {
    task: Value,
    stats: Value,
}

impl Poll {
    fn load(task: &str, stats: &str) -> Poll {
        Poll {
            task: fixture_json(task),
            stats: fixture_json(stats),
        }
    }

    fn fargate() -> Poll {
        Poll::load(
            "ecs_exporter/fargate_task_metadata.json",
            "ecs_exporter/fargate_task_stats.json",
        )
    }

    fn ec2() -> Poll {
        Poll::load(
            "ecs_exporter/ec2_task_metadata.json",
            "ecs_exporter/ec2_task_stats.json",
        )
    }

    fn snapshot(&self, received_at: DateTime<Utc>) -> Snapshot {
        let task = serde_json::to_vec(&self.task).expect("task re-serializes");
        let stats = serde_json::to_vec(&self.stats).expect("stats re-serialize");
        Snapshot::from_bodies(&task, &stats, received_at).expect("fixture bodies parse")
    }

    fn entry(&mut self, docker_id: &str) -> &mut Value {
        let entry = self
            .stats
            .get_mut(docker_id)
            .unwrap_or_else(|| panic!("stats has an entry for {docker_id}"));
        assert!(entry.is_object(), "stats entry {docker_id} is an object");
        entry
    }

    fn container(&mut self, name: &str) -> &mut Value {
        self.task["Containers"]
            .as_array_mut()
            .expect("Containers is an array")
            .iter_mut()
            .find(|c| c["Name"] == name)
            .unwrap_or_else(|| panic!("task has a container named {name}"))
    }
}

/// One collect of an unmodified fixture pair with a fresh collector.
fn first_poll(poll: &Poll) -> Measurements {
    Collector::new(NameFilter::default()).collect(poll.snapshot(t0()))
}

fn u64_at(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{pointer} is an unsigned number"))
}

fn set_at(v: &mut Value, pointer: &str, value: Value) {
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} exists")) = value;
}

fn add_at(v: &mut Value, pointer: &str, increment: u64) {
    let now = u64_at(v, pointer);
    set_at(v, pointer, json!(now + increment));
}

/// Moves a stats entry's `read` by whole seconds (keeps the nanoseconds).
fn shift_read(entry: &mut Value, seconds: i64) {
    let read = entry["read"].as_str().expect("read is a string");
    let t = DateTime::parse_from_rfc3339(read)
        .expect("read is RFC 3339")
        .with_timezone(&Utc)
        + TimeDelta::seconds(seconds);
    entry["read"] = json!(t.to_rfc3339_opts(SecondsFormat::Nanos, true));
}

/// Adds `increment` to the first blkio `io_service_bytes_recursive` entry whose op is `op`.
fn add_blkio(entry: &mut Value, op: &str, increment: u64) {
    let list = entry["blkio_stats"]["io_service_bytes_recursive"]
        .as_array_mut()
        .expect("io_service_bytes_recursive is a list");
    let item = list
        .iter_mut()
        .find(|e| e["op"] == op)
        .unwrap_or_else(|| panic!("a blkio entry with op {op}"));
    let now = item["value"].as_u64().expect("blkio value");
    item["value"] = json!(now + increment);
}

/// Counter increments applied to one container between two polls.
#[derive(Clone, Copy, Default)]
struct Bump {
    cpu_ns: u64,
    rx_bytes: u64,
    tx_bytes: u64,
    rx_packets: u64,
    tx_packets: u64,
    rx_dropped: u64,
    tx_dropped: u64,
    rx_errors: u64,
    tx_errors: u64,
}

/// The increments of the brief: eth rx +50 000 B, tx +20 000 B, rx +40 packets, tx +30 packets,
/// rx_dropped +2, tx_dropped +1, rx_errors +3, tx_errors +0, CPU +1 s.
const STANDARD: Bump = Bump {
    cpu_ns: 1_000_000_000,
    rx_bytes: 50_000,
    tx_bytes: 20_000,
    rx_packets: 40,
    tx_packets: 30,
    rx_dropped: 2,
    tx_dropped: 1,
    rx_errors: 3,
    tx_errors: 0,
};

fn bump(entry: &mut Value, iface: &str, b: Bump) {
    add_at(entry, "/cpu_stats/cpu_usage/total_usage", b.cpu_ns);
    let n = format!("/networks/{iface}");
    add_at(entry, &format!("{n}/rx_bytes"), b.rx_bytes);
    add_at(entry, &format!("{n}/tx_bytes"), b.tx_bytes);
    add_at(entry, &format!("{n}/rx_packets"), b.rx_packets);
    add_at(entry, &format!("{n}/tx_packets"), b.tx_packets);
    add_at(entry, &format!("{n}/rx_dropped"), b.rx_dropped);
    add_at(entry, &format!("{n}/tx_dropped"), b.tx_dropped);
    add_at(entry, &format!("{n}/rx_errors"), b.rx_errors);
    add_at(entry, &format!("{n}/tx_errors"), b.tx_errors);
}

#[track_caller]
fn assert_close(actual: Option<f64>, expected: f64, what: &str) {
    let a = actual.unwrap_or_else(|| panic!("{what}: expected {expected}, got no value"));
    if expected == 0.0 {
        assert!(a == 0.0, "{what}: expected exactly 0, got {a}");
    } else {
        let rel = ((a - expected) / expected).abs();
        assert!(
            rel <= 1e-9,
            "{what}: expected {expected}, got {a} (relative error {rel:e})"
        );
    }
}

#[track_caller]
fn assert_absent(actual: Option<f64>, what: &str) {
    assert!(
        actual.is_none(),
        "{what}: expected no value, got {actual:?}"
    );
}

fn names(m: &Measurements) -> Vec<String> {
    let mut n: Vec<String> = m.containers.iter().map(|c| c.name.clone()).collect();
    n.sort();
    n
}

const TASK_NETWORK: [&MetricDef; 8] = [
    &catalog::NetworkRxBytes,
    &catalog::NetworkTxBytes,
    &catalog::NetworkRxPackets,
    &catalog::NetworkTxPackets,
    &catalog::NetworkRxDropped,
    &catalog::NetworkTxDropped,
    &catalog::NetworkRxErrors,
    &catalog::NetworkTxErrors,
];

const CONTAINER_INTERVAL: [&MetricDef; 4] = [
    &catalog::ContainerNetworkRxBytes,
    &catalog::ContainerNetworkTxBytes,
    &catalog::ContainerStorageReadBytes,
    &catalog::ContainerStorageWriteBytes,
];

// ---------------------------------------------------------------------------------------------
// 1. Fargate, cgroup v1, awsvpc (ecs_exporter/fargate_task_*), first poll.
// ---------------------------------------------------------------------------------------------

#[test]
fn fargate_cgroup_v1_working_set_is_usage_minus_cache_and_task_memory_is_their_sum() {
    let m = first_poll(&Poll::fargate());
    // prometheus: usage 127934464 − cache 85426176 = 42508288 B
    //   = 40 MiB (41943040 B) + 565248 B (0.5390625 MiB) = 40.5390625 MiB
    assert_close(
        m.container_value("prometheus", &catalog::ContainerMemoryUtilized),
        40.539_062_5,
        "prometheus ContainerMemoryUtilized",
    );
    // ecs-exporter: usage 84111360 − cache 42442752 = 41668608 B
    //   = 39 MiB (40894464 B) + 774144 B (0.73828125 MiB) = 39.73828125 MiB
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerMemoryUtilized),
        39.738_281_25,
        "ecs-exporter ContainerMemoryUtilized",
    );
    // Task: 42508288 + 41668608 = 84176896 B = 40.5390625 + 39.73828125 = 80.27734375 MiB
    assert_close(
        m.task_value(&catalog::MemoryUtilized),
        80.277_343_75,
        "MemoryUtilized",
    );
    // Task Limits.Memory = 512 (MiB).
    assert_close(
        m.task_value(&catalog::MemoryReserved),
        512.0,
        "MemoryReserved",
    );
    // 80.27734375 / 512 × 100 = 15.679168701171875 %
    assert_close(
        m.task_value(&catalog::MemoryUtilization),
        15.679_168_701_171_875,
        "MemoryUtilization",
    );
}

#[test]
fn fargate_container_memory_reserved_is_absent_without_a_limit_and_with_the_unlimited_cgroup_value()
{
    // Containers have no Limits.Memory and memory_stats.limit is 9223372036854771712
    // (2^63 − 4096 ≥ 2^62: "unlimited"), so no reservation and no utilization percentage.
    let m = first_poll(&Poll::fargate());
    for c in ["prometheus", "ecs-exporter"] {
        assert_absent(
            m.container_value(c, &catalog::ContainerMemoryReserved),
            &format!("{c} ContainerMemoryReserved"),
        );
        assert_absent(
            m.container_value(c, &catalog::ContainerMemoryUtilization),
            &format!("{c} ContainerMemoryUtilization"),
        );
    }
}

#[test]
fn fargate_cpu_reserved_is_task_vcpu_times_1024_and_container_cpu_2_means_none_set() {
    let m = first_poll(&Poll::fargate());
    // Task Limits.CPU 0.25 vCPU × 1024 = 256 CPU units.
    assert_close(m.task_value(&catalog::CpuReserved), 256.0, "CpuReserved");
    // Container Limits.CPU is 2 (Docker's minimum share, Fargate's "none set").
    for c in ["prometheus", "ecs-exporter"] {
        assert_absent(
            m.container_value(c, &catalog::ContainerCpuReserved),
            &format!("{c} ContainerCpuReserved"),
        );
        assert_absent(
            m.container_value(c, &catalog::ContainerCpuUtilization),
            &format!("{c} ContainerCpuUtilization"),
        );
    }
}

#[test]
fn fargate_first_poll_cpu_comes_from_the_valid_embedded_precpu_with_nanosecond_timestamps() {
    let m = first_poll(&Poll::fargate());
    // prometheus: Δtotal_usage = 932439492 − 925246189 = 7193303 ns
    //   Δt = read 05:22:49.186680233 − preread 05:22:39.185738849 = 10.000941384 s = 10000941384 ns
    //   7193303 / 10000941384 × 1024 ≈ 0.7365249
    let prometheus = 7_193_303.0 / 10_000_941_384.0 * 1024.0;
    assert_close(
        m.container_value("prometheus", &catalog::ContainerCpuUtilized),
        prometheus,
        "prometheus ContainerCpuUtilized",
    );
    // ecs-exporter: Δtotal_usage = 322633383 − 242770940 = 79862443 ns
    //   Δt = 05:22:49.406170373 − 05:22:39.406479661 = 9.999690712 s = 9999690712 ns
    //   79862443 / 9999690712 × 1024 ≈ 8.1781671
    let exporter = 79_862_443.0 / 9_999_690_712.0 * 1024.0;
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerCpuUtilized),
        exporter,
        "ecs-exporter ContainerCpuUtilized",
    );
    // Task: Σ ≈ 0.7365249 + 8.1781671 = 8.9146920 CPU units; / 256 × 100 ≈ 3.4823 %
    assert_close(
        m.task_value(&catalog::CpuUtilized),
        prometheus + exporter,
        "CpuUtilized",
    );
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        (prometheus + exporter) / 256.0 * 100.0,
        "CpuUtilization",
    );
}

#[test]
fn fargate_stopped_container_with_null_stats_has_no_document_and_is_not_counted() {
    let poll = Poll::fargate();
    assert!(poll.stats[FG_NONESSENTIAL].is_null(), "fixture: stats null");
    let m = first_poll(&poll);
    assert_eq!(names(&m), ["ecs-exporter", "prometheus"]);
    // nonessential is STOPPED: prometheus + ecs-exporter = 2.
    assert_close(
        m.task_value(&catalog::RunningContainerCount),
        2.0,
        "RunningContainerCount",
    );
}

#[test]
fn fargate_ephemeral_storage_is_reported_in_mib_from_the_task_metadata() {
    let m = first_poll(&Poll::fargate());
    // EphemeralStorageMetrics {Utilized 427, Reserved 20496} (already MiB).
    assert_close(
        m.task_value(&catalog::EphemeralStorageUtilized),
        427.0,
        "EphemeralStorageUtilized",
    );
    assert_close(
        m.task_value(&catalog::EphemeralStorageReserved),
        20_496.0,
        "EphemeralStorageReserved",
    );
    // EC2 has no EphemeralStorageMetrics: omitted, not 0.
    let ec2 = first_poll(&Poll::ec2());
    assert_absent(
        ec2.task_value(&catalog::EphemeralStorageUtilized),
        "EC2 EphemeralStorageUtilized",
    );
    assert_absent(
        ec2.task_value(&catalog::EphemeralStorageReserved),
        "EC2 EphemeralStorageReserved",
    );
}

#[test]
fn fargate_pid_count_is_absent_when_pids_stats_is_empty() {
    let m = first_poll(&Poll::fargate());
    for c in ["prometheus", "ecs-exporter"] {
        assert_absent(
            m.container_value(c, &catalog::ContainerPidCount),
            &format!("{c} ContainerPidCount"),
        );
    }
}

#[test]
fn image_pull_time_is_emitted_on_the_first_collect_only() {
    let poll = Poll::fargate();
    let mut collector = Collector::new(NameFilter::default());
    let first = collector.collect(poll.snapshot(at(0)));
    // PullStoppedAt 05:06:18.599126545 − PullStartedAt 05:06:03.714437592 = 14.884688953 s
    assert_close(
        first.task_value(&catalog::ImagePullTime),
        14.884_688_953,
        "Fargate ImagePullTime",
    );
    let second = collector.collect(poll.snapshot(at(10)));
    assert_absent(
        second.task_value(&catalog::ImagePullTime),
        "ImagePullTime on the second collect",
    );

    // EC2: 05:10:01.206072368 − 05:09:52.332595252 = 8.873477116 s
    let ec2 = first_poll(&Poll::ec2());
    assert_close(
        ec2.task_value(&catalog::ImagePullTime),
        8.873_477_116,
        "EC2 ImagePullTime",
    );
}

#[test]
fn first_poll_has_no_network_or_storage_values_they_need_the_exporters_own_previous_poll() {
    for (label, poll) in [("fargate", Poll::fargate()), ("ec2", Poll::ec2())] {
        let m = first_poll(&poll);
        for metric in TASK_NETWORK
            .iter()
            .chain(&[&catalog::StorageReadBytes, &catalog::StorageWriteBytes])
        {
            assert_absent(m.task_value(metric), &format!("{label} {}", metric.name));
        }
        for c in &m.containers {
            for metric in CONTAINER_INTERVAL {
                assert_absent(
                    m.container_value(&c.name, metric),
                    &format!("{label} {} {}", c.name, metric.name),
                );
            }
            assert_absent(
                m.container_value(&c.name, &catalog::ContainerRestarts),
                &format!("{label} {} ContainerRestarts", c.name),
            );
        }
    }
}

#[test]
fn all_zero_or_invalid_embedded_precpu_gives_no_cpu_on_the_first_poll() {
    // Real Fargate sends an all-zero precpu_stats with preread 0001-01-01; the spec also
    // rejects a preread that is missing or not earlier than read.
    type Edit = fn(&mut Value);
    let variants: [(&str, Edit); 4] = [
        ("precpu total 0 and preread 0001", |e| {
            set_at(e, "/precpu_stats/cpu_usage/total_usage", json!(0));
            e["preread"] = json!("0001-01-01T00:00:00Z");
        }),
        ("preread 0001 only", |e| {
            e["preread"] = json!("0001-01-01T00:00:00Z");
        }),
        ("preread missing", |e| {
            e.as_object_mut().expect("object").remove("preread");
        }),
        ("preread after read", |e| {
            e["preread"] = json!("2025-02-27T05:22:59.000000000Z");
        }),
    ];
    for (label, edit) in variants {
        let mut poll = Poll::fargate();
        edit(poll.entry(FG_PROMETHEUS));
        edit(poll.entry(FG_EXPORTER));
        let m = first_poll(&poll);
        for c in ["prometheus", "ecs-exporter"] {
            assert_absent(
                m.container_value(c, &catalog::ContainerCpuUtilized),
                &format!("{label}: {c} ContainerCpuUtilized"),
            );
        }
        assert_absent(
            m.task_value(&catalog::CpuUtilized),
            &format!("{label}: CpuUtilized"),
        );
        assert_absent(
            m.task_value(&catalog::CpuUtilization),
            &format!("{label}: CpuUtilization"),
        );
        // The gauges are still there.
        assert_close(
            m.task_value(&catalog::CpuReserved),
            256.0,
            &format!("{label}: CpuReserved"),
        );
        assert_close(
            m.task_value(&catalog::MemoryUtilized),
            80.277_343_75,
            &format!("{label}: MemoryUtilized"),
        );
    }
    // Only total_usage 0 with a real preread: still not a valid embedded sample.
    let mut poll = Poll::fargate();
    set_at(
        poll.entry(FG_PROMETHEUS),
        "/precpu_stats/cpu_usage/total_usage",
        json!(0),
    );
    let m = first_poll(&poll);
    assert_absent(
        m.container_value("prometheus", &catalog::ContainerCpuUtilized),
        "precpu total 0: prometheus ContainerCpuUtilized",
    );
    // ecs-exporter keeps its valid sample: 79862443 / 9999690712 × 1024.
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerCpuUtilized),
        79_862_443.0 / 9_999_690_712.0 * 1024.0,
        "precpu total 0: ecs-exporter ContainerCpuUtilized",
    );
    assert_close(
        m.task_value(&catalog::CpuUtilized),
        79_862_443.0 / 9_999_690_712.0 * 1024.0,
        "precpu total 0: CpuUtilized = the only contributor",
    );
}

#[test]
fn working_set_is_never_below_zero() {
    let mut poll = Poll::fargate();
    // prometheus: cache set to usage 127934464 + 4096 = 127938560 > usage → working set 0.
    set_at(
        poll.entry(FG_PROMETHEUS),
        "/memory_stats/stats/cache",
        json!(127_938_560u64),
    );
    let m = first_poll(&poll);
    assert_close(
        m.container_value("prometheus", &catalog::ContainerMemoryUtilized),
        0.0,
        "prometheus ContainerMemoryUtilized",
    );
    // Task: 0 + ecs-exporter 39.73828125 MiB.
    assert_close(
        m.task_value(&catalog::MemoryUtilized),
        39.738_281_25,
        "MemoryUtilized",
    );
}

// ---------------------------------------------------------------------------------------------
// 2. EC2, cgroup v2, bridge (ecs_exporter/ec2_task_*), first poll.
// ---------------------------------------------------------------------------------------------

#[test]
fn ec2_cgroup_v2_working_set_is_usage_minus_inactive_file_with_container_memory_limits() {
    let m = first_poll(&Poll::ec2());
    // ecs-exporter: usage 65249280 − inactive_file 17641472 = 47607808 B
    //   = 45 MiB (47185920 B) + 421888 B (0.40234375 MiB) = 45.40234375 MiB
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerMemoryUtilized),
        45.402_343_75,
        "ecs-exporter ContainerMemoryUtilized",
    );
    // prometheus: usage 60981248 − inactive_file 11046912 = 49934336 B
    //   = 47 MiB (49283072 B) + 651264 B (0.62109375 MiB) = 47.62109375 MiB
    assert_close(
        m.container_value("prometheus", &catalog::ContainerMemoryUtilized),
        47.621_093_75,
        "prometheus ContainerMemoryUtilized",
    );
    // Container Limits.Memory = 256 MiB (the cgroup limit 268435456 B is the same 256 MiB).
    for (c, used) in [
        ("ecs-exporter", 45.402_343_75),
        ("prometheus", 47.621_093_75),
    ] {
        assert_close(
            m.container_value(c, &catalog::ContainerMemoryReserved),
            256.0,
            &format!("{c} ContainerMemoryReserved"),
        );
        // 45.40234375 / 256 × 100 = 17.73529052734375 %; 47.62109375 / 256 × 100 = 18.60198974609375 %
        assert_close(
            m.container_value(c, &catalog::ContainerMemoryUtilization),
            used / 256.0 * 100.0,
            &format!("{c} ContainerMemoryUtilization"),
        );
    }
    // Task: 45.40234375 + 47.62109375 = 93.0234375 MiB
    assert_close(
        m.task_value(&catalog::MemoryUtilized),
        93.023_437_5,
        "MemoryUtilized",
    );
    // No task Limits: Σ containers' Limits.Memory, stopped one included = 3 × 256 = 768 MiB.
    assert_close(
        m.task_value(&catalog::MemoryReserved),
        768.0,
        "MemoryReserved",
    );
    // 93.0234375 / 768 × 100 = 12.1124267578125 %
    assert_close(
        m.task_value(&catalog::MemoryUtilization),
        12.112_426_757_812_5,
        "MemoryUtilization",
    );
}

#[test]
fn ec2_cpu_reservations_come_from_container_limits_and_the_task_sums_all_three() {
    let m = first_poll(&Poll::ec2());
    for c in ["ecs-exporter", "prometheus"] {
        assert_close(
            m.container_value(c, &catalog::ContainerCpuReserved),
            128.0,
            &format!("{c} ContainerCpuReserved"),
        );
    }
    // No task Limits: Σ Limits.CPU over all three containers (the stopped one's reservation is
    // still placed by the task definition) = 3 × 128 = 384.
    assert_close(m.task_value(&catalog::CpuReserved), 384.0, "CpuReserved");
}

#[test]
fn ec2_first_poll_cpu_from_embedded_precpu_and_the_idle_container_is_a_real_zero() {
    let m = first_poll(&Poll::ec2());
    // ecs-exporter: Δtotal_usage = 331125000 − 325963000 = 5162000 ns
    //   Δt = 05:18:07.856950259 − 05:18:06.853724878 = 1.003225381 s = 1003225381 ns
    //   5162000 / 1003225381 × 1024 ≈ 5.2688938
    let exporter = 5_162_000.0 / 1_003_225_381.0 * 1024.0;
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerCpuUtilized),
        exporter,
        "ecs-exporter ContainerCpuUtilized",
    );
    // ≈ 5.2688938 / 128 × 100 ≈ 4.1163 %
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerCpuUtilization),
        exporter / 128.0 * 100.0,
        "ecs-exporter ContainerCpuUtilization",
    );
    // prometheus: 566060000 − 566060000 = 0 ns → 0.0, present (a real zero).
    assert_close(
        m.container_value("prometheus", &catalog::ContainerCpuUtilized),
        0.0,
        "prometheus ContainerCpuUtilized",
    );
    assert_close(
        m.container_value("prometheus", &catalog::ContainerCpuUtilization),
        0.0,
        "prometheus ContainerCpuUtilization",
    );
    // Task: ≈ 5.2688938 + 0; / 384 × 100 ≈ 1.3721 %
    assert_close(m.task_value(&catalog::CpuUtilized), exporter, "CpuUtilized");
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        exporter / 384.0 * 100.0,
        "CpuUtilization",
    );
}

#[test]
fn ec2_pid_count_is_pids_stats_current() {
    let m = first_poll(&Poll::ec2());
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerPidCount),
        33.0,
        "ecs-exporter ContainerPidCount",
    );
    assert_close(
        m.container_value("prometheus", &catalog::ContainerPidCount),
        25.0,
        "prometheus ContainerPidCount",
    );
}

#[test]
fn ec2_stopped_container_with_empty_object_stats_has_no_document() {
    let poll = Poll::ec2();
    assert_eq!(
        poll.stats[EC2_NONESSENTIAL],
        json!({}),
        "fixture: stats {{}}"
    );
    let m = first_poll(&poll);
    assert_eq!(names(&m), ["ecs-exporter", "prometheus"]);
    assert_close(
        m.task_value(&catalog::RunningContainerCount),
        2.0,
        "RunningContainerCount",
    );
}

#[test]
fn without_limits_reservations_are_omitted_and_container_memory_falls_back_to_a_real_cgroup_limit()
{
    let mut poll = Poll::ec2();
    for c in ["nonessential", "ecs-exporter", "prometheus"] {
        poll.container(c)
            .as_object_mut()
            .expect("container object")
            .remove("Limits");
    }
    let m = first_poll(&poll);
    // No task Limits, no container Limits: CPU and memory reservations unknown → omitted.
    for metric in [
        &catalog::CpuReserved,
        &catalog::CpuUtilization,
        &catalog::MemoryReserved,
        &catalog::MemoryUtilization,
    ] {
        assert_absent(m.task_value(metric), metric.name);
    }
    // Utilized values stay (ecs-exporter 45.40234375 + prometheus 47.62109375 = 93.0234375 MiB).
    assert_close(
        m.task_value(&catalog::MemoryUtilized),
        93.023_437_5,
        "MemoryUtilized",
    );
    for (c, used) in [
        ("ecs-exporter", 45.402_343_75),
        ("prometheus", 47.621_093_75),
    ] {
        assert_absent(
            m.container_value(c, &catalog::ContainerCpuReserved),
            &format!("{c} ContainerCpuReserved"),
        );
        assert_absent(
            m.container_value(c, &catalog::ContainerCpuUtilization),
            &format!("{c} ContainerCpuUtilization"),
        );
        // memory_stats.limit 268435456 B < 2^62 is a real limit: 268435456 / 1048576 = 256 MiB.
        assert_close(
            m.container_value(c, &catalog::ContainerMemoryReserved),
            256.0,
            &format!("{c} ContainerMemoryReserved"),
        );
        assert_close(
            m.container_value(c, &catalog::ContainerMemoryUtilization),
            used / 256.0 * 100.0,
            &format!("{c} ContainerMemoryUtilization"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Second poll, bridge: rates against the exporter's own previous poll.
// ---------------------------------------------------------------------------------------------

#[test]
fn bridge_second_poll_rates_and_interval_counts_sum_over_containers() {
    let first = Poll::ec2();
    let mut second = first.clone();
    // ecs-exporter: the standard increments; prometheus: rx +30 000 B instead (so the bridge sum
    // is not the same as "one container × 2"), blkio read +4096 / write +8192 on both.
    let prometheus_bump = Bump {
        rx_bytes: 30_000,
        ..STANDARD
    };
    for (id, b) in [(EC2_EXPORTER, STANDARD), (EC2_PROMETHEUS, prometheus_bump)] {
        let e = second.entry(id);
        // read +10 s exactly. precpu_stats/preread are left stale on purpose: the rate must come
        // from the previous poll (Δt 10 s), not from the embedded sample (Δt ≈ 11 s).
        shift_read(e, 10);
        bump(e, "eth0", b);
        add_blkio(e, "read", 4096);
        add_blkio(e, "write", 8192);
    }
    let mut collector = Collector::new(NameFilter::default());
    collector.collect(first.snapshot(at(0)));
    // The wall clock between the polls is 7 s, but Δt is s.read − s'.read = 10 s.
    let m = collector.collect(second.snapshot(at(7)));

    // Per container.
    // ecs-exporter rx 50000 B / 10 s = 5000 B/s; prometheus 30000 / 10 = 3000 B/s.
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerNetworkRxBytes),
        5_000.0,
        "ecs-exporter ContainerNetworkRxBytes",
    );
    assert_close(
        m.container_value("prometheus", &catalog::ContainerNetworkRxBytes),
        3_000.0,
        "prometheus ContainerNetworkRxBytes",
    );
    for c in ["ecs-exporter", "prometheus"] {
        // tx 20000 B / 10 s = 2000 B/s
        assert_close(
            m.container_value(c, &catalog::ContainerNetworkTxBytes),
            2_000.0,
            &format!("{c} ContainerNetworkTxBytes"),
        );
        // CPU: 1e9 ns / 10e9 ns × 1024 = 102.4 CPU units; / 128 × 100 = 80 %
        assert_close(
            m.container_value(c, &catalog::ContainerCpuUtilized),
            102.4,
            &format!("{c} ContainerCpuUtilized"),
        );
        assert_close(
            m.container_value(c, &catalog::ContainerCpuUtilization),
            80.0,
            &format!("{c} ContainerCpuUtilization"),
        );
        // Block I/O is a Count over the interval: +4096 read, +8192 write.
        assert_close(
            m.container_value(c, &catalog::ContainerStorageReadBytes),
            4_096.0,
            &format!("{c} ContainerStorageReadBytes"),
        );
        assert_close(
            m.container_value(c, &catalog::ContainerStorageWriteBytes),
            8_192.0,
            &format!("{c} ContainerStorageWriteBytes"),
        );
    }

    // Task: bridge = each container has its own namespace, so containers add up.
    // rx 5000 + 3000 = 8000 B/s; tx 2000 + 2000 = 4000 B/s
    assert_close(
        m.task_value(&catalog::NetworkRxBytes),
        8_000.0,
        "NetworkRxBytes",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxBytes),
        4_000.0,
        "NetworkTxBytes",
    );
    // packets: (40 + 40) / 10 = 8 /s; (30 + 30) / 10 = 6 /s
    assert_close(
        m.task_value(&catalog::NetworkRxPackets),
        8.0,
        "NetworkRxPackets",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxPackets),
        6.0,
        "NetworkTxPackets",
    );
    // Counts over the interval (not rates): dropped 2 + 2 = 4, 1 + 1 = 2; errors 3 + 3 = 6,
    // tx errors 0 + 0 = 0 (a real zero).
    assert_close(
        m.task_value(&catalog::NetworkRxDropped),
        4.0,
        "NetworkRxDropped",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxDropped),
        2.0,
        "NetworkTxDropped",
    );
    assert_close(
        m.task_value(&catalog::NetworkRxErrors),
        6.0,
        "NetworkRxErrors",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxErrors),
        0.0,
        "NetworkTxErrors",
    );
    // Storage: 4096 + 4096 = 8192 B read; 8192 + 8192 = 16384 B written.
    assert_close(
        m.task_value(&catalog::StorageReadBytes),
        8_192.0,
        "StorageReadBytes",
    );
    assert_close(
        m.task_value(&catalog::StorageWriteBytes),
        16_384.0,
        "StorageWriteBytes",
    );
    // CPU: 102.4 + 102.4 = 204.8; / 384 × 100 = 53.333… %
    assert_close(m.task_value(&catalog::CpuUtilized), 204.8, "CpuUtilized");
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        204.8 / 384.0 * 100.0,
        "CpuUtilization",
    );
    // Gauges are unchanged; ImagePullTime is gone after the first cycle.
    assert_close(
        m.task_value(&catalog::MemoryUtilized),
        93.023_437_5,
        "MemoryUtilized",
    );
    assert_close(
        m.task_value(&catalog::RunningContainerCount),
        2.0,
        "RunningContainerCount",
    );
    assert_absent(m.task_value(&catalog::ImagePullTime), "ImagePullTime");
}

// ---------------------------------------------------------------------------------------------
// 4. Second poll, awsvpc (Fargate pair): the shared task ENI is counted once.
// ---------------------------------------------------------------------------------------------

#[test]
fn awsvpc_second_poll_task_network_counts_the_shared_eni_once() {
    let first = Poll::fargate();
    let mut second = first.clone();
    for id in [FG_PROMETHEUS, FG_EXPORTER] {
        let e = second.entry(id);
        shift_read(e, 10);
        // Both containers see the same task ENI eth1: the SAME increments on both.
        bump(e, "eth1", STANDARD);
    }
    // prometheus reads 4096 B more on the first `Read` device; ecs-exporter does no I/O.
    add_blkio(second.entry(FG_PROMETHEUS), "Read", 4096);

    let mut collector = Collector::new(NameFilter::default());
    collector.collect(first.snapshot(at(0)));
    let m = collector.collect(second.snapshot(at(10)));

    // One container's Δ / Δt, not the sum: 50000 / 10 = 5000 B/s (not 10000).
    assert_close(
        m.task_value(&catalog::NetworkRxBytes),
        5_000.0,
        "NetworkRxBytes",
    );
    // 20000 / 10 = 2000 B/s
    assert_close(
        m.task_value(&catalog::NetworkTxBytes),
        2_000.0,
        "NetworkTxBytes",
    );
    // 40 / 10 = 4 /s; 30 / 10 = 3 /s
    assert_close(
        m.task_value(&catalog::NetworkRxPackets),
        4.0,
        "NetworkRxPackets",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxPackets),
        3.0,
        "NetworkTxPackets",
    );
    // Counts: 2 (not 4), 1, 3, 0.
    assert_close(
        m.task_value(&catalog::NetworkRxDropped),
        2.0,
        "NetworkRxDropped",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxDropped),
        1.0,
        "NetworkTxDropped",
    );
    assert_close(
        m.task_value(&catalog::NetworkRxErrors),
        3.0,
        "NetworkRxErrors",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxErrors),
        0.0,
        "NetworkTxErrors",
    );
    // awsvpc: every container shows the task ENI, so no per-container network metrics.
    for c in ["prometheus", "ecs-exporter"] {
        assert_absent(
            m.container_value(c, &catalog::ContainerNetworkRxBytes),
            &format!("{c} ContainerNetworkRxBytes"),
        );
        assert_absent(
            m.container_value(c, &catalog::ContainerNetworkTxBytes),
            &format!("{c} ContainerNetworkTxBytes"),
        );
        // CPU: 1e9 / 10e9 × 1024 = 102.4
        assert_close(
            m.container_value(c, &catalog::ContainerCpuUtilized),
            102.4,
            &format!("{c} ContainerCpuUtilized"),
        );
        // No write anywhere: Δ 0 (a real zero).
        assert_close(
            m.container_value(c, &catalog::ContainerStorageWriteBytes),
            0.0,
            &format!("{c} ContainerStorageWriteBytes"),
        );
    }
    assert_close(
        m.container_value("prometheus", &catalog::ContainerStorageReadBytes),
        4_096.0,
        "prometheus ContainerStorageReadBytes",
    );
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerStorageReadBytes),
        0.0,
        "ecs-exporter ContainerStorageReadBytes",
    );
    // Block I/O is per container even in awsvpc: 4096 + 0.
    assert_close(
        m.task_value(&catalog::StorageReadBytes),
        4_096.0,
        "StorageReadBytes",
    );
    assert_close(
        m.task_value(&catalog::StorageWriteBytes),
        0.0,
        "StorageWriteBytes",
    );
    // 102.4 + 102.4 = 204.8; / 256 × 100 = 80 %
    assert_close(m.task_value(&catalog::CpuUtilized), 204.8, "CpuUtilized");
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        80.0,
        "CpuUtilization",
    );
    assert_absent(m.task_value(&catalog::ImagePullTime), "ImagePullTime");
}

// ---------------------------------------------------------------------------------------------
// 5. Counter reset.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_counter_that_went_down_yields_no_value_and_task_sums_keep_only_contributors() {
    let first = Poll::ec2();
    let mut second = first.clone();
    {
        let e = second.entry(EC2_EXPORTER);
        shift_read(e, 10);
        bump(e, "eth0", STANDARD);
        add_blkio(e, "read", 4096);
        add_blkio(e, "write", 8192);
    }
    {
        // prometheus restarted: CPU 566060000 → 1000000 ns, eth0 rx 45368 → 1000 B,
        // blkio read 99926016 → 4096 B went DOWN; tx and the write counter moved on normally.
        let e = second.entry(EC2_PROMETHEUS);
        shift_read(e, 10);
        bump(
            e,
            "eth0",
            Bump {
                cpu_ns: 0,
                rx_bytes: 0,
                ..STANDARD
            },
        );
        set_at(e, "/cpu_stats/cpu_usage/total_usage", json!(1_000_000));
        set_at(e, "/networks/eth0/rx_bytes", json!(1_000));
        set_at(
            e,
            "/blkio_stats/io_service_bytes_recursive/0/value",
            json!(4_096),
        );
        add_blkio(e, "write", 8192);
    }
    let mut collector = Collector::new(NameFilter::default());
    collector.collect(first.snapshot(at(0)));
    let m = collector.collect(second.snapshot(at(10)));

    // prometheus: no value for the reset counters (not negative, not a wrapped huge number).
    for metric in [
        &catalog::ContainerCpuUtilized,
        &catalog::ContainerCpuUtilization,
        &catalog::ContainerNetworkRxBytes,
        &catalog::ContainerStorageReadBytes,
    ] {
        assert_absent(
            m.container_value("prometheus", metric),
            &format!("prometheus {}", metric.name),
        );
    }
    // ... its other values are still there: tx 20000 / 10 = 2000 B/s, write +8192 B,
    // memory 47.62109375 MiB, CPU reservation 128.
    assert_close(
        m.container_value("prometheus", &catalog::ContainerNetworkTxBytes),
        2_000.0,
        "prometheus ContainerNetworkTxBytes",
    );
    assert_close(
        m.container_value("prometheus", &catalog::ContainerStorageWriteBytes),
        8_192.0,
        "prometheus ContainerStorageWriteBytes",
    );
    assert_close(
        m.container_value("prometheus", &catalog::ContainerMemoryUtilized),
        47.621_093_75,
        "prometheus ContainerMemoryUtilized",
    );
    assert_close(
        m.container_value("prometheus", &catalog::ContainerCpuReserved),
        128.0,
        "prometheus ContainerCpuReserved",
    );
    // ecs-exporter's values are all there: 1e9 / 10e9 × 1024 = 102.4; 50000 / 10 = 5000 B/s.
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerCpuUtilized),
        102.4,
        "ecs-exporter ContainerCpuUtilized",
    );
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerNetworkRxBytes),
        5_000.0,
        "ecs-exporter ContainerNetworkRxBytes",
    );
    assert_close(
        m.container_value("ecs-exporter", &catalog::ContainerStorageReadBytes),
        4_096.0,
        "ecs-exporter ContainerStorageReadBytes",
    );
    // Task sums include only the contributors.
    // CPU: ecs-exporter only = 102.4; / 384 × 100 = 26.666… %
    assert_close(m.task_value(&catalog::CpuUtilized), 102.4, "CpuUtilized");
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        102.4 / 384.0 * 100.0,
        "CpuUtilization",
    );
    // rx: ecs-exporter only = 5000 B/s; tx: 2000 + 2000 = 4000 B/s
    assert_close(
        m.task_value(&catalog::NetworkRxBytes),
        5_000.0,
        "NetworkRxBytes",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxBytes),
        4_000.0,
        "NetworkTxBytes",
    );
    // Storage read: ecs-exporter only = 4096 B; write 8192 + 8192 = 16384 B.
    assert_close(
        m.task_value(&catalog::StorageReadBytes),
        4_096.0,
        "StorageReadBytes",
    );
    assert_close(
        m.task_value(&catalog::StorageWriteBytes),
        16_384.0,
        "StorageWriteBytes",
    );
    // Whatever is published is finite and sane (no wrapped u64 turned into a float).
    for c in &m.containers {
        for s in &c.samples {
            assert!(
                s.value.is_finite() && s.value >= 0.0 && s.value < 1e12,
                "{} {} = {}",
                c.name,
                s.metric.name,
                s.value
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. `read` missing, zero or not increasing: Δt is the wall-clock time between the polls.
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_zero_or_stalled_read_falls_back_to_the_wall_clock_between_polls() {
    type Edit = fn(&mut Value);
    let variants: [(&str, Edit); 4] = [
        ("read missing", |e| {
            e.as_object_mut().expect("object").remove("read");
        }),
        ("read 0001-01-01", |e| {
            e["read"] = json!("0001-01-01T00:00:00Z");
        }),
        ("read unchanged", |_| {}),
        ("read went back 5 s", |e| shift_read(e, -5)),
    ];
    for (label, edit) in variants {
        let first = Poll::ec2();
        let mut second = first.clone();
        for id in [EC2_EXPORTER, EC2_PROMETHEUS] {
            let e = second.entry(id);
            bump(e, "eth0", STANDARD);
            edit(e);
        }
        let mut collector = Collector::new(NameFilter::default());
        collector.collect(first.snapshot(at(0)));
        // received_at 20 s apart.
        let m = collector.collect(second.snapshot(at(20)));
        for c in ["ecs-exporter", "prometheus"] {
            // 1e9 ns / 20e9 ns × 1024 = 51.2 CPU units
            assert_close(
                m.container_value(c, &catalog::ContainerCpuUtilized),
                51.2,
                &format!("{label}: {c} ContainerCpuUtilized"),
            );
            // 50000 B / 20 s = 2500 B/s; 20000 / 20 = 1000 B/s
            assert_close(
                m.container_value(c, &catalog::ContainerNetworkRxBytes),
                2_500.0,
                &format!("{label}: {c} ContainerNetworkRxBytes"),
            );
            assert_close(
                m.container_value(c, &catalog::ContainerNetworkTxBytes),
                1_000.0,
                &format!("{label}: {c} ContainerNetworkTxBytes"),
            );
        }
        // Task: 51.2 + 51.2 = 102.4; rx 2500 + 2500 = 5000 B/s; rx packets (40 + 40) / 20 = 4 /s;
        // dropped is a Count, independent of Δt: 2 + 2 = 4.
        assert_close(
            m.task_value(&catalog::CpuUtilized),
            102.4,
            &format!("{label}: CpuUtilized"),
        );
        assert_close(
            m.task_value(&catalog::NetworkRxBytes),
            5_000.0,
            &format!("{label}: NetworkRxBytes"),
        );
        assert_close(
            m.task_value(&catalog::NetworkRxPackets),
            4.0,
            &format!("{label}: NetworkRxPackets"),
        );
        assert_close(
            m.task_value(&catalog::NetworkRxDropped),
            4.0,
            &format!("{label}: NetworkRxDropped"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// ContainerRestarts and host-mode networking.
// ---------------------------------------------------------------------------------------------

#[test]
fn container_restarts_is_the_increase_of_restart_count_between_polls_when_the_field_exists() {
    let mut first = Poll::ec2();
    first.container("ecs-exporter")["RestartCount"] = json!(1);
    first.container("prometheus")["RestartCount"] = json!(0);
    let mut second = first.clone();
    second.container("ecs-exporter")["RestartCount"] = json!(3);
    for id in [EC2_EXPORTER, EC2_PROMETHEUS] {
        shift_read(second.entry(id), 10);
    }
    let mut collector = Collector::new(NameFilter::default());
    let m1 = collector.collect(first.snapshot(at(0)));
    // First poll: no interval yet, so no Δ.
    assert_absent(
        m1.container_value("ecs-exporter", &catalog::ContainerRestarts),
        "first poll ContainerRestarts",
    );
    let m2 = collector.collect(second.snapshot(at(10)));
    // ecs-exporter: 3 − 1 = 2 restarts; prometheus 0 − 0 = 0 (a real zero).
    assert_close(
        m2.container_value("ecs-exporter", &catalog::ContainerRestarts),
        2.0,
        "ecs-exporter ContainerRestarts",
    );
    assert_close(
        m2.container_value("prometheus", &catalog::ContainerRestarts),
        0.0,
        "prometheus ContainerRestarts",
    );
    // Fixtures without the field never get the metric.
    let mut plain = Collector::new(NameFilter::default());
    plain.collect(Poll::ec2().snapshot(at(0)));
    let p2 = plain.collect(Poll::ec2().snapshot(at(10)));
    for c in &p2.containers {
        assert_absent(
            p2.container_value(&c.name, &catalog::ContainerRestarts),
            &format!("no RestartCount: {} ContainerRestarts", c.name),
        );
    }
}

#[test]
fn host_mode_without_networks_in_stats_omits_every_network_metric() {
    let mut first = Poll::ec2();
    for c in ["nonessential", "ecs-exporter", "prometheus"] {
        first.container(c)["Networks"] = json!([{ "NetworkMode": "host" }]);
    }
    for id in [EC2_EXPORTER, EC2_PROMETHEUS] {
        first
            .entry(id)
            .as_object_mut()
            .expect("object")
            .remove("networks");
    }
    let mut second = first.clone();
    for id in [EC2_EXPORTER, EC2_PROMETHEUS] {
        let e = second.entry(id);
        shift_read(e, 10);
        add_at(e, "/cpu_stats/cpu_usage/total_usage", 1_000_000_000);
    }
    let mut collector = Collector::new(NameFilter::default());
    collector.collect(first.snapshot(at(0)));
    let m = collector.collect(second.snapshot(at(10)));
    for metric in TASK_NETWORK {
        assert_absent(m.task_value(metric), metric.name);
    }
    for c in ["ecs-exporter", "prometheus"] {
        assert_absent(
            m.container_value(c, &catalog::ContainerNetworkRxBytes),
            &format!("{c} ContainerNetworkRxBytes"),
        );
        assert_absent(
            m.container_value(c, &catalog::ContainerNetworkTxBytes),
            &format!("{c} ContainerNetworkTxBytes"),
        );
    }
    // The rest is measured: 1e9 / 10e9 × 1024 = 102.4 per container, 204.8 for the task.
    assert_close(m.task_value(&catalog::CpuUtilized), 204.8, "CpuUtilized");
}

// ---------------------------------------------------------------------------------------------
// 7. OTel awsecscontainermetrics receiver pairs.
// ---------------------------------------------------------------------------------------------

#[test]
fn otel_ec2_bridge_without_launch_type_container_reservations_and_cgroup_v1_working_set() {
    let m = first_poll(&Poll::load(
        "otel_awsecscontainermetrics/task_metadata.json",
        "otel_awsecscontainermetrics/task_stats.json",
    ));
    // nginx200 is STOPPED with stats {}: no document.
    assert_eq!(names(&m), ["nginx100", "nginx300"]);
    assert_close(
        m.task_value(&catalog::RunningContainerCount),
        2.0,
        "RunningContainerCount",
    );
    // nginx100: Limits.CPU 100 → ContainerCpuReserved 100; nginx300: CPU 0 = none set.
    assert_close(
        m.container_value("nginx100", &catalog::ContainerCpuReserved),
        100.0,
        "nginx100 ContainerCpuReserved",
    );
    assert_absent(
        m.container_value("nginx300", &catalog::ContainerCpuReserved),
        "nginx300 ContainerCpuReserved",
    );
    // Task: 100 + 0 (nginx300) + 0 (nginx200) = 100 CPU units.
    assert_close(m.task_value(&catalog::CpuReserved), 100.0, "CpuReserved");
    // CPU is idle: cpu == precpu (287052875 and 276034312 ns) with precpu > 0 and
    // preread < read (about 1 s earlier): a valid embedded sample, Δ 0 → 0.0.
    for c in ["nginx100", "nginx300"] {
        assert_close(
            m.container_value(c, &catalog::ContainerCpuUtilized),
            0.0,
            &format!("{c} ContainerCpuUtilized"),
        );
    }
    assert_close(
        m.container_value("nginx100", &catalog::ContainerCpuUtilization),
        0.0,
        "nginx100 ContainerCpuUtilization",
    );
    assert_close(m.task_value(&catalog::CpuUtilized), 0.0, "CpuUtilized");
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        0.0,
        "CpuUtilization",
    );
    // Working set (cgroup v1): usage − cache.
    // nginx100: 2568192 − 69632 = 2498560 B = 2 MiB + 401408 B (0.3828125) = 2.3828125 MiB
    // nginx300: 2658304 − 65536 = 2592768 B = 2 MiB + 495616 B (0.47265625) = 2.47265625 MiB
    assert_close(
        m.container_value("nginx100", &catalog::ContainerMemoryUtilized),
        2.382_812_5,
        "nginx100 ContainerMemoryUtilized",
    );
    assert_close(
        m.container_value("nginx300", &catalog::ContainerMemoryUtilized),
        2.472_656_25,
        "nginx300 ContainerMemoryUtilized",
    );
    for (c, used) in [("nginx100", 2.382_812_5), ("nginx300", 2.472_656_25)] {
        assert_close(
            m.container_value(c, &catalog::ContainerMemoryReserved),
            128.0,
            &format!("{c} ContainerMemoryReserved"),
        );
        // 2.3828125 / 128 × 100 = 1.861572265625 %; 2.47265625 / 128 × 100 = 1.9317626953125 %
        assert_close(
            m.container_value(c, &catalog::ContainerMemoryUtilization),
            used / 128.0 * 100.0,
            &format!("{c} ContainerMemoryUtilization"),
        );
        assert_close(
            m.container_value(c, &catalog::ContainerPidCount),
            2.0,
            &format!("{c} ContainerPidCount"),
        );
    }
    // Task: 2.3828125 + 2.47265625 = 4.85546875 MiB; reserved Σ 128 × 3 = 384 MiB;
    // 4.85546875 / 384 × 100 = 1.264444986979… %
    assert_close(
        m.task_value(&catalog::MemoryUtilized),
        4.855_468_75,
        "MemoryUtilized",
    );
    assert_close(
        m.task_value(&catalog::MemoryReserved),
        384.0,
        "MemoryReserved",
    );
    assert_close(
        m.task_value(&catalog::MemoryUtilization),
        4.855_468_75 / 384.0 * 100.0,
        "MemoryUtilization",
    );
    // PullStoppedAt 22:12:29.827677602 − PullStartedAt 22:12:25.705983342 = 4.12169426 s
    assert_close(
        m.task_value(&catalog::ImagePullTime),
        4.121_694_26,
        "ImagePullTime",
    );
}

#[test]
fn otel_bridge_container_with_eth0_and_eth1_sums_both_interfaces() {
    let first = Poll::load(
        "otel_awsecscontainermetrics/task_metadata.json",
        "otel_awsecscontainermetrics/task_stats.json",
    );
    let mut second = first.clone();
    {
        let e = second.entry(NGINX300);
        shift_read(e, 10);
        add_at(e, "/networks/eth0/rx_bytes", 1_000);
        add_at(e, "/networks/eth1/rx_bytes", 500);
        add_at(e, "/networks/eth0/tx_bytes", 300);
        add_at(e, "/networks/eth1/tx_bytes", 0);
    }
    {
        let e = second.entry(NGINX100);
        shift_read(e, 10);
        add_at(e, "/networks/eth0/rx_bytes", 2_000);
        add_at(e, "/networks/eth0/tx_bytes", 700);
    }
    let mut collector = Collector::new(NameFilter::default());
    collector.collect(first.snapshot(at(0)));
    let m = collector.collect(second.snapshot(at(10)));
    // nginx300: (1000 + 500) / 10 = 150 B/s rx; (300 + 0) / 10 = 30 B/s tx
    assert_close(
        m.container_value("nginx300", &catalog::ContainerNetworkRxBytes),
        150.0,
        "nginx300 ContainerNetworkRxBytes",
    );
    assert_close(
        m.container_value("nginx300", &catalog::ContainerNetworkTxBytes),
        30.0,
        "nginx300 ContainerNetworkTxBytes",
    );
    // nginx100: 2000 / 10 = 200 B/s rx; 700 / 10 = 70 B/s tx
    assert_close(
        m.container_value("nginx100", &catalog::ContainerNetworkRxBytes),
        200.0,
        "nginx100 ContainerNetworkRxBytes",
    );
    // No LaunchType, bridge: Σ containers and interfaces = 150 + 200 = 350 B/s; 30 + 70 = 100 B/s
    assert_close(
        m.task_value(&catalog::NetworkRxBytes),
        350.0,
        "NetworkRxBytes",
    );
    assert_close(
        m.task_value(&catalog::NetworkTxBytes),
        100.0,
        "NetworkTxBytes",
    );
    // nginx300 Read 3452928 B unchanged: Δ 0. nginx100's list is [] (reported empty): Δ 0.
    assert_close(
        m.task_value(&catalog::StorageReadBytes),
        0.0,
        "StorageReadBytes",
    );
}

#[test]
fn otel_fargate_idle_container_cpu_is_zero_from_the_valid_embedded_sample() {
    let m = first_poll(&Poll::load(
        "otel_awsecscontainermetrics/task_metadata2.json",
        "otel_awsecscontainermetrics/task_stats2.json",
    ));
    // `non` is STOPPED with stats {}: no document.
    assert_eq!(names(&m), ["essential"]);
    assert_close(
        m.task_value(&catalog::RunningContainerCount),
        1.0,
        "RunningContainerCount",
    );
    // precpu 201366568 == cpu 201366568 (> 0), preread 19:17:47.117865157 < read 19:17:57.119443863
    // → valid sample with Δ 0 → 0.0.
    assert_close(
        m.container_value("essential", &catalog::ContainerCpuUtilized),
        0.0,
        "essential ContainerCpuUtilized",
    );
    assert_close(m.task_value(&catalog::CpuUtilized), 0.0, "CpuUtilized");
    // Task Limits 0.25 vCPU × 1024 = 256; 0 / 256 = 0 %.
    assert_close(m.task_value(&catalog::CpuReserved), 256.0, "CpuReserved");
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        0.0,
        "CpuUtilization",
    );
    // Container Limits.CPU 2 and memory_stats.limit 9223372036854771712: no reservations.
    assert_absent(
        m.container_value("essential", &catalog::ContainerCpuReserved),
        "essential ContainerCpuReserved",
    );
    assert_absent(
        m.container_value("essential", &catalog::ContainerMemoryReserved),
        "essential ContainerMemoryReserved",
    );
    // pids_stats {}: no pid count.
    assert_absent(
        m.container_value("essential", &catalog::ContainerPidCount),
        "essential ContainerPidCount",
    );
    // usage 974848 − cache 0 = 974848 B = 0.9296875 MiB (974848 / 1048576)
    assert_close(
        m.container_value("essential", &catalog::ContainerMemoryUtilized),
        0.929_687_5,
        "essential ContainerMemoryUtilized",
    );
    assert_close(
        m.task_value(&catalog::MemoryUtilized),
        0.929_687_5,
        "MemoryUtilized",
    );
    assert_close(
        m.task_value(&catalog::MemoryReserved),
        512.0,
        "MemoryReserved",
    );
    // 0.9296875 / 512 × 100 = 0.18157958984375 %
    assert_close(
        m.task_value(&catalog::MemoryUtilization),
        0.181_579_589_843_75,
        "MemoryUtilization",
    );
    // No EphemeralStorageMetrics in this capture: omitted.
    assert_absent(
        m.task_value(&catalog::EphemeralStorageUtilized),
        "EphemeralStorageUtilized",
    );
    // PullStoppedAt 19:13:57.059227945 − PullStartedAt 19:13:50.176256749 = 6.882971196 s
    assert_close(
        m.task_value(&catalog::ImagePullTime),
        6.882_971_196,
        "ImagePullTime",
    );
}

#[test]
fn otel_earlier_revision_task_limit_of_half_a_vcpu_is_512_cpu_units() {
    let m = first_poll(&Poll::load(
        "otel_awsecscontainermetrics/earlier_revision/task_metadata.json",
        "otel_awsecscontainermetrics/earlier_revision/task_stats.json",
    ));
    // Task Limits.CPU 0.5 × 1024 = 512 (the containers' CPU 0 does not matter).
    assert_close(m.task_value(&catalog::CpuReserved), 512.0, "CpuReserved");
    assert_close(
        m.task_value(&catalog::MemoryReserved),
        512.0,
        "MemoryReserved",
    );
    // All three RUNNING with stats.
    assert_eq!(names(&m), ["nginx100", "nginx200", "nginx300"]);
    assert_close(
        m.task_value(&catalog::RunningContainerCount),
        3.0,
        "RunningContainerCount",
    );
    // nginx200: usage 3305472 − cache 73728 = 3231744 B = 3 MiB + 86016 B (0.08203125) = 3.08203125 MiB
    assert_close(
        m.container_value("nginx200", &catalog::ContainerMemoryUtilized),
        3.082_031_25,
        "nginx200 ContainerMemoryUtilized",
    );
    // Task: 2.3828125 + 2.47265625 + 3.08203125 = 7.9375 MiB; / 512 × 100 = 1.55029296875 %
    assert_close(
        m.task_value(&catalog::MemoryUtilized),
        7.937_5,
        "MemoryUtilized",
    );
    assert_close(
        m.task_value(&catalog::MemoryUtilization),
        1.550_292_968_75,
        "MemoryUtilization",
    );
    for c in ["nginx100", "nginx200", "nginx300"] {
        // Container CPU 0 = none set.
        assert_absent(
            m.container_value(c, &catalog::ContainerCpuReserved),
            &format!("{c} ContainerCpuReserved"),
        );
        // Idle (cpu == precpu, precpu > 0, preread < read): 0.0.
        assert_close(
            m.container_value(c, &catalog::ContainerCpuUtilized),
            0.0,
            &format!("{c} ContainerCpuUtilized"),
        );
    }
    // 0 / 512 = 0 %
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        0.0,
        "CpuUtilization",
    );
}

/// Element `index` of the instance-level ARRAY fixtures, re-serialized as `/task` and
/// `/task/stats` bodies.
fn instance_task(index: usize) -> Poll {
    let tasks = fixture_json("otel_awsecscontainermetrics/instance_tasks_metadata.json");
    let stats = fixture_json("otel_awsecscontainermetrics/instance_tasks_stats.json");
    Poll {
        task: tasks
            .as_array()
            .expect("instance tasks is an array")
            .get(index)
            .expect("task element")
            .clone(),
        stats: stats
            .as_array()
            .expect("instance stats is an array")
            .get(index)
            .expect("stats element")
            .clone(),
    }
}

#[test]
fn otel_instance_tasks_cgroup_v2_without_inactive_file_or_cache_working_set_is_usage() {
    // Element 0: daemon task `monitor-agent`.
    let m = first_poll(&instance_task(0));
    assert_eq!(names(&m), ["monitor-agent"]);
    // No cache, no inactive_file: working set = usage 66203648 B
    //   = 63 MiB (66060288 B) + 143360 B (0.13671875 MiB) = 63.13671875 MiB
    assert_close(
        m.container_value("monitor-agent", &catalog::ContainerMemoryUtilized),
        63.136_718_75,
        "monitor-agent ContainerMemoryUtilized",
    );
    // memory_stats.limit 18446744073709551615 (u64::MAX) is "unlimited"; no Limits.Memory.
    assert_absent(
        m.container_value("monitor-agent", &catalog::ContainerMemoryReserved),
        "monitor-agent ContainerMemoryReserved",
    );
    // Container Limits.CPU 2: none set.
    assert_absent(
        m.container_value("monitor-agent", &catalog::ContainerCpuReserved),
        "monitor-agent ContainerCpuReserved",
    );
    // Δtotal_usage = 9097974000 − 9093768000 = 4206000 ns
    // Δt = 09:57:51.915486061 − 09:57:41.915132341 = 10.00035372 s = 10000353720 ns
    // 4206000 / 10000353720 × 1024 ≈ 0.4306792
    let cpu = 4_206_000.0 / 10_000_353_720.0 * 1024.0;
    assert_close(
        m.container_value("monitor-agent", &catalog::ContainerCpuUtilized),
        cpu,
        "monitor-agent ContainerCpuUtilized",
    );
    // Task Limits 0.25 vCPU → 256; 512 MiB.
    assert_close(m.task_value(&catalog::CpuReserved), 256.0, "CpuReserved");
    assert_close(
        m.task_value(&catalog::CpuUtilization),
        cpu / 256.0 * 100.0,
        "CpuUtilization",
    );
    assert_close(
        m.task_value(&catalog::MemoryReserved),
        512.0,
        "MemoryReserved",
    );
    // 63.13671875 / 512 × 100 = 12.331390380859375 %
    assert_close(
        m.task_value(&catalog::MemoryUtilization),
        12.331_390_380_859_375,
        "MemoryUtilization",
    );
    // PullStoppedAt 17:56:29.673031691 − PullStartedAt 17:56:14.38242749 (= .382427490)
    //   = 15.290604201 s
    assert_close(
        m.task_value(&catalog::ImagePullTime),
        15.290_604_201,
        "ImagePullTime",
    );

    // Element 1: service task `nginx-proxy`, task Limits CPU 1 vCPU / 2048 MiB.
    let m = first_poll(&instance_task(1));
    // usage 46559232 B = 44 MiB (46137344 B) + 421888 B (0.40234375) = 44.40234375 MiB
    assert_close(
        m.container_value("nginx-proxy", &catalog::ContainerMemoryUtilized),
        44.402_343_75,
        "nginx-proxy ContainerMemoryUtilized",
    );
    assert_absent(
        m.container_value("nginx-proxy", &catalog::ContainerMemoryReserved),
        "nginx-proxy ContainerMemoryReserved",
    );
    // 1 × 1024 = 1024 CPU units; 2048 MiB.
    assert_close(m.task_value(&catalog::CpuReserved), 1024.0, "CpuReserved");
    assert_close(
        m.task_value(&catalog::MemoryReserved),
        2048.0,
        "MemoryReserved",
    );
    // Δ = 18222054000 − 18219339000 = 2715000 ns; Δt = 09:57:57.943163566 − 09:57:47.943591104
    //   = 9.999572462 s; 2715000 / 9999572462 × 1024 ≈ 0.2780279
    assert_close(
        m.container_value("nginx-proxy", &catalog::ContainerCpuUtilized),
        2_715_000.0 / 9_999_572_462.0 * 1024.0,
        "nginx-proxy ContainerCpuUtilized",
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Cross-check against ecs_exporter's own Prometheus snapshots.
// ---------------------------------------------------------------------------------------------

/// The value of one series line (`name{labels} value`) in a Prometheus text snapshot.
fn prom_value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("snapshot has a line for {series}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{series}: value parses: {e}"))
}

#[test]
fn ecs_exporter_prometheus_snapshots_agree_with_the_hand_arithmetic() {
    let fargate_text = fixture_text("ecs_exporter/expected_prometheus/fargate_metrics.txt");
    let fargate = first_poll(&Poll::fargate());
    // Their usage 1.27934464e+08 − page cache 8.5426176e+07 = 42508288 B = 40.5390625 MiB, our
    // prometheus working set; 8.411136e+07 − 4.2442752e+07 = 41668608 B = 39.73828125 MiB.
    for (c, ours) in [
        ("prometheus", 40.539_062_5),
        ("ecs-exporter", 39.738_281_25),
    ] {
        let usage = prom_value(
            &fargate_text,
            &format!("ecs_container_memory_usage_bytes{{container_name=\"{c}\"}}"),
        );
        let cache = prom_value(
            &fargate_text,
            &format!("ecs_container_memory_page_cache_size_bytes{{container_name=\"{c}\"}}"),
        );
        assert_close(Some((usage - cache) / MIB), ours, &format!("{c} snapshot"));
        assert_close(
            fargate.container_value(c, &catalog::ContainerMemoryUtilized),
            ours,
            &format!("{c} ContainerMemoryUtilized"),
        );
    }
    // Their ephemeral storage bytes: 4.47741952e+08 = 427 × 1048576 and
    // 2.1491613696e+10 = 20496 × 1048576: our MiB values.
    assert_close(
        Some(prom_value(&fargate_text, "ecs_task_ephemeral_storage_used_bytes") / MIB),
        427.0,
        "snapshot ephemeral used",
    );
    assert_close(
        Some(prom_value(&fargate_text, "ecs_task_ephemeral_storage_allocated_bytes") / MIB),
        20_496.0,
        "snapshot ephemeral allocated",
    );
    // Their task limit 0.25 vCPU = our 256 units / 1024; 5.36870912e+08 B = 512 MiB.
    assert_close(
        Some(prom_value(&fargate_text, "ecs_task_cpu_limit_vcpus") * 1024.0),
        256.0,
        "snapshot cpu limit",
    );
    assert_close(
        Some(prom_value(&fargate_text, "ecs_task_memory_limit_bytes") / MIB),
        512.0,
        "snapshot memory limit",
    );
    // (Their ecs_container_memory_limit_bytes 5.36870912e+08 per container is the TASK limit
    // used as a fallback; our ContainerMemoryReserved is omitted instead, as the spec says.)
    // Their cumulative CPU seconds are the raw total_usage: 0.322633383 s = 322633383 ns.
    assert_close(
        Some(prom_value(
            &fargate_text,
            "ecs_container_cpu_usage_seconds_total{container_name=\"ecs-exporter\"}",
        )),
        322_633_383.0 / 1e9,
        "snapshot ecs-exporter cpu seconds",
    );
    // Their eth1 rx 1.29046293e+08 is the ecs-exporter copy of the task ENI counter: the
    // maximum over containers (129046293 > prometheus' 129045374), as the awsvpc rule says.
    assert_close(
        Some(prom_value(
            &fargate_text,
            "ecs_network_receive_bytes_total{interface=\"eth1\"}",
        )),
        129_046_293.0,
        "snapshot eth1 rx",
    );
    // Pull timestamps: 1.7406327785991266e9 − 1.7406327637144377e9 ≈ 14.8846889 s (float
    // seconds lose the last digits), our 14.884688953 s.
    let pull = prom_value(&fargate_text, "ecs_task_image_pull_stop_timestamp_seconds")
        - prom_value(&fargate_text, "ecs_task_image_pull_start_timestamp_seconds");
    let ours = fargate
        .task_value(&catalog::ImagePullTime)
        .expect("ImagePullTime on the first poll");
    assert!((pull - ours).abs() < 1e-6, "pull {pull} vs ours {ours}");

    let ec2_text = fixture_text("ecs_exporter/expected_prometheus/ec2_metrics.txt");
    let ec2 = first_poll(&Poll::ec2());
    // cgroup v2: they read `cache` (absent) and report 0 page cache, so their usage
    // (6.524928e+07 = 65249280 B) is NOT a working set; ours subtracts inactive_file:
    // 65249280 − 17641472 = 47607808 B = 45.40234375 MiB.
    let usage = prom_value(
        &ec2_text,
        "ecs_container_memory_usage_bytes{container_name=\"ecs-exporter\"}",
    );
    assert_close(Some(usage), 65_249_280.0, "snapshot ec2 usage");
    assert_close(
        Some(prom_value(
            &ec2_text,
            "ecs_container_memory_page_cache_size_bytes{container_name=\"ecs-exporter\"}",
        )),
        0.0,
        "snapshot ec2 page cache",
    );
    assert_close(
        ec2.container_value("ecs-exporter", &catalog::ContainerMemoryUtilized),
        (usage - 17_641_472.0) / MIB,
        "ecs-exporter ContainerMemoryUtilized vs snapshot usage − inactive_file",
    );
    // Their container limit 2.68435456e+08 B = 256 MiB = our ContainerMemoryReserved.
    for c in ["ecs-exporter", "prometheus"] {
        let limit = prom_value(
            &ec2_text,
            &format!("ecs_container_memory_limit_bytes{{container_name=\"{c}\"}}"),
        );
        assert_close(
            ec2.container_value(c, &catalog::ContainerMemoryReserved),
            limit / MIB,
            &format!("{c} ContainerMemoryReserved vs snapshot"),
        );
    }
    // Their EC2 snapshot reports only ONE eth0 (prometheus' rx 45368) and drops ecs-exporter's
    // eth0 (rx 101869): an upstream limitation in bridge mode (SOURCE.md), not ground truth.
    // In bridge mode every container has its own namespace, so the task's raw rx total is
    // 101869 + 45368 = 147237 B, and our rates sum over both containers (tested above).
    assert_close(
        Some(prom_value(
            &ec2_text,
            "ecs_network_receive_bytes_total{interface=\"eth0\"}",
        )),
        45_368.0,
        "snapshot eth0 rx (one container only)",
    );
    assert_eq!(
        ec2_text
            .lines()
            .filter(|l| l.starts_with("ecs_network_receive_bytes_total"))
            .count(),
        1,
        "upstream keeps one eth0 line"
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Container exclusion.
// ---------------------------------------------------------------------------------------------

#[test]
fn an_excluded_container_has_no_document_and_is_left_out_of_task_sums() {
    for pattern in ["prometheus", "prom*"] {
        let mut collector = Collector::new(NameFilter::new(vec![pattern.into()]));
        let m = collector.collect(Poll::fargate().snapshot(t0()));
        assert_eq!(names(&m), ["ecs-exporter"], "{pattern}");
        // Only ecs-exporter's working set: 39.73828125 MiB; / 512 × 100 = 7.76138305664…%
        assert_close(
            m.task_value(&catalog::MemoryUtilized),
            39.738_281_25,
            &format!("{pattern}: MemoryUtilized"),
        );
        assert_close(
            m.task_value(&catalog::MemoryUtilization),
            39.738_281_25 / 512.0 * 100.0,
            &format!("{pattern}: MemoryUtilization"),
        );
        // Only ecs-exporter's CPU: 79862443 / 9999690712 × 1024.
        assert_close(
            m.task_value(&catalog::CpuUtilized),
            79_862_443.0 / 9_999_690_712.0 * 1024.0,
            &format!("{pattern}: CpuUtilized"),
        );
        assert_close(
            m.task_value(&catalog::RunningContainerCount),
            1.0,
            &format!("{pattern}: RunningContainerCount"),
        );
        // The task's own reservation does not depend on which containers are reported.
        assert_close(
            m.task_value(&catalog::CpuReserved),
            256.0,
            &format!("{pattern}: CpuReserved"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 10. The CNI pause container and other internal containers never count.
// ---------------------------------------------------------------------------------------------

/// Adds an extra RUNNING container (with big limits and busy stats) to an EC2 poll.
fn add_extra_container(poll: &mut Poll, docker_id: &str, name: &str, kind: &str) {
    poll.task["Containers"]
        .as_array_mut()
        .expect("Containers array")
        .push(json!({
            "DockerId": docker_id,
            "Name": name,
            "DockerName": format!("ecs-{name}"),
            "Image": "amazon/amazon-ecs-pause:0.1.0",
            "DesiredStatus": "RESOURCES_PROVISIONED",
            "KnownStatus": "RUNNING",
            "Limits": { "CPU": 128, "Memory": 256 },
            "Type": kind,
            "Networks": [{ "NetworkMode": "bridge", "IPv4Addresses": ["172.17.0.9"] }]
        }));
    let mut stats = poll.stats[EC2_EXPORTER].clone();
    stats["id"] = json!(docker_id);
    stats["name"] = json!(format!("/ecs-{name}"));
    poll.stats[docker_id] = stats;
}

fn assert_same_task_values(with: &Measurements, without: &Measurements, what: &str) {
    let mut a: Vec<(&str, f64)> = with.task.iter().map(|s| (s.metric.name, s.value)).collect();
    let mut b: Vec<(&str, f64)> = without
        .task
        .iter()
        .map(|s| (s.metric.name, s.value))
        .collect();
    a.sort_by(|x, y| x.0.cmp(y.0));
    b.sort_by(|x, y| x.0.cmp(y.0));
    assert_eq!(
        a.iter().map(|x| x.0).collect::<Vec<_>>(),
        b.iter().map(|x| x.0).collect::<Vec<_>>(),
        "{what}: same task metrics"
    );
    for ((name, va), (_, vb)) in a.iter().zip(&b) {
        assert_close(Some(*va), *vb, &format!("{what}: {name}"));
    }
}

fn two_polls_with_extras(extras: &[(&str, &str, &str)]) -> (Measurements, Measurements) {
    let mut first = Poll::ec2();
    for (id, name, kind) in extras {
        add_extra_container(&mut first, id, name, kind);
    }
    let mut second = first.clone();
    for id in [EC2_EXPORTER, EC2_PROMETHEUS] {
        let e = second.entry(id);
        shift_read(e, 10);
        bump(e, "eth0", STANDARD);
        add_blkio(e, "read", 4096);
    }
    for (id, _, _) in extras {
        // The internal containers are busy: if they counted, every sum would move.
        let e = second.entry(id);
        shift_read(e, 10);
        bump(
            e,
            "eth0",
            Bump {
                cpu_ns: 5_000_000_000,
                rx_bytes: 1_000_000,
                tx_bytes: 1_000_000,
                rx_packets: 1_000,
                tx_packets: 1_000,
                rx_dropped: 100,
                tx_dropped: 100,
                rx_errors: 100,
                tx_errors: 100,
            },
        );
        add_blkio(e, "read", 1_000_000);
        add_blkio(e, "write", 1_000_000);
    }
    let mut collector = Collector::new(NameFilter::default());
    let m1 = collector.collect(first.snapshot(at(0)));
    let m2 = collector.collect(second.snapshot(at(10)));
    (m1, m2)
}

#[test]
fn the_cni_pause_container_never_appears_and_changes_no_task_sum() {
    let (plain1, plain2) = two_polls_with_extras(&[]);
    let (m1, m2) = two_polls_with_extras(&[("pause0000", "~internal~ecs~pause", "CNI_PAUSE")]);
    for m in [&m1, &m2] {
        assert_eq!(names(m), ["ecs-exporter", "prometheus"]);
    }
    assert_same_task_values(&m1, &plain1, "first poll");
    assert_same_task_values(&m2, &plain2, "second poll");
    // And the hand values: 3 × 128 = 384 CPU units, 3 × 256 = 768 MiB, 2 running,
    // 45.40234375 + 47.62109375 = 93.0234375 MiB, rx 5000 + 5000 = 10000 B/s,
    // CPU 102.4 + 102.4 = 204.8, storage read 4096 + 4096 = 8192 B.
    assert_close(m1.task_value(&catalog::CpuReserved), 384.0, "CpuReserved");
    assert_close(
        m1.task_value(&catalog::MemoryReserved),
        768.0,
        "MemoryReserved",
    );
    assert_close(
        m1.task_value(&catalog::RunningContainerCount),
        2.0,
        "RunningContainerCount",
    );
    assert_close(
        m1.task_value(&catalog::MemoryUtilized),
        93.023_437_5,
        "MemoryUtilized",
    );
    assert_close(
        m2.task_value(&catalog::NetworkRxBytes),
        10_000.0,
        "NetworkRxBytes",
    );
    assert_close(m2.task_value(&catalog::CpuUtilized), 204.8, "CpuUtilized");
    assert_close(
        m2.task_value(&catalog::StorageReadBytes),
        8_192.0,
        "StorageReadBytes",
    );
}

#[test]
fn containers_named_internal_or_of_a_non_normal_type_never_count() {
    let (plain1, plain2) = two_polls_with_extras(&[]);
    let (m1, m2) = two_polls_with_extras(&[
        // An `~internal~` name even with Type NORMAL.
        ("internal0001", "~internal~ecs~helper", "NORMAL"),
        // A non-NORMAL type even with an ordinary name.
        ("pause0002", "pause", "CNI_PAUSE"),
    ]);
    for m in [&m1, &m2] {
        assert_eq!(names(m), ["ecs-exporter", "prometheus"]);
    }
    assert_same_task_values(&m1, &plain1, "first poll");
    assert_same_task_values(&m2, &plain2, "second poll");
}

// ---------------------------------------------------------------------------------------------
// Fargate clock error bound (`ClockDrift`, Fargate platform 1.4+ only).
// ---------------------------------------------------------------------------------------------

#[test]
fn clock_error_bound_is_fargates_clock_drift_in_milliseconds_every_cycle_and_absent_elsewhere() {
    // ecs_exporter/fargate_task_metadata.json: "ClockDrift": {"ClockErrorBound":
    // 0.33292849999999996, ...}: the AWS page gives milliseconds, published as they are.
    let fargate = Poll::fargate();
    let mut c = Collector::new(NameFilter::default());
    let first = c.collect(fargate.snapshot(t0()));
    assert_eq!(
        first.task_value(&catalog::ClockErrorBound),
        Some(0.33292849999999996)
    );
    // A gauge: the same value the next cycle (not first-cycle only like ImagePullTime).
    let second = c.collect(fargate.snapshot(at(20)));
    assert_eq!(
        second.task_value(&catalog::ClockErrorBound),
        Some(0.33292849999999996)
    );
    assert_absent(second.task_value(&catalog::ImagePullTime), "ImagePullTime");
    // real-captures/fargate-v1-awsvpc-2ctr-ddic/task.json: "ClockErrorBound": 0.4347665.
    let ddic = Poll::load(
        "real-captures/fargate-v1-awsvpc-2ctr-ddic/task.json",
        "real-captures/fargate-v1-awsvpc-2ctr-ddic/stats.json",
    );
    assert_eq!(
        first_poll(&ddic).task_value(&catalog::ClockErrorBound),
        Some(0.4347665)
    );
    // No ClockDrift in the task: EC2, Managed Instances, and the Fargate captures from before
    // the field existed (2020, and the OTel receiver's Fargate fixture).
    for (task, stats) in [
        (
            "ecs_exporter/ec2_task_metadata.json",
            "ecs_exporter/ec2_task_stats.json",
        ),
        (
            "otel_awsecscontainermetrics/task_metadata.json",
            "otel_awsecscontainermetrics/task_stats.json",
        ),
        (
            "otel_awsecscontainermetrics/task_metadata2.json",
            "otel_awsecscontainermetrics/task_stats2.json",
        ),
        (
            "real-captures/ec2-v1-awsvpc-tags-awsdocs/task.json",
            "real-captures/ec2-v1-awsvpc-tags-awsdocs/stats.json",
        ),
        (
            "real-captures/ec2-v2-awsvpc-pauseonly-telegraf/task.json",
            "real-captures/ec2-v2-awsvpc-pauseonly-telegraf/stats.json",
        ),
        (
            "real-captures/fargate-v1-zeroprecpu-awsdocs2020/task.json",
            "real-captures/fargate-v1-zeroprecpu-awsdocs2020/stats.json",
        ),
        (
            "real-captures/mi-v2-awsvpc-2ctr-dda/task.json",
            "real-captures/mi-v2-awsvpc-2ctr-dda/stats.json",
        ),
    ] {
        let poll = Poll::load(task, stats);
        assert!(poll.task.get("ClockDrift").is_none(), "{task}");
        let m = first_poll(&poll);
        assert_absent(m.task_value(&catalog::ClockErrorBound), task);
        assert!(
            m.task_value(&catalog::RunningContainerCount).is_some(),
            "{task}: the rest of the cycle is there"
        );
    }
}

#[test]
fn a_malformed_clock_error_bound_is_left_out_and_the_cycle_goes_on() {
    // Every other task value is the unmodified fixture's (worked out in the tests above): only
    // ClockErrorBound goes, so the comparison is with the unmodified poll.
    let intact = first_poll(&Poll::fargate());
    let memory = intact.task_value(&catalog::MemoryUtilized);
    assert!(memory.is_some());
    for bad in [
        json!({"ClockErrorBound": "0.33292849999999996", "ClockSynchronizationStatus": "SYNCHRONIZED"}),
        json!({"ClockErrorBound": -0.33292849999999996, "ClockSynchronizationStatus": "SYNCHRONIZED"}),
        json!({"ClockErrorBound": null}),
        json!({"ClockErrorBound": true}),
        json!({"ClockErrorBound": [0.33]}),
        json!({"ReferenceTimestamp": "2025-02-27T05:22:43Z", "ClockSynchronizationStatus": "SYNCHRONIZED"}),
        json!({}),
        json!("SYNCHRONIZED"),
        json!(0.33292849999999996),
        Value::Null,
    ] {
        let mut poll = Poll::fargate();
        poll.task["ClockDrift"] = bad.clone();
        let m = first_poll(&poll);
        assert_absent(m.task_value(&catalog::ClockErrorBound), &bad.to_string());
        assert_eq!(m.task_value(&catalog::MemoryUtilized), memory, "{bad}");
        assert_eq!(m.task, {
            let mut expected = intact.task.clone();
            expected.retain(|s| !std::ptr::eq(s.metric, &catalog::ClockErrorBound));
            expected
        });
    }
    // Removed altogether: the same.
    let mut poll = Poll::fargate();
    poll.task
        .as_object_mut()
        .expect("object")
        .remove("ClockDrift");
    assert_absent(
        first_poll(&poll).task_value(&catalog::ClockErrorBound),
        "no ClockDrift",
    );
    // NOT_SYNCHRONIZED keeps the agent's bound (the status is a property beside it).
    let mut poll = Poll::fargate();
    poll.task["ClockDrift"]["ClockSynchronizationStatus"] = json!("NOT_SYNCHRONIZED");
    assert_eq!(
        first_poll(&poll).task_value(&catalog::ClockErrorBound),
        Some(0.33292849999999996)
    );
}
