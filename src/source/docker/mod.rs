//! The Docker Engine API, for the `daemon` mode: one exporter per EC2 host reads every
//! container's inspect and stats through the Docker socket instead of one task's Task
//! Metadata Endpoint.
//!
//! Plain HTTP/1.1 GETs on the metadata endpoint's client (`metadata::http`), over the unix
//! socket (`DOCKER_HOST=unix://…`, the default) or plain TCP (`tcp://host:port`); no TLS,
//! no SSH. Several containers are read at once, each request on its own kept-alive
//! connection: a host runs tens to hundreds of containers, and one at a time would make a
//! cycle as long as the sum of their answers.
//!
//! Two phases: every container's inspect (a few at once: Docker answers in milliseconds),
//! then the stats of those that run, many at once. Docker answers a one-shot stats request
//! with the next sample of its stats collector, which samples every container once a second
//! (measured on Docker 20.10: the first request for a container answers at once, the next
//! ones 0.7–1 s later), so the stats phase takes about one second per
//! [`STATS_CONCURRENCY`] running containers whatever the host's load: at 4 at once, 200
//! containers took 50 s.
//!
//! The paths carry no API version (`/v1.41/…`): the daemon then answers in its own current
//! version, whose inspect and stats shapes this module reads leniently anyway.
// Until the daemon mode calls it (the only caller); remove with its first use.

mod model;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

// Named by the daemon mode's code; the tests name only some.
#[allow(unused_imports)]
pub(crate) use model::{DockerInfo, Inspect, InspectConfig, InspectHostConfig, InspectState};

use super::metadata::ContainerStats;
use super::metadata::http::{HttpClient, HttpError};
use super::metadata::lenient::string_opt;
use super::metadata::parse;
use crate::pipeline::events::Outside;

/// The cap on one answer from Docker. An inspect is typically 5–30 KB (its size is mostly
/// `Config.Env`, labels and mounts) and a one-shot stats answer 2–10 KB (per-CPU usage and
/// per-device blkio lists grow with the host); `/info` is a few KB. 2 MiB is ~100× the
/// largest of those, yet keeps the worst case the inspects can hold at
/// [`INSPECT_CONCURRENCY`] × 2 MiB (8 MiB), where the metadata endpoint's 8 MiB, sized for a
/// whole task's stats in one answer, would make it 32 MiB. Stats have their own, smaller cap.
pub(crate) const MAX_BODY_BYTES: usize = 2 << 20;

/// The cap on one stats answer: ~10× the largest real one (per-CPU lists on a 448-vCPU host
/// and per-device blkio lists are a few KB each), small enough that [`STATS_CONCURRENCY`]
/// answers in flight hold at most 8 MiB.
pub(crate) const STATS_MAX_BODY_BYTES: usize = 128 << 10;

/// Inspect requests at once (answered in milliseconds; bodies up to [`MAX_BODY_BYTES`]).
pub(crate) const INSPECT_CONCURRENCY: usize = 4;

/// Stats requests at once: each waits for Docker's next once-a-second sample, so this many
/// are answered per second (module doc).
pub(crate) const STATS_CONCURRENCY: usize = 64;

/// The socket Docker's clients use when `DOCKER_HOST` is not set.
pub(crate) const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// The longest container name or id accepted in a URL path: ids are 64 hex digits, and
/// Docker sets no limit on names; this bounds what one request line and error hold.
const MAX_ID_CHARS: usize = 128;

/// `DOCKER_HOST`, as Docker's own clients read it: `unix:///path` (the default is
/// `unix:///var/run/docker.sock`) or `tcp://host[:port]` (plain HTTP, port 2375 when none is
/// given, as Docker's). TLS (`https://`, `DOCKER_TLS_VERIFY`), `ssh://`, `npipe://` and
/// `fd://` are refused: the exporter has no TLS client for Docker and runs no `ssh`, and a
/// plain request sent where TLS was meant would send the host's container data in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DockerHost {
    /// The unix-domain socket's path.
    Unix(PathBuf),
    /// `host:port` (`[v6]:port` for IPv6).
    Tcp(String),
}

impl Default for DockerHost {
    /// `unix:///var/run/docker.sock`, as when `DOCKER_HOST` is not set.
    fn default() -> DockerHost {
        DockerHost::Unix(PathBuf::from(DEFAULT_SOCKET))
    }
}

impl DockerHost {
    /// `DOCKER_HOST`'s value. Empty (set but blank) is the default socket, as for Docker's
    /// clients; so is `unix://` with no path.
    pub(crate) fn parse(text: &str) -> Result<DockerHost, String> {
        let refused = |why: &str| {
            format!(
                "DOCKER_HOST={}: {why}only unix:// and tcp:// without TLS are supported",
                Outside(text)
            )
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(DockerHost::default());
        }
        let Some((scheme, rest)) = trimmed.split_once("://") else {
            return Err(refused("no scheme; "));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "unix" if rest.is_empty() => Ok(DockerHost::default()),
            "unix" => Ok(DockerHost::Unix(PathBuf::from(rest))),
            "tcp" => tcp_authority(trimmed)
                .map(DockerHost::Tcp)
                .map_err(|why| refused(&why)),
            _ => Err(refused("")),
        }
    }
}

/// `host:port` of a `tcp://` URL, or why it is not one this client can use.
fn tcp_authority(text: &str) -> Result<String, String> {
    /// Docker's plain-HTTP port (`DefaultHTTPPort` in Docker's clients).
    const DEFAULT_PORT: u16 = 2375;
    let url = url::Url::parse(text).map_err(|e| format!("{e}; "))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("no host; ")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the URL; ".to_string());
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err("a path, query or fragment after host:port; ".to_string());
    }
    Ok(format!("{host}:{}", url.port().unwrap_or(DEFAULT_PORT)))
}

impl std::fmt::Display for DockerHost {
    /// As `DOCKER_HOST` would give it: `unix:///var/run/docker.sock`, `tcp://10.0.0.1:2375`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DockerHost::Unix(path) => write!(f, "unix://{}", path.display()),
            DockerHost::Tcp(authority) => write!(f, "tcp://{authority}"),
        }
    }
}

/// One container's read.
#[derive(Debug)]
pub(crate) struct ContainerRead {
    /// As given to [`Docker::read_containers`].
    pub(crate) id: String,
    pub(crate) inspect: Result<Inspect, String>,
    /// `None` when not running (or the inspect failed).
    pub(crate) stats: Option<Result<ContainerStats, String>>,
    /// When the stats answer arrived, for the rates: `Some` exactly when `stats` is
    /// `Some(Ok(_))`.
    pub(crate) stats_received_at: Option<DateTime<Utc>>,
    /// Docker answered the inspect with 404: it no longer knows the container (removed).
    pub(crate) gone: bool,
}

impl ContainerRead {
    fn failed(id: &str, why: String) -> ContainerRead {
        ContainerRead {
            id: id.to_string(),
            inspect: Err(why),
            stats: None,
            stats_received_at: None,
            gone: false,
        }
    }

    /// Why Docker could not answer for this container, when that is a problem: a container
    /// Docker no longer knows ([`ContainerRead::gone`]) is not one, since the agent lists a
    /// task's containers until it cleans the task up, after Docker removed them.
    pub(crate) fn problem(&self) -> Option<String> {
        match (&self.inspect, &self.stats) {
            (Err(_), _) if self.gone => None,
            (Err(e), _) | (Ok(_), Some(Err(e))) => Some(e.clone()),
            _ => None,
        }
    }
}

/// A Docker error answer: `{"message": "No such container: x"}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default, deserialize_with = "string_opt")]
    message: Option<String>,
}

/// Why a request got no usable answer.
#[derive(Debug)]
struct GetFailure {
    /// The HTTP status when the daemon answered with one other than 200.
    status: Option<u16>,
    /// Everything a log line needs: the daemon, the request and what went wrong.
    message: String,
}

/// One connection's worth of requests, and how its errors name the daemon.
#[derive(Clone)]
struct Conn {
    http: HttpClient,
    /// `Docker Engine API (unix:///var/run/docker.sock)`.
    label: Arc<str>,
    timeout: Duration,
}

impl Conn {
    /// The body of `GET path` when the answer is 200, parsed as `T`.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, GetFailure> {
        let context = || format!("{} GET {path}", self.label);
        let failed = |message| GetFailure {
            status: None,
            message,
        };
        let response = self.http.get(path).await.map_err(|e| match e {
            HttpError::Timeout => failed(format!(
                "{}: no answer within {} ms",
                context(),
                self.timeout.as_millis()
            )),
            e => failed(format!("{}: {e}", context())),
        })?;
        if response.status != 200 {
            return Err(GetFailure {
                status: Some(response.status),
                message: format!(
                    "{}: HTTP {}{}",
                    context(),
                    response.status,
                    error_message(&response.body)
                ),
            });
        }
        parse::json(&response.body).map_err(|e| failed(format!("{}: {e}", context())))
    }

    /// The container's inspect; the stats are read in a second phase.
    async fn inspect(&self, id: &str) -> ContainerRead {
        if !valid_id(id) {
            return ContainerRead::failed(
                id,
                format!(
                    "{}: {} is not a container id or name ([A-Za-z0-9][A-Za-z0-9_.-]*, at most {MAX_ID_CHARS} characters); not requested",
                    self.label,
                    Outside(id)
                ),
            );
        }
        match self.get::<Inspect>(&format!("/containers/{id}/json")).await {
            Ok(inspect) => ContainerRead {
                id: id.to_string(),
                inspect: Ok(inspect),
                stats: None,
                stats_received_at: None,
                gone: false,
            },
            Err(failure) => ContainerRead {
                gone: failure.status == Some(404),
                ..ContainerRead::failed(id, failure.message)
            },
        }
    }

    /// The stats of a container its inspect said runs, and when they answered: `None` when
    /// it stopped in between.
    async fn stats(
        &self,
        id: &str,
    ) -> Option<(Result<ContainerStats, String>, Option<DateTime<Utc>>)> {
        // `one-shot`: the collector's next sample alone instead of waiting for a second one
        // (`precpu_stats`); the exporter computes rates from its own previous read. Daemons
        // before API 1.41 ignore it and answer after that second sample.
        let path = format!("/containers/{id}/stats?stream=false&one-shot=true");
        match self.get::<ContainerStats>(&path).await {
            // The container stopped between the two requests: Docker answers with an
            // empty sample (`read` 0001-01-01, every counter 0), which would read as a
            // counter reset. It is not a sample; the next cycle sees the stop.
            Ok(stats) if stats.read.as_deref().is_some_and(is_zero_time) => None,
            Ok(stats) => Some((Ok(stats), Some(Utc::now()))),
            Err(failure) => Some((Err(failure.message), None)),
        }
    }
}

/// `work(conn, item)` for each of `items`, on at most `conns.len()` connections at once, each
/// worker pulling the next item when it is done (a slow item holds one connection, not a
/// batch). One answer per item, in the order of `items`: `None` where the work ended without
/// one (its task panicked). Dropping the future (a stop) aborts the workers.
async fn each<T, F, Fut>(conns: &[Conn], items: Vec<String>, work: F) -> Vec<Option<T>>
where
    T: Send + 'static,
    F: Fn(Conn, String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let items: Arc<[String]> = items.into();
    let next = Arc::new(AtomicUsize::new(0));
    let slots: Arc<Mutex<Vec<Option<T>>>> =
        Arc::new(Mutex::new((0..items.len()).map(|_| None).collect()));
    let mut workers = tokio::task::JoinSet::new();
    for conn in conns.iter().take(items.len()) {
        let (conn, items, next, slots, work) = (
            conn.clone(),
            Arc::clone(&items),
            Arc::clone(&next),
            Arc::clone(&slots),
            work.clone(),
        );
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let answer = work(conn.clone(), item.clone()).await;
                // Stored as each ends: a worker that panicked loses only its own.
                let mut slots = slots.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(answer);
                }
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        if let Err(e) = done {
            tracing::warn!("a Docker Engine API reader ended: {e}");
        }
    }
    let mut slots = slots.lock().unwrap_or_else(|p| p.into_inner());
    slots.iter_mut().map(Option::take).collect()
}

/// `: message` from a Docker error body (quoted as text from outside, at most 200 chars),
/// or the body itself when it is not Docker's `{"message": …}`, or nothing for no body.
fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            message: Some(message),
        }) => format!(": {}", Outside(&message)),
        _ if body.iter().all(u8::is_ascii_whitespace) => String::new(),
        _ => format!(": {}", Outside(&String::from_utf8_lossy(body))),
    }
}

/// Go's zero `time.Time` as Docker writes it: "never".
fn is_zero_time(text: &str) -> bool {
    text.starts_with("0001-01-01")
}

/// A container id or name that can go in a URL path as it is: Docker's own rule for names
/// (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`, here also one character, as a short id prefix may be),
/// which ids (64 hex digits) follow too. So no `/`, `?`, `%`, and no `.` or `..` segment.
fn valid_id(id: &str) -> bool {
    id.len() <= MAX_ID_CHARS
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The Docker Engine API of one host.
pub(crate) struct Docker {
    host: DockerHost,
    /// One per inspect request that may be in flight: each keeps its own connection alive.
    inspect_conns: Vec<Conn>,
    /// The same for stats requests, with their smaller body cap.
    stats_conns: Vec<Conn>,
}

impl Docker {
    /// At most `inspects` inspect requests at once, then at most `stats` stats requests
    /// (each >= 1, 0 reads as 1), each on its own kept-alive connection, so what the reads
    /// can hold is bounded by `inspects` × [`MAX_BODY_BYTES`] or `stats` ×
    /// [`STATS_MAX_BODY_BYTES`]; `timeout`: each request's whole exchange (connecting
    /// within 2 s of it at most: a local daemon that does not accept at once is not there).
    pub(crate) fn new(
        host: &DockerHost,
        timeout: Duration,
        inspects: usize,
        stats: usize,
    ) -> Docker {
        let connect_timeout = timeout.min(Duration::from_secs(2));
        let label: Arc<str> = format!("Docker Engine API ({host})").into();
        let conns = |n: usize, max_body: usize| -> Vec<Conn> {
            (0..n.max(1))
                .map(|_| Conn {
                    http: match host {
                        DockerHost::Unix(path) => {
                            HttpClient::unix(path, timeout, connect_timeout, max_body)
                        }
                        DockerHost::Tcp(authority) => {
                            HttpClient::new(authority, timeout, connect_timeout)
                                .with_max_body(max_body)
                        }
                    },
                    label: Arc::clone(&label),
                    timeout,
                })
                .collect()
        };
        Docker {
            host: host.clone(),
            inspect_conns: conns(inspects, MAX_BODY_BYTES),
            stats_conns: conns(stats, STATS_MAX_BODY_BYTES),
        }
    }

    /// Where the API is read, for log lines.
    pub(crate) fn host(&self) -> &DockerHost {
        &self.host
    }

    /// `GET /info` → cgroup driver and version, which say where the host's container cgroups
    /// are.
    pub(crate) async fn info(&self) -> Result<DockerInfo, String> {
        self.inspect_conns[0]
            .get("/info")
            .await
            .map_err(|f| f.message)
    }

    /// For each id, in the order given: `GET /containers/{id}/json`, then, only when the
    /// inspect says `State.Running == true`, `GET /containers/{id}/stats?stream=false&one-shot=true`
    /// (a stopped container has no stats to read, and asking would cost a request per
    /// stopped container per cycle). Inspects first, then stats, each phase on its own
    /// connections ([`Docker::new`]); a failure of one container never fails the others. The
    /// answer has one read per id, in the order of `ids`.
    pub(crate) async fn read_containers(&self, ids: &[String]) -> Vec<ContainerRead> {
        let inspected = each(&self.inspect_conns, ids.to_vec(), |conn, id| async move {
            conn.inspect(&id).await
        })
        .await;
        let mut reads: Vec<ContainerRead> = ids
            .iter()
            .zip(inspected)
            .map(|(id, read)| {
                read.unwrap_or_else(|| {
                    ContainerRead::failed(
                        id,
                        format!(
                            "Docker Engine API ({}): the read of this container ended without an answer",
                            self.host
                        ),
                    )
                })
            })
            .collect();
        let running: Vec<usize> = reads
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.inspect
                    .as_ref()
                    .is_ok_and(|i| i.state.as_ref().and_then(|s| s.running) == Some(true))
            })
            .map(|(i, _)| i)
            .collect();
        let running_ids = running.iter().map(|&i| reads[i].id.clone()).collect();
        let stats = each(&self.stats_conns, running_ids, |conn, id| async move {
            conn.stats(&id).await
        })
        .await;
        for (i, answer) in running.into_iter().zip(stats) {
            let (stats, at) = match answer {
                Some(Some((stats, at))) => (Some(stats), at),
                Some(None) => (None, None),
                None => (
                    Some(Err(format!(
                        "Docker Engine API ({}): the stats read of this container ended without an answer",
                        self.host
                    ))),
                    None,
                ),
            };
            reads[i].stats = stats;
            reads[i].stats_received_at = at;
        }
        reads
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixListener;

    use super::*;

    /// What the fault server does with one request.
    #[derive(Clone)]
    enum Reply {
        /// A whole HTTP answer with this status and body.
        Json(u16, String),
        /// These bytes, as they are.
        Raw(Vec<u8>),
        /// A 200 head announcing `n` bytes, then `n` bytes of `x`.
        Big(usize),
        /// Nothing, the connection held open.
        Hang,
        /// What Docker does for `stream=true`: a chunked 200, then one stats object per
        /// chunk every `period`, without end.
        Stream(Duration),
    }

    /// The fault server's record: every path asked, and the most requests it had in flight
    /// at once (received and not yet answered).
    #[derive(Default)]
    struct Seen {
        paths: Mutex<Vec<String>>,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
    }

    impl Seen {
        fn paths(&self) -> Vec<String> {
            self.paths.lock().expect("lock").clone()
        }
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    /// A Docker daemon on a unix socket in a fresh tempdir: each request's path goes to
    /// `route`, whose reply is written after `delay`. Keep the tempdir alive for the test.
    fn serve(
        delay: Duration,
        route: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> (tempfile::TempDir, DockerHost, Arc<Seen>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let seen = Arc::new(Seen::default());
        let record = Arc::clone(&seen);
        let route = Arc::new(route);
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (seen, route) = (Arc::clone(&record), Arc::clone(&route));
                tokio::spawn(async move {
                    let mut pending = Vec::new();
                    loop {
                        let Some(end) = find(&pending, b"\r\n\r\n") else {
                            let mut buf = [0u8; 1024];
                            match conn.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => pending.extend_from_slice(&buf[..n]),
                            }
                            continue;
                        };
                        let head: Vec<u8> = pending.drain(..end + 4).collect();
                        let head = String::from_utf8_lossy(&head).into_owned();
                        let path = head.split(' ').nth(1).unwrap_or("").to_string();
                        seen.paths.lock().expect("lock").push(path.clone());
                        let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        let bytes = match route(&path) {
                            Reply::Json(status, body) => format!(
                                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                                body.len()
                            )
                            .into_bytes(),
                            Reply::Raw(bytes) => bytes,
                            Reply::Big(n) => {
                                let mut bytes =
                                    format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n")
                                        .into_bytes();
                                bytes.resize(bytes.len() + n, b'x');
                                bytes
                            }
                            Reply::Hang => {
                                tokio::time::sleep(Duration::from_secs(60)).await;
                                return;
                            }
                            Reply::Stream(period) => {
                                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                                let chunk = format!("{:x}\r\n{STATS}\n\r\n", STATS.len() + 1);
                                if conn.write_all(head.as_bytes()).await.is_err() {
                                    return;
                                }
                                // Until the client hangs up, or a minute passes.
                                let until = tokio::time::Instant::now() + Duration::from_secs(60);
                                while tokio::time::Instant::now() < until {
                                    if conn.write_all(chunk.as_bytes()).await.is_err() {
                                        return;
                                    }
                                    tokio::time::sleep(period).await;
                                }
                                return;
                            }
                        };
                        seen.in_flight.fetch_sub(1, Ordering::SeqCst);
                        if conn.write_all(&bytes).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (dir, DockerHost::Unix(path), seen)
    }

    const ID: &str = "4f2ae851ed29a92ae380c5b3872198193affba4cbffb15e43ff10475a131be17";

    /// An inspect answer as Docker writes it (trimmed to what is read and a few fields
    /// around it).
    fn inspect_body(id: &str, running: bool) -> String {
        let (status, pid, finished, exit) = if running {
            ("running", 4242, "0001-01-01T00:00:00Z", 0)
        } else {
            ("exited", 0, "2026-12-05T18:05:00.5Z", 137)
        };
        format!(
            r#"{{"Id": "{id}", "Created": "2026-12-05T17:59:58.1Z", "Path": "nginx",
  "State": {{"Status": "{status}", "Running": {running}, "Paused": false, "Restarting": false,
    "OOMKilled": {oom}, "Dead": false, "Pid": {pid}, "ExitCode": {exit}, "Error": "",
    "StartedAt": "2026-12-05T18:00:00.123456789Z", "FinishedAt": "{finished}"}},
  "Image": "sha256:9947c5a33865d3f74c0485ce5f615499db1855584f1455976d1b41a0a9f56729",
  "Name": "/ecs-web-1-web-d2b3", "RestartCount": 2, "Driver": "overlay2",
  "HostConfig": {{"CpuShares": 512, "Memory": 536870912, "MemoryReservation": 268435456,
    "NanoCpus": 0, "CpuPeriod": 100000, "CpuQuota": 50000, "CgroupParent": "/ecs/abc",
    "NetworkMode": "bridge", "MemorySwap": 1073741824}},
  "Config": {{"Hostname": "d2b3", "Image": "nginx:1.27", "Env": ["PATH=/usr/bin"],
    "Labels": {{"com.amazonaws.ecs.cluster": "prod", "com.amazonaws.ecs.container-name": "web"}}}}}}"#,
            oom = !running,
        )
    }

    /// A one-shot stats answer (cgroup v2) as Docker writes it.
    const STATS: &str = r#"{"read": "2026-12-05T18:00:10.000000001Z", "preread": "0001-01-01T00:00:00Z",
  "pids_stats": {"current": 7, "limit": 4915},
  "blkio_stats": {"io_service_bytes_recursive": [
    {"major": 259, "minor": 0, "op": "read", "value": 4096},
    {"major": 259, "minor": 0, "op": "write", "value": 8192}]},
  "num_procs": 0, "storage_stats": {},
  "cpu_stats": {"cpu_usage": {"total_usage": 123456789, "usage_in_kernelmode": 23456789,
    "usage_in_usermode": 100000000}, "system_cpu_usage": 9876543210000000, "online_cpus": 2,
    "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
  "precpu_stats": {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
    "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
  "memory_stats": {"usage": 104857600, "limit": 536870912,
    "stats": {"anon": 90000000, "file": 10485760, "inactive_file": 4194304}},
  "name": "/ecs-web-1-web-d2b3", "id": "4f2ae851ed29a92ae380c5b3872198193affba4cbffb15e43ff10475a131be17",
  "networks": {"eth0": {"rx_bytes": 1500, "rx_packets": 10, "rx_errors": 0, "rx_dropped": 1,
    "tx_bytes": 3000, "tx_packets": 20, "tx_errors": 0, "tx_dropped": 0}}}"#;

    fn docker(host: &DockerHost, concurrency: usize) -> Docker {
        Docker::new(host, Duration::from_secs(2), concurrency, concurrency)
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn a_running_container_is_inspected_then_its_stats_are_read_into_values() {
        let (_dir, host, seen) = serve(Duration::ZERO, |path| {
            if path.ends_with("/json") {
                Reply::Json(200, inspect_body(ID, true))
            } else {
                Reply::Json(200, STATS.to_string())
            }
        });
        let before = Utc::now();
        let reads = docker(&host, 2).read_containers(&ids(&[ID])).await;
        assert_eq!(
            seen.paths(),
            vec![
                format!("/containers/{ID}/json"),
                format!("/containers/{ID}/stats?stream=false&one-shot=true"),
            ]
        );
        assert_eq!(reads.len(), 1);
        let read = &reads[0];
        assert_eq!(read.id, ID);
        let inspect = read.inspect.as_ref().expect("inspect");
        assert_eq!(inspect.id.as_deref(), Some(ID));
        assert_eq!(inspect.name.as_deref(), Some("/ecs-web-1-web-d2b3"));
        assert_eq!(inspect.restart_count, Some(2));
        let state = inspect.state.as_ref().expect("state");
        assert_eq!(state.status.as_deref(), Some("running"));
        assert_eq!((state.running, state.oom_killed), (Some(true), Some(false)));
        assert_eq!((state.exit_code, state.pid), (Some(0), Some(4242)));
        assert_eq!(
            state.started_at.as_deref(),
            Some("2026-12-05T18:00:00.123456789Z")
        );
        assert_eq!(state.finished_at.as_deref(), Some("0001-01-01T00:00:00Z"));
        let config = inspect.config.as_ref().expect("config");
        assert_eq!(config.image.as_deref(), Some("nginx:1.27"));
        let labels = config.labels.as_ref().expect("labels");
        assert_eq!(labels.len(), 2);
        assert_eq!(labels["com.amazonaws.ecs.cluster"], "prod");
        assert_eq!(labels["com.amazonaws.ecs.container-name"], "web");
        let host_config = inspect.host_config.as_ref().expect("host config");
        assert_eq!(
            host_config,
            &InspectHostConfig {
                cpu_shares: Some(512),
                cpu_quota: Some(50_000),
                cpu_period: Some(100_000),
                nano_cpus: Some(0),
                memory: Some(512 << 20),
                memory_reservation: Some(256 << 20),
                network_mode: Some("bridge".to_string()),
                cgroup_parent: Some("/ecs/abc".to_string()),
            }
        );

        let stats = read.stats.as_ref().expect("asked").as_ref().expect("stats");
        assert_eq!(
            stats.read.as_deref(),
            Some("2026-12-05T18:00:10.000000001Z")
        );
        let cpu = stats.cpu_stats.as_ref().and_then(|c| c.cpu_usage.as_ref());
        assert_eq!(cpu.and_then(|c| c.total_usage), Some(123_456_789));
        let memory = stats.memory_stats.as_ref().expect("memory");
        assert_eq!(
            (memory.usage, memory.limit),
            (Some(100 << 20), Some(512 << 20))
        );
        let detail = memory.stats.as_ref().expect("memory.stat");
        assert_eq!((detail.inactive_file, detail.cache), (Some(4 << 20), None));
        let eth0 = &stats.networks.as_ref().expect("networks")["eth0"];
        assert_eq!((eth0.rx_bytes, eth0.tx_bytes), (Some(1500), Some(3000)));
        assert_eq!((eth0.rx_dropped, eth0.tx_packets), (Some(1), Some(20)));
        let blkio = stats
            .blkio_stats
            .as_ref()
            .and_then(|b| b.io_service_bytes_recursive.as_ref())
            .expect("blkio");
        let ops: Vec<_> = blkio.iter().map(|e| (e.op.as_deref(), e.value)).collect();
        assert_eq!(
            ops,
            vec![(Some("read"), Some(4096)), (Some("write"), Some(8192))]
        );
        assert_eq!(stats.pids_stats.as_ref().and_then(|p| p.current), Some(7));
        let at = read.stats_received_at.expect("stamped");
        assert!(before <= at && at <= Utc::now());
    }

    #[tokio::test]
    async fn a_stopped_container_is_inspected_and_its_stats_are_never_asked() {
        let (_dir, host, seen) = serve(Duration::ZERO, |_| {
            Reply::Json(200, inspect_body(ID, false))
        });
        let reads = docker(&host, 2).read_containers(&ids(&[ID])).await;
        assert_eq!(seen.paths(), vec![format!("/containers/{ID}/json")]);
        let state = reads[0]
            .inspect
            .as_ref()
            .expect("inspect")
            .state
            .clone()
            .expect("state");
        assert_eq!(state.status.as_deref(), Some("exited"));
        assert_eq!((state.running, state.oom_killed), (Some(false), Some(true)));
        assert_eq!(state.exit_code, Some(137));
        assert!(reads[0].stats.is_none());
        assert!(reads[0].stats_received_at.is_none());
    }

    #[tokio::test]
    async fn a_404_names_the_daemon_the_path_the_status_and_dockers_message() {
        let (_dir, host, _) = serve(Duration::ZERO, |_| {
            Reply::Json(404, r#"{"message":"No such container: x"}"#.to_string())
        });
        let reads = docker(&host, 1).read_containers(&ids(&["x"])).await;
        assert_eq!(
            reads[0].inspect.as_ref().expect_err("404"),
            &format!(
                "Docker Engine API ({host}) GET /containers/x/json: HTTP 404: No such container: x"
            )
        );
        assert!(reads[0].stats.is_none());
        // Docker no longer knows it: removed after it stopped, not a problem to warn of.
        assert!(reads[0].gone);
        assert_eq!(reads[0].problem(), None);

        // A long message is cut to what a log line can hold.
        let long = "y".repeat(5000);
        let message = format!(r#"{{"message":"{long}"}}"#);
        let (_dir, host, _) = serve(Duration::ZERO, move |_| Reply::Json(500, message.clone()));
        let reads = docker(&host, 1).read_containers(&ids(&["x"])).await;
        let e = reads[0].inspect.as_ref().expect_err("500");
        assert!(e.contains(": HTTP 500: \""), "{e}");
        assert!(e.len() < 400, "{} chars", e.len());
        assert!(!reads[0].gone);
        assert_eq!(reads[0].problem().as_deref(), Some(e.as_str()));
    }

    #[tokio::test]
    async fn the_empty_sample_of_a_container_that_stopped_after_its_inspect_is_no_sample() {
        // What Docker 20.10 answers for a container that is no longer running.
        let empty = r#"{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{}}"#;
        let (_dir, host, _) = serve(Duration::ZERO, move |path| {
            if path.ends_with("/json") {
                Reply::Json(200, inspect_body(ID, true))
            } else {
                Reply::Json(200, empty.to_string())
            }
        });
        let reads = docker(&host, 1).read_containers(&ids(&[ID])).await;
        assert!(reads[0].inspect.is_ok());
        assert!(reads[0].stats.is_none());
        assert!(reads[0].stats_received_at.is_none());
        assert_eq!(reads[0].problem(), None);
    }

    #[tokio::test]
    async fn a_failed_stats_read_keeps_the_inspect_and_is_not_stamped() {
        let (_dir, host, _) = serve(Duration::ZERO, |path| {
            if path.ends_with("/json") {
                Reply::Json(200, inspect_body(ID, true))
            } else {
                Reply::Json(409, r#"{"message":"container is not running"}"#.to_string())
            }
        });
        let reads = docker(&host, 1).read_containers(&ids(&[ID])).await;
        assert!(reads[0].inspect.is_ok());
        let e = reads[0]
            .stats
            .as_ref()
            .expect("asked")
            .as_ref()
            .expect_err("409");
        assert!(
            e.ends_with("/stats?stream=false&one-shot=true: HTTP 409: container is not running"),
            "{e}"
        );
        assert!(reads[0].stats_received_at.is_none());
    }

    #[tokio::test]
    async fn garbage_bytes_and_bodies_that_are_not_json_cost_only_that_container() {
        let (_dir, host, _) = serve(Duration::ZERO, |path| {
            if path.starts_with("/containers/a/") {
                Reply::Raw(b"\x00\x01SSH-2.0-garbage\r\n\r\n".to_vec())
            } else if path.starts_with("/containers/b/") {
                Reply::Json(200, "<html>nope</html>".to_string())
            } else {
                Reply::Json(200, inspect_body(ID, false))
            }
        });
        let reads = docker(&host, 2)
            .read_containers(&ids(&["a", "b", "c"]))
            .await;
        let a = reads[0].inspect.as_ref().expect_err("garbage");
        assert!(
            a.starts_with(&format!(
                "Docker Engine API ({host}) GET /containers/a/json: invalid HTTP response"
            )),
            "{a}"
        );
        let b = reads[1].inspect.as_ref().expect_err("not JSON");
        assert!(b.contains("GET /containers/b/json: invalid JSON"), "{b}");
        assert!(reads[2].inspect.is_ok(), "{:?}", reads[2].inspect);
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused() {
        let (_dir, host, _) = serve(Duration::ZERO, |_| Reply::Big(MAX_BODY_BYTES + 1));
        let reads = docker(&host, 1).read_containers(&ids(&["big"])).await;
        let e = reads[0].inspect.as_ref().expect_err("over the cap");
        assert!(e.contains("body larger than 2097152 bytes"), "{e}");
    }

    /// A Docker (or a proxy in front of it) that ignores `stream=false` and streams stats
    /// without end: as fast as it can, the stats cap (128 KiB, about 64 samples) ends the read;
    /// at one sample per 50 ms (Docker streams one a second), the timeout does. Either way
    /// only that container's stats fail, its inspect is kept, and nothing waits past the
    /// timeout.
    #[tokio::test]
    async fn stats_streamed_without_end_are_cut_by_the_cap_or_the_timeout() {
        let (_dir, host, _) = serve(Duration::ZERO, |path| {
            let id = path.split('/').nth(2).unwrap_or("");
            if path.ends_with("/json") {
                Reply::Json(200, inspect_body(id, true))
            } else if id == "fast" {
                Reply::Stream(Duration::ZERO)
            } else {
                Reply::Stream(Duration::from_millis(50))
            }
        });
        let docker = Docker::new(&host, Duration::from_millis(400), 2, 2);
        let started = std::time::Instant::now();
        let reads = docker.read_containers(&ids(&["fast", "slow"])).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(reads.iter().all(|r| r.inspect.is_ok()));
        let stats_error = |i: usize| {
            reads[i]
                .stats
                .as_ref()
                .expect("asked: the container runs")
                .as_ref()
                .expect_err("a stream is not one sample")
                .clone()
        };
        let fast = stats_error(0);
        assert!(fast.contains("body larger than 131072 bytes"), "{fast}");
        assert_eq!(
            stats_error(1),
            format!(
                "Docker Engine API ({host}) GET /containers/slow/stats?stream=false&one-shot=true: no answer within 400 ms"
            )
        );
    }

    #[tokio::test]
    async fn a_daemon_that_accepts_and_never_answers_times_out() {
        let (_dir, host, _) = serve(Duration::ZERO, |_| Reply::Hang);
        let docker = Docker::new(&host, Duration::from_millis(200), 2, 2);
        let started = std::time::Instant::now();
        let reads = docker.read_containers(&ids(&["a", "b"])).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        for (read, id) in reads.iter().zip(["a", "b"]) {
            assert_eq!(read.id, id);
            assert_eq!(
                read.inspect.as_ref().expect_err("timeout"),
                &format!(
                    "Docker Engine API ({host}) GET /containers/{id}/json: no answer within 200 ms"
                )
            );
        }
        let e = docker.info().await.expect_err("timeout");
        assert!(e.ends_with("GET /info: no answer within 200 ms"), "{e}");
    }

    #[tokio::test]
    async fn a_socket_that_does_not_exist_fails_each_container_with_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nothing.sock");
        let host = DockerHost::Unix(path.clone());
        let docker = docker(&host, 2);
        let reads = docker.read_containers(&ids(&["a", "b"])).await;
        assert_eq!(reads.len(), 2);
        for read in &reads {
            let e = read.inspect.as_ref().expect_err("no socket");
            assert!(
                e.contains(&format!("cannot connect to unix socket {}", path.display())),
                "{e}"
            );
            assert!(
                e.starts_with(&format!(
                    "Docker Engine API (unix://{}) GET /containers/",
                    path.display()
                )),
                "{e}"
            );
            assert!(read.stats.is_none());
        }
        assert!(docker.info().await.is_err());
    }

    #[tokio::test]
    async fn requests_in_flight_never_exceed_the_concurrency_and_reads_keep_the_input_order() {
        // Every answer takes 20 ms, so the readers overlap.
        let (_dir, host, seen) = serve(Duration::from_millis(20), |path| {
            let id = path.split('/').nth(2).unwrap_or("");
            if path.ends_with("/json") {
                // Odd-numbered containers run.
                let running = id.ends_with(['1', '3', '5', '7', '9']);
                Reply::Json(200, inspect_body(id, running))
            } else {
                Reply::Json(200, STATS.to_string())
            }
        });
        let names: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        let reads = docker(&host, 3).read_containers(&names).await;
        let max = seen.max_in_flight.load(Ordering::SeqCst);
        assert!((2..=3).contains(&max), "{max} requests at once");
        assert_eq!(seen.paths().len(), 10 + 5, "10 inspects, 5 stats");
        let got: Vec<_> = reads.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(got, names.iter().map(String::as_str).collect::<Vec<_>>());
        for (i, read) in reads.iter().enumerate() {
            let inspect = read.inspect.as_ref().expect("inspect");
            assert_eq!(inspect.id.as_deref(), Some(names[i].as_str()));
            assert_eq!(read.stats.is_some(), i % 2 == 1, "{i}");
        }
        assert!(docker(&host, 3).read_containers(&[]).await.is_empty());
    }

    #[tokio::test]
    async fn stats_are_read_after_every_inspect_with_their_own_concurrency_and_cap() {
        // Every answer takes 30 ms; 12 containers, all running.
        let (_dir, host, seen) = serve(Duration::from_millis(30), |path| {
            let id = path.split('/').nth(2).unwrap_or("");
            if path.ends_with("/json") {
                Reply::Json(200, inspect_body(id, true))
            } else if id == "c11" {
                Reply::Big(STATS_MAX_BODY_BYTES + 1)
            } else {
                Reply::Json(200, STATS.to_string())
            }
        });
        let names: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
        let reads = Docker::new(&host, Duration::from_secs(2), 2, 6)
            .read_containers(&names)
            .await;
        // Two inspects at a time, then up to six stats: never more than six at once, and
        // more than two (the stats phase has its own connections).
        let max = seen.max_in_flight.load(Ordering::SeqCst);
        assert!((3..=6).contains(&max), "{max} requests at once");
        let paths = seen.paths();
        let last_inspect = paths.iter().rposition(|p| p.ends_with("/json"));
        let first_stats = paths.iter().position(|p| p.contains("/stats"));
        assert_eq!(
            (last_inspect, first_stats),
            (Some(11), Some(12)),
            "{paths:?}"
        );
        assert!(reads[..11].iter().all(|r| matches!(r.stats, Some(Ok(_)))));
        let e = reads[11]
            .stats
            .as_ref()
            .expect("asked")
            .as_ref()
            .expect_err("over the stats cap");
        assert!(e.contains("body larger than 131072 bytes"), "{e}");
        // Its inspect is kept: only the stats failed.
        assert!(reads[11].inspect.is_ok());
    }

    #[tokio::test]
    async fn ids_that_are_not_ids_or_names_are_refused_without_a_request() {
        let (_dir, host, seen) = serve(Duration::ZERO, |_| {
            Reply::Json(200, inspect_body(ID, false))
        });
        let bad = [
            String::new(),
            "..".to_string(),
            ".hidden".to_string(),
            "a/../../info".to_string(),
            "web?all=1".to_string(),
            "a%2Fb".to_string(),
            "white space".to_string(),
            "x".repeat(129),
        ];
        let mut given = bad.to_vec();
        given.push("web.1_a-b".to_string());
        let reads = docker(&host, 2).read_containers(&given).await;
        assert_eq!(seen.paths(), vec!["/containers/web.1_a-b/json".to_string()]);
        for read in &reads[..bad.len()] {
            let e = read.inspect.as_ref().expect_err("refused");
            assert!(e.contains("is not a container id or name"), "{e}");
            assert!(e.ends_with("not requested"), "{e}");
        }
        assert!(reads[bad.len()].inspect.is_ok());
        assert!(valid_id(ID) && valid_id(&"x".repeat(128)));
    }

    #[tokio::test]
    async fn info_reads_the_cgroup_driver_and_version() {
        let (_dir, host, seen) = serve(Duration::ZERO, |_| {
            Reply::Json(
                200,
                r#"{"ID": "7TRN:IPZB", "Containers": 14, "Driver": "overlay2",
                    "CgroupDriver": "systemd", "CgroupVersion": "2", "ServerVersion": "25.0.8",
                    "Plugins": {"Volume": ["local"]}}"#
                    .to_string(),
            )
        });
        let info = docker(&host, 1).info().await.expect("info");
        assert_eq!(
            info,
            DockerInfo {
                cgroup_driver: Some("systemd".to_string()),
                cgroup_version: Some("2".to_string()),
            }
        );
        assert_eq!(seen.paths(), vec!["/info".to_string()]);
    }

    #[tokio::test]
    async fn a_tcp_docker_host_is_read_over_tcp() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            let body = r#"{"CgroupDriver": "cgroupfs", "CgroupVersion": "1"}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes()).await;
        });
        let host = DockerHost::parse(&format!("tcp://{addr}")).expect("tcp");
        let docker = docker(&host, 1);
        assert_eq!(docker.host(), &DockerHost::Tcp(addr));
        let info = docker.info().await.expect("info");
        assert_eq!(info.cgroup_driver.as_deref(), Some("cgroupfs"));
        assert_eq!(info.cgroup_version.as_deref(), Some("1"));
    }

    #[test]
    fn docker_host_reads_unix_and_plain_tcp_as_dockers_clients_do() {
        let unix = |p: &str| Ok(DockerHost::Unix(PathBuf::from(p)));
        let tcp = |a: &str| Ok(DockerHost::Tcp(a.to_string()));
        assert_eq!(
            DockerHost::parse("unix:///var/run/docker.sock"),
            unix("/var/run/docker.sock")
        );
        assert_eq!(
            DockerHost::parse("unix:///run/user/1000/docker.sock "),
            unix("/run/user/1000/docker.sock")
        );
        assert_eq!(DockerHost::parse(""), unix(DEFAULT_SOCKET));
        assert_eq!(DockerHost::parse("unix://"), unix(DEFAULT_SOCKET));
        assert_eq!(
            DockerHost::parse("tcp://10.0.0.1:2375"),
            tcp("10.0.0.1:2375")
        );
        assert_eq!(
            DockerHost::parse("TCP://docker.internal"),
            tcp("docker.internal:2375")
        );
        assert_eq!(DockerHost::parse("tcp://[::1]:2376/"), tcp("[::1]:2376"));
        assert_eq!(
            DockerHost::default().to_string(),
            "unix:///var/run/docker.sock"
        );
        assert_eq!(
            DockerHost::Tcp("10.0.0.1:2375".into()).to_string(),
            "tcp://10.0.0.1:2375"
        );
    }

    #[test]
    fn docker_host_refuses_tls_ssh_and_what_it_cannot_use() {
        for text in [
            "https://10.0.0.1:2376",
            "http://10.0.0.1:2375",
            "ssh://me@host",
            "npipe:////./pipe/docker_engine",
            "fd://",
            "/var/run/docker.sock",
            "tcp://",
            "tcp://host:notaport",
            "tcp://user:pw@host:2375",
            "tcp://host:2375/v1.41",
            "tcp://host:2375?tls=1",
        ] {
            let e = DockerHost::parse(text)
                .err()
                .unwrap_or_else(|| panic!("{text} accepted"));
            assert!(e.starts_with(&format!("DOCKER_HOST={text}: ")), "{e}");
            assert!(
                e.ends_with("only unix:// and tcp:// without TLS are supported"),
                "{e}"
            );
        }
        assert_eq!(
            DockerHost::parse("ssh://me@host").err().as_deref(),
            Some("DOCKER_HOST=ssh://me@host: only unix:// and tcp:// without TLS are supported")
        );
    }
}
