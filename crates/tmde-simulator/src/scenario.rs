//! The simulated task: which platform, cgroup version, network mode and containers it has.
//!
//! Everything the simulator serves is derived from a [`Scenario`] and the wall clock, with no
//! randomness, so tests can assert exact numbers. The numbers below are a contract: tests of the
//! exporter depend on them. Change them only together with those tests.
//!
//! # Containers
//! The `containers` "normal" containers are indexed `k = 0..containers`:
//! - names `app` (k=0), `ecs-emf-exporter` (k=1), `worker-2`, `worker-3`, … (k≥2); with
//!   `name_length = Some(n)` every simulated name (normal and stopped) is padded with `x` or cut
//!   to exactly `n` characters (cutting may make names collide; DockerIds stay unique);
//! - `Type` `NORMAL`, `KnownStatus`/`DesiredStatus` `RUNNING`, image
//!   `public.ecr.aws/nginx/nginx:1.27` for k=0, else `public.ecr.aws/sim/<Name>:latest`;
//! - DockerId: Fargate `<32-hex task id>-<10 digits>`, EC2 64 hex digits, derived from k;
//! - `RestartCount` (only with `restart_count_field`): 0, plus one per restart event applied.
//!
//! `stopped_containers` extra containers `stopped-0`, `stopped-1`, … follow: `KnownStatus`
//! `STOPPED`, `ExitCode` 0, `FinishedAt` set; their `/task/stats` entry is `null` on Fargate and
//! `{}` on EC2.
//!
//! A normal container can also stop while the simulator runs (`--exit K@N:CODE`, `--oom-kill
//! K@N`, i.e. `SimOptions::exits`). N counts `/task` requests only (not `/taskWithTags` nor
//! stats; faulted answers count, as for restarts). From `/task` request N on, every route
//! (`/task`, `/taskWithTags`, `<base>` for k=0) lists container K with `KnownStatus` and
//! `DesiredStatus` `STOPPED`, `ExitCode` CODE and `FinishedAt` = the time request N arrived
//! (RFC 3339 UTC with nanoseconds, like `read`), fixed from then on; in bridge mode its
//! `IPv4Addresses` becomes `[""]`, like a stopped container's; its `/task/stats` entry becomes
//! the stopped one (`null` Fargate, `{}` EC2). An OOM kill is exit code 137 (128 + SIGKILL):
//! Task Metadata v4 has no reason field (the agent's container response carries `ExitCode` and
//! `FinishedAt` only; "OutOfMemoryError: Container killed due to memory usage" is in
//! ecs:DescribeTasks). A `--restart` of the same container numbered at or after N is refused,
//! and a stopped container never restarts. On EC2 with `awsvpc`, a pause container `~internal~ecs~pause` (`Type`
//! `CNI_PAUSE`, `KnownStatus` `RUNNING`) comes last, and it HAS stats (CPU 999,000,000 ns/s,
//! network and disk counters around 10^9 per second): an exporter that counts it is caught.
//!
//! # Task
//! Cluster `arn:aws:ecs:us-east-1:123456789012:cluster/sim-cluster` (Fargate) or `sim-cluster`
//! (EC2); TaskARN `arn:aws:ecs:us-east-1:123456789012:task/sim-cluster/<32 hex>`; Family
//! `sim-app`; Revision `"7"`; ServiceName `sim-service` (unless `service_name` is false);
//! AvailabilityZone `us-east-1a`; LaunchType `FARGATE`/`EC2`; PullStartedAt
//! `2026-01-01T00:00:00.000000000Z`, PullStoppedAt `2026-01-01T00:00:12.500000000Z` (12.5 s).
//! - Fargate: task `Limits {CPU: 1.0, Memory: 2048}`, each container `Limits {CPU: 2}`,
//!   `EphemeralStorageMetrics {Utilized: 512, Reserved: 20496}`, and `ClockDrift` as
//!   `clock_drift` says: `Synchronized` (the default) `{ClockErrorBound: 0.3329285,
//!   ReferenceTimestamp: "2026-01-01T00:00:00Z", ClockSynchronizationStatus: "SYNCHRONIZED"}`;
//!   `NotSynchronized` the same with `ClockErrorBound: 12.5` and `"NOT_SYNCHRONIZED"`;
//!   `Missing` no `ClockDrift` at all; `Malformed` `{ClockErrorBound: "0.3329285" (a string),
//!   ReferenceTimestamp: "yesterday", ClockSynchronizationStatus: 1}`; `Negative` the
//!   synchronized one with `ClockErrorBound: -0.5`. EC2 never has `ClockDrift`.
//! - EC2: no task `Limits`; each container `Limits {CPU: 256, Memory: 512}`; `VPCID`.
//! - `/taskWithTags`: `TaskTags` = `tags` (always present, maybe `{}`); on EC2 also
//!   `ContainerInstanceTags` `{"Name": "sim-ecs-instance", "team": "platform"}`. With
//!   `tags_error`, `ContainerInstanceTags` is left out and `Errors` holds one
//!   `AccessDeniedException` for it (the task tags stay valid, as on a real agent whose
//!   instance role may not list the instance's tags). On Fargate the path answers 404.
//!
//! # Stats of normal container k at time t
//! `read` is t (RFC 3339, nanoseconds); `e` is t − server start in seconds, or t − the
//! container's last restart for the per-container counters. Counters are `base + rate × e`
//! rounded down, so Δcounter / Δread is the rate up to rounding. After a restart the bases are 0.
//! - CPU: `total_usage` = 1,000,000,000 + (k+1) × 50,000,000 × e ns, so
//!   `ContainerCpuUtilized` = (k+1) × 51.2 CPU units; kernel/user split 20/80;
//!   `system_cpu_usage` = 2 × 10^9 × (e_task + 100,000); `online_cpus` 2; `percpu_usage`
//!   (2 halves) on cgroup v1 only.
//! - `throttling_data`: all 0 by default, as the ECS agent serves it on both platforms
//!   (aws/amazon-ecs-agent#4473). With `throttled`, what a plain Docker host reads from the
//!   cgroup's `cpu.stat` with the 100 ms CFS period, on the container's own clock e (the pause
//!   container's is e_task): `periods` = ⌊e / 0.1 s⌋, `throttled_periods` = ⌊periods / 4⌋,
//!   `throttled_time` = throttled_periods × 20,000,000 ns. So per second: 10 periods, 2.5
//!   throttled, 50 ms throttled; throttled_periods ≤ periods and throttled_time ≤
//!   throttled_periods × 100 ms. EC2's `precpu_stats` follows the same formula at its earlier
//!   sample; Fargate's all-zero `precpu_stats` stays all zero.
//! - `precpu_stats`: Fargate all zeros with `preread` `0001-01-01T00:00:00Z`; EC2 the same
//!   formulas at t − 1 s with `preread` = read − 1 s (in the first second after the start or a
//!   restart: at that moment instead, so Δtotal_usage / Δread is still the rate).
//! - Memory: working set (k+1) × 64 MiB. cgroup v1: `usage` = (k+1) × 80 MiB,
//!   `stats.cache` (k+1) × 16 MiB, `rss` (k+1) × 64 MiB, `total_inactive_file` (k+1) × 12 MiB,
//!   `max_usage` (k+1) × 88 MiB. cgroup v2: `usage` = (k+1) × 80 MiB, `anon` (k+1) × 56 MiB,
//!   `file` (k+1) × 24 MiB, `inactive_file` (k+1) × 16 MiB, no `cache`, no `max_usage`.
//!   `limit`: Fargate 9223372036854771712, EC2 536870912.
//! - Network, awsvpc: every container shows the same task ENI (`eth1` Fargate, `eth0` EC2):
//!   rx_bytes 5,000,000 + 100,000 × e_task, tx_bytes 1,000,000 + 40,000 × e_task, rx_packets
//!   100 × e_task, tx_packets 40 × e_task, errors/dropped 0. Bridge: each its own `eth0`:
//!   rx_bytes (k+1) × 10,000 × e, tx_bytes (k+1) × 5,000 × e, rx_packets (k+1) × 10 × e,
//!   tx_packets (k+1) × 5 × e. `network_rate_stats` gives the byte rates.
//! - Block I/O `io_service_bytes_recursive`: read (k+1) × 4096 × e, write (k+1) × 8192 × e,
//!   split evenly over devices 259:0 and 259:1. cgroup v1 adds `Discard` (k+1) × 1024 × e,
//!   `Total` = read + write + discard, `Sync` = ¾ of Total, `Async` the rest (so no op but
//!   `Read`/`Write` equals a read/write sum); other lists `[]`. cgroup v2: only lowercase
//!   `read`/`write`, other lists `null`.
//! - `pids_stats`: v2 `{current: 5+k, limit: 4096}`, v1 `{}`. `name`: Fargate the plain name,
//!   EC2 `/` + DockerName. `id` = DockerId. `num_procs` 0, `storage_stats` `{}`.
//!
//! # Agent introspection API (EC2)
//! Unless `introspection` is false, EC2 also answers `/v1/metadata` and `/v1/tasks` (exact
//! paths, not under the base); Fargate, which has no agent API, and replays answer 404. Bodies
//! and status codes are in `introspection.rs`: `Cluster` `sim-cluster`, `ContainerInstanceArn`
//! `arn:aws:ecs:us-east-1:123456789012:container-instance/sim-cluster/<32 hex>` (the instance
//! `/taskWithTags` errors name), `Version` `Amazon ECS Agent - v1.89.2 (4c59f4a1)`; the task's
//! `Arn`, `Family` and `Version` (= Revision) are `/task`'s, and its `Containers` are `/task`'s
//! but the pause container, each `{DockerId, DockerName, Name}`.

use std::fmt;
use std::str::FromStr;

/// Where the simulated task runs; decides most of the endpoint's quirks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Fargate,
    Ec2,
}

/// The cgroup version of the host, which decides the docker stats keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cgroup {
    V1,
    V2,
}

/// The task's network mode: one shared ENI (`awsvpc`) or one namespace per container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    Awsvpc,
    Bridge,
}

/// What Fargate's `/task` serves as `ClockDrift` (values in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockDriftMode {
    Synchronized,
    NotSynchronized,
    Missing,
    Malformed,
    Negative,
}

/// What the simulated task looks like. See the module documentation for every number served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub platform: Platform,
    pub cgroup: Cgroup,
    pub network: NetworkMode,
    /// Running ("normal") containers, at least 1.
    pub containers: usize,
    /// Pad (with `x`) or cut every simulated container name to exactly this many characters.
    pub name_length: Option<usize>,
    /// Extra containers in `KnownStatus` `STOPPED`.
    pub stopped_containers: usize,
    /// Task tags served by `/taskWithTags`.
    pub tags: Vec<(String, String)>,
    /// `/taskWithTags` reports an `AccessDeniedException` in `Errors`.
    pub tags_error: bool,
    /// The task carries `ServiceName` (false: a standalone task).
    pub service_name: bool,
    /// Containers carry `RestartCount`.
    pub restart_count_field: bool,
    /// Fargate's `ClockDrift` (EC2 serves none whatever this says).
    pub clock_drift: ClockDriftMode,
    /// The ECS agent's introspection API (`/v1/metadata`, `/v1/tasks`) answers. EC2 only:
    /// Fargate has no agent API, whatever this says.
    pub introspection: bool,
    /// CPU throttling counters grow as a plain Docker host reports them (the ECS agent serves
    /// zeros).
    pub throttled: bool,
}

impl Scenario {
    /// Fargate, cgroup v1, awsvpc, 3 containers: the shape of the Fargate fixtures.
    pub fn fargate() -> Self {
        Self {
            platform: Platform::Fargate,
            cgroup: Cgroup::V1,
            network: NetworkMode::Awsvpc,
            ..Self::common()
        }
    }

    /// EC2, cgroup v2, bridge, 3 containers: the shape of the EC2 fixtures.
    pub fn ec2() -> Self {
        Self {
            platform: Platform::Ec2,
            cgroup: Cgroup::V2,
            network: NetworkMode::Bridge,
            ..Self::common()
        }
    }

    fn common() -> Self {
        Self {
            platform: Platform::Fargate,
            cgroup: Cgroup::V1,
            network: NetworkMode::Awsvpc,
            containers: 3,
            name_length: None,
            stopped_containers: 0,
            tags: Vec::new(),
            tags_error: false,
            service_name: true,
            restart_count_field: false,
            clock_drift: ClockDriftMode::Synchronized,
            introspection: true,
            throttled: false,
        }
    }

    /// The name of normal container `k`, before `name_length` is applied.
    pub(crate) fn base_name(k: usize) -> String {
        match k {
            0 => "app".to_owned(),
            1 => "ecs-emf-exporter".to_owned(),
            _ => format!("worker-{k}"),
        }
    }

    /// Applies `name_length`: pads with `x` or cuts so the name has exactly that many chars.
    pub(crate) fn fit_name(&self, name: &str) -> String {
        match self.name_length {
            None => name.to_owned(),
            Some(n) => {
                let mut fitted: String = name.chars().take(n).collect();
                while fitted.chars().count() < n {
                    fitted.push('x');
                }
                fitted
            }
        }
    }

    /// Whether the agent's introspection API answers: on EC2, unless turned off.
    pub(crate) fn serves_introspection(&self) -> bool {
        self.platform == Platform::Ec2 && self.introspection
    }

    /// Whether the task lists the EC2 awsvpc pause container.
    pub(crate) fn has_pause_container(&self) -> bool {
        self.platform == Platform::Ec2 && self.network == NetworkMode::Awsvpc
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self::fargate()
    }
}

impl FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fargate" => Ok(Self::Fargate),
            "ec2" => Ok(Self::Ec2),
            _ => Err(format!("'{s}' is not a platform (fargate|ec2)")),
        }
    }
}

impl FromStr for Cgroup {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v1" => Ok(Self::V1),
            "v2" => Ok(Self::V2),
            _ => Err(format!("'{s}' is not a cgroup version (v1|v2)")),
        }
    }
}

impl FromStr for NetworkMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "awsvpc" => Ok(Self::Awsvpc),
            "bridge" => Ok(Self::Bridge),
            _ => Err(format!("'{s}' is not a network mode (awsvpc|bridge)")),
        }
    }
}

impl FromStr for ClockDriftMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "synchronized" => Ok(Self::Synchronized),
            "not-synchronized" => Ok(Self::NotSynchronized),
            "missing" => Ok(Self::Missing),
            "malformed" => Ok(Self::Malformed),
            "negative" => Ok(Self::Negative),
            _ => Err(format!(
                "'{s}' is not a clock drift (synchronized|not-synchronized|missing|malformed|negative)"
            )),
        }
    }
}

impl fmt::Display for ClockDriftMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Synchronized => "synchronized",
            Self::NotSynchronized => "not-synchronized",
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Negative => "negative",
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fargate => "fargate",
            Self::Ec2 => "ec2",
        })
    }
}

impl fmt::Display for Cgroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        })
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Awsvpc => "awsvpc",
            Self::Bridge => "bridge",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_match_the_fixture_shapes() {
        let f = Scenario::fargate();
        assert_eq!(
            (f.platform, f.cgroup, f.network, f.containers),
            (Platform::Fargate, Cgroup::V1, NetworkMode::Awsvpc, 3)
        );
        let e = Scenario::ec2();
        assert_eq!(
            (e.platform, e.cgroup, e.network, e.containers),
            (Platform::Ec2, Cgroup::V2, NetworkMode::Bridge, 3)
        );
        assert_eq!(Scenario::default(), f);
        assert!(f.service_name && !f.restart_count_field && !f.tags_error);
    }

    #[test]
    fn base_names_follow_the_index() {
        let names: Vec<String> = (0..4).map(Scenario::base_name).collect();
        assert_eq!(names, ["app", "ecs-emf-exporter", "worker-2", "worker-3"]);
    }

    #[test]
    fn fit_name_pads_and_cuts_to_exactly_n() {
        let mut s = Scenario::fargate();
        assert_eq!(s.fit_name("app"), "app");
        s.name_length = Some(6);
        assert_eq!(s.fit_name("app"), "appxxx");
        assert_eq!(s.fit_name("ecs-emf-exporter"), "ecs-em");
        s.name_length = Some(255);
        assert_eq!(s.fit_name("worker-2").len(), 255);
    }

    #[test]
    fn introspection_only_on_ec2_and_only_when_on() {
        let mut s = Scenario::ec2();
        assert!(s.introspection && s.serves_introspection());
        s.introspection = false;
        assert!(!s.serves_introspection());
        let f = Scenario::fargate();
        assert!(f.introspection && !f.serves_introspection());
        assert!(!f.throttled && !Scenario::ec2().throttled);
    }

    #[test]
    fn pause_container_only_on_ec2_awsvpc() {
        let mut s = Scenario::ec2();
        assert!(!s.has_pause_container());
        s.network = NetworkMode::Awsvpc;
        assert!(s.has_pause_container());
        assert!(!Scenario::fargate().has_pause_container());
    }

    #[test]
    fn enums_parse_and_print_their_flag_spelling() {
        for p in [Platform::Fargate, Platform::Ec2] {
            assert_eq!(p.to_string().parse::<Platform>(), Ok(p));
        }
        for c in [Cgroup::V1, Cgroup::V2] {
            assert_eq!(c.to_string().parse::<Cgroup>(), Ok(c));
        }
        for n in [NetworkMode::Awsvpc, NetworkMode::Bridge] {
            assert_eq!(n.to_string().parse::<NetworkMode>(), Ok(n));
        }
        for d in [
            ClockDriftMode::Synchronized,
            ClockDriftMode::NotSynchronized,
            ClockDriftMode::Missing,
            ClockDriftMode::Malformed,
            ClockDriftMode::Negative,
        ] {
            assert_eq!(d.to_string().parse::<ClockDriftMode>(), Ok(d));
        }
        assert!("FARGATE".parse::<Platform>().is_err());
        assert!("host".parse::<NetworkMode>().is_err());
    }
}
