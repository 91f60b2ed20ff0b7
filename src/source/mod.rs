//! Where a cycle's input comes from: the Task Metadata Endpoint v4 (`metadata`) and, where it
//! cannot give the task's tags, the ECS API (`ecs_api`).

pub mod ecs_api;
pub mod metadata;
