//! The ECS agent's introspection API: `/v1/metadata` and `/v1/tasks`.
//!
//! On a real EC2 container instance it is the agent's own port (`localhost:51678`), not the
//! Task Metadata Endpoint; the simulator serves it on the same listener so one process answers
//! both. Fargate has no agent API at all: there these paths are unknown (404). Shapes follow the
//! agent (`agent/handlers/v1/response.go`, `ecs-agent/introspection/v1/handlers/handlers.go`):
//!
//! - `/v1/metadata`: `{"Cluster", "ContainerInstanceArn", "Version"}`.
//! - `/v1/tasks`: `{"Tasks": [task]}`, a task being `{"Arn", "DesiredStatus", "KnownStatus",
//!   "Family", "Version", "Containers": [{"DockerId", "DockerName", "Name"}]}`. Like the agent,
//!   it leaves out internal containers (the awsvpc pause container); the other containers are
//!   in `/task`'s order (the agent's order is a Go map's, i.e. none).
//! - `/v1/tasks?dockerid=ID`: that task alone (not wrapped). An ID longer than 12 characters must
//!   equal a container's DockerId; up to 12, it is a prefix (Docker's short id) and must match
//!   exactly one container (the pause container included, as in the agent's state), else 400.
//! - `/v1/tasks?taskarn=ARN`: that task alone when ARN is the task's ARN.
//! - Nothing found: 404; both keys given: 400. Either way the body is the agent's empty task,
//!   `{"Arn":"","KnownStatus":"","Family":"","Version":"","Containers":null}`.
//!
//! The query is read as Go's `url.ParseQuery` reads it: `&`-separated, `+` and `%XX` decoded, the
//! first value of a key wins, a key given without `=` counts as given (with an empty value), a
//! pair with a bad `%` escape is dropped, and values are compared as bytes.

use serde::Serialize;

use super::identity::{self, FAMILY, Kind, REVISION, Roster, SimContainer};
use super::scenario::Platform;

/// The agent version the simulated instance runs, as `agentversion.String()` prints it.
pub(crate) const AGENT_VERSION: &str = "Amazon ECS Agent - v1.89.2 (4c59f4a1)";
/// Docker's short container id length: the agent treats a `dockerid` this long or shorter as a
/// prefix.
const DOCKER_SHORT_ID_LEN: usize = 12;

/// `GET /v1/metadata`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AgentMetadata {
    cluster: String,
    container_instance_arn: String,
    version: &'static str,
}

/// One task of `/v1/tasks`; `Default` is the agent's empty answer to a failed lookup.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TaskResponse {
    arn: String,
    /// Go's `omitempty`: the empty task has none.
    #[serde(skip_serializing_if = "str::is_empty")]
    desired_status: &'static str,
    known_status: &'static str,
    family: &'static str,
    version: &'static str,
    /// `null` in the empty task (a nil Go slice).
    containers: Option<Vec<ContainerResponse>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerResponse {
    docker_id: String,
    docker_name: String,
    name: String,
}

/// The body of a `/v1/tasks` answer.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum TasksBody {
    All {
        #[serde(rename = "Tasks")]
        tasks: Vec<TaskResponse>,
    },
    One(TaskResponse),
}

/// `/v1/metadata` of the instance the task runs on (EC2: `Cluster` is the short name).
pub(crate) fn agent_metadata() -> AgentMetadata {
    AgentMetadata {
        cluster: identity::cluster(Platform::Ec2),
        container_instance_arn: identity::container_instance_arn(),
        version: AGENT_VERSION,
    }
}

/// The status and body of `/v1/tasks?query` (`query` without the `?`, maybe empty).
pub(crate) fn tasks(roster: &Roster, query: &str) -> (u16, TasksBody) {
    let docker_id = query_value(query, "dockerid");
    let task_arn = query_value(query, "taskarn");
    let empty = || TasksBody::One(TaskResponse::default());
    match (docker_id, task_arn) {
        (Some(_), Some(_)) => (400, empty()),
        (Some(id), None) => {
            let matching = if id.len() > DOCKER_SHORT_ID_LEN {
                roster
                    .containers
                    .iter()
                    .filter(|c| c.docker_id.as_bytes() == id.as_slice())
                    .count()
            } else {
                roster
                    .containers
                    .iter()
                    .filter(|c| c.docker_id.as_bytes().starts_with(&id))
                    .count()
            };
            // The agent collects one task per matching container, so even two containers of
            // the same task make a short id ambiguous.
            match matching {
                0 => (404, empty()),
                1 => (200, TasksBody::One(task(roster))),
                _ => (400, empty()),
            }
        }
        (None, Some(arn)) if arn == roster.task_arn().as_bytes() => {
            (200, TasksBody::One(task(roster)))
        }
        (None, Some(_)) => (404, empty()),
        (None, None) => (
            200,
            TasksBody::All {
                tasks: vec![task(roster)],
            },
        ),
    }
}

fn task(roster: &Roster) -> TaskResponse {
    TaskResponse {
        arn: roster.task_arn(),
        desired_status: "RUNNING",
        known_status: "RUNNING",
        family: FAMILY,
        version: REVISION,
        containers: Some(
            roster
                .containers
                .iter()
                .filter(|c| c.kind != Kind::Pause)
                .map(container)
                .collect(),
        ),
    }
}

fn container(c: &SimContainer) -> ContainerResponse {
    ContainerResponse {
        docker_id: c.docker_id.clone(),
        docker_name: c.docker_name.clone(),
        name: c.name.clone(),
    }
}

/// The first value of `key` in `query` (empty for a key without a value), as Go's
/// `r.URL.Query()` gives it: bytes, since a Go string need not be UTF-8.
fn query_value(query: &str, key: &str) -> Option<Vec<u8>> {
    query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((unescape(k)?, unescape(v)?))
        })
        .find(|(k, _)| k.as_slice() == key.as_bytes())
        .map(|(_, v)| v)
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; `None` for a bad escape.
fn unescape(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex_digit(bytes.next()?)?;
                let lo = hex_digit(bytes.next()?)?;
                out.push((hi << 4) | lo);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{NetworkMode, Scenario};
    use serde_json::{Value, json};

    fn roster(network: NetworkMode, stopped: usize) -> Roster {
        let mut s = Scenario::ec2();
        s.network = network;
        s.stopped_containers = stopped;
        Roster::new(&s)
    }

    fn answer(roster: &Roster, query: &str) -> (u16, Value) {
        let (status, body) = tasks(roster, query);
        (
            status,
            serde_json::to_value(body).expect("tasks body serializes"),
        )
    }

    const EMPTY_TASK: &str =
        r#"{"Arn":"","KnownStatus":"","Family":"","Version":"","Containers":null}"#;

    #[test]
    fn metadata_names_the_cluster_instance_and_agent() {
        let m = serde_json::to_value(agent_metadata()).expect("metadata serializes");
        assert_eq!(m["Cluster"], "sim-cluster");
        assert_eq!(m["Version"], "Amazon ECS Agent - v1.89.2 (4c59f4a1)");
        let arn = m["ContainerInstanceArn"].as_str().unwrap_or_default();
        let id = arn
            .strip_prefix("arn:aws:ecs:us-east-1:123456789012:container-instance/sim-cluster/")
            .unwrap_or_default();
        assert_eq!(id.len(), 32, "{arn}");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{arn}"
        );
        assert_eq!(m.as_object().map(|o| o.len()), Some(3));
    }

    #[test]
    fn the_list_has_the_task_and_its_containers_but_not_the_pause_one() {
        let r = roster(NetworkMode::Awsvpc, 1);
        let (status, body) = answer(&r, "");
        assert_eq!(status, 200);
        let tasks = body["Tasks"].as_array().cloned().unwrap_or_default();
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        assert_eq!(t["Arn"], r.task_arn());
        assert_eq!(t["DesiredStatus"], "RUNNING");
        assert_eq!(t["KnownStatus"], "RUNNING");
        assert_eq!(t["Family"], "sim-app");
        assert_eq!(t["Version"], "7");
        // 3 normal + 1 stopped; the pause container (the 5th in /task) is internal.
        let names: Vec<&str> = t["Containers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["Name"].as_str())
            .collect();
        assert_eq!(names, ["app", "ecs-emf-exporter", "worker-2", "stopped-0"]);
        assert_eq!(
            t["Containers"][1],
            json!({
                "DockerId": r.containers[1].docker_id,
                "DockerName": r.containers[1].docker_name,
                "Name": "ecs-emf-exporter"
            })
        );
    }

    #[test]
    fn lookups_by_docker_id_and_task_arn_give_the_task_unwrapped() {
        let r = roster(NetworkMode::Bridge, 0);
        let (_, all) = answer(&r, "");
        let task = all["Tasks"][0].clone();
        let id = r.containers[2].docker_id.clone();
        assert_eq!(answer(&r, &format!("dockerid={id}")), (200, task.clone()));
        // Docker's 12-character short id is a prefix.
        assert_eq!(
            answer(&r, &format!("dockerid={}", &id[..12])),
            (200, task.clone())
        );
        // The task ARN, plain or percent-encoded as a careful client sends it.
        let arn = r.task_arn();
        assert_eq!(answer(&r, &format!("taskarn={arn}")), (200, task.clone()));
        let encoded = arn.replace(':', "%3A").replace('/', "%2F");
        assert_eq!(
            answer(&r, &format!("other=1&taskarn={encoded}")),
            (200, task)
        );
    }

    #[test]
    fn misses_are_404_and_conflicts_400_with_the_empty_task() {
        let r = roster(NetworkMode::Awsvpc, 0);
        let empty: Value = serde_json::from_str(EMPTY_TASK).expect("valid JSON");
        let id = r.containers[0].docker_id.clone();
        let arn = r.task_arn();
        for (query, status) in [
            // 13 characters and more: exact ids only.
            (format!("dockerid={}", &id[..13]), 404),
            (format!("dockerid={id}0"), 404),
            (
                "taskarn=arn:aws:ecs:us-east-1:123456789012:task/sim-cluster/0".to_owned(),
                404,
            ),
            (format!("dockerid={id}&taskarn={arn}"), 400),
            // An empty short id is a prefix of all 4 DockerIds (pause included): ambiguous.
            ("dockerid=".to_owned(), 400),
            ("dockerid".to_owned(), 400),
            // Any bytes are an id (no match here); a bad escape drops the pair: a list.
            ("dockerid=%ff".to_owned(), 404),
            ("dockerid=%zz".to_owned(), 200),
        ] {
            let (got, body) = answer(&r, &query);
            assert_eq!(got, status, "{query}");
            if status != 200 {
                assert_eq!(body, empty, "{query}");
            }
        }
        // The pause container's id finds the task too: the agent knows its container.
        let pause = &r.containers[3];
        assert_eq!(pause.kind, Kind::Pause);
        assert_eq!(answer(&r, &format!("dockerid={}", pause.docker_id)).0, 200);
        // Exactly the agent's bytes for the empty task.
        let bytes = serde_json::to_string(&TaskResponse::default()).expect("serializes");
        assert_eq!(bytes, EMPTY_TASK);
    }

    #[test]
    fn query_decoding_follows_go() {
        let v = |q: &str| query_value(q, "a");
        assert_eq!(v("a=1&b=2&a=3"), Some(b"1".to_vec()));
        assert_eq!(v("a"), Some(Vec::new()));
        assert_eq!(v("a=x+y%2Fz"), Some(b"x y/z".to_vec()));
        assert_eq!(v("%61=1"), Some(b"1".to_vec()));
        assert_eq!(v("a=%4"), None);
        assert_eq!(v("a=%4&a=2"), Some(b"2".to_vec()));
        assert_eq!(v(""), None);
        assert_eq!(unescape("%3a%3A%ff"), Some(vec![b':', b':', 0xff]));
    }
}
