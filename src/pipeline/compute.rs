//! From snapshots to values: `(Snapshot, previous Snapshot) → Measurements`.
//!
//! Rates and per-interval deltas pair each container's stats with the same container's
//! stats from the exporter's previous poll. Without one (first poll, `--once`, a container
//! that just appeared) CPU falls back to the sample's embedded previous sample when it is
//! real; everything else waits for the next poll. A value that cannot be known is left
//! out, never published as zero.

use std::collections::{HashMap, HashSet};

use super::catalog::{self as m, CATALOG, MetricDef, MetricSet};
use super::platform::{self, MIB};
use crate::settings::glob::NameFilter;
use crate::source::cgroup::CpuStat;
use crate::source::metadata::model::{ContainerMetadata, ContainerStats, NetworkStats, Throttling};
use crate::source::metadata::{Snapshot, TaskMetadata};
use chrono::{DateTime, Utc};

/// Metrics whose value is made from other metrics' values: computing one needs those
/// computed too, even where they are not published (a task sum needs its containers'
/// values when container metrics are off). The formulas are below and in docs/metrics.md.
pub(crate) const DERIVED_FROM: [(&MetricDef, &[&MetricDef]); 9] = [
    (&m::CpuUtilized, &[&m::ContainerCpuUtilized]),
    (&m::CpuUtilization, &[&m::CpuUtilized, &m::CpuReserved]),
    (&m::MemoryUtilized, &[&m::ContainerMemoryUtilized]),
    (
        &m::MemoryUtilization,
        &[&m::MemoryUtilized, &m::MemoryReserved],
    ),
    (&m::StorageReadBytes, &[&m::ContainerStorageReadBytes]),
    (&m::StorageWriteBytes, &[&m::ContainerStorageWriteBytes]),
    (
        &m::ContainerCpuUtilization,
        &[&m::ContainerCpuUtilized, &m::ContainerCpuReserved],
    ),
    (
        &m::ContainerMemoryUtilization,
        &[&m::ContainerMemoryUtilized, &m::ContainerMemoryReserved],
    ),
    // The restarts are exits too: counting them needs the RestartCount baselines.
    (&m::ContainerExits, &[&m::ContainerRestarts]),
];

/// One metric value. Only finite, non-negative values are ever constructed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub metric: &'static MetricDef,
    pub value: f64,
}

/// One counted, running container's values and identity.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerMeasurement {
    pub name: String,
    pub docker_id: Option<String>,
    pub image: Option<String>,
    pub known_status: Option<String>,
    /// Set on the document of a container seen stopping this cycle (`ContainerExits`).
    pub exit: Option<Exit>,
    pub samples: Vec<Sample>,
}

/// What the endpoint says about a container that stopped: published as properties of its
/// `ContainerExits` document (queryable in Logs Insights, no metric cost). Task Metadata v4
/// gives no reason: an OOM kill shows only as exit code 137 there; daemon mode reads it from
/// Docker (docs/metrics.md, "Container exits").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exit {
    pub code: Option<i64>,
    pub finished_at: Option<String>,
    /// Whether the OOM killer ended it, where the platform says (daemon mode).
    pub oom_killed: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurements {
    pub task: Vec<Sample>,
    pub containers: Vec<ContainerMeasurement>,
    /// Running containers that are missing values this cycle, and why (the runner logs each
    /// once while it lasts). Sorted, so two cycles compare equal when nothing changed.
    pub gaps: Vec<(String, Gap)>,
}

/// Why a RUNNING container has no rates or no values this cycle. None of these is published
/// as a number: the values are left out, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gap {
    /// `/task/stats` holds `null` or `{}` for it (starting, restarting, or stats lagging), or
    /// in daemon mode Docker's answer was no sample.
    NoStats,
    /// Its CPU counter is below its previous sample's: it restarted or its counters were
    /// reset, so this interval has no rates.
    CountersWentDown,
    /// Its stats clock (`read`) went backwards or stood still with new counters; rates use the
    /// time between the two polls instead.
    ClockNotForward,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Gap::NoStats => {
                "no stats sample (null or empty: /task/stats, or Docker in daemon mode); counted again from their next sample"
            }
            Gap::CountersWentDown => {
                "counters went down (restart or reset); no rates for this interval"
            }
            Gap::ClockNotForward => {
                "stats time `read` did not move forward; rates use the time between polls"
            }
        })
    }
}

impl Measurements {
    /// The task-level value of `metric`, if it was measured (tests and the demo table).
    pub fn task_value(&self, metric: &MetricDef) -> Option<f64> {
        find(&self.task, metric)
    }

    /// A container's value of `metric`, if measured.
    pub fn container_value(&self, container: &str, metric: &MetricDef) -> Option<f64> {
        let c = self.containers.iter().find(|c| c.name == container)?;
        find(&c.samples, metric)
    }
}

fn find(samples: &[Sample], metric: &MetricDef) -> Option<f64> {
    samples
        .iter()
        .find(|s| std::ptr::eq(s.metric, metric))
        .map(|s| s.value)
}

/// Appends only values that can be published: `None`, NaN, ±∞ and negatives are dropped.
fn put(samples: &mut Vec<Sample>, metric: &'static MetricDef, value: Option<f64>) {
    if let Some(value) = value.filter(|v| v.is_finite() && *v >= 0.0) {
        samples.push(Sample { metric, value });
    }
}

/// Works out `metric`'s value only when this collector computes it.
fn when(wanted: MetricSet, metric: &MetricDef, value: impl FnOnce() -> Option<f64>) -> Option<f64> {
    if wanted.contains(metric) {
        value()
    } else {
        None
    }
}

/// A container's last new sample, kept for the next cycle's deltas.
#[derive(Debug, Clone)]
struct Previous {
    stats: ContainerStats,
    received_at: DateTime<Utc>,
}

/// Keeps what a cycle needs from earlier cycles.
#[derive(Debug)]
pub struct Collector {
    exclude: NameFilter,
    /// The metrics worked out; the others are not computed at all.
    wanted: MetricSet,
    /// By DockerId. A container whose stats are missing for a cycle keeps its sample, so
    /// its next delta covers both intervals and nothing is lost.
    samples: HashMap<String, Previous>,
    /// Last published `RestartCount` per container name: a restart seen while the container
    /// had no document is still counted in its next one.
    restart_baseline: HashMap<String, u64>,
    /// DockerIds seen `STOPPED`: each is one exit, published once. The first poll's stopped
    /// containers exited before this process watched (or were published by the process
    /// before it): they are the baseline, not exits of this run.
    stopped: HashSet<String>,
    first_cycle_done: bool,
    /// The task cgroup's throttling counters at the last poll that had them (daemon mode).
    task_cpu_stat: Option<CpuStat>,
}

impl Collector {
    /// Computes every metric of the catalog. `exclude`: container names (or globs) left out
    /// of container metrics and task sums.
    pub fn new(exclude: NameFilter) -> Collector {
        Collector::computing(exclude, MetricSet::of(CATALOG.iter().copied()))
    }

    /// Computes only `wanted` (which must hold what its metrics are derived from, see
    /// [`DERIVED_FROM`]).
    pub(crate) fn computing(exclude: NameFilter, wanted: MetricSet) -> Collector {
        Collector {
            exclude,
            wanted,
            samples: HashMap::new(),
            restart_baseline: HashMap::new(),
            stopped: HashSet::new(),
            first_cycle_done: false,
            task_cpu_stat: None,
        }
    }

    /// The exporter's own container, read before its first poll, has restarted
    /// `restart_count` times. This process is the one the last restart started, and the
    /// process before it could not have seen that restart (it had ended): its first poll
    /// counts one restart for its own container. Earlier restarts were counted by earlier
    /// processes, or lost with one that ended before its next poll; one is the count this
    /// process knows of. Does nothing once the container has a baseline.
    pub(crate) fn count_own_restart(&mut self, name: String, restart_count: u64) {
        if let Some(before) = restart_count.checked_sub(1) {
            self.restart_baseline.entry(name).or_insert(before);
        }
    }

    /// Measures one poll against each container's previous sample, then keeps the new
    /// samples for the next poll.
    pub fn collect(&mut self, snapshot: Snapshot) -> Measurements {
        self.measure(
            &snapshot.task,
            snapshot.stats,
            snapshot.throttling.as_ref(),
            snapshot.received_at,
        )
    }

    /// The containers of `task` seen `STOPPED` for the first time, as `ContainerExits`
    /// documents (none on the first poll: see [`Collector::stopped`]). Also called on its
    /// own for the last read at a stop: an essential container's exit is what stops the
    /// task, and the exporter hears of the stop (SIGTERM) before its next poll.
    pub(crate) fn exits(&mut self, task: &TaskMetadata) -> Vec<ContainerMeasurement> {
        let publish = self.first_cycle_done && self.wanted.contains(&m::ContainerExits);
        let mut exits = Vec::new();
        let mut listed = HashSet::new();
        for c in task
            .containers
            .iter()
            .filter(|c| platform::is_user_container(c))
        {
            let (Some(id), Some(name)) = (c.docker_id.as_deref(), c.name.as_deref()) else {
                continue;
            };
            listed.insert(id);
            if !platform::is_stopped(c) || self.exclude.matches(name) {
                continue;
            }
            if self.stopped.insert(id.to_string()) && publish {
                exits.push(ContainerMeasurement {
                    name: name.to_string(),
                    docker_id: Some(id.to_string()),
                    image: c.image.clone(),
                    known_status: c.known_status.clone(),
                    exit: Some(Exit {
                        code: platform::exit_code(c),
                        finished_at: platform::finished_at(c),
                        oom_killed: c.oom_killed,
                    }),
                    samples: vec![Sample {
                        metric: &m::ContainerExits,
                        value: 1.0,
                    }],
                });
            }
        }
        // Bounded by the listing: a container no longer listed is forgotten.
        self.stopped.retain(|id| listed.contains(id.as_str()));
        exits
    }

    /// [`Collector::collect`] on a snapshot's parts: the task stays with the caller.
    pub(crate) fn measure(
        &mut self,
        task: &TaskMetadata,
        stats: HashMap<String, ContainerStats>,
        throttling: Option<&Throttling>,
        received_at: DateTime<Utc>,
    ) -> Measurements {
        let first = !self.first_cycle_done;
        let poll = Poll {
            task,
            stats: &stats,
            received_at,
            throttling_is_real: throttling.is_some(),
        };
        let (mut measured, repeats) = measure(
            &poll,
            &self.samples,
            &mut self.restart_baseline,
            first,
            &self.exclude,
            self.wanted,
        );
        measured.containers.extend(self.exits(task));
        // A poll without the task cgroup's counters (unreadable this cycle) keeps the last
        // reading, so the next delta covers both intervals.
        if let Some(now) = throttling.and_then(|t| t.task) {
            let throttled = self
                .task_cpu_stat
                .and_then(|before| cfs_interval(now, before));
            put_throttling(
                &mut measured.task,
                [&m::CpuThrottledTime, &m::CpuThrottledPercent],
                throttled,
                self.wanted,
            );
            self.task_cpu_stat = Some(now);
        }
        self.first_cycle_done = true;
        for (docker_id, stats) in stats {
            // A repeated sample is not new: the older one stays the baseline, so the next
            // new sample's delta is measured over its real interval.
            if !repeats.contains(&docker_id) {
                self.samples
                    .insert(docker_id, Previous { stats, received_at });
            }
        }
        self.samples.retain(|id, _| {
            task.containers
                .iter()
                .any(|c| c.docker_id.as_deref() == Some(id))
        });
        measured
    }
}

/// What one poll brought.
struct Poll<'a> {
    task: &'a TaskMetadata,
    stats: &'a HashMap<String, ContainerStats>,
    received_at: DateTime<Utc>,
    /// The stats' `throttling_data` is real (daemon mode).
    throttling_is_real: bool,
}

/// The previous sample of one container and the seconds between the two.
struct Interval<'a> {
    prev: &'a ContainerStats,
    seconds: f64,
    /// Both samples carry a `read` time but it did not move forward, so `seconds` is the
    /// wall-clock time between the polls ([`Gap::ClockNotForward`]).
    clock_not_forward: bool,
}

/// Where a container's rates and deltas can come from this cycle.
enum Baseline<'a> {
    /// Its own previous sample (the usual case).
    Own(Interval<'a>),
    /// None of its own: CPU may use the sample's embedded `precpu_stats`.
    Embedded,
    /// The endpoint served the same sample again (same `read`, same counters; Fargate
    /// refreshes stats about every 10 s): no rate this cycle rather than an invented 0.
    Repeat,
}

/// A counted container together with its current stats and baseline.
struct Counted<'a> {
    meta: &'a ContainerMetadata,
    stats: Option<&'a ContainerStats>,
    baseline: Baseline<'a>,
}

impl Counted<'_> {
    fn interval(&self) -> Option<&Interval<'_>> {
        match &self.baseline {
            Baseline::Own(i) => Some(i),
            _ => None,
        }
    }
}

/// Whether `cur` is `prev` served again: the same real `read` time and the same CPU counter.
fn is_repeat(cur: &ContainerStats, prev: &ContainerStats) -> bool {
    let read = platform::real_time(cur.read.as_deref());
    read.is_some()
        && read == platform::real_time(prev.read.as_deref())
        && platform::total_cpu_ns(cur.cpu_stats.as_ref())
            == platform::total_cpu_ns(prev.cpu_stats.as_ref())
}

fn baseline<'a>(poll: &Poll, cur: &ContainerStats, prev: Option<&'a Previous>) -> Baseline<'a> {
    let Some(prev) = prev else {
        return Baseline::Embedded;
    };
    if is_repeat(cur, &prev.stats) {
        return Baseline::Repeat;
    }
    // The stats' own clock first; when it is missing, zero or stands still, wall-clock time
    // between the two polls (docs/metrics.md, Notation).
    let reads = platform::real_time(prev.stats.read.as_deref())
        .zip(platform::real_time(cur.read.as_deref()));
    let by_read = reads.and_then(|(p, c)| platform::seconds_between(p, c));
    match by_read.or_else(|| platform::seconds_between(prev.received_at, poll.received_at)) {
        Some(seconds) => Baseline::Own(Interval {
            prev: &prev.stats,
            seconds,
            clock_not_forward: reads.is_some() && by_read.is_none(),
        }),
        None => Baseline::Repeat,
    }
}

/// The cycle's values, and the DockerIds whose sample was a repeat.
fn measure(
    poll: &Poll,
    previous: &HashMap<String, Previous>,
    restart_baseline: &mut HashMap<String, u64>,
    first_cycle: bool,
    exclude: &NameFilter,
    wanted: MetricSet,
) -> (Measurements, Vec<String>) {
    let task = poll.task;
    let mut seen = std::collections::HashSet::new();
    let users: Vec<&ContainerMetadata> = task
        .containers
        .iter()
        .filter(|c| platform::is_user_container(c))
        .filter(|c| !c.name.as_deref().is_some_and(|n| exclude.matches(n)))
        // A container listed twice (same DockerId) is one container: counted once.
        .filter(|c| c.docker_id.as_deref().is_none_or(|id| seen.insert(id)))
        .collect();
    let mut repeats = Vec::new();
    let mut gaps = Vec::new();
    let running: Vec<Counted> = users
        .iter()
        .filter(|c| platform::is_running(c))
        .map(|meta| {
            let id = meta.docker_id.as_deref();
            let stats = id.and_then(|id| poll.stats.get(id));
            let baseline = match (stats, id) {
                (Some(s), Some(id)) => baseline(poll, s, previous.get(id)),
                _ => Baseline::Embedded,
            };
            let prev = id.and_then(|id| previous.get(id)).map(|p| &p.stats);
            if let (Some(gap), Some(name)) = (gap(stats, prev, &baseline), meta.name.as_deref()) {
                gaps.push((name.to_string(), gap));
            }
            if let (Baseline::Repeat, Some(id)) = (&baseline, id) {
                repeats.push(id.to_string());
            }
            Counted {
                meta,
                stats,
                baseline,
            }
        })
        .collect();
    let awsvpc = platform::is_awsvpc(task);

    let mut out = Measurements::default();
    for c in &running {
        if let Some(container) =
            measure_container(c, awsvpc, poll.throttling_is_real, restart_baseline, wanted)
        {
            out.containers.push(container);
        }
    }
    out.task = measure_task(
        task,
        &users,
        &running,
        &out.containers,
        awsvpc,
        first_cycle,
        wanted,
    );
    gaps.sort();
    out.gaps = gaps;
    (out, repeats)
}

/// Why a running container's sample leaves values out this cycle, if it does. A sample served
/// again unchanged (Fargate refreshes stats about every 10 s) is normal, not a gap.
fn gap(
    stats: Option<&ContainerStats>,
    prev: Option<&ContainerStats>,
    baseline: &Baseline,
) -> Option<Gap> {
    let Some(stats) = stats.filter(|s| s.read.is_some() || s.cpu_stats.is_some()) else {
        return Some(Gap::NoStats);
    };
    let prev = prev?;
    let now = platform::total_cpu_ns(stats.cpu_stats.as_ref());
    let before = platform::total_cpu_ns(prev.cpu_stats.as_ref());
    if now.zip(before).is_some_and(|(n, b)| n < b) {
        return Some(Gap::CountersWentDown);
    }
    matches!(baseline, Baseline::Own(i) if i.clock_not_forward).then_some(Gap::ClockNotForward)
}

fn cpu_rate(stats: &ContainerStats, baseline: &Baseline) -> Option<f64> {
    let now = platform::total_cpu_ns(stats.cpu_stats.as_ref())?;
    let (before, seconds) = match baseline {
        Baseline::Own(i) => (
            platform::total_cpu_ns(i.prev.cpu_stats.as_ref())?,
            i.seconds,
        ),
        Baseline::Embedded => platform::embedded_previous_cpu(stats)?,
        Baseline::Repeat => return None,
    };
    let used_ns = platform::increase(Some(now.into()), Some(before.into()))?;
    Some(used_ns as f64 / (seconds * 1e9) * 1024.0)
}

fn percent(part: Option<f64>, whole: Option<f64>) -> Option<f64> {
    let (p, w) = (part?, whole?);
    (w > 0.0).then(|| p / w * 100.0)
}

/// How a network counter is published: per second, or as the interval's count.
#[derive(Clone, Copy)]
enum Per {
    Second,
    Interval,
}

type NetCounter = fn(&NetworkStats) -> Option<u64>;

/// Task network metrics and the counters they come from.
const NETWORK: [(&MetricDef, NetCounter, Per); 8] = [
    (&m::NetworkRxBytes, |n| n.rx_bytes, Per::Second),
    (&m::NetworkTxBytes, |n| n.tx_bytes, Per::Second),
    (&m::NetworkRxPackets, |n| n.rx_packets, Per::Second),
    (&m::NetworkTxPackets, |n| n.tx_packets, Per::Second),
    (&m::NetworkRxDropped, |n| n.rx_dropped, Per::Interval),
    (&m::NetworkTxDropped, |n| n.tx_dropped, Per::Interval),
    (&m::NetworkRxErrors, |n| n.rx_errors, Per::Interval),
    (&m::NetworkTxErrors, |n| n.tx_errors, Per::Interval),
];

/// One interface's counter increase over the container's interval, scaled as `per` says.
fn interface_value(
    cur: &NetworkStats,
    prev: Option<&NetworkStats>,
    counter: NetCounter,
    per: Per,
    seconds: f64,
) -> Option<f64> {
    let delta = platform::increase(
        counter(cur).map(u128::from),
        prev.and_then(counter).map(u128::from),
    )?;
    Some(match per {
        Per::Second => delta as f64 / seconds,
        Per::Interval => delta as f64,
    })
}

/// Σ over one container's interfaces; `None` if any interface's counter is unknown or reset.
fn container_network(c: &Counted, counter: NetCounter, per: Per) -> Option<f64> {
    let interval = c.interval()?;
    let cur = c.stats?.networks.as_ref()?;
    let prev = interval.prev.networks.as_ref()?;
    if cur.is_empty() {
        return None;
    }
    cur.iter()
        .map(|(iface, now)| interface_value(now, prev.get(iface), counter, per, interval.seconds))
        .sum()
}

/// Task network value. awsvpc: every container sees the one task namespace, so each
/// interface is read from one container (the one with the highest current counters, paired
/// with its own previous sample and clock); bridge: each container has its own namespace,
/// so containers add up.
fn task_network(running: &[Counted], awsvpc: bool, counter: NetCounter, per: Per) -> Option<f64> {
    if !awsvpc {
        let parts: Vec<f64> = running
            .iter()
            .filter_map(|c| container_network(c, counter, per))
            .collect();
        return (!parts.is_empty()).then(|| parts.iter().sum());
    }
    let mut sources: std::collections::BTreeMap<&str, (u128, f64)> =
        std::collections::BTreeMap::new();
    for c in running {
        let (Some(interval), Some(stats)) = (c.interval(), c.stats) else {
            continue;
        };
        let (Some(cur), Some(prev)) = (stats.networks.as_ref(), interval.prev.networks.as_ref())
        else {
            continue;
        };
        for (iface, now) in cur {
            let Some(value) = interface_value(now, prev.get(iface), counter, per, interval.seconds)
            else {
                continue;
            };
            let volume =
                u128::from(now.rx_bytes.unwrap_or(0)) + u128::from(now.tx_bytes.unwrap_or(0));
            let better = sources.get(iface.as_str()).is_none_or(|(v, _)| volume > *v);
            if better {
                sources.insert(iface, (volume, value));
            }
        }
    }
    (!sources.is_empty()).then(|| sources.values().map(|(_, v)| v).sum())
}

fn storage_delta(c: &Counted, op: &str) -> Option<f64> {
    let interval = c.interval()?;
    let delta = platform::increase(
        platform::blkio_bytes(c.stats?, op),
        platform::blkio_bytes(interval.prev, op),
    )?;
    Some(delta as f64)
}

fn measure_container(
    c: &Counted,
    awsvpc: bool,
    throttling_is_real: bool,
    restart_baseline: &mut HashMap<String, u64>,
    wanted: MetricSet,
) -> Option<ContainerMeasurement> {
    let name = c.meta.name.clone()?;
    // No stats this cycle (starting, restarting): the container contributes nothing, not
    // even what /task knows (docs/metrics.md, "Which containers count"). Its restart
    // baseline is left alone, so a restart in between is counted in its next document.
    let stats = c.stats?;
    let mut samples = Vec::new();
    let cpu = when(wanted, &m::ContainerCpuUtilized, || {
        cpu_rate(stats, &c.baseline)
    });
    let reserved_cpu = when(wanted, &m::ContainerCpuReserved, || {
        platform::container_cpu_reservation(c.meta)
    });
    put(&mut samples, &m::ContainerCpuUtilized, cpu);
    put(&mut samples, &m::ContainerCpuReserved, reserved_cpu);
    let cpu_share = when(wanted, &m::ContainerCpuUtilization, || {
        percent(cpu, reserved_cpu)
    });
    put(&mut samples, &m::ContainerCpuUtilization, cpu_share);
    if throttling_is_real {
        let throttled = c
            .interval()
            .and_then(|i| cfs_interval(cfs_counters(stats)?, cfs_counters(i.prev)?));
        put_throttling(
            &mut samples,
            [
                &m::ContainerCpuThrottledTime,
                &m::ContainerCpuThrottledPercent,
            ],
            throttled,
            wanted,
        );
    }
    let mem = when(wanted, &m::ContainerMemoryUtilized, || {
        stats
            .memory_stats
            .as_ref()
            .and_then(platform::working_set_bytes)
            .map(|b| b as f64 / MIB)
    });
    let reserved_mem = when(wanted, &m::ContainerMemoryReserved, || {
        platform::container_memory_reserved(c.meta, Some(stats))
    });
    put(&mut samples, &m::ContainerMemoryUtilized, mem);
    put(&mut samples, &m::ContainerMemoryReserved, reserved_mem);
    let mem_share = when(wanted, &m::ContainerMemoryUtilization, || {
        percent(mem, reserved_mem)
    });
    put(&mut samples, &m::ContainerMemoryUtilization, mem_share);
    if !awsvpc {
        let rx = when(wanted, &m::ContainerNetworkRxBytes, || {
            container_network(c, |n| n.rx_bytes, Per::Second)
        });
        put(&mut samples, &m::ContainerNetworkRxBytes, rx);
        let tx = when(wanted, &m::ContainerNetworkTxBytes, || {
            container_network(c, |n| n.tx_bytes, Per::Second)
        });
        put(&mut samples, &m::ContainerNetworkTxBytes, tx);
    }
    let read = when(wanted, &m::ContainerStorageReadBytes, || {
        storage_delta(c, "read")
    });
    put(&mut samples, &m::ContainerStorageReadBytes, read);
    let write = when(wanted, &m::ContainerStorageWriteBytes, || {
        storage_delta(c, "write")
    });
    put(&mut samples, &m::ContainerStorageWriteBytes, write);
    let pids = when(wanted, &m::ContainerPidCount, || {
        stats
            .pids_stats
            .as_ref()
            .and_then(|p| p.current)
            .map(|p| p as f64)
    });
    put(&mut samples, &m::ContainerPidCount, pids);
    if let Some(count) = c.meta.restart_count
        && wanted.contains(&m::ContainerRestarts)
    {
        let restarts = match restart_baseline.insert(name.clone(), count) {
            Some(before) => count.checked_sub(before).map(|d| d as f64),
            None => None,
        };
        put(&mut samples, &m::ContainerRestarts, restarts);
        // Each restart followed an exit; published only when there was one.
        if wanted.contains(&m::ContainerExits) {
            put(
                &mut samples,
                &m::ContainerExits,
                restarts.filter(|&n| n > 0.0),
            );
        }
    }
    (!samples.is_empty()).then(|| ContainerMeasurement {
        name,
        docker_id: c.meta.docker_id.clone(),
        image: c.meta.image.clone(),
        known_status: c.meta.known_status.clone(),
        exit: None,
        samples,
    })
}

/// A container's CFS counters from its stats, when all three are there.
fn cfs_counters(stats: &ContainerStats) -> Option<CpuStat> {
    let t = stats.cpu_stats.as_ref()?.throttling_data.as_ref()?;
    Some(CpuStat {
        nr_periods: t.periods?,
        nr_throttled: t.throttled_periods?,
        throttled_ns: t.throttled_time?,
    })
}

/// What two readings of a cgroup's CFS counters say about the interval between them: the
/// time held back by the quota, in milliseconds, and the share of the enforcement periods
/// that were throttled, in percent (`None` when no period elapsed: an idle cgroup).
///
/// `None` altogether for a cgroup without a CPU quota (no period has ever elapsed, so it
/// cannot be throttled, and a metric that can only read 0 is not published: ECS on EC2 sets
/// a container's CPU as shares, with no quota, unless the task has a task-level limit) and
/// when a counter went down (the cgroup was made again) or makes no sense (more throttled
/// periods than periods): no value rather than an invented one.
fn cfs_interval(now: CpuStat, before: CpuStat) -> Option<(f64, Option<f64>)> {
    if now.nr_periods == 0 {
        return None;
    }
    let periods = now.nr_periods.checked_sub(before.nr_periods)?;
    let throttled = now.nr_throttled.checked_sub(before.nr_throttled)?;
    let ns = now.throttled_ns.checked_sub(before.throttled_ns)?;
    if throttled > periods {
        return None;
    }
    let share = (periods > 0).then(|| throttled as f64 / periods as f64 * 100.0);
    Some((ns as f64 / 1e6, share))
}

/// Puts a [`cfs_interval`] answer as its time and share metrics, each when wanted.
fn put_throttling(
    samples: &mut Vec<Sample>,
    [time, share]: [&'static MetricDef; 2],
    throttled: Option<(f64, Option<f64>)>,
    wanted: MetricSet,
) {
    put(samples, time, when(wanted, time, || throttled.map(|t| t.0)));
    put(
        samples,
        share,
        when(wanted, share, || throttled.and_then(|t| t.1)),
    );
}

/// Σ of a container metric over the containers that have it; `None` when none has it.
fn sum_of(containers: &[ContainerMeasurement], metric: &MetricDef) -> Option<f64> {
    let values: Vec<f64> = containers
        .iter()
        .filter_map(|c| find(&c.samples, metric))
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

fn measure_task(
    task: &TaskMetadata,
    users: &[&ContainerMetadata],
    running: &[Counted],
    containers: &[ContainerMeasurement],
    awsvpc: bool,
    first_cycle: bool,
    wanted: MetricSet,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let cpu = when(wanted, &m::CpuUtilized, || {
        sum_of(containers, &m::ContainerCpuUtilized)
    });
    let cpu_reserved = when(wanted, &m::CpuReserved, || {
        platform::task_cpu_reserved(task, users.iter().copied())
    });
    put(&mut samples, &m::CpuUtilized, cpu);
    put(&mut samples, &m::CpuReserved, cpu_reserved);
    let cpu_share = when(wanted, &m::CpuUtilization, || percent(cpu, cpu_reserved));
    put(&mut samples, &m::CpuUtilization, cpu_share);
    let mem = when(wanted, &m::MemoryUtilized, || {
        sum_of(containers, &m::ContainerMemoryUtilized)
    });
    let mem_reserved = when(wanted, &m::MemoryReserved, || {
        platform::task_memory_reserved(task, users.iter().copied())
    });
    put(&mut samples, &m::MemoryUtilized, mem);
    put(&mut samples, &m::MemoryReserved, mem_reserved);
    let mem_share = when(wanted, &m::MemoryUtilization, || percent(mem, mem_reserved));
    put(&mut samples, &m::MemoryUtilization, mem_share);
    for (metric, counter, per) in NETWORK {
        let value = when(wanted, metric, || {
            task_network(running, awsvpc, counter, per)
        });
        put(&mut samples, metric, value);
    }
    let read = when(wanted, &m::StorageReadBytes, || {
        sum_of(containers, &m::ContainerStorageReadBytes)
    });
    put(&mut samples, &m::StorageReadBytes, read);
    let write = when(wanted, &m::StorageWriteBytes, || {
        sum_of(containers, &m::ContainerStorageWriteBytes)
    });
    put(&mut samples, &m::StorageWriteBytes, write);
    let ephemeral = task.ephemeral_storage_metrics.as_ref();
    let utilized = when(wanted, &m::EphemeralStorageUtilized, || {
        ephemeral.and_then(|e| e.utilized).map(|v| v as f64)
    });
    put(&mut samples, &m::EphemeralStorageUtilized, utilized);
    let reserved = when(wanted, &m::EphemeralStorageReserved, || {
        ephemeral.and_then(|e| e.reserved).map(|v| v as f64)
    });
    put(&mut samples, &m::EphemeralStorageReserved, reserved);
    let count = when(wanted, &m::RunningContainerCount, || {
        Some(running.len() as f64)
    });
    put(&mut samples, &m::RunningContainerCount, count);
    if first_cycle {
        let pull = when(wanted, &m::ImagePullTime, || {
            let started = platform::real_time(task.pull_started_at.as_deref());
            let stopped = platform::real_time(task.pull_stopped_at.as_deref());
            started
                .zip(stopped)
                .and_then(|(a, b)| platform::seconds_between(a, b))
        });
        put(&mut samples, &m::ImagePullTime, pull);
    }
    // Every cycle the task metadata carries it (Fargate): a gauge, not first-cycle only.
    let clock = when(wanted, &m::ClockErrorBound, || {
        platform::clock_error_bound(task)
    });
    put(&mut samples, &m::ClockErrorBound, clock);
    samples
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn snapshot(restart_count: u64, with_stats: bool, second: i64) -> Snapshot {
        let task = format!(
            r#"{{"Containers":[{{"DockerId":"d1","Name":"app","KnownStatus":"RUNNING","Type":"NORMAL","RestartCount":{restart_count},"Limits":{{"CPU":256,"Memory":512}}}}]}}"#
        );
        let stats = if with_stats {
            r#"{"d1":{"memory_stats":{"usage":1048576}}}"#
        } else {
            r#"{"d1":null}"#
        };
        let at = Utc
            .timestamp_opt(1_700_000_000 + second, 0)
            .single()
            .expect("valid time");
        Snapshot::from_bodies(task.as_bytes(), stats.as_bytes(), at).expect("parses")
    }

    /// `/task` with `app` running and `web` in `web_status` (with `web_extra` fields),
    /// plus `init`, which exited before the exporter's first poll.
    fn exits_poll(web_status: &str, web_extra: &str, second: i64) -> Snapshot {
        let task = format!(
            r#"{{"Containers":[
            {{"DockerId":"d1","Name":"app","KnownStatus":"RUNNING"}},
            {{"DockerId":"d2","Name":"web","KnownStatus":"{web_status}"{web_extra}}},
            {{"DockerId":"d0","Name":"init","KnownStatus":"STOPPED","ExitCode":0,"FinishedAt":"2026-12-05T09:00:00Z"}}]}}"#
        );
        let stats = r#"{"d1":{"memory_stats":{"usage":1048576}},"d2":null,"d0":null}"#;
        let at = Utc
            .timestamp_opt(1_700_000_000 + second, 0)
            .single()
            .expect("valid time");
        Snapshot::from_bodies(task.as_bytes(), stats.as_bytes(), at).expect("parses")
    }

    fn exit_docs(m: &Measurements) -> Vec<(&str, Option<&Exit>, Option<f64>)> {
        m.containers
            .iter()
            .filter(|c| c.exit.is_some())
            .map(|c| {
                (
                    c.name.as_str(),
                    c.exit.as_ref(),
                    find(&c.samples, &m::ContainerExits),
                )
            })
            .collect()
    }

    #[test]
    fn an_exit_is_published_once_and_the_first_polls_stopped_containers_are_the_baseline() {
        let mut c = Collector::new(NameFilter::default());
        // `init` stopped before the first poll: not an exit of this run.
        let first = c.collect(exits_poll("RUNNING", "", 0));
        assert!(exit_docs(&first).is_empty(), "{:?}", first.containers);
        let oom = r#","ExitCode":137,"FinishedAt":"2026-12-05T10:01:02.5Z""#;
        let second = c.collect(exits_poll("STOPPED", oom, 60));
        let expected = Exit {
            code: Some(137),
            finished_at: Some("2026-12-05T10:01:02.500Z".to_string()),
            // The endpoint never says why: 137 alone is not called an OOM kill.
            oom_killed: None,
        };
        assert_eq!(
            exit_docs(&second),
            vec![("web", Some(&expected), Some(1.0))]
        );
        let doc = second.containers.iter().find(|c| c.name == "web");
        assert_eq!(
            doc.map(|d| (d.samples.len(), d.known_status.as_deref())),
            Some((1, Some("STOPPED"))),
            "an exit document carries ContainerExits only"
        );
        // Still listed as stopped: said once.
        let third = c.collect(exits_poll("STOPPED", oom, 120));
        assert!(exit_docs(&third).is_empty());
        assert_eq!(third.task_value(&m::RunningContainerCount), Some(1.0));
    }

    #[test]
    fn an_exit_without_a_usable_code_or_time_is_still_an_exit() {
        for (extra, code, at) in [
            (r#","ExitCode":"137""#, None, None),
            (
                r#","ExitCode":1.5,"FinishedAt":"0001-01-01T00:00:00Z""#,
                None,
                None,
            ),
            (r#","ExitCode":1e20,"FinishedAt":"yesterday""#, None, None),
            (r#","ExitCode":null"#, None, None),
            (r#","ExitCode":-1"#, Some(-1), None),
            (r#","ExitCode":255.0"#, Some(255), None),
        ] {
            let mut c = Collector::new(NameFilter::default());
            c.collect(exits_poll("RUNNING", "", 0));
            let got = c.collect(exits_poll("STOPPED", extra, 60));
            let expected = Exit {
                code,
                finished_at: at,
                oom_killed: None,
            };
            assert_eq!(
                exit_docs(&got),
                vec![("web", Some(&expected), Some(1.0))],
                "{extra}"
            );
        }
    }

    #[test]
    fn a_container_that_appears_already_stopped_after_the_first_poll_exited_in_between() {
        let mut c = Collector::new(NameFilter::default());
        let only_app = |second: i64, extra: &str| {
            let task = format!(
                r#"{{"Containers":[{{"DockerId":"d1","Name":"app","KnownStatus":"RUNNING"}}{extra}]}}"#
            );
            let at = Utc
                .timestamp_opt(1_700_000_000 + second, 0)
                .single()
                .expect("valid time");
            Snapshot::from_bodies(task.as_bytes(), b"{}", at).expect("parses")
        };
        c.collect(only_app(0, ""));
        let job = r#",{"DockerId":"d9","Name":"job","KnownStatus":"STOPPED","ExitCode":3}"#;
        let got = c.collect(only_app(60, job));
        assert_eq!(exit_docs(&got).len(), 1);
        assert_eq!(exit_docs(&got)[0].1.and_then(|e| e.code), Some(3));
    }

    #[test]
    fn excluded_containers_and_unwanted_exits_publish_nothing() {
        let mut excluded = Collector::new(NameFilter::new(vec!["web".to_string()]));
        excluded.collect(exits_poll("RUNNING", "", 0));
        let got = excluded.collect(exits_poll("STOPPED", r#","ExitCode":1"#, 60));
        assert!(exit_docs(&got).is_empty());
        let wanted = MetricSet::of([&m::ContainerMemoryUtilized]);
        let mut unwanted = Collector::computing(NameFilter::default(), wanted);
        unwanted.collect(exits_poll("RUNNING", "", 0));
        let got = unwanted.collect(exits_poll("STOPPED", r#","ExitCode":1"#, 60));
        assert!(exit_docs(&got).is_empty());
    }

    #[test]
    fn restarts_are_exits_and_no_restart_publishes_no_exit() {
        let mut c = Collector::new(NameFilter::default());
        c.collect(snapshot(0, true, 0));
        let none = c.collect(snapshot(0, true, 60));
        assert_eq!(
            none.container_value("app", &m::ContainerRestarts),
            Some(0.0)
        );
        assert_eq!(none.container_value("app", &m::ContainerExits), None);
        let two = c.collect(snapshot(2, true, 120));
        assert_eq!(two.container_value("app", &m::ContainerRestarts), Some(2.0));
        assert_eq!(two.container_value("app", &m::ContainerExits), Some(2.0));
        assert!(
            exit_docs(&two).is_empty(),
            "a restart has no exit code to show"
        );
    }

    #[test]
    fn a_running_container_without_stats_has_no_document_and_its_restart_is_counted_later() {
        let mut c = Collector::new(NameFilter::default());
        let first = c.collect(snapshot(0, true, 0));
        assert_eq!(
            first.container_value("app", &m::ContainerMemoryUtilized),
            Some(1.0)
        );
        assert_eq!(
            first.container_value("app", &m::ContainerRestarts),
            None,
            "needs two samples"
        );
        // Restarting: stats are null, RestartCount already 1: no document at all.
        let gap = c.collect(snapshot(1, false, 60));
        assert!(gap.containers.is_empty(), "{:?}", gap.containers);
        assert_eq!(
            gap.task_value(&m::MemoryUtilized),
            None,
            "no zeros for missing stats"
        );
        assert_eq!(gap.task_value(&m::RunningContainerCount), Some(1.0));
        // Back: the restart seen during the gap is counted once, here.
        let back = c.collect(snapshot(1, true, 120));
        assert_eq!(
            back.container_value("app", &m::ContainerRestarts),
            Some(1.0)
        );
        let after = c.collect(snapshot(1, true, 180));
        assert_eq!(
            after.container_value("app", &m::ContainerRestarts),
            Some(0.0)
        );
    }

    /// One container "c1" with CPU and block-I/O counters, `read` at `read_s` seconds, polled
    /// at `at_s` seconds; `stats: false` serves `null` for it.
    fn poll(read_s: i64, cpu_ns: u64, disk_read: u64, at_s: i64, stats: bool) -> Snapshot {
        let task = r#"{"Containers":[{"DockerId":"c1","Name":"app","KnownStatus":"RUNNING"}]}"#;
        let read = Utc
            .timestamp_opt(1_700_000_000 + read_s, 0)
            .single()
            .expect("time")
            .to_rfc3339();
        let body = if stats {
            format!(
                r#"{{"c1":{{"read":"{read}","cpu_stats":{{"cpu_usage":{{"total_usage":{cpu_ns}}}}},
                "blkio_stats":{{"io_service_bytes_recursive":[{{"op":"read","value":{disk_read}}}]}}}}}}"#
            )
        } else {
            r#"{"c1":null}"#.to_string()
        };
        let at = Utc
            .timestamp_opt(1_700_000_000 + at_s, 0)
            .single()
            .expect("time");
        Snapshot::from_bodies(task.as_bytes(), body.as_bytes(), at).expect("parses")
    }

    /// A poll of one running container whose stats carry `throttling` as
    /// (periods, throttled periods, throttled ns), in daemon mode (`task_cgroup`: the task
    /// cgroup's counters) or, with `daemon` false, as the sidecar reads it.
    fn throttled_poll(
        second: i64,
        throttling: (u64, u64, u64),
        daemon: bool,
        task_cgroup: Option<CpuStat>,
    ) -> Snapshot {
        let (periods, throttled, ns) = throttling;
        let read = Utc
            .timestamp_opt(1_700_000_000 + second, 0)
            .single()
            .expect("time")
            .to_rfc3339();
        let task = r#"{"Containers":[{"DockerId":"c1","Name":"app","KnownStatus":"RUNNING"}]}"#;
        let stats = format!(
            r#"{{"c1":{{"read":"{read}","cpu_stats":{{"cpu_usage":{{"total_usage":{}}},
            "throttling_data":{{"periods":{periods},"throttled_periods":{throttled},"throttled_time":{ns}}}}}}}}}"#,
            second as u64 * 500_000_000
        );
        let at = Utc
            .timestamp_opt(1_700_000_000 + second, 0)
            .single()
            .expect("time");
        let mut snapshot =
            Snapshot::from_bodies(task.as_bytes(), stats.as_bytes(), at).expect("parses");
        if daemon {
            snapshot.throttling = Some(Throttling { task: task_cgroup });
        }
        snapshot
    }

    fn cfs(nr_periods: u64, nr_throttled: u64, throttled_ns: u64) -> CpuStat {
        CpuStat {
            nr_periods,
            nr_throttled,
            throttled_ns,
        }
    }

    #[test]
    fn throttling_is_published_from_real_counters_only() {
        let mut c = Collector::new(NameFilter::default());
        // First poll: a baseline, no interval yet.
        let first = c.collect(throttled_poll(
            0,
            (100, 40, 2_000_000_000),
            true,
            Some(cfs(1000, 10, 50_000_000)),
        ));
        assert_eq!(
            first.container_value("app", &m::ContainerCpuThrottledTime),
            None
        );
        assert_eq!(first.task_value(&m::CpuThrottledTime), None);
        // 60 s later: 600 more periods (100 ms each), 450 of them throttled, 13.5 s held back.
        let second = c.collect(throttled_poll(
            60,
            (700, 490, 15_500_000_000),
            true,
            Some(cfs(1600, 70, 350_000_000)),
        ));
        assert_eq!(
            second.container_value("app", &m::ContainerCpuThrottledTime),
            Some(13_500.0)
        );
        // 450 / 600 = 75 %.
        assert_eq!(
            second.container_value("app", &m::ContainerCpuThrottledPercent),
            Some(75.0)
        );
        // Task cgroup: 60 of 600 periods (10 %), 300 ms.
        assert_eq!(second.task_value(&m::CpuThrottledTime), Some(300.0));
        assert_eq!(second.task_value(&m::CpuThrottledPercent), Some(10.0));

        // An idle interval (no period elapsed): 0 ms held back, no share of nothing.
        let idle = c.collect(throttled_poll(
            120,
            (700, 490, 15_500_000_000),
            true,
            Some(cfs(1600, 70, 350_000_000)),
        ));
        assert_eq!(
            idle.container_value("app", &m::ContainerCpuThrottledTime),
            Some(0.0)
        );
        assert_eq!(
            idle.container_value("app", &m::ContainerCpuThrottledPercent),
            None
        );
        assert_eq!(idle.task_value(&m::CpuThrottledPercent), None);

        // Counters that went down (the cgroup was made again): no value, not a negative one.
        let reset = c.collect(throttled_poll(180, (5, 1, 1_000), true, Some(cfs(3, 0, 0))));
        assert_eq!(
            reset.container_value("app", &m::ContainerCpuThrottledTime),
            None
        );
        assert_eq!(reset.task_value(&m::CpuThrottledTime), None);
        // The task cgroup could not be read this cycle: no task value, and the next one is
        // measured from the last reading it had, not from nothing.
        let unread = c.collect(throttled_poll(240, (65, 1, 1_000), true, None));
        assert_eq!(unread.task_value(&m::CpuThrottledTime), None);
        assert_eq!(
            unread.container_value("app", &m::ContainerCpuThrottledPercent),
            Some(0.0)
        );
        // Against the reset's (3, 0, 0): 10 periods, 2 throttled, 2 ms.
        let next = c.collect(throttled_poll(
            300,
            (65, 1, 1_000),
            true,
            Some(cfs(13, 2, 2_000_000)),
        ));
        assert_eq!(next.task_value(&m::CpuThrottledTime), Some(2.0));
        assert_eq!(next.task_value(&m::CpuThrottledPercent), Some(20.0));
    }

    #[test]
    fn no_quota_and_the_sidecars_zeros_publish_no_throttling() {
        // The sidecar: the agent's throttling_data (zeros, or anything) is never read.
        let mut sidecar = Collector::new(NameFilter::default());
        sidecar.collect(throttled_poll(0, (100, 40, 2_000), false, None));
        let got = sidecar.collect(throttled_poll(60, (700, 490, 9_000), false, None));
        assert_eq!(
            got.container_value("app", &m::ContainerCpuThrottledTime),
            None
        );
        assert_eq!(
            got.container_value("app", &m::ContainerCpuThrottledPercent),
            None
        );
        assert_eq!(got.task_value(&m::CpuThrottledTime), None);

        // Daemon mode, no CPU quota anywhere (ECS on EC2 without task CPU: shares only): no
        // period ever elapses, so nothing is published rather than a 0 that cannot change.
        let mut daemon = Collector::new(NameFilter::default());
        daemon.collect(throttled_poll(0, (0, 0, 0), true, Some(cfs(0, 0, 0))));
        let got = daemon.collect(throttled_poll(60, (0, 0, 0), true, Some(cfs(0, 0, 0))));
        assert_eq!(
            got.container_value("app", &m::ContainerCpuThrottledTime),
            None
        );
        assert_eq!(got.task_value(&m::CpuThrottledTime), None);
        assert_eq!(got.task_value(&m::CpuThrottledPercent), None);
    }

    #[test]
    fn a_container_listed_twice_is_counted_once() {
        let task = r#"{"Containers":[
            {"DockerId":"d1","Name":"app","KnownStatus":"RUNNING","Limits":{"Memory":512}},
            {"DockerId":"d1","Name":"app","KnownStatus":"RUNNING","Limits":{"Memory":512}},
            {"DockerId":"d2","Name":"web","KnownStatus":"RUNNING","Limits":{"Memory":512}}]}"#;
        let stats = r#"{"d1":{"memory_stats":{"usage":67108864}},"d2":{"memory_stats":{"usage":134217728}}}"#;
        let at = Utc.timestamp_opt(1_700_000_000, 0).single().expect("time");
        let snap = Snapshot::from_bodies(task.as_bytes(), stats.as_bytes(), at).expect("parses");
        let measured = Collector::new(NameFilter::default()).collect(snap);
        // 64 + 128 MiB, not 64 + 64 + 128; reserved 512 + 512.
        assert_eq!(measured.task_value(&m::MemoryUtilized), Some(192.0));
        assert_eq!(measured.task_value(&m::MemoryReserved), Some(1024.0));
        assert_eq!(measured.task_value(&m::RunningContainerCount), Some(2.0));
        assert_eq!(measured.containers.len(), 2);
    }

    #[test]
    fn a_repeated_sample_gives_no_rate_and_keeps_the_older_baseline() {
        let mut c = Collector::new(NameFilter::default());
        c.collect(poll(0, 1_000_000_000, 0, 0, true));
        // Same read, same counters one second later: Fargate served the cached sample.
        let repeat = c.collect(poll(0, 1_000_000_000, 0, 1, true));
        assert_eq!(
            repeat.container_value("app", &m::ContainerCpuUtilized),
            None,
            "not an invented 0"
        );
        assert_eq!(repeat.task_value(&m::CpuUtilized), None);
        // The next new sample is measured against the first: 2e9 ns over 10 s = 0.2 vCPU.
        let next = c.collect(poll(10, 3_000_000_000, 0, 2, true));
        let cpu = next
            .container_value("app", &m::ContainerCpuUtilized)
            .expect("rate");
        assert!((cpu - 204.8).abs() < 1e-9, "{cpu}");
    }

    #[test]
    fn a_cycle_without_stats_loses_nothing_from_the_deltas() {
        let mut c = Collector::new(NameFilter::default());
        c.collect(poll(0, 1_000_000_000, 1_000, 0, true));
        let gap = c.collect(poll(0, 0, 0, 60, false));
        assert_eq!(gap.task_value(&m::StorageReadBytes), None);
        // 5000 − 1000 bytes over both intervals, counted once.
        let back = c.collect(poll(120, 1_600_000_000, 5_000, 120, true));
        assert_eq!(back.task_value(&m::StorageReadBytes), Some(4_000.0));
        assert_eq!(
            back.container_value("app", &m::ContainerStorageReadBytes),
            Some(4_000.0)
        );
        // 0.6e9 ns over 120 s × 1024 = 5.12 CPU units.
        let cpu = back
            .container_value("app", &m::ContainerCpuUtilized)
            .expect("rate");
        assert!((cpu - 5.12).abs() < 1e-9, "{cpu}");
    }
}
