//! Where a cycle's input comes from: the Task Metadata Endpoint v4 (`metadata`: the real one
//! over HTTP, or the simulated one in-process) and, where it cannot give the task's tags, the
//! ECS API (`ecs_api`).

pub(crate) mod cgroup;
pub(crate) mod docker;
pub(crate) mod ecs_api;
pub(crate) mod host;
pub(crate) mod introspection;
pub mod metadata;

use std::collections::BTreeMap;

use crate::pipeline::dimensions::ContainerInstance;
use ecs_api::EcsTagReader;
use introspection::Introspection;
use metadata::{Client, ContainerMetadata, FetchError, Snapshot, TaskMetadata, TaskTagsResponse};

/// One read of the task's tags.
#[derive(Debug)]
pub struct TagsRead {
    /// `/taskWithTags`.
    pub endpoint: Result<TaskTagsResponse, FetchError>,
    /// `ecs:ListTagsForResource`, when it was asked (`ECS_EMF_TAGS_FROM_API` and
    /// `/taskWithTags` could not answer), or why it could not answer.
    pub api: Option<Result<BTreeMap<String, String>, String>>,
}

/// What a cycle reads from.
pub struct Source {
    metadata: Client,
    /// `Some` with `ECS_EMF_TAGS_FROM_API=true`.
    ecs_api: Option<EcsTagReader>,
    /// `Some` with `ECS_EMF_INTROSPECTION_URI`.
    introspection: Option<Introspection>,
}

impl Source {
    fn new(metadata: Client, tags_from_api: bool) -> Source {
        Source {
            metadata,
            ecs_api: tags_from_api.then(EcsTagReader::default),
            introspection: None,
        }
    }

    /// What `settings` ask to read besides the endpoint: tags through the ECS API, the ECS
    /// agent introspection API (`ECS_EMF_INTROSPECTION_URI`, requests bounded by
    /// `timeout`).
    pub fn for_settings(
        metadata: Client,
        settings: &crate::settings::Settings,
        timeout: std::time::Duration,
    ) -> Source {
        let mut source = Source::new(metadata, settings.tags_from_api);
        source.introspection = settings
            .introspection_uri
            .as_ref()
            .map(|u| Introspection::new(u, timeout));
        source
    }

    /// The container instance that runs the task `task_arn`, from the introspection API
    /// (`None` when it is not configured).
    pub(crate) async fn container_instance(
        &mut self,
        task_arn: &str,
    ) -> Option<Result<ContainerInstance, String>> {
        Some(self.introspection.as_ref()?.read(task_arn).await)
    }

    /// One poll: `/task` then `/task/stats`.
    pub(crate) async fn snapshot(&mut self) -> Result<Snapshot, FetchError> {
        self.metadata.snapshot().await
    }

    /// `/task` alone and when it answered: the last read at a stop.
    pub(crate) async fn task_stamped(
        &mut self,
    ) -> Result<(TaskMetadata, chrono::DateTime<chrono::Utc>), FetchError> {
        self.metadata.task_stamped().await
    }

    /// The exporter's own container, as the endpoint describes it.
    pub(crate) async fn own_container(&mut self) -> Result<ContainerMetadata, FetchError> {
        self.metadata.own_container().await
    }

    /// The tags of `task`: `/taskWithTags`, and the ECS API only where that cannot answer
    /// (it fails, or reports `Errors`).
    pub(crate) async fn tags(&mut self, task: &TaskMetadata) -> TagsRead {
        let endpoint = self.metadata.task_with_tags().await;
        let unavailable = endpoint.as_ref().map_or(true, |r| !r.errors.is_empty());
        let api = match (&mut self.ecs_api, task.task_arn.as_deref()) {
            (Some(reader), Some(arn)) if unavailable => Some(reader.task_tags(arn).await),
            _ => None,
        };
        TagsRead { endpoint, api }
    }
}
