//! Tags through the ECS API (`ECS_EMF_TAGS_FROM_API=true`): where `/taskWithTags` does not
//! exist (Fargate documents none) or reports `Errors`, the task's own tags are read with
//! `ecs:ListTagsForResource` using the task role. Called at most once per tag refresh.

use std::collections::BTreeMap;

use aws_sdk_ecs::error::DisplayErrorContext;

#[derive(Default)]
pub(crate) struct EcsTagReader {
    /// Built on first use: the region can come from the task ARN.
    client: Option<aws_sdk_ecs::Client>,
}

impl EcsTagReader {
    /// The tags of the task `task_arn`, or why they could not be read.
    pub(crate) async fn task_tags(
        &mut self,
        task_arn: &str,
    ) -> Result<BTreeMap<String, String>, String> {
        let client = match &self.client {
            Some(c) => c.clone(),
            None => {
                let config = crate::aws::sdk_config(crate::aws::region_from_arn(task_arn)).await;
                let c = aws_sdk_ecs::Client::new(&config);
                self.client = Some(c.clone());
                c
            }
        };
        let answer = client
            .list_tags_for_resource()
            .resource_arn(task_arn)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "ecs:ListTagsForResource failed: {}",
                    DisplayErrorContext(&e)
                )
            })?;
        Ok(answer
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect())
    }
}
