//! Task Metadata Endpoint v4: the HTTP client and the models of its answers.
//! Knows nothing about metrics.

pub(crate) mod client;
/// Public for the fuzz harness (`fuzz/harness.rs`), which drives the client directly.
pub mod http;
pub(crate) mod lenient;
pub(crate) mod model;
pub mod parse;
pub(crate) mod url;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

pub use client::{Client, FetchError, Path, SimClock};
pub use model::{ContainerMetadata, ContainerStats, TaskMetadata, TaskTagsResponse};
pub(crate) use url::{EndpointUrl, UrlProblem};

/// One poll: the task, its containers' stats by DockerId, and when the stats arrived.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub task: TaskMetadata,
    /// Only entries that carry samples: `null`/`{}` entries are absent.
    pub(crate) stats: HashMap<String, ContainerStats>,
    /// DockerIds whose stats entry had an unexpected shape this poll.
    pub(crate) malformed_stats: Vec<String>,
    pub received_at: DateTime<Utc>,
    /// Daemon mode only: CPU throttling counters where they are real (docs/metrics.md, "CPU
    /// throttling"). `None` in the sidecar, whose `throttling_data` the agent serves as
    /// zeros.
    pub(crate) throttling: Option<model::Throttling>,
}

impl Snapshot {
    /// Builds a snapshot from response bodies (replayed fixtures, tests, benchmarks).
    pub fn from_bodies(
        task: &[u8],
        stats: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Snapshot, parse::ParseError> {
        let task = parse::task(task)?;
        let stats = parse::stats(stats)?;
        Ok(Snapshot {
            task,
            stats: stats.containers,
            malformed_stats: stats.malformed,
            received_at,
            throttling: None,
        })
    }
}
