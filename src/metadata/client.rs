//! HTTP client for the Task Metadata Endpoint v4.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Snapshot;
use super::model::{TaskMetadata, TaskTagsResponse};
use super::parse::{self, ParseError};

/// The endpoint paths, named for logs and problem tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Path {
    Task = 0,
    Stats = 1,
    TaskWithTags = 2,
}

impl Path {
    pub fn suffix(self) -> &'static str {
        match self {
            Path::Task => "/task",
            Path::Stats => "/task/stats",
            Path::TaskWithTags => "/taskWithTags",
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
    pub fn path(&self) -> Path {
        match self {
            FetchError::Unreachable { path, .. }
            | FetchError::Timeout { path, .. }
            | FetchError::Status { path, .. }
            | FetchError::Body { path, .. } => *path,
        }
    }

    /// A short key: same key, same problem (the detail text may vary between occurrences).
    pub fn kind(&self) -> String {
        let path = self.path().suffix();
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
                    path.suffix()
                )
            }
            FetchError::Timeout { path, after } => write!(
                f,
                "metadata endpoint did not answer {} within {} ms",
                path.suffix(),
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
                    path.suffix()
                )
            }
            FetchError::Body { path, error } => {
                write!(f, "unusable response body from {}: {error}", path.suffix())
            }
        }
    }
}

impl std::error::Error for FetchError {}

/// Reads the endpoint. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// The three URLs, parsed once (URL parsing was a visible share of a cycle).
    urls: [reqwest::Url; 3],
    timeout: Duration,
}

impl Client {
    /// `base` is `${ECS_CONTAINER_METADATA_URI_V4}`; `timeout` bounds each request.
    pub fn new(base: &str, timeout: Duration) -> Result<Client, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .pool_max_idle_per_host(2)
            // The endpoint is link-local: a proxy from the environment must not capture it.
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let base = base.trim_end_matches('/').to_string();
        let url = |path: Path| {
            reqwest::Url::parse(&format!("{base}{}", path.suffix()))
                .map_err(|e| format!("invalid metadata endpoint URL {base:?}: {e}"))
        };
        let urls = [
            url(Path::Task)?,
            url(Path::Stats)?,
            url(Path::TaskWithTags)?,
        ];
        Ok(Client {
            http,
            base,
            urls,
            timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn get(&self, path: Path) -> Result<bytes::Bytes, FetchError> {
        let url = self.urls[path as usize].clone();
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                FetchError::Timeout {
                    path,
                    after: self.timeout,
                }
            } else {
                FetchError::Unreachable {
                    path,
                    detail: error_chain(&e),
                }
            }
        };
        let response = self.http.get(url).send().await.map_err(classify)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(FetchError::Status { path, status });
        }
        response.bytes().await.map_err(classify)
    }

    pub async fn task(&self) -> Result<TaskMetadata, FetchError> {
        let body = self.get(Path::Task).await?;
        parse::task(&body).map_err(|error| FetchError::Body {
            path: Path::Task,
            error,
        })
    }

    pub async fn task_with_tags(&self) -> Result<TaskTagsResponse, FetchError> {
        let path = Path::TaskWithTags;
        let body = self.get(path).await?;
        parse::task_with_tags(&body).map_err(|error| FetchError::Body { path, error })
    }

    /// `/task` then `/task/stats`, stamped with the time the stats answer arrived (the
    /// cycle's timestamp, see metrics.md "Timestamps").
    pub async fn snapshot(&self) -> Result<Snapshot, FetchError> {
        let task = self.task().await?;
        let body = self.get(Path::Stats).await?;
        let received_at: DateTime<Utc> = Utc::now();
        let stats = parse::stats(&body).map_err(|error| FetchError::Body {
            path: Path::Stats,
            error,
        })?;
        Ok(Snapshot {
            task,
            stats: stats.containers,
            malformed_stats: stats.malformed,
            received_at,
        })
    }
}

/// reqwest's top-level message is generic ("error sending request"); the cause says why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
