//! The ECS agent introspection API (`ECS_EMF_INTROSPECTION_URI`, off by default): which
//! container instance the task runs on, and the agent's version. The agent serves it on port
//! 51678 of EC2 container instances ("Amazon ECS container introspection" in the ECS
//! developer guide; the shapes are the agent's `agent/handlers/v1/response.go`). A task
//! reaches it with `host` networking (`http://127.0.0.1:51678`) or, where the host allows it,
//! through the Docker bridge's gateway; never from `awsvpc` or Fargate (docs/metrics.md).
//!
//! Two GETs per read, on the metadata client's HTTP transport (same timeout and body cap):
//! `/v1/metadata`, then `/v1/tasks?taskarn=…` to check that this agent runs this task, so a
//! URL that names another host's agent never labels the task with that host.

use serde::Deserialize;

use super::metadata::http::HttpClient;
use super::metadata::lenient::{string_opt, vec_lenient};
use super::metadata::{EndpointUrl, parse};
use crate::pipeline::dimensions::ContainerInstance;
use crate::pipeline::events::Outside;

/// `GET /v1/metadata`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataResponse {
    /// The cluster's short name (daemon mode's `ClusterName`; the sidecar takes it from
    /// `/task`).
    #[serde(default, deserialize_with = "string_opt")]
    cluster: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    container_instance_arn: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    version: Option<String>,
}

/// `GET /v1/tasks?taskarn=…`: the one task, not wrapped in `Tasks`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskResponse {
    #[serde(default, deserialize_with = "string_opt")]
    arn: Option<String>,
}

/// `GET /v1/tasks`: every task the agent knows on its instance (running, and stopped ones
/// until the agent cleans them up).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TasksResponse {
    #[serde(default, deserialize_with = "vec_lenient")]
    tasks: Vec<AgentTask>,
}

/// One task of `/v1/tasks` (the agent's `TaskResponse`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AgentTask {
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) arn: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) desired_status: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) known_status: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) family: Option<String>,
    /// The task definition's revision.
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) version: Option<String>,
    /// `null` for a task the agent has no containers for yet.
    #[serde(default, deserialize_with = "vec_lenient")]
    pub(crate) containers: Vec<AgentContainer>,
}

/// One container of an [`AgentTask`] (the agent's `ContainerResponse`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AgentContainer {
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) docker_id: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) docker_name: Option<String>,
    /// The name in the task definition.
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) name: Option<String>,
}

/// What daemon mode learns from the agent in one read: its instance and cluster, and the
/// tasks on the instance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostView {
    /// The cluster's short name, as `/v1/metadata` gives it.
    pub(crate) cluster: Option<String>,
    pub(crate) instance: ContainerInstance,
    pub(crate) tasks: Vec<AgentTask>,
}

/// Reads the introspection API at one URL.
pub(crate) struct Introspection {
    http: HttpClient,
    /// The URL's path, which the routes are appended to (usually empty).
    prefix: String,
    url: String,
}

impl Introspection {
    pub(crate) fn new(url: &EndpointUrl, timeout: std::time::Duration) -> Introspection {
        Introspection {
            http: HttpClient::local(&url.authority, timeout),
            prefix: url.prefix.clone(),
            url: url.to_string(),
        }
    }

    /// The body of `GET path` when the answer is 200.
    async fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        let target = format!("{}{path}", self.prefix);
        let response = self.http.get(&target).await.map_err(|e| {
            format!(
                "ECS agent introspection API ({}{path}) unreachable: {e}",
                self.url
            )
        })?;
        if response.status != 200 {
            return Err(format!(
                "ECS agent introspection API ({}{path}) answered HTTP {}",
                self.url, response.status
            ));
        }
        Ok(response.body)
    }

    /// The container instance that runs the task `task_arn`, or why it cannot be told.
    pub(crate) async fn read(&self, task_arn: &str) -> Result<ContainerInstance, String> {
        let body = self.get("/v1/metadata").await?;
        let metadata: MetadataResponse = parse::json(&body)
            .map_err(|e| format!("ECS agent introspection API (/v1/metadata): {e}"))?;
        let instance = container_instance(metadata)?;
        let arn: String = url::form_urlencoded::byte_serialize(task_arn.as_bytes()).collect();
        let path = format!("/v1/tasks?taskarn={arn}");
        let body = self.get(&path).await.map_err(|e| {
            format!("{e}: the agent at this URL does not list this task, so its container instance is not used")
        })?;
        let task: TaskResponse = parse::json(&body)
            .map_err(|e| format!("ECS agent introspection API (/v1/tasks): {e}"))?;
        if task.arn.as_deref() != Some(task_arn) {
            return Err(format!(
                "ECS agent introspection API (/v1/tasks) answered for task {} instead of this one; its container instance is not used",
                Outside(task.arn.as_deref().unwrap_or("(none)"))
            ));
        }
        Ok(instance)
    }
}

impl Introspection {
    /// Daemon mode's read: `/v1/metadata` (the instance and the cluster), then `/v1/tasks`
    /// (every task on the instance).
    pub(crate) async fn host(&self) -> Result<HostView, String> {
        let body = self.get("/v1/metadata").await?;
        let mut metadata: MetadataResponse = parse::json(&body)
            .map_err(|e| format!("ECS agent introspection API (/v1/metadata): {e}"))?;
        let cluster = metadata.cluster.take().filter(|c| !c.trim().is_empty());
        let instance = container_instance(metadata)?;
        let body = self.get("/v1/tasks").await?;
        let tasks: TasksResponse = parse::json(&body)
            .map_err(|e| format!("ECS agent introspection API (/v1/tasks): {e}"))?;
        Ok(HostView {
            cluster,
            instance,
            tasks: tasks.tasks,
        })
    }
}

/// The instance from `/v1/metadata`: an ARN that names a container instance
/// (`arn:PARTITION:ecs:REGION:ACCOUNT:container-instance/[CLUSTER/]ID`), its ID, and the agent's
/// version. An ARN of any other shape is refused rather than cut into a made-up ID.
fn container_instance(metadata: MetadataResponse) -> Result<ContainerInstance, String> {
    let arn = metadata
        .container_instance_arn
        .filter(|a| !a.trim().is_empty())
        .ok_or("ECS agent introspection API (/v1/metadata) gave no ContainerInstanceArn (the agent has not registered yet)")?;
    let id = arn
        .split_once(":container-instance/")
        .filter(|(head, _)| head.starts_with("arn:") && head.contains(":ecs:"))
        .and_then(|(_, tail)| tail.rsplit('/').next())
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "ECS agent introspection API (/v1/metadata): ContainerInstanceArn {} is not a container-instance ARN",
                Outside(&arn)
            )
        })?;
    Ok(ContainerInstance {
        arn: Some(arn),
        id: Some(id),
        agent_version: metadata.version.filter(|v| !v.trim().is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(json: &str) -> Result<ContainerInstance, String> {
        container_instance(parse::json(json.as_bytes()).expect("parses"))
    }

    #[test]
    fn the_documented_answer_gives_arn_id_and_version() {
        // The ECS developer guide's example, with its placeholders filled in.
        let got = from(
            r#"{"Cluster":"prod","ContainerInstanceArn":"arn:aws:ecs:us-west-2:123456789012:container-instance/prod/7f1b2c3d4e5f40a1b2c3d4e5f6a7b8c9","Version":"Amazon ECS Agent - v1.30.0 (02ff320c)"}"#,
        );
        assert_eq!(
            got,
            Ok(ContainerInstance {
                arn: Some("arn:aws:ecs:us-west-2:123456789012:container-instance/prod/7f1b2c3d4e5f40a1b2c3d4e5f6a7b8c9".into()),
                id: Some("7f1b2c3d4e5f40a1b2c3d4e5f6a7b8c9".into()),
                agent_version: Some("Amazon ECS Agent - v1.30.0 (02ff320c)".into()),
            })
        );
        // The old ARN format has no cluster segment.
        let old = from(
            r#"{"ContainerInstanceArn":"arn:aws-cn:ecs:cn-north-1:123456789012:container-instance/6f3c1e2a-0b1c-4d2e-8f90-1a2b3c4d5e6f"}"#,
        );
        assert_eq!(
            old.map(|i| (i.id, i.agent_version)),
            Ok((Some("6f3c1e2a-0b1c-4d2e-8f90-1a2b3c4d5e6f".into()), None))
        );
    }

    #[test]
    fn the_task_list_keeps_each_task_and_container_and_tolerates_nulls() {
        // The shape of the agent's `/v1/tasks` (agent/handlers/v1/response.go): a running
        // task, and a pending one whose containers are still `null`.
        let body = r#"{"Tasks":[
            {"Arn":"arn:aws:ecs:us-west-2:123456789012:task/prod/0b1c2d3e","DesiredStatus":"RUNNING","KnownStatus":"RUNNING",
             "Family":"web","Version":"7","Containers":[
                {"DockerId":"4f1c0d2e9a","DockerName":"ecs-web-7-app-d8c9f0","Name":"app"},
                {"DockerId":null,"DockerName":"ecs-web-7-log","Name":7}]},
            {"Arn":"arn:aws:ecs:us-west-2:123456789012:task/prod/9a8b","DesiredStatus":"RUNNING","KnownStatus":"PENDING",
             "Family":"batch","Version":"1","Containers":null},
            "not a task"]}"#;
        let tasks: TasksResponse = parse::json(body.as_bytes()).expect("parses");
        assert_eq!(
            tasks.tasks.len(),
            2,
            "the string is no task: {:?}",
            tasks.tasks
        );
        let web = &tasks.tasks[0];
        assert_eq!(
            (
                web.family.as_deref(),
                web.version.as_deref(),
                web.known_status.as_deref()
            ),
            (Some("web"), Some("7"), Some("RUNNING"))
        );
        assert_eq!(
            web.containers,
            [
                AgentContainer {
                    docker_id: Some("4f1c0d2e9a".into()),
                    docker_name: Some("ecs-web-7-app-d8c9f0".into()),
                    name: Some("app".into()),
                },
                AgentContainer {
                    docker_id: None,
                    docker_name: Some("ecs-web-7-log".into()),
                    // A number where a name belongs is kept as its text, like every
                    // lenient string field.
                    name: Some("7".into()),
                },
            ]
        );
        assert!(tasks.tasks[1].containers.is_empty());
    }

    #[test]
    fn an_unregistered_agent_or_a_strange_arn_gives_nothing() {
        for json in [
            r#"{"Cluster":"prod","ContainerInstanceArn":null,"Version":"Amazon ECS Agent - v1.30.0"}"#,
            r#"{"ContainerInstanceArn":""}"#,
            r#"{"ContainerInstanceArn":"arn:aws:ecs:us-west-2:1:task/prod/abc"}"#,
            r#"{"ContainerInstanceArn":"container-instance/prod/abc"}"#,
            r#"{"ContainerInstanceArn":"arn:aws:ecs:us-west-2:1:container-instance/prod/"}"#,
            r#"{"ContainerInstanceArn":"arn:aws:ecs:r:1:container-instance/prod/a\nINFO forged"}"#,
            r#"{"ContainerInstanceArn":["arn:aws:ecs:r:1:container-instance/p/abc"]}"#,
        ] {
            assert!(from(json).is_err(), "{json}");
        }
    }
}
