//! The metadata documents: `/task`, `/taskWithTags` and the container's own metadata.
//!
//! Field names and their order follow the ECS agent's v4 responses (PascalCase, `TaskARN`,
//! `IPv4Addresses`, …) as captured in the exporter's `tests/fixtures`. Values are in `scenario.rs`'s doc.

use std::collections::BTreeMap;

use serde::Serialize;

use super::identity::{self, FAMILY, Kind, REGION, REVISION, Roster, SimContainer};
use super::scenario::{ClockDriftMode, NetworkMode, Platform, Scenario};

const PULL_STARTED_AT: &str = "2026-01-01T00:00:00.000000000Z";
const PULL_STOPPED_AT: &str = "2026-01-01T00:00:12.500000000Z";
const CREATED_AT: &str = "2026-01-01T00:00:13.000000000Z";
const STARTED_AT: &str = "2026-01-01T00:00:13.500000000Z";
const FINISHED_AT: &str = "2026-01-01T00:00:14.000000000Z";
const TAGS_DENIED_REQUEST_ID: &str = "5c0e0f7e-6d1b-4f9a-9a57-3f2b1d0c8e41";

/// How a normal container ended (`--exit`, `--oom-kill`), fixed from the request that stopped
/// it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exit {
    pub code: u8,
    /// When it stopped, RFC 3339 UTC with nanoseconds like every timestamp the crate serves.
    pub finished_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TaskMetadata {
    cluster: String,
    #[serde(rename = "TaskARN")]
    task_arn: String,
    family: &'static str,
    revision: &'static str,
    desired_status: &'static str,
    known_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    limits: Option<TaskLimits>,
    pull_started_at: &'static str,
    pull_stopped_at: &'static str,
    availability_zone: &'static str,
    launch_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container_instance_tags: Option<BTreeMap<String, String>>,
    containers: Vec<ContainerMetadata>,
    #[serde(rename = "VPCID", skip_serializing_if = "Option::is_none")]
    vpc_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<&'static str>,
    /// A JSON value, so that `ClockDriftMode::Malformed` can serve the wrong types.
    #[serde(skip_serializing_if = "Option::is_none")]
    clock_drift: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ephemeral_storage_metrics: Option<EphemeralStorageMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<TagError>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TaskLimits {
    /// vCPU, a float on the wire (Fargate writes 0.25, 1.0, …).
    #[serde(rename = "CPU")]
    cpu: f64,
    /// MiB.
    memory: u64,
}

const CLOCK_REFERENCE_TIMESTAMP: &str = "2026-01-01T00:00:00Z";

/// `ClockDrift` as the scenario wants it (Fargate only), field order as the agent writes it.
fn clock_drift(mode: ClockDriftMode) -> Option<serde_json::Value> {
    let drift = |bound: serde_json::Value, at: serde_json::Value, status: serde_json::Value| {
        let mut fields = serde_json::Map::new();
        fields.insert("ClockErrorBound".into(), bound);
        fields.insert("ReferenceTimestamp".into(), at);
        fields.insert("ClockSynchronizationStatus".into(), status);
        Some(serde_json::Value::Object(fields))
    };
    let at = || serde_json::Value::from(CLOCK_REFERENCE_TIMESTAMP);
    match mode {
        ClockDriftMode::Synchronized => drift(0.3329285.into(), at(), "SYNCHRONIZED".into()),
        ClockDriftMode::NotSynchronized => drift(12.5.into(), at(), "NOT_SYNCHRONIZED".into()),
        ClockDriftMode::Missing => None,
        ClockDriftMode::Malformed => drift("0.3329285".into(), "yesterday".into(), 1.into()),
        ClockDriftMode::Negative => drift((-0.5).into(), at(), "SYNCHRONIZED".into()),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EphemeralStorageMetrics {
    utilized: u64,
    reserved: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagError {
    error_field: &'static str,
    error_code: &'static str,
    error_message: String,
    status_code: u16,
    request_id: &'static str,
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ContainerMetadata {
    docker_id: String,
    name: String,
    docker_name: String,
    image: String,
    #[serde(rename = "ImageID")]
    image_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ports: Option<Vec<Port>>,
    labels: BTreeMap<&'static str, String>,
    desired_status: &'static str,
    known_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    limits: ContainerLimits,
    created_at: &'static str,
    started_at: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<String>,
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_driver: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_options: Option<BTreeMap<&'static str, String>>,
    #[serde(rename = "ContainerARN")]
    container_arn: String,
    networks: Vec<Network>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshotter: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restart_count: Option<u32>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Port {
    container_port: u16,
    protocol: &'static str,
    host_port: u16,
    host_ip: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerLimits {
    /// CPU units (1024 = 1 vCPU).
    #[serde(rename = "CPU")]
    cpu: u64,
    /// MiB; Fargate leaves it out when the task definition sets none.
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Network {
    network_mode: &'static str,
    #[serde(rename = "IPv4Addresses")]
    ipv4_addresses: Vec<String>,
    /// The ENI details below exist only in awsvpc mode.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    eni: Option<Eni>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Eni {
    attachment_index: u32,
    #[serde(rename = "MACAddress")]
    mac_address: &'static str,
    #[serde(rename = "IPv4SubnetCIDRBlock")]
    ipv4_subnet_cidr_block: &'static str,
    domain_name_servers: Vec<&'static str>,
    domain_name_search_list: Vec<&'static str>,
    #[serde(rename = "PrivateDNSName")]
    private_dns_name: &'static str,
    subnet_gateway_ipv4_address: &'static str,
}

/// `/task` (`with_tags` false) or `/taskWithTags` (true). `restart_counts[k]` is how often
/// normal container k restarted so far; `exits[k]` how it stopped, if it has.
pub(crate) fn task_document(
    scenario: &Scenario,
    roster: &Roster,
    restart_counts: &[u32],
    exits: &[Option<Exit>],
    with_tags: bool,
) -> TaskMetadata {
    let fargate = scenario.platform == Platform::Fargate;
    let ec2 = !fargate;
    let task_tags = with_tags.then(|| scenario.tags.iter().cloned().collect());
    // A denied ListTagsForResource on the instance drops ContainerInstanceTags and explains why.
    let container_instance_tags = (with_tags && ec2 && !scenario.tags_error).then(|| {
        BTreeMap::from([
            ("Name".to_owned(), "sim-ecs-instance".to_owned()),
            ("team".to_owned(), "platform".to_owned()),
        ])
    });
    let errors = (with_tags && scenario.tags_error).then(|| vec![tags_denied()]);
    TaskMetadata {
        cluster: identity::cluster(scenario.platform),
        task_arn: roster.task_arn(),
        family: FAMILY,
        revision: REVISION,
        desired_status: "RUNNING",
        known_status: "RUNNING",
        limits: fargate.then_some(TaskLimits {
            cpu: 1.0,
            memory: 2048,
        }),
        pull_started_at: PULL_STARTED_AT,
        pull_stopped_at: PULL_STOPPED_AT,
        availability_zone: "us-east-1a",
        launch_type: if fargate { "FARGATE" } else { "EC2" },
        task_tags,
        container_instance_tags,
        containers: roster
            .containers
            .iter()
            .map(|c| container_document(scenario, roster, c, restart_counts, exits))
            .collect(),
        vpc_id: ec2.then_some("vpc-0123456789abcdef0"),
        service_name: scenario.service_name.then_some("sim-service"),
        clock_drift: if fargate {
            clock_drift(scenario.clock_drift)
        } else {
            None
        },
        ephemeral_storage_metrics: fargate.then_some(EphemeralStorageMetrics {
            utilized: 512,
            reserved: 20496,
        }),
        errors,
    }
}

/// One container's metadata, as in `Containers[]` and at `${ECS_CONTAINER_METADATA_URI_V4}`.
pub(crate) fn container_document(
    scenario: &Scenario,
    roster: &Roster,
    container: &SimContainer,
    restart_counts: &[u32],
    exits: &[Option<Exit>],
) -> ContainerMetadata {
    let fargate = scenario.platform == Platform::Fargate;
    let exit = match container.kind {
        Kind::Normal { k } => exits.get(k).and_then(Option::as_ref),
        Kind::Stopped { .. } | Kind::Pause => None,
    };
    let stopped = exit.is_some() || matches!(container.kind, Kind::Stopped { .. });
    let pause = container.kind == Kind::Pause;
    let limits = match (pause, fargate) {
        (true, _) => ContainerLimits {
            cpu: 0,
            memory: Some(0),
        },
        // Fargate reports Docker's minimum CPU share (2) when the task definition sets none.
        (false, true) => ContainerLimits {
            cpu: 2,
            memory: None,
        },
        (false, false) => ContainerLimits {
            cpu: 256,
            memory: Some(512),
        },
    };
    let restart_count = match container.kind {
        Kind::Normal { k } if scenario.restart_count_field => {
            Some(restart_counts.get(k).copied().unwrap_or(0))
        }
        Kind::Stopped { .. } if scenario.restart_count_field => Some(0),
        _ => None,
    };
    // The nginx container of a bridge task publishes a port, like the EC2 fixture's.
    let ports = (scenario.network == NetworkMode::Bridge
        && container.kind == (Kind::Normal { k: 0 }))
    .then(|| {
        ["0.0.0.0", "::"]
            .into_iter()
            .map(|host_ip| Port {
                container_port: 80,
                protocol: "tcp",
                host_port: 32768,
                host_ip,
            })
            .collect()
    });
    ContainerMetadata {
        docker_id: container.docker_id.clone(),
        name: container.name.clone(),
        docker_name: container.docker_name.clone(),
        image: container.image.clone(),
        image_id: container.image_id.clone(),
        ports,
        labels: labels(scenario, roster, container),
        // The agent stopped an exited container on purpose (essential or not, it is not
        // restarted); the `--stopped` ones keep the shape of the EC2 fixture.
        desired_status: if exit.is_some() { "STOPPED" } else { "RUNNING" },
        known_status: if stopped { "STOPPED" } else { "RUNNING" },
        exit_code: match exit {
            Some(exit) => Some(i32::from(exit.code)),
            None => stopped.then_some(0),
        },
        limits,
        created_at: CREATED_AT,
        started_at: STARTED_AT,
        finished_at: match exit {
            Some(exit) => Some(exit.finished_at.clone()),
            None => stopped.then(|| FINISHED_AT.to_owned()),
        },
        kind: if pause { "CNI_PAUSE" } else { "NORMAL" },
        log_driver: (!pause).then_some("awslogs"),
        log_options: (!pause).then(|| log_options(roster, container)),
        container_arn: container.container_arn.clone(),
        networks: vec![network(scenario.network, container, exit.is_some())],
        snapshotter: fargate.then_some("overlayfs"),
        restart_count,
    }
}

fn labels(
    scenario: &Scenario,
    roster: &Roster,
    c: &SimContainer,
) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        (
            "com.amazonaws.ecs.cluster",
            identity::cluster(scenario.platform),
        ),
        ("com.amazonaws.ecs.container-name", c.name.clone()),
        ("com.amazonaws.ecs.task-arn", roster.task_arn()),
        (
            "com.amazonaws.ecs.task-definition-family",
            FAMILY.to_owned(),
        ),
        (
            "com.amazonaws.ecs.task-definition-version",
            REVISION.to_owned(),
        ),
    ])
}

fn log_options(roster: &Roster, c: &SimContainer) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("awslogs-group", format!("/ecs/{FAMILY}")),
        ("awslogs-region", REGION.to_owned()),
        (
            "awslogs-stream",
            format!("ecs/{}/{}", c.name, roster.task_id),
        ),
    ])
}

/// `exited`: the container stopped while the simulator ran; in bridge mode it has lost its
/// address by then, like the `--stopped` ones (the EC2 fixture shows `[""]`).
fn network(mode: NetworkMode, c: &SimContainer, exited: bool) -> Network {
    match mode {
        NetworkMode::Awsvpc => Network {
            network_mode: "awsvpc",
            ipv4_addresses: vec![c.ipv4.clone()],
            eni: Some(Eni {
                attachment_index: 0,
                mac_address: "0a:5e:1d:00:00:01",
                ipv4_subnet_cidr_block: "10.0.1.0/24",
                domain_name_servers: vec!["10.0.0.2"],
                domain_name_search_list: vec!["ec2.internal"],
                private_dns_name: "ip-10-0-1-25.ec2.internal",
                subnet_gateway_ipv4_address: "10.0.1.1/24",
            }),
        },
        NetworkMode::Bridge => Network {
            network_mode: "bridge",
            ipv4_addresses: vec![if exited {
                String::new()
            } else {
                c.ipv4.clone()
            }],
            eni: None,
        },
    }
}

/// The agent's answer when the instance role may not call ListTagsForResource on the
/// container instance (`/taskWithTags` exists on EC2 only, so this is the instance's error).
fn tags_denied() -> TagError {
    let resource = identity::container_instance_arn();
    TagError {
        error_field: "ContainerInstanceTags",
        error_code: "AccessDeniedException",
        error_message: format!(
            "User: arn:aws:sts::{}:assumed-role/ecsInstanceRole/i-0123456789abcdef0 is not authorized \
             to perform: ecs:ListTagsForResource on resource: {resource}",
            identity::ACCOUNT
        ),
        status_code: 400,
        request_id: TAGS_DENIED_REQUEST_ID,
        resource_arn: resource,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn task_json(scenario: &Scenario, with_tags: bool) -> Value {
        let roster = Roster::new(scenario);
        let counts = vec![0; scenario.containers];
        let exits = vec![None; scenario.containers];
        serde_json::to_value(task_document(scenario, &roster, &counts, &exits, with_tags))
            .expect("task metadata serializes")
    }

    #[test]
    fn fargate_task_has_task_limits_and_fargate_extras() {
        let t = task_json(&Scenario::fargate(), false);
        assert_eq!(
            t["Cluster"],
            "arn:aws:ecs:us-east-1:123456789012:cluster/sim-cluster"
        );
        assert_eq!(t["Limits"], json!({"CPU": 1.0, "Memory": 2048}));
        assert_eq!(t["LaunchType"], "FARGATE");
        assert_eq!(t["Family"], "sim-app");
        assert_eq!(t["Revision"], "7");
        assert_eq!(t["ServiceName"], "sim-service");
        assert_eq!(t["PullStartedAt"], "2026-01-01T00:00:00.000000000Z");
        assert_eq!(t["PullStoppedAt"], "2026-01-01T00:00:12.500000000Z");
        assert_eq!(
            t["EphemeralStorageMetrics"],
            json!({"Utilized": 512, "Reserved": 20496})
        );
        assert_eq!(
            t["ClockDrift"]["ClockSynchronizationStatus"],
            "SYNCHRONIZED"
        );
        assert!(t.get("TaskTags").is_none());
        let containers = t["Containers"].as_array().expect("Containers is an array");
        let names: Vec<&str> = containers
            .iter()
            .filter_map(|c| c["Name"].as_str())
            .collect();
        assert_eq!(names, ["app", "ecs-emf-exporter", "worker-2"]);
        for c in containers {
            assert_eq!(c["Limits"], json!({"CPU": 2}));
            assert_eq!(c["Type"], "NORMAL");
            assert_eq!(c["KnownStatus"], "RUNNING");
            assert_eq!(c["Networks"][0]["NetworkMode"], "awsvpc");
            assert!(c.get("RestartCount").is_none());
        }
        assert_eq!(containers[0]["Image"], "public.ecr.aws/nginx/nginx:1.27");
        assert_eq!(
            containers[1]["Image"],
            "public.ecr.aws/sim/ecs-emf-exporter:latest"
        );
    }

    #[test]
    fn clock_drift_modes() {
        let mut s = Scenario::fargate();
        assert_eq!(
            task_json(&s, false)["ClockDrift"],
            json!({"ClockErrorBound": 0.3329285, "ReferenceTimestamp": "2026-01-01T00:00:00Z",
                   "ClockSynchronizationStatus": "SYNCHRONIZED"})
        );
        s.clock_drift = ClockDriftMode::NotSynchronized;
        let t = task_json(&s, false);
        assert_eq!(t["ClockDrift"]["ClockErrorBound"], 12.5);
        assert_eq!(
            t["ClockDrift"]["ClockSynchronizationStatus"],
            "NOT_SYNCHRONIZED"
        );
        s.clock_drift = ClockDriftMode::Malformed;
        assert_eq!(
            task_json(&s, false)["ClockDrift"],
            json!({"ClockErrorBound": "0.3329285", "ReferenceTimestamp": "yesterday",
                   "ClockSynchronizationStatus": 1})
        );
        s.clock_drift = ClockDriftMode::Negative;
        assert_eq!(task_json(&s, false)["ClockDrift"]["ClockErrorBound"], -0.5);
        s.clock_drift = ClockDriftMode::Missing;
        assert!(task_json(&s, false).get("ClockDrift").is_none());
        let mut e = Scenario::ec2();
        e.clock_drift = ClockDriftMode::NotSynchronized;
        assert!(task_json(&e, false).get("ClockDrift").is_none());
    }

    #[test]
    fn ec2_task_has_no_task_limits_and_short_cluster() {
        let t = task_json(&Scenario::ec2(), false);
        assert_eq!(t["Cluster"], "sim-cluster");
        assert!(t.get("Limits").is_none());
        assert_eq!(t["LaunchType"], "EC2");
        assert!(t.get("EphemeralStorageMetrics").is_none());
        for c in t["Containers"].as_array().expect("Containers is an array") {
            assert_eq!(c["Limits"], json!({"CPU": 256, "Memory": 512}));
            assert_eq!(
                c["Networks"][0],
                json!({"NetworkMode": "bridge", "IPv4Addresses": [c["Networks"][0]["IPv4Addresses"][0]]})
            );
        }
    }

    #[test]
    fn stopped_and_pause_containers() {
        let mut s = Scenario::ec2();
        s.network = NetworkMode::Awsvpc;
        s.stopped_containers = 1;
        let t = task_json(&s, false);
        let c = t["Containers"].as_array().expect("Containers is an array");
        assert_eq!(c.len(), 5);
        assert_eq!(c[3]["Name"], "stopped-0");
        assert_eq!(c[3]["KnownStatus"], "STOPPED");
        assert_eq!(c[3]["ExitCode"], 0);
        assert!(c[3]["FinishedAt"].is_string());
        assert_eq!(c[4]["Name"], "~internal~ecs~pause");
        assert_eq!(c[4]["Type"], "CNI_PAUSE");
        assert_eq!(c[4]["KnownStatus"], "RUNNING");
    }

    #[test]
    fn with_tags_lists_task_and_instance_tags() {
        let mut s = Scenario::ec2();
        s.tags = vec![
            ("env".into(), "prod".into()),
            ("team".into(), "payments".into()),
        ];
        let t = task_json(&s, true);
        assert_eq!(t["TaskTags"], json!({"env": "prod", "team": "payments"}));
        assert_eq!(
            t["ContainerInstanceTags"],
            json!({"Name": "sim-ecs-instance", "team": "platform"})
        );
        assert!(t.get("Errors").is_none());
    }

    #[test]
    fn tags_error_keeps_task_tags_and_reports_the_denied_call() {
        let mut s = Scenario::ec2();
        s.tags_error = true;
        let t = task_json(&s, true);
        assert_eq!(t["TaskTags"], json!({}));
        assert!(t.get("ContainerInstanceTags").is_none());
        assert_eq!(t["Errors"][0]["ErrorField"], "ContainerInstanceTags");
        assert_eq!(t["Errors"][0]["ErrorCode"], "AccessDeniedException");
        assert_eq!(t["Errors"][0]["StatusCode"], 400);
    }

    #[test]
    fn an_exited_container_is_stopped_with_its_code_and_time() {
        let mut s = Scenario::ec2();
        s.restart_count_field = true;
        let roster = Roster::new(&s);
        let exits = [
            None,
            Some(Exit {
                code: 137,
                finished_at: "2026-03-04T05:06:07.123456789Z".to_owned(),
            }),
            None,
        ];
        let t = serde_json::to_value(task_document(&s, &roster, &[0, 1, 0], &exits, true))
            .expect("task metadata serializes");
        let c = t["Containers"].as_array().expect("Containers is an array");
        assert_eq!(c[1]["KnownStatus"], "STOPPED");
        assert_eq!(c[1]["DesiredStatus"], "STOPPED");
        assert_eq!(c[1]["ExitCode"], 137);
        assert_eq!(c[1]["FinishedAt"], "2026-03-04T05:06:07.123456789Z");
        assert_eq!(c[1]["StartedAt"], "2026-01-01T00:00:13.500000000Z");
        assert_eq!(c[1]["RestartCount"], 1);
        // Bridge: the stopped container has lost its address, like a --stopped one.
        assert_eq!(c[1]["Networks"][0]["IPv4Addresses"], json!([""]));
        // The others still run, with no exit fields at all.
        for k in [0, 2] {
            assert_eq!(c[k]["KnownStatus"], "RUNNING");
            assert_eq!(c[k]["DesiredStatus"], "RUNNING");
            assert!(c[k].get("ExitCode").is_none() && c[k].get("FinishedAt").is_none());
        }
        assert_eq!(c[2]["Networks"][0]["IPv4Addresses"], json!(["172.17.0.4"]));
        // awsvpc: the task ENI's address stays, as on a --stopped container.
        let mut a = Scenario::fargate();
        a.containers = 2;
        let roster = Roster::new(&a);
        let exit = Some(Exit {
            code: 0,
            finished_at: "2026-01-01T00:00:20.000000000Z".to_owned(),
        });
        let own = serde_json::to_value(container_document(
            &a,
            &roster,
            &roster.containers[0],
            &[0, 0],
            &[exit, None],
        ))
        .expect("container metadata serializes");
        assert_eq!(own["ExitCode"], 0);
        assert_eq!(own["KnownStatus"], "STOPPED");
        assert_eq!(own["Networks"][0]["IPv4Addresses"], json!(["10.0.1.25"]));
    }

    #[test]
    fn restart_count_and_service_name_switches() {
        let mut s = Scenario::fargate();
        s.restart_count_field = true;
        s.service_name = false;
        let roster = Roster::new(&s);
        let t = serde_json::to_value(task_document(&s, &roster, &[0, 2, 0], &[], false))
            .expect("task metadata serializes");
        assert_eq!(t["Containers"][1]["RestartCount"], 2);
        assert_eq!(t["Containers"][0]["RestartCount"], 0);
        assert!(t.get("ServiceName").is_none());
    }
}
