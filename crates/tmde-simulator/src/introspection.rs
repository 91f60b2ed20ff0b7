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
//!
//! ## `--agent-tasks FILE`: the tasks of a real host
//!
//! By default `/v1/tasks` lists the one simulated task. The exporter's `daemon` mode (one
//! exporter per EC2 host) discovers the tasks on the host through `/v1/tasks` and reads their
//! containers from a real dockerd; its tests start real containers and need the agent to list
//! *them*, and to change the list between polls. With `--agent-tasks FILE` (EC2 only, not with
//! a replay) `/v1/tasks` answers from FILE instead of the simulated task:
//!
//! - FILE holds the agent's `/v1/tasks` body, `{"Tasks": [task]}` in the shape above. It is
//!   read again on every request, so a test may replace it between polls (atomically: write a
//!   new file and rename it over FILE). `DesiredStatus` may be left out (Go's `omitempty`), as
//!   may `Containers` (`null`); other fields the agent might add are ignored and not served.
//!   The tasks are served in FILE's order, re-serialized with the agent's field names.
//! - The queries work as above over FILE's tasks: `taskarn` finds the (first) task with that
//!   `Arn`; `dockerid` counts the matching containers of all tasks (only the listed ones: FILE
//!   has no internal containers), one is a hit, several are a 400.
//! - A FILE that cannot be read, is not a regular file, is over 8 MiB (not read whole) or is
//!   not that JSON shape: 500 with a one-line `text/plain` body naming FILE and the problem,
//!   and a line saying so on stderr. The next request reads FILE again.
//! - `/v1/metadata` still describes the simulated instance, and the Task Metadata Endpoint
//!   paths the simulated task. `--fault introspection:…` applies on top (a `500` fault does not
//!   read FILE); with `--no-introspection` both paths are 404 and FILE is never read.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::identity::{self, FAMILY, Kind, REVISION, Roster, SimContainer};
use super::scenario::Platform;

/// The agent version the simulated instance runs, as `agentversion.String()` prints it.
pub(crate) const AGENT_VERSION: &str = "Amazon ECS Agent - v1.89.2 (4c59f4a1)";
/// Docker's short container id length: the agent treats a `dockerid` this long or shorter as a
/// prefix.
const DOCKER_SHORT_ID_LEN: usize = 12;
/// The largest `--agent-tasks` file served; a larger one is a 500, and is not read whole.
pub(crate) const AGENT_TASKS_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// `GET /v1/metadata`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AgentMetadata {
    cluster: String,
    container_instance_arn: String,
    version: &'static str,
}

/// One task of `/v1/tasks`; `Default` is the agent's empty answer to a failed lookup.
/// Read from an `--agent-tasks` file too (unknown fields ignored).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TaskResponse {
    arn: String,
    /// Go's `omitempty`: the empty task has none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    desired_status: String,
    known_status: String,
    family: String,
    version: String,
    /// `null` in the empty task (a nil Go slice).
    containers: Option<Vec<ContainerResponse>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerResponse {
    docker_id: String,
    docker_name: String,
    name: String,
}

/// The `--agent-tasks` file: the agent's `/v1/tasks` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AgentTasksFile {
    tasks: Vec<TaskResponse>,
}

/// A task as the agent knows it: what `/v1/tasks` lists, and the DockerIds a `dockerid` lookup
/// finds it by (internal containers included, which the list leaves out).
struct KnownTask {
    listed: TaskResponse,
    docker_ids: Vec<String>,
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

/// The status and body of `/v1/tasks?query` (`query` without the `?`, maybe empty) for the
/// simulated task.
pub(crate) fn tasks(roster: &Roster, query: &str) -> (u16, TasksBody) {
    let known = KnownTask {
        listed: task(roster),
        docker_ids: roster
            .containers
            .iter()
            .map(|c| c.docker_id.clone())
            .collect(),
    };
    answer(vec![known], query)
}

/// The status and body of `/v1/tasks?query` for the tasks of the `--agent-tasks` file at
/// `path`, read now; `Err` is the one-line problem with the file (the caller answers 500).
pub(crate) fn file_tasks(path: &Path, query: &str) -> Result<(u16, TasksBody), String> {
    let file = read_agent_tasks(path)
        .map_err(|problem| format!("agent tasks file {}: {problem}", path.display()))?;
    let known = file
        .tasks
        .into_iter()
        .map(|listed| KnownTask {
            docker_ids: listed
                .containers
                .iter()
                .flatten()
                .map(|c| c.docker_id.clone())
                .collect(),
            listed,
        })
        .collect();
    Ok(answer(known, query))
}

/// Reads and parses the `--agent-tasks` file, at most [`AGENT_TASKS_MAX_BYTES`] of it.
fn read_agent_tasks(path: &Path) -> Result<AgentTasksFile, String> {
    let too_large = || format!("larger than {} MiB", AGENT_TASKS_MAX_BYTES >> 20);
    // Checked before opening: opening a FIFO would block until a writer comes.
    let meta = fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    if meta.len() > AGENT_TASKS_MAX_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(AGENT_TASKS_MAX_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    // It may have grown since the check.
    if !u64::try_from(bytes.len()).is_ok_and(|n| n <= AGENT_TASKS_MAX_BYTES) {
        return Err(too_large());
    }
    let not_the_body = |e: &dyn std::fmt::Display| {
        format!("not the agent's /v1/tasks body {{\"Tasks\": [...]}}: {e}")
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| not_the_body(&e))?;
    // serde's derived structs would also take a JSON array (their fields in order): not the
    // agent's body, so refused here.
    if !objects_all_the_way(&value) {
        return Err(not_the_body(
            &"the body, each task and each container must be JSON objects",
        ));
    }
    serde_json::from_value(value).map_err(|e| not_the_body(&e))
}

/// Whether the body, its tasks and their containers are objects (a list that is not an array
/// is left to the typed parse to report).
fn objects_all_the_way(body: &serde_json::Value) -> bool {
    fn items(list: Option<&serde_json::Value>) -> &[serde_json::Value] {
        list.and_then(serde_json::Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
    let tasks = items(body.get("Tasks"));
    body.is_object()
        && tasks.iter().all(|task| {
            task.is_object()
                && items(task.get("Containers"))
                    .iter()
                    .all(serde_json::Value::is_object)
        })
}

/// Answers a query over the tasks the agent knows, as the agent's handler does.
fn answer(tasks: Vec<KnownTask>, query: &str) -> (u16, TasksBody) {
    let docker_id = query_value(query, "dockerid");
    let task_arn = query_value(query, "taskarn");
    let empty = || TasksBody::One(TaskResponse::default());
    match (docker_id, task_arn) {
        (Some(_), Some(_)) => (400, empty()),
        (Some(id), None) => {
            let hits = |docker_id: &String| {
                if id.len() > DOCKER_SHORT_ID_LEN {
                    docker_id.as_bytes() == id.as_slice()
                } else {
                    docker_id.as_bytes().starts_with(&id)
                }
            };
            // The agent collects one task per matching container, so even two containers of
            // the same task make a short id ambiguous.
            let mut matching = tasks
                .into_iter()
                .flat_map(|t| {
                    let n = t.docker_ids.iter().filter(|d| hits(d)).count();
                    std::iter::repeat_n(t.listed, n)
                })
                .take(2);
            match (matching.next(), matching.next()) {
                (None, _) => (404, empty()),
                (Some(task), None) => (200, TasksBody::One(task)),
                (Some(_), Some(_)) => (400, empty()),
            }
        }
        (None, Some(arn)) => match tasks
            .into_iter()
            .find(|t| t.listed.arn.as_bytes() == arn.as_slice())
        {
            Some(t) => (200, TasksBody::One(t.listed)),
            None => (404, empty()),
        },
        (None, None) => (
            200,
            TasksBody::All {
                tasks: tasks.into_iter().map(|t| t.listed).collect(),
            },
        ),
    }
}

fn task(roster: &Roster) -> TaskResponse {
    TaskResponse {
        arn: roster.task_arn(),
        desired_status: "RUNNING".to_owned(),
        known_status: "RUNNING".to_owned(),
        family: FAMILY.to_owned(),
        version: REVISION.to_owned(),
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

    fn file_answer(path: &Path, query: &str) -> Result<(u16, Value), String> {
        file_tasks(path, query).map(|(status, body)| {
            (
                status,
                serde_json::to_value(body).expect("tasks body serializes"),
            )
        })
    }

    #[test]
    fn agent_tasks_file_keeps_the_agent_shape_and_ignores_other_fields() {
        let dir = crate::test_support::Scratch::new("introspection-agent-tasks-shape");
        let file = dir.file(
            "tasks.json",
            r#"{"Tasks":[{"Arn":"t1","KnownStatus":"RUNNING","Family":"f","Version":"2",
                "Containers":[{"DockerId":"d1","DockerName":"n1","Name":"c1","Ports":[]}],
                "Extra":1},
               {"Arn":"t2","DesiredStatus":"","KnownStatus":"STOPPED","Family":"g",
                "Version":"3","Containers":null},
               {"Arn":"t3","DesiredStatus":"RUNNING","KnownStatus":"RUNNING","Family":"h",
                "Version":"4"}]}"#,
        );
        let (status, body) = file_answer(&file, "").expect("valid file");
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"Tasks": [
                {"Arn": "t1", "KnownStatus": "RUNNING", "Family": "f", "Version": "2",
                 "Containers": [{"DockerId": "d1", "DockerName": "n1", "Name": "c1"}]},
                {"Arn": "t2", "KnownStatus": "STOPPED", "Family": "g", "Version": "3",
                 "Containers": null},
                {"Arn": "t3", "DesiredStatus": "RUNNING", "KnownStatus": "RUNNING",
                 "Family": "h", "Version": "4", "Containers": null}
            ]})
        );
        // Short ids up to 12 characters are prefixes, whatever their length in the file.
        assert_eq!(file_answer(&file, "dockerid=d").map(|a| a.0), Ok(200));
        assert_eq!(
            file_answer(&file, "taskarn=t3").map(|a| a.1["Family"].clone()),
            Ok(json!("h"))
        );
    }

    #[test]
    fn agent_tasks_file_too_large_or_not_a_file_is_an_error() {
        let dir = crate::test_support::Scratch::new("introspection-agent-tasks-bounds");
        let big = dir.file("big.json", "");
        // Sparse: nothing is written, and nothing should be read.
        std::fs::File::options()
            .write(true)
            .open(&big)
            .and_then(|f| f.set_len(AGENT_TASKS_MAX_BYTES + 1))
            .expect("grow the file");
        let err = file_answer(&big, "").expect_err("too large");
        assert_eq!(
            err,
            format!("agent tasks file {}: larger than 8 MiB", big.display())
        );
        let err = file_answer(&dir.0, "").expect_err("a directory");
        assert_eq!(
            err,
            format!("agent tasks file {}: not a regular file", dir.0.display())
        );
        let err = file_answer(&dir.0.join("none.json"), "").expect_err("missing");
        assert!(err.contains("none.json: cannot read it: "), "{err}");
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
