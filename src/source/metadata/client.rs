//! The Task Metadata Endpoint v4 client: the three paths, their answers as models, and every
//! way a read can fail. It reads the real endpoint over HTTP, or the simulated one in-process
//! (`demo`, `plan --demo`), with the same paths, status handling and parsing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tmde_simulator::Simulator;

use super::Snapshot;
use super::http::{HttpClient, HttpError};
use super::model::{ContainerMetadata, TaskMetadata, TaskTagsResponse};
use super::parse::{self, ParseError};
use super::url::EndpointUrl;

/// The endpoint paths, named for logs and problem tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Path {
    Task = 0,
    Stats = 1,
    TaskWithTags = 2,
    /// `${ECS_CONTAINER_METADATA_URI_V4}` itself: the exporter's own container.
    Container = 3,
}

impl Path {
    const ALL: [Path; 4] = [Path::Task, Path::Stats, Path::TaskWithTags, Path::Container];

    /// What is appended to the endpoint's URL.
    fn suffix(self) -> &'static str {
        match self {
            Path::Task => "/task",
            Path::Stats => "/task/stats",
            Path::TaskWithTags => "/taskWithTags",
            Path::Container => "",
        }
    }

    /// The path as logs name it.
    pub(crate) fn shown(self) -> &'static str {
        match self {
            Path::Container => "the container's own metadata",
            other => other.suffix(),
        }
    }
}

/// Why a request gave nothing usable. `Display` is the one log line; `kind` is what two
/// occurrences of "the same problem" share, so repeats can be suppressed.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    Unreachable { path: Path, detail: String },
    Timeout { path: Path, after: Duration },
    Status { path: Path, status: u16 },
    Body { path: Path, error: ParseError },
}

impl FetchError {
    pub(crate) fn path(&self) -> Path {
        match self {
            FetchError::Unreachable { path, .. }
            | FetchError::Timeout { path, .. }
            | FetchError::Status { path, .. }
            | FetchError::Body { path, .. } => *path,
        }
    }

    /// A short key: same key, same problem (the detail text may vary between occurrences).
    pub(crate) fn kind(&self) -> String {
        let path = self.path().shown();
        match self {
            FetchError::Unreachable { .. } => format!("{path} unreachable"),
            FetchError::Timeout { .. } => format!("{path} timeout"),
            FetchError::Status { status, .. } => format!("{path} HTTP {status}"),
            FetchError::Body { error, .. } => {
                let head = error.0.split(' ').next().unwrap_or_default();
                format!("{path} body {head}")
            }
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable { path, detail } => {
                write!(
                    f,
                    "metadata endpoint unreachable ({}): {detail}",
                    path.shown()
                )
            }
            FetchError::Timeout { path, after } => write!(
                f,
                "metadata endpoint did not answer {} within {} ms",
                path.shown(),
                after.as_millis()
            ),
            FetchError::Status { path, status } => {
                let hint = match status {
                    429 => " (rate limited; the next poll retries)",
                    404 => " (path not served by this agent/platform)",
                    500..=599 => " (the endpoint fails while a task starts; the next poll retries)",
                    _ => "",
                };
                write!(
                    f,
                    "metadata endpoint answered HTTP {status} for {}{hint}",
                    path.shown()
                )
            }
            FetchError::Body { path, error } => {
                write!(f, "unusable response body from {}: {error}", path.shown())
            }
        }
    }
}

impl std::error::Error for FetchError {}

/// The simulated task's wall clock (the time its stats are read at, and the time a poll's
/// answer arrives).
#[derive(Debug, Clone)]
pub enum SimClock {
    /// tokio's clock from a start: the wall clock in a real run, virtual under a paused test
    /// clock.
    Tokio {
        start: DateTime<Utc>,
        at: tokio::time::Instant,
    },
    /// Moved by hand: `plan --demo` reads two polls a second apart without waiting.
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl SimClock {
    /// A clock that runs with tokio's, from now.
    pub fn tokio() -> SimClock {
        SimClock::Tokio {
            start: Utc::now(),
            at: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            SimClock::Tokio { start, at } => {
                let elapsed = chrono::TimeDelta::from_std(at.elapsed()).unwrap_or_default();
                *start + elapsed
            }
            SimClock::Manual(now) => *now.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

/// How requests reach the endpoint.
#[derive(Clone)]
enum Transport {
    Http(HttpClient),
    Simulated {
        sim: Arc<Simulator>,
        clock: SimClock,
    },
}

/// Reads the endpoint. Cheap to clone (idle connections are shared).
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    /// The request paths (path and query) of [`Path::ALL`], built once.
    paths: [String; 4],
    timeout: Duration,
}

impl Client {
    /// Reads the endpoint at `url` (`ECS_CONTAINER_METADATA_URI_V4`); `timeout` bounds each
    /// request.
    pub(crate) fn new(url: &EndpointUrl, timeout: Duration) -> Client {
        let http = HttpClient::local(&url.authority, timeout);
        Client {
            transport: Transport::Http(http),
            paths: paths(&url.prefix, &url.query),
            timeout,
        }
    }

    /// Reads `sim` in-process, at the times `clock` gives; `timeout` bounds each request
    /// (injected latency counts against it as it would over HTTP).
    pub fn simulated(sim: Simulator, clock: SimClock, timeout: Duration) -> Client {
        Client {
            paths: paths(sim.base_path(), ""),
            transport: Transport::Simulated {
                sim: Arc::new(sim),
                clock,
            },
            timeout,
        }
    }

    /// The status and body of `GET path`.
    async fn exchange(&self, path: Path) -> Result<(u16, Vec<u8>), FetchError> {
        let target = &self.paths[path as usize];
        let timeout = FetchError::Timeout {
            path,
            after: self.timeout,
        };
        match &self.transport {
            Transport::Http(http) => match http.get(target).await {
                Ok(response) => Ok((response.status, response.body)),
                Err(HttpError::Timeout) => Err(timeout),
                Err(other) => Err(FetchError::Unreachable {
                    path,
                    detail: other.to_string(),
                }),
            },
            Transport::Simulated { sim, clock } => {
                let now = || clock.now();
                let reply = tokio::time::timeout(self.timeout, sim.respond(true, target, &now))
                    .await
                    .map_err(|_| timeout)?;
                Ok((reply.status, reply.body.to_vec()))
            }
        }
    }

    async fn get(&self, path: Path) -> Result<Vec<u8>, FetchError> {
        let (status, body) = self.exchange(path).await?;
        if status != 200 {
            return Err(FetchError::Status { path, status });
        }
        Ok(body)
    }

    /// When an answer arrived: the wall clock, or the simulated task's.
    fn now(&self) -> DateTime<Utc> {
        match &self.transport {
            Transport::Http(_) => Utc::now(),
            Transport::Simulated { clock, .. } => clock.now(),
        }
    }

    /// `/task`. An answer that names no task (no `TaskARN`: `{}`, say) is unusable: its
    /// values could only be published under `unknown` dimensions.
    pub(crate) async fn task(&self) -> Result<TaskMetadata, FetchError> {
        let body = self.get(Path::Task).await?;
        let unusable = |error| FetchError::Body {
            path: Path::Task,
            error,
        };
        let task = parse::task(&body).map_err(unusable)?;
        if task
            .task_arn
            .as_deref()
            .is_none_or(|arn| arn.trim().is_empty())
        {
            return Err(unusable(ParseError(
                "it names no task (no TaskARN)".to_string(),
            )));
        }
        Ok(task)
    }

    /// `/task` alone, stamped with the time its answer arrived (the last read at a stop).
    pub(crate) async fn task_stamped(&self) -> Result<(TaskMetadata, DateTime<Utc>), FetchError> {
        let task = self.task().await?;
        Ok((task, self.now()))
    }

    pub(crate) async fn task_with_tags(&self) -> Result<TaskTagsResponse, FetchError> {
        let path = Path::TaskWithTags;
        let body = self.get(path).await?;
        parse::task_with_tags(&body).map_err(|error| FetchError::Body { path, error })
    }

    /// The exporter's own container (`${ECS_CONTAINER_METADATA_URI_V4}` itself).
    pub(crate) async fn own_container(&self) -> Result<ContainerMetadata, FetchError> {
        let path = Path::Container;
        let body = self.get(path).await?;
        parse::container(&body).map_err(|error| FetchError::Body { path, error })
    }

    /// `/task` then `/task/stats`, stamped with the time the stats answer arrived (the
    /// cycle's timestamp, see docs/metrics.md).
    pub(crate) async fn snapshot(&self) -> Result<Snapshot, FetchError> {
        let task = self.task().await?;
        let body = self.get(Path::Stats).await?;
        let received_at = self.now();
        let stats = parse::stats(&body).map_err(|error| FetchError::Body {
            path: Path::Stats,
            error,
        })?;
        Ok(Snapshot {
            task,
            stats: stats.containers,
            malformed_stats: stats.malformed,
            received_at,
            throttling: None,
        })
    }
}

/// The request paths (path and query) under `prefix`; the container's own is `prefix` as
/// given, which is the path the agent serves it at.
fn paths(prefix: &str, query: &str) -> [String; 4] {
    let trimmed = prefix.trim_end_matches('/');
    Path::ALL.map(|p| match p {
        Path::Container => format!("{prefix}{query}"),
        other => format!("{trimmed}{}{query}", other.suffix()),
    })
}
