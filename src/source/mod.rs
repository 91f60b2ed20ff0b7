//! Where a cycle's input comes from: the Task Metadata Endpoint v4 (`metadata`: the real one
//! over HTTP, or the simulated one in-process) and, where it cannot give the task's tags, the
//! ECS API (`ecs_api`).

pub(crate) mod ecs_api;
pub mod metadata;

use std::collections::BTreeMap;

use ecs_api::EcsTagReader;
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
}

impl Source {
    pub fn new(metadata: Client, tags_from_api: bool) -> Source {
        Source {
            metadata,
            ecs_api: tags_from_api.then(EcsTagReader::default),
        }
    }

    /// One poll: `/task` then `/task/stats`.
    pub(crate) async fn snapshot(&mut self) -> Result<Snapshot, FetchError> {
        self.metadata.snapshot().await
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
