//! Answering one request: count it, apply restart events and faults, build the body.
//!
//! This knows nothing about sockets or hyper, so it can be reasoned about (and tested) as a
//! function from (method, path) and the clock to a [`Reply`], and used in-process: the
//! exporter's `demo` and `plan --demo` ask a [`Simulator`] directly, with their own clock.

use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::faults::{self, FaultKind};
use super::identity::Roster;
use super::routes::Route;
use super::scenario::Platform;
use super::server::SimOptions;
use super::stats::{self, ContainerClock, StatsEntry};
use super::task;

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
/// What a proxy in front of a broken endpoint might send: the `notjson` fault's body.
const HTML_BODY: &str = "<html><head><title>502 Bad Gateway</title></head>\
                         <body><h1>502 Bad Gateway</h1></body></html>\n";
/// What the agent's router answers for a path it does not know.
const NOT_FOUND_BODY: &str = "404 page not found\n";

/// An answer, ready to be written by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    /// Adds `Retry-After: 1` (the 429 fault).
    pub retry_after: bool,
    pub body: Bytes,
}

impl Reply {
    fn new(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type,
            retry_after: false,
            body: body.into(),
        }
    }

    fn json_message(status: u16, message: &str) -> Self {
        // The agent writes its errors as a JSON string.
        Self::new(status, JSON, format!("\"{message}\""))
    }

    fn not_found() -> Self {
        Self::new(404, TEXT, NOT_FOUND_BODY)
    }
}

/// The mutable part of the simulation.
#[derive(Debug)]
struct State {
    /// Requests per route, indexed by [`Route::index`].
    counts: [u64; Route::ALL.len()],
    /// Per normal container: when it last restarted, and how often.
    restarted_at: Vec<Option<DateTime<Utc>>>,
    restart_counts: Vec<u32>,
}

/// The simulated endpoint: fixed options and identity, plus counters and restart state.
#[derive(Debug)]
pub struct Simulator {
    options: SimOptions,
    roster: Roster,
    base_path: String,
    started: DateTime<Utc>,
    state: Mutex<State>,
}

impl Simulator {
    /// A simulated task that started at `started`, answering paths under `base_path`.
    /// (`server::start` checks the options first; [`Simulator::in_process`] does too.)
    pub(crate) fn new(options: SimOptions, base_path: String, started: DateTime<Utc>) -> Self {
        let roster = Roster::new(&options.scenario);
        let n = options.scenario.containers;
        Self {
            options,
            roster,
            base_path,
            started,
            state: Mutex::new(State {
                counts: [0; Route::ALL.len()],
                restarted_at: vec![None; n],
                restart_counts: vec![0; n],
            }),
        }
    }

    /// How many requests `route` has received.
    pub(crate) fn count(&self, route: Route) -> u64 {
        self.lock().counts[route.index()]
    }

    /// The endpoint without a server, for a caller in the same process: its paths are under
    /// [`Simulator::base_path`], its time is what the caller's clock says.
    pub fn in_process(options: SimOptions, started: DateTime<Utc>) -> std::io::Result<Self> {
        super::server::validate(&options)?;
        Ok(Self::new(
            options,
            super::server::BASE_PATH.to_owned(),
            started,
        ))
    }

    /// The path every route is under (`/v4/sim-0001`).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Answers `GET path` (`is_get` false: another method), with `now` for the time the
    /// request arrives and the time the answer is built. Sleeps (tokio's clock) for injected
    /// latency, so a server calls it from a task of its own.
    pub async fn respond(
        &self,
        is_get: bool,
        path: &str,
        now: &(dyn Fn() -> DateTime<Utc> + Sync),
    ) -> Reply {
        if !is_get {
            return Reply::new(
                405,
                TEXT,
                "method not allowed: the endpoint answers GET only\n",
            );
        }
        let route = Route::of(path, &self.base_path);
        let n = self.arrive(route, now());
        let plan = match route {
            Route::Unknown => faults::Plan::default(),
            _ => faults::plan(&self.options.faults, route.fault_path(), n),
        };
        if !plan.latency.is_zero() {
            tokio::time::sleep(plan.latency).await;
        }
        let reply = match plan.action {
            None => self.real_reply(route, n, now()),
            Some(kind) => self.faulty_reply(kind, route, n, now()),
        };
        tracing::debug!(path, ?route, request = n, fault = ?plan.action, status = reply.status, "answered");
        reply
    }

    /// Counts the request and applies the restart events it triggers; returns its number.
    fn arrive(&self, route: Route, now: DateTime<Utc>) -> u64 {
        let mut state = self.lock();
        let slot = &mut state.counts[route.index()];
        *slot += 1;
        let n = *slot;
        if route == Route::Stats {
            for event in self.options.restarts.iter().filter(|e| e.at_request == n) {
                if let Some(at) = state.restarted_at.get_mut(event.container) {
                    *at = Some(now);
                }
                if let Some(count) = state.restart_counts.get_mut(event.container) {
                    *count += 1;
                }
                tracing::info!(
                    container = event.container,
                    request = n,
                    "simulated container restart"
                );
            }
        }
        n
    }

    fn faulty_reply(&self, kind: FaultKind, route: Route, n: u64, now: DateTime<Utc>) -> Reply {
        match kind {
            FaultKind::ServerError => {
                Reply::json_message(500, "simulated fault: internal server error")
            }
            FaultKind::TooManyRequests => Reply {
                retry_after: true,
                ..Reply::new(429, TEXT, "Too Many Requests\n")
            },
            FaultKind::NotFound => Reply::not_found(),
            FaultKind::Truncated => {
                let real = self.real_reply(route, n, now).body;
                Reply::new(200, JSON, real.slice(..real.len() / 2))
            }
            FaultKind::NotJson => Reply::new(200, HTML, HTML_BODY),
            FaultKind::Empty => Reply::new(200, JSON, Bytes::new()),
            FaultKind::NullStats => self.uniform_stats(|| StatsEntry::Null),
            FaultKind::EmptyStats => self.uniform_stats(|| StatsEntry::Empty {}),
            // Latency is taken out by `faults::plan`; kept total for the match.
            FaultKind::Latency(_) => self.real_reply(route, n, now),
        }
    }

    /// The correct answer for request `n` of `route`, as of `now`.
    fn real_reply(&self, route: Route, n: u64, now: DateTime<Utc>) -> Reply {
        let scenario = &self.options.scenario;
        if let Some(replay) = &self.options.replay {
            return match route {
                Route::Task => Reply::new(200, JSON, replay.task_for(n).to_owned()),
                Route::Stats => Reply::new(200, JSON, replay.stats_for(n).to_owned()),
                Route::TaskWithTags => replay
                    .task_with_tags
                    .clone()
                    .map_or_else(Reply::not_found, |body| Reply::new(200, JSON, body)),
                Route::Container => replay
                    .first_container()
                    .map_or_else(Reply::not_found, |body| Reply::new(200, JSON, body)),
                Route::Unknown => Reply::not_found(),
            };
        }
        match route {
            Route::Task | Route::TaskWithTags => {
                // The Fargate docs list no /taskWithTags: expect a 404 there.
                let with_tags = route == Route::TaskWithTags;
                if with_tags && scenario.platform == Platform::Fargate {
                    return Reply::not_found();
                }
                let counts = self.lock().restart_counts.clone();
                json_reply(&task::task_document(
                    scenario,
                    &self.roster,
                    &counts,
                    with_tags,
                ))
            }
            Route::Stats => {
                let task_ns = nanos_between(self.started, now);
                let clocks = self.clocks(now);
                json_reply(&stats::stats_document(
                    scenario,
                    &self.roster,
                    now,
                    task_ns,
                    &clocks,
                ))
            }
            Route::Container => match self.roster.containers.first() {
                Some(first) => {
                    let counts = self.lock().restart_counts.clone();
                    json_reply(&task::container_document(
                        scenario,
                        &self.roster,
                        first,
                        &counts,
                    ))
                }
                None => Reply::not_found(),
            },
            Route::Unknown => Reply::not_found(),
        }
    }

    fn uniform_stats(&self, entry: fn() -> StatsEntry) -> Reply {
        let ids = match &self.options.replay {
            Some(replay) => replay.docker_ids(),
            None => self
                .roster
                .containers
                .iter()
                .map(|c| c.docker_id.clone())
                .collect(),
        };
        json_reply(&stats::uniform_document(&ids, entry))
    }

    /// Each normal container's clock at `now`: since its last restart, else since the start.
    fn clocks(&self, now: DateTime<Utc>) -> Vec<ContainerClock> {
        self.lock()
            .restarted_at
            .iter()
            .map(|at| ContainerClock {
                elapsed_ns: nanos_between(at.unwrap_or(self.started), now),
                restarted: at.is_some(),
            })
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain counters behind, still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn json_reply(document: &impl Serialize) -> Reply {
    match serde_json::to_vec(document) {
        Ok(body) => Reply::new(200, JSON, body),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize a simulated document");
            Reply::json_message(500, "simulator could not serialize its answer")
        }
    }
}

/// Nanoseconds from `from` to `to`, 0 when the wall clock went backwards.
fn nanos_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    (to - from)
        .num_nanoseconds()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Fault, RestartEvent};
    use crate::scenario::Scenario;

    fn sim(options: SimOptions) -> Simulator {
        Simulator::new(options, "/v4/sim-0001".to_owned(), Utc::now())
    }

    #[tokio::test]
    async fn non_get_is_refused_and_not_counted() {
        let s = sim(SimOptions::default());
        assert_eq!(
            s.respond(false, "/v4/sim-0001/task", &Utc::now)
                .await
                .status,
            405
        );
        assert_eq!(s.count(Route::Task), 0);
    }

    #[tokio::test]
    async fn unknown_paths_are_404_and_counted_apart() {
        let s = sim(SimOptions::default());
        let r = s.respond(true, "/v4/sim-0001/nope", &Utc::now).await;
        assert_eq!(
            (r.status, r.body.as_ref()),
            (404, NOT_FOUND_BODY.as_bytes())
        );
        assert_eq!(s.count(Route::Unknown), 1);
        assert_eq!(s.count(Route::Task), 0);
    }

    #[tokio::test]
    async fn fault_kinds_shape_the_reply() {
        let faults: Vec<Fault> = [
            "task:429@1",
            "task:notjson@2",
            "task:empty@3",
            "task:404@4",
            "all:500@5",
        ]
        .iter()
        .filter_map(|f| f.parse().ok())
        .collect();
        let s = sim(SimOptions {
            faults,
            ..SimOptions::default()
        });
        let r = s.respond(true, "/task", &Utc::now).await;
        assert_eq!((r.status, r.retry_after), (429, true));
        let r = s.respond(true, "/task", &Utc::now).await;
        assert_eq!((r.status, r.content_type), (200, HTML));
        let r = s.respond(true, "/task", &Utc::now).await;
        assert_eq!((r.status, r.body.len()), (200, 0));
        assert_eq!(s.respond(true, "/task", &Utc::now).await.status, 404);
        assert_eq!(s.respond(true, "/task", &Utc::now).await.status, 500);
        assert_eq!(s.respond(true, "/task", &Utc::now).await.status, 200);
    }

    #[tokio::test]
    async fn restart_is_applied_by_the_stats_request_it_names() {
        let mut scenario = Scenario::ec2();
        scenario.restart_count_field = true;
        let s = sim(SimOptions {
            scenario,
            restarts: vec![RestartEvent {
                container: 2,
                at_request: 2,
            }],
            ..SimOptions::default()
        });
        s.respond(true, "/task/stats", &Utc::now).await;
        assert_eq!(s.lock().restart_counts, [0, 0, 0]);
        s.respond(true, "/task/stats", &Utc::now).await;
        assert_eq!(s.lock().restart_counts, [0, 0, 1]);
        assert!(s.clocks(Utc::now())[2].restarted);
        s.respond(true, "/task/stats", &Utc::now).await;
        assert_eq!(s.lock().restart_counts, [0, 0, 1]);
    }

    #[test]
    fn nanos_between_never_goes_negative() {
        let now = Utc::now();
        assert_eq!(nanos_between(now, now - chrono::TimeDelta::seconds(1)), 0);
        assert_eq!(
            nanos_between(now, now + chrono::TimeDelta::milliseconds(1500)),
            1_500_000_000
        );
    }
}
