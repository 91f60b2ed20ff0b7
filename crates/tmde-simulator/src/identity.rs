//! Names and ids of the simulated task and its containers (the "roster").
//!
//! Ids are hashed from fixed seeds, never random, so two runs of the simulator (and the tests of
//! the exporter) see the same DockerIds, ARNs and names.

use super::scenario::{NetworkMode, Platform, Scenario};

pub(crate) const ACCOUNT: &str = "123456789012";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const CLUSTER_NAME: &str = "sim-cluster";
pub(crate) const FAMILY: &str = "sim-app";
pub(crate) const REVISION: &str = "7";

/// Seed domains, so that a normal, a stopped and the pause container never share a hash input.
const DOMAIN_TASK: u64 = 1 << 40;
const DOMAIN_NORMAL: u64 = 2 << 40;
const DOMAIN_STOPPED: u64 = 3 << 40;
const DOMAIN_PAUSE: u64 = 4 << 40;
const DOMAIN_INSTANCE: u64 = 5 << 40;
/// Salts for the different ids of one container.
const SALT_DOCKER_ID: u64 = 0;
const SALT_DOCKER_NAME: u64 = 1 << 20;
const SALT_IMAGE_ID: u64 = 2 << 20;
const SALT_ARN: u64 = 3 << 20;

/// What a container is, which decides its status and its stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A running task-definition container; `k` is its index.
    Normal { k: usize },
    /// An exited task-definition container; `i` counts the stopped ones.
    Stopped { i: usize },
    /// The EC2 awsvpc pause container (`Type` `CNI_PAUSE`).
    Pause,
}

/// One container's fixed identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimContainer {
    pub kind: Kind,
    pub name: String,
    pub docker_id: String,
    pub docker_name: String,
    pub image: String,
    pub image_id: String,
    pub container_arn: String,
    pub ipv4: String,
}

/// The task's identity and its containers in the order `/task` lists them: normal containers,
/// then stopped ones, then the pause container (so container 0 is always `app`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Roster {
    pub task_id: String,
    pub containers: Vec<SimContainer>,
}

impl Roster {
    pub(crate) fn new(scenario: &Scenario) -> Self {
        let task_id = hex(DOMAIN_TASK, 32);
        let mut containers = Vec::new();
        for k in 0..scenario.containers {
            let name = scenario.fit_name(&Scenario::base_name(k));
            let image = if k == 0 {
                "public.ecr.aws/nginx/nginx:1.27".to_owned()
            } else {
                format!("public.ecr.aws/sim/{name}:latest")
            };
            let seed = DOMAIN_NORMAL + k as u64;
            containers.push(container(
                scenario,
                &task_id,
                Kind::Normal { k },
                seed,
                name,
                image,
            ));
        }
        for i in 0..scenario.stopped_containers {
            let name = scenario.fit_name(&format!("stopped-{i}"));
            let image = format!("public.ecr.aws/sim/{name}:latest");
            let seed = DOMAIN_STOPPED + i as u64;
            containers.push(container(
                scenario,
                &task_id,
                Kind::Stopped { i },
                seed,
                name,
                image,
            ));
        }
        if scenario.has_pause_container() {
            let name = "~internal~ecs~pause".to_owned();
            let image = "amazon/amazon-ecs-pause:0.1.0".to_owned();
            containers.push(container(
                scenario,
                &task_id,
                Kind::Pause,
                DOMAIN_PAUSE,
                name,
                image,
            ));
        }
        Self {
            task_id,
            containers,
        }
    }

    pub(crate) fn task_arn(&self) -> String {
        format!(
            "arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER_NAME}/{}",
            self.task_id
        )
    }
}

/// The EC2 container instance the task runs on (named in `/taskWithTags` errors).
pub(crate) fn container_instance_arn() -> String {
    format!(
        "arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/{CLUSTER_NAME}/{}",
        hex(DOMAIN_INSTANCE, 32)
    )
}

/// `Cluster` as each platform reports it: Fargate gives the ARN, EC2 the short name.
pub(crate) fn cluster(platform: Platform) -> String {
    match platform {
        Platform::Fargate => format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER_NAME}"),
        Platform::Ec2 => CLUSTER_NAME.to_owned(),
    }
}

fn container(
    scenario: &Scenario,
    task_id: &str,
    kind: Kind,
    seed: u64,
    name: String,
    image: String,
) -> SimContainer {
    let docker_id = match scenario.platform {
        // Fargate ids are "<task id>-<a u32 in decimal>", like the Fargate fixture.
        Platform::Fargate => format!(
            "{task_id}-{}",
            1_000_000_000 + splitmix64(seed + SALT_DOCKER_ID) % 3_000_000_000
        ),
        Platform::Ec2 => hex(seed + SALT_DOCKER_ID, 64),
    };
    let docker_name = match scenario.platform {
        Platform::Fargate => name.clone(),
        Platform::Ec2 => {
            // The agent names Docker containers ecs-<family>-<revision>-<name>-<20 hex>, and
            // strips characters Docker rejects (the pause container becomes "internalecspause").
            let safe: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            format!(
                "ecs-{FAMILY}-{REVISION}-{safe}-{}",
                hex(seed + SALT_DOCKER_NAME, 20)
            )
        }
    };
    let ipv4 = match (scenario.network, kind) {
        (NetworkMode::Awsvpc, _) => "10.0.1.25".to_owned(),
        // A stopped bridge container has lost its address: the EC2 fixture shows [""].
        (NetworkMode::Bridge, Kind::Stopped { .. }) => String::new(),
        (NetworkMode::Bridge, Kind::Normal { k }) => bridge_ip(k),
        (NetworkMode::Bridge, Kind::Pause) => bridge_ip(0),
    };
    let arn_hex = hex(seed + SALT_ARN, 32);
    let container_arn = format!(
        "arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER_NAME}/{task_id}/{}-{}-{}-{}-{}",
        &arn_hex[0..8],
        &arn_hex[8..12],
        &arn_hex[12..16],
        &arn_hex[16..20],
        &arn_hex[20..32]
    );
    SimContainer {
        kind,
        name,
        docker_id,
        docker_name,
        image,
        image_id: format!("sha256:{}", hex(seed + SALT_IMAGE_ID, 64)),
        container_arn,
        ipv4,
    }
}

/// Docker's default bridge hands out 172.17.0.2 onwards; spill into the third octet past 253.
fn bridge_ip(k: usize) -> String {
    let n = k + 2;
    format!("172.17.{}.{}", n / 256, n % 256)
}

/// `digits` lowercase hex digits derived from `seed`.
fn hex(seed: u64, digits: usize) -> String {
    let mut out = String::with_capacity(digits + 16);
    let mut block = 0;
    while out.len() < digits {
        out.push_str(&format!(
            "{:016x}",
            splitmix64(seed.wrapping_mul(31).wrapping_add(block))
        ));
        block += 1;
    }
    out.truncate(digits);
    out
}

/// A small, well-mixed hash (SplitMix64): deterministic and good enough for fake ids.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_hex(s: &str) -> bool {
        s.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }

    #[test]
    fn fargate_ids_look_like_the_fixture() {
        let roster = Roster::new(&Scenario::fargate());
        assert_eq!(roster.task_id.len(), 32);
        assert!(is_hex(&roster.task_id));
        for c in &roster.containers {
            let (task, num) = c.docker_id.split_once('-').unwrap_or_default();
            assert_eq!(task, roster.task_id);
            assert_eq!(num.len(), 10, "{}", c.docker_id);
            assert!(num.chars().all(|d| d.is_ascii_digit()));
            assert_eq!(c.docker_name, c.name);
        }
        assert_eq!(
            roster.task_arn(),
            format!(
                "arn:aws:ecs:us-east-1:123456789012:task/sim-cluster/{}",
                roster.task_id
            )
        );
    }

    #[test]
    fn ec2_ids_are_64_hex_and_docker_names_follow_the_agent() {
        let mut s = Scenario::ec2();
        s.network = NetworkMode::Awsvpc;
        let roster = Roster::new(&s);
        for c in &roster.containers {
            assert_eq!(c.docker_id.len(), 64);
            assert!(is_hex(&c.docker_id));
        }
        let names: Vec<&str> = roster
            .containers
            .iter()
            .map(|c| c.docker_name.as_str())
            .collect();
        assert!(names[0].starts_with("ecs-sim-app-7-app-"));
        assert!(names[3].starts_with("ecs-sim-app-7-internalecspause-"));
        assert_eq!(roster.containers[3].kind, Kind::Pause);
    }

    #[test]
    fn ids_are_deterministic_and_unique_at_the_largest_size() {
        let mut s = Scenario::ec2();
        s.containers = 500;
        s.stopped_containers = 500;
        for platform in [Platform::Ec2, Platform::Fargate] {
            s.platform = platform;
            let a = Roster::new(&s);
            assert_eq!(a, Roster::new(&s));
            let ids: HashSet<&str> = a.containers.iter().map(|c| c.docker_id.as_str()).collect();
            assert_eq!(ids.len(), 1000);
        }
    }

    #[test]
    fn order_is_normal_then_stopped_then_pause() {
        let mut s = Scenario::ec2();
        s.network = NetworkMode::Awsvpc;
        s.stopped_containers = 2;
        let kinds: Vec<Kind> = Roster::new(&s).containers.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Normal { k: 0 },
                Kind::Normal { k: 1 },
                Kind::Normal { k: 2 },
                Kind::Stopped { i: 0 },
                Kind::Stopped { i: 1 },
                Kind::Pause
            ]
        );
    }

    #[test]
    fn bridge_addresses_are_per_container_and_stopped_ones_are_empty() {
        let mut s = Scenario::ec2();
        s.stopped_containers = 1;
        let ips: Vec<String> = Roster::new(&s)
            .containers
            .into_iter()
            .map(|c| c.ipv4)
            .collect();
        assert_eq!(ips, ["172.17.0.2", "172.17.0.3", "172.17.0.4", ""]);
        assert_eq!(bridge_ip(300), "172.17.1.46");
    }

    #[test]
    fn cluster_is_an_arn_only_on_fargate() {
        assert_eq!(
            cluster(Platform::Fargate),
            "arn:aws:ecs:us-east-1:123456789012:cluster/sim-cluster"
        );
        assert_eq!(cluster(Platform::Ec2), "sim-cluster");
    }
}
