//! The `/task/stats` document: Docker stats objects keyed by DockerId.
//!
//! Keys and their order follow Docker's `StatsJSON` as the agent forwards it (snake_case, see
//! the exporter's `tests/fixtures/*/…stats.json`); the formulas are in `scenario.rs`'s module doc. Counters
//! are computed in integer nanoseconds so Δcounter / Δread is exactly the rate, rounded down.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Serialize;

use crate::identity::{Kind, Roster, SimContainer};
use crate::scenario::{Cgroup, NetworkMode, Platform, Scenario};

mod blkio;
mod memory;

use blkio::{BlkioStats, blkio_stats};
use memory::{MemoryStats, memory_stats};

pub(super) const MIB: u64 = 1 << 20;
const NANOS_PER_SEC: u64 = 1_000_000_000;
/// Docker's "no limit" as Fargate reports it (2^63 − 4096).
pub(super) const FARGATE_NO_LIMIT: u64 = 9_223_372_036_854_771_712;
/// The CFS period Docker sets (`cpu.cfs_period_us` 100000): throttling is counted per period.
const CFS_PERIOD_NS: u64 = 100_000_000;
/// With `--throttled`, one period in this many is throttled…
const THROTTLED_ONE_IN: u64 = 4;
/// …and each throttled period loses this much time (a fifth of the period).
const THROTTLED_NS_PER_PERIOD: u64 = 20_000_000;
/// What Go's zero `time.Time` prints as: Fargate's `preread` on the first sample.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
/// The task ENI (awsvpc) as every container of the task sees it.
const TASK_ENI: NetRates = NetRates {
    rx_bytes: (5_000_000, 100_000),
    tx_bytes: (1_000_000, 40_000),
    rx_packets: 100,
    tx_packets: 40,
};

/// How long each clock has run when a stats request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContainerClock {
    /// Nanoseconds since the container (re)started.
    pub elapsed_ns: u64,
    /// The container restarted at least once: its counters started again from 0.
    pub restarted: bool,
}

/// One entry of the stats map.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum StatsEntry {
    Stats(Box<DockerStats>),
    /// `{}`: what EC2 answers for a stopped container.
    Empty {},
    /// `null`: what Fargate answers for a stopped container.
    Null,
}

#[derive(Debug, Serialize)]
pub(crate) struct DockerStats {
    read: String,
    preread: String,
    pids_stats: PidsStats,
    blkio_stats: BlkioStats,
    num_procs: u32,
    storage_stats: StorageStats,
    cpu_stats: CpuStats,
    precpu_stats: CpuStats,
    memory_stats: MemoryStats,
    name: String,
    id: String,
    networks: BTreeMap<&'static str, NetInterface>,
    network_rate_stats: NetworkRateStats,
}

#[derive(Debug, Serialize)]
struct PidsStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u64>,
}

#[derive(Debug, Serialize)]
struct StorageStats {}

#[derive(Debug, Serialize)]
struct CpuStats {
    cpu_usage: CpuUsage,
    system_cpu_usage: u64,
    online_cpus: u32,
    throttling_data: ThrottlingData,
}

#[derive(Debug, Serialize)]
struct CpuUsage {
    total_usage: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    percpu_usage: Option<Vec<u64>>,
    usage_in_kernelmode: u64,
    usage_in_usermode: u64,
}

/// Zero by default: the agent reports no throttling on either platform (aws/amazon-ecs-agent#4473,
/// the exporter's docs/limits.md). With `Scenario::throttled`, what a plain Docker host reports
/// from the cgroup's `cpu.stat` (see [`throttling`]).
#[derive(Debug, Serialize)]
struct ThrottlingData {
    periods: u64,
    throttled_periods: u64,
    throttled_time: u64,
}

#[derive(Debug, Serialize)]
struct NetInterface {
    rx_bytes: u64,
    rx_packets: u64,
    rx_errors: u64,
    rx_dropped: u64,
    tx_bytes: u64,
    tx_packets: u64,
    tx_errors: u64,
    tx_dropped: u64,
}

#[derive(Debug, Serialize)]
struct NetworkRateStats {
    rx_bytes_per_sec: f64,
    tx_bytes_per_sec: f64,
}

/// Network counters as (base, per-second rate); packets start at 0.
#[derive(Debug, Clone, Copy)]
struct NetRates {
    rx_bytes: (u64, u64),
    tx_bytes: (u64, u64),
    rx_packets: u64,
    tx_packets: u64,
}

/// Everything that differs between the containers that have stats.
#[derive(Debug, Clone, Copy)]
struct Profile {
    cpu_base: u64,
    cpu_rate: u64,
    /// Memory is counted in this unit: working set 64 units, file cache 16 units.
    mem_unit: u64,
    blkio: blkio::Rates,
    /// The interface the container reports.
    net: NetRates,
    /// The interface belongs to the task (awsvpc ENI, pause container), so it counts from the
    /// server's start and a container restart does not reset it.
    net_on_task_clock: bool,
    pids: u64,
}

impl Profile {
    fn normal(k: usize, network: NetworkMode, restarted: bool) -> Self {
        let n = k as u64 + 1;
        let own_eth0 = NetRates {
            rx_bytes: (0, n * 10_000),
            tx_bytes: (0, n * 5_000),
            rx_packets: n * 10,
            tx_packets: n * 5,
        };
        Self {
            // A restarted container is a new cgroup: its counters start at 0, not at the base.
            cpu_base: if restarted { 0 } else { NANOS_PER_SEC },
            cpu_rate: n * 50_000_000,
            mem_unit: n * MIB,
            blkio: blkio::Rates {
                read: n * 4096,
                write: n * 8192,
                discard: n * 1024,
            },
            net: if network == NetworkMode::Awsvpc {
                TASK_ENI
            } else {
                own_eth0
            },
            net_on_task_clock: network == NetworkMode::Awsvpc,
            pids: 5 + k as u64,
        }
    }

    /// The pause container: large numbers, so an exporter that counts it is visibly wrong.
    fn pause() -> Self {
        Self {
            cpu_base: 0,
            cpu_rate: 999_000_000,
            mem_unit: 16 * 1024,
            blkio: blkio::Rates {
                read: 1_000_000_000,
                write: 1_000_000_000,
                discard: 0,
            },
            net: NetRates {
                rx_bytes: (1_000_000_000_000, 1_000_000_000),
                tx_bytes: (1_000_000_000_000, 1_000_000_000),
                rx_packets: 1_000_000,
                tx_packets: 1_000_000,
            },
            net_on_task_clock: true,
            pids: 1,
        }
    }
}

/// The whole `/task/stats` map at `read`. `task_elapsed_ns` is the time since the server
/// started; `clocks[k]` is normal container k's own clock; `exited[k]` says it has stopped
/// (`--exit`, `--oom-kill`), so it gets the same entry as the `--stopped` containers.
pub(crate) fn stats_document(
    scenario: &Scenario,
    roster: &Roster,
    read: DateTime<Utc>,
    task_elapsed_ns: u64,
    clocks: &[ContainerClock],
    exited: &[bool],
) -> BTreeMap<String, StatsEntry> {
    roster
        .containers
        .iter()
        .map(|c| {
            let entry = match c.kind {
                Kind::Stopped { .. } => stopped_entry(scenario.platform),
                Kind::Normal { k } if exited.get(k).copied().unwrap_or(false) => {
                    stopped_entry(scenario.platform)
                }
                Kind::Normal { k } => {
                    let clock = clocks.get(k).copied().unwrap_or(ContainerClock {
                        elapsed_ns: task_elapsed_ns,
                        restarted: false,
                    });
                    let profile = Profile::normal(k, scenario.network, clock.restarted);
                    let sample = Sample {
                        read,
                        task_ns: task_elapsed_ns,
                        own_ns: clock.elapsed_ns,
                    };
                    StatsEntry::Stats(Box::new(docker_stats(scenario, c, &profile, &sample)))
                }
                Kind::Pause => {
                    let sample = Sample {
                        read,
                        task_ns: task_elapsed_ns,
                        own_ns: task_elapsed_ns,
                    };
                    StatsEntry::Stats(Box::new(docker_stats(
                        scenario,
                        c,
                        &Profile::pause(),
                        &sample,
                    )))
                }
            };
            (c.docker_id.clone(), entry)
        })
        .collect()
}

/// The same map with every entry replaced (the `nullstats` / `emptystats` faults).
pub(crate) fn uniform_document(
    docker_ids: &[String],
    entry: fn() -> StatsEntry,
) -> BTreeMap<String, StatsEntry> {
    docker_ids.iter().map(|id| (id.clone(), entry())).collect()
}

fn stopped_entry(platform: Platform) -> StatsEntry {
    match platform {
        Platform::Fargate => StatsEntry::Null,
        Platform::Ec2 => StatsEntry::Empty {},
    }
}

/// The moment a sample describes and how long each clock had run by then.
struct Sample {
    read: DateTime<Utc>,
    task_ns: u64,
    own_ns: u64,
}

impl Sample {
    /// The sample one second earlier (EC2's `precpu_stats`). Within the first second after the
    /// container's (re)start it goes back only to that moment, so `preread` and the counters
    /// stay consistent and Δcounter / Δread is still the rate.
    fn earlier(&self) -> Sample {
        let back = self.own_ns.min(NANOS_PER_SEC);
        Sample {
            read: self.read - TimeDelta::nanoseconds(i64::try_from(back).unwrap_or(0)),
            task_ns: self.task_ns.saturating_sub(back),
            own_ns: self.own_ns - back,
        }
    }
}

fn docker_stats(scenario: &Scenario, c: &SimContainer, p: &Profile, s: &Sample) -> DockerStats {
    let v1 = scenario.cgroup == Cgroup::V1;
    let throttled = scenario.throttled;
    let (preread, precpu_stats) = match scenario.platform {
        // Fargate has no previous sample in its first answer: everything is zero, throttling
        // included, whatever `throttled` says.
        Platform::Fargate => (ZERO_TIME.to_owned(), zero_cpu_stats()),
        Platform::Ec2 => {
            let earlier = s.earlier();
            (rfc3339(earlier.read), cpu_stats(p, &earlier, v1, throttled))
        }
    };
    let net_ns = if p.net_on_task_clock {
        s.task_ns
    } else {
        s.own_ns
    };
    let eth = match (scenario.platform, scenario.network) {
        (Platform::Fargate, NetworkMode::Awsvpc) => "eth1",
        _ => "eth0",
    };
    DockerStats {
        read: rfc3339(s.read),
        preread,
        pids_stats: if v1 {
            PidsStats {
                current: None,
                limit: None,
            }
        } else {
            PidsStats {
                current: Some(p.pids),
                limit: Some(4096),
            }
        },
        blkio_stats: blkio_stats(p.blkio, s.own_ns, v1),
        num_procs: 0,
        storage_stats: StorageStats {},
        cpu_stats: cpu_stats(p, s, v1, throttled),
        precpu_stats,
        memory_stats: memory_stats(scenario, p.mem_unit),
        name: match scenario.platform {
            Platform::Fargate => c.name.clone(),
            Platform::Ec2 => format!("/{}", c.docker_name),
        },
        id: c.docker_id.clone(),
        networks: BTreeMap::from([(eth, net_interface(&p.net, net_ns))]),
        network_rate_stats: NetworkRateStats {
            rx_bytes_per_sec: p.net.rx_bytes.1 as f64,
            tx_bytes_per_sec: p.net.tx_bytes.1 as f64,
        },
    }
}

/// `base + rate × elapsed`, rounded down, without floating point.
pub(super) fn counter(base: u64, rate_per_sec: u64, elapsed_ns: u64) -> u64 {
    let grown = u128::from(rate_per_sec) * u128::from(elapsed_ns) / u128::from(NANOS_PER_SEC);
    base.saturating_add(u64::try_from(grown).unwrap_or(u64::MAX))
}

/// RFC 3339 UTC with nanoseconds (`2026-01-01T00:00:14.000000000Z`): every time the crate serves.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn cpu_stats(p: &Profile, s: &Sample, v1: bool, throttled: bool) -> CpuStats {
    let total = counter(p.cpu_base, p.cpu_rate, s.own_ns);
    let kernel = total / 5;
    CpuStats {
        cpu_usage: CpuUsage {
            total_usage: total,
            percpu_usage: v1.then(|| vec![total / 2, total - total / 2]),
            usage_in_kernelmode: kernel,
            usage_in_usermode: total - kernel,
        },
        // Two host CPUs that have been up for 100,000 s when the server starts.
        system_cpu_usage: counter(2 * NANOS_PER_SEC * 100_000, 2 * NANOS_PER_SEC, s.task_ns),
        online_cpus: 2,
        throttling_data: if throttled {
            throttling(s.own_ns)
        } else {
            zero_throttling()
        },
    }
}

/// What `cpu.stat` says after `elapsed_ns` of a cgroup that is runnable in every CFS period
/// and throttled in one period of [`THROTTLED_ONE_IN`], losing [`THROTTLED_NS_PER_PERIOD`]
/// each time: `periods` = ⌊e / 100 ms⌋, `throttled_periods` = ⌊periods / 4⌋,
/// `throttled_time` = throttled_periods × 20 ms. So `throttled_periods` ≤ `periods`,
/// `throttled_time` ≤ `throttled_periods` × the period, and the time is a whole number of
/// microseconds, as cgroup v2's `throttled_usec` (which Docker multiplies by 1000) must be.
/// Counted on the container's own clock: a restart is a new cgroup, starting again from 0.
fn throttling(elapsed_ns: u64) -> ThrottlingData {
    let periods = elapsed_ns / CFS_PERIOD_NS;
    let throttled_periods = periods / THROTTLED_ONE_IN;
    ThrottlingData {
        periods,
        throttled_periods,
        throttled_time: throttled_periods.saturating_mul(THROTTLED_NS_PER_PERIOD),
    }
}

fn zero_cpu_stats() -> CpuStats {
    CpuStats {
        cpu_usage: CpuUsage {
            total_usage: 0,
            percpu_usage: None,
            usage_in_kernelmode: 0,
            usage_in_usermode: 0,
        },
        system_cpu_usage: 0,
        online_cpus: 0,
        throttling_data: zero_throttling(),
    }
}

fn zero_throttling() -> ThrottlingData {
    ThrottlingData {
        periods: 0,
        throttled_periods: 0,
        throttled_time: 0,
    }
}

fn net_interface(rates: &NetRates, elapsed_ns: u64) -> NetInterface {
    NetInterface {
        rx_bytes: counter(rates.rx_bytes.0, rates.rx_bytes.1, elapsed_ns),
        rx_packets: counter(0, rates.rx_packets, elapsed_ns),
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: counter(rates.tx_bytes.0, rates.tx_bytes.1, elapsed_ns),
        tx_packets: counter(0, rates.tx_packets, elapsed_ns),
        tx_errors: 0,
        tx_dropped: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const SEC: u64 = NANOS_PER_SEC;

    fn at(scenario: &Scenario, task_s: f64, clocks: &[ContainerClock]) -> Value {
        let roster = Roster::new(scenario);
        let task_ns = (task_s * SEC as f64) as u64;
        let read = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::nanoseconds(task_ns as i64);
        let clocks: Vec<ContainerClock> = if clocks.is_empty() {
            vec![
                ContainerClock {
                    elapsed_ns: task_ns,
                    restarted: false
                };
                scenario.containers
            ]
        } else {
            clocks.to_vec()
        };
        serde_json::to_value(stats_document(
            scenario,
            &roster,
            read,
            task_ns,
            &clocks,
            &[],
        ))
        .expect("stats serialize")
    }

    fn entry(doc: &Value, scenario: &Scenario, index: usize) -> Value {
        let id = &Roster::new(scenario).containers[index].docker_id;
        doc[id].clone()
    }

    #[test]
    fn counter_is_base_plus_rate_times_elapsed_rounded_down() {
        assert_eq!(counter(10, 3, SEC / 2), 11);
        assert_eq!(counter(0, 50_000_000, 10 * SEC), 500_000_000);
        assert_eq!(counter(u64::MAX, 1, SEC), u64::MAX);
    }

    #[test]
    fn cpu_follows_the_documented_formula() {
        let s = Scenario::fargate();
        let doc = at(&s, 10.0, &[]);
        for k in 0..3u64 {
            let e = entry(&doc, &s, k as usize);
            let total = 1_000_000_000 + (k + 1) * 50_000_000 * 10;
            assert_eq!(e["cpu_stats"]["cpu_usage"]["total_usage"], total);
            assert_eq!(
                e["cpu_stats"]["cpu_usage"]["usage_in_kernelmode"],
                total / 5
            );
            assert_eq!(
                e["cpu_stats"]["cpu_usage"]["usage_in_usermode"],
                total - total / 5
            );
            assert_eq!(
                e["cpu_stats"]["cpu_usage"]["percpu_usage"],
                json!([total / 2, total - total / 2])
            );
            assert_eq!(e["cpu_stats"]["system_cpu_usage"], 2 * SEC * (10 + 100_000));
            assert_eq!(e["cpu_stats"]["online_cpus"], 2);
        }
    }

    #[test]
    fn fargate_precpu_is_zero_and_ec2_precpu_is_one_second_earlier() {
        let f = Scenario::fargate();
        let e = entry(&at(&f, 10.0, &[]), &f, 0);
        assert_eq!(e["preread"], "0001-01-01T00:00:00Z");
        assert_eq!(e["precpu_stats"]["cpu_usage"]["total_usage"], 0);
        assert_eq!(e["precpu_stats"]["system_cpu_usage"], 0);
        assert_eq!(e["precpu_stats"]["online_cpus"], 0);
        assert_eq!(e["read"], "1970-01-01T00:00:10.000000000Z");

        let ec2 = Scenario::ec2();
        let e = entry(&at(&ec2, 10.0, &[]), &ec2, 1);
        assert_eq!(e["preread"], "1970-01-01T00:00:09.000000000Z");
        assert_eq!(
            e["precpu_stats"]["cpu_usage"]["total_usage"],
            1_000_000_000u64 + 2 * 50_000_000 * 9
        );
        assert_eq!(
            e["cpu_stats"]["cpu_usage"]["total_usage"],
            1_000_000_000u64 + 2 * 50_000_000 * 10
        );
        assert!(e["cpu_stats"]["cpu_usage"].get("percpu_usage").is_none());
    }

    #[test]
    fn ec2_precpu_within_the_first_second_goes_back_to_the_start() {
        let ec2 = Scenario::ec2();
        let e = entry(&at(&ec2, 0.25, &[]), &ec2, 0);
        assert_eq!(e["preread"], "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            e["precpu_stats"]["cpu_usage"]["total_usage"],
            1_000_000_000u64
        );
        assert_eq!(
            e["cpu_stats"]["cpu_usage"]["total_usage"],
            1_000_000_000u64 + 50_000_000 / 4
        );
    }

    #[test]
    fn pids_and_name_follow_the_platform() {
        let f = Scenario::fargate();
        let e = entry(&at(&f, 1.0, &[]), &f, 1);
        assert_eq!(e["pids_stats"], json!({}));
        assert_eq!(e["name"], "ecs-emf-exporter");
        assert_eq!(
            (e["num_procs"].clone(), e["storage_stats"].clone()),
            (json!(0), json!({}))
        );
        let ec2 = Scenario::ec2();
        let e = entry(&at(&ec2, 1.0, &[]), &ec2, 1);
        assert_eq!(e["pids_stats"], json!({"current": 6, "limit": 4096}));
        let roster = Roster::new(&ec2);
        assert_eq!(e["name"], format!("/{}", roster.containers[1].docker_name));
        assert_eq!(e["id"], roster.containers[1].docker_id);
    }

    #[test]
    fn awsvpc_shares_the_task_eni_and_bridge_has_one_eth0_each() {
        let f = Scenario::fargate();
        let doc = at(&f, 10.0, &[]);
        let eni = entry(&doc, &f, 0)["networks"].clone();
        assert_eq!(eni["eth1"]["rx_bytes"], 5_000_000 + 100_000 * 10);
        assert_eq!(eni["eth1"]["tx_bytes"], 1_000_000 + 40_000 * 10);
        assert_eq!(eni["eth1"]["rx_packets"], 1000);
        assert_eq!(eni["eth1"]["tx_packets"], 400);
        assert_eq!(entry(&doc, &f, 2)["networks"], eni);

        let b = Scenario::ec2();
        let doc = at(&b, 10.0, &[]);
        for k in 0..3u64 {
            let eth0 = entry(&doc, &b, k as usize)["networks"]["eth0"].clone();
            assert_eq!(eth0["rx_bytes"], (k + 1) * 10_000 * 10);
            assert_eq!(eth0["tx_bytes"], (k + 1) * 5_000 * 10);
            assert_eq!(eth0["rx_packets"], (k + 1) * 100);
            assert_eq!(eth0["tx_packets"], (k + 1) * 50);
        }
    }

    #[test]
    fn stopped_entries_are_null_on_fargate_and_empty_on_ec2() {
        let mut f = Scenario::fargate();
        f.stopped_containers = 1;
        assert_eq!(entry(&at(&f, 1.0, &[]), &f, 3), Value::Null);
        let mut e = Scenario::ec2();
        e.stopped_containers = 1;
        assert_eq!(entry(&at(&e, 1.0, &[]), &e, 3), json!({}));
    }

    #[test]
    fn pause_container_has_big_stats() {
        let mut s = Scenario::ec2();
        s.network = NetworkMode::Awsvpc;
        let doc = at(&s, 2.0, &[]);
        let pause = entry(&doc, &s, 3);
        assert_eq!(
            pause["cpu_stats"]["cpu_usage"]["total_usage"],
            2 * 999_000_000u64
        );
        assert!(pause["networks"]["eth0"]["rx_bytes"].as_u64().unwrap_or(0) > 1_000_000_000_000);
        assert_eq!(
            entry(&doc, &s, 0)["networks"]["eth0"]["rx_bytes"],
            5_000_000 + 200_000
        );
    }

    #[test]
    fn a_restarted_container_counts_from_zero() {
        let s = Scenario::ec2();
        let fresh = ContainerClock {
            elapsed_ns: 10 * SEC,
            restarted: false,
        };
        let restarted = ContainerClock {
            elapsed_ns: 2 * SEC,
            restarted: true,
        };
        let doc = at(&s, 10.0, &[fresh, restarted, fresh]);
        let e = entry(&doc, &s, 1);
        assert_eq!(
            e["cpu_stats"]["cpu_usage"]["total_usage"],
            2 * 50_000_000 * 2
        );
        assert_eq!(
            e["precpu_stats"]["cpu_usage"]["total_usage"],
            2 * 50_000_000
        );
        assert_eq!(e["networks"]["eth0"]["rx_bytes"], 2 * 10_000 * 2);
        assert_eq!(e["cpu_stats"]["system_cpu_usage"], 2 * SEC * (10 + 100_000));
    }

    fn throttling_of(e: &Value, cpu: &str) -> (u64, u64, u64) {
        let t = &e[cpu]["throttling_data"];
        let get = |key: &str| t[key].as_u64().unwrap_or(u64::MAX);
        (
            get("periods"),
            get("throttled_periods"),
            get("throttled_time"),
        )
    }

    #[test]
    fn throttling_is_zero_unless_throttled() {
        for s in [Scenario::fargate(), Scenario::ec2()] {
            let doc = at(&s, 10.0, &[]);
            for k in 0..3 {
                let e = entry(&doc, &s, k);
                assert_eq!(throttling_of(&e, "cpu_stats"), (0, 0, 0));
                assert_eq!(throttling_of(&e, "precpu_stats"), (0, 0, 0));
            }
        }
    }

    #[test]
    fn throttled_counters_follow_the_cfs_formula() {
        let mut s = Scenario::ec2();
        s.throttled = true;
        let fresh = ContainerClock {
            elapsed_ns: 10 * SEC,
            restarted: false,
        };
        let restarted = ContainerClock {
            elapsed_ns: 2 * SEC,
            restarted: true,
        };
        let doc = at(&s, 10.0, &[fresh, restarted, fresh]);
        // 10 s = 100 periods of 100 ms, a quarter of them (25) throttled, 20 ms each: 0.5 s.
        let e = entry(&doc, &s, 0);
        assert_eq!(throttling_of(&e, "cpu_stats"), (100, 25, 500_000_000));
        // One second earlier: 90 periods, ⌊90 / 4⌋ = 22 throttled, 22 × 20 ms = 0.44 s.
        assert_eq!(throttling_of(&e, "precpu_stats"), (90, 22, 440_000_000));
        // Every running container, whatever its CPU share.
        assert_eq!(
            throttling_of(&entry(&doc, &s, 2), "cpu_stats"),
            (100, 25, 500_000_000)
        );
        // Restarted 2 s ago: a new cgroup, 20 periods, 5 throttled; 10 and 2 a second before.
        let e = entry(&doc, &s, 1);
        assert_eq!(throttling_of(&e, "cpu_stats"), (20, 5, 100_000_000));
        assert_eq!(throttling_of(&e, "precpu_stats"), (10, 2, 40_000_000));
        // 0.35 s: 3 whole periods, none throttled yet; precpu is the start itself.
        let e = entry(&at(&s, 0.35, &[]), &s, 0);
        assert_eq!(throttling_of(&e, "cpu_stats"), (3, 0, 0));
        assert_eq!(throttling_of(&e, "precpu_stats"), (0, 0, 0));
    }

    #[test]
    fn throttled_fargate_keeps_its_all_zero_precpu_and_pause_is_throttled_too() {
        let mut f = Scenario::fargate();
        f.throttled = true;
        let e = entry(&at(&f, 4.0, &[]), &f, 0);
        // 4 s: 40 periods, 10 throttled, 200 ms.
        assert_eq!(throttling_of(&e, "cpu_stats"), (40, 10, 200_000_000));
        assert_eq!(throttling_of(&e, "precpu_stats"), (0, 0, 0));
        let mut p = Scenario::ec2();
        p.network = NetworkMode::Awsvpc;
        p.throttled = true;
        let pause = entry(&at(&p, 2.0, &[]), &p, 3);
        assert_eq!(throttling_of(&pause, "cpu_stats"), (20, 5, 100_000_000));
    }

    #[test]
    fn an_exited_container_gets_the_stopped_entry() {
        for (s, stopped) in [
            (Scenario::fargate(), Value::Null),
            (Scenario::ec2(), json!({})),
        ] {
            let roster = Roster::new(&s);
            let clock = ContainerClock {
                elapsed_ns: SEC,
                restarted: false,
            };
            let doc = serde_json::to_value(stats_document(
                &s,
                &roster,
                DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(1),
                SEC,
                &[clock; 3],
                &[false, false, true],
            ))
            .expect("stats serialize");
            assert_eq!(entry(&doc, &s, 2), stopped);
            assert_eq!(doc.as_object().map(|o| o.len()), Some(3));
            assert_eq!(
                entry(&doc, &s, 1)["cpu_stats"]["cpu_usage"]["total_usage"],
                1_000_000_000u64 + 2 * 50_000_000
            );
        }
    }

    #[test]
    fn uniform_document_replaces_every_entry() {
        let ids: Vec<String> = Roster::new(&Scenario::fargate())
            .containers
            .into_iter()
            .map(|c| c.docker_id)
            .collect();
        let doc = serde_json::to_value(uniform_document(&ids, || StatsEntry::Empty {}))
            .expect("stats serialize");
        assert_eq!(doc.as_object().map(|o| o.len()), Some(3));
        assert!(
            doc.as_object()
                .into_iter()
                .flatten()
                .all(|(_, v)| *v == json!({}))
        );
    }
}
