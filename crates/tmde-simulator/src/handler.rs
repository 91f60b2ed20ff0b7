//! Answering one request: count it, apply restart and exit events and faults, build the body.
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
use super::introspection;
use super::routes::Route;
use super::scenario::Platform;
use super::server::SimOptions;
use super::stats::{self, ContainerClock, StatsEntry};
use super::task::{self, Exit};

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
    /// Per normal container: how it stopped (`--exit`, `--oom-kill`), once it has.
    exits: Vec<Option<Exit>>,
}

/// The simulated endpoint: fixed options and identity, plus counters and restart state.
#[derive(Debug)]
pub struct Simulator {
    options: SimOptions,
    roster: Roster,
    base_path: String,
    /// The agent's introspection API answers (EC2, not turned off, not replaying: a replay
    /// has no generated task to describe).
    introspection: bool,
    started: DateTime<Utc>,
    state: Mutex<State>,
}

impl Simulator {
    /// A simulated task that started at `started`, answering paths under `base_path`.
    /// (`server::start` checks the options first; [`Simulator::in_process`] does too.)
    pub(crate) fn new(options: SimOptions, base_path: String, started: DateTime<Utc>) -> Self {
        let roster = Roster::new(&options.scenario);
        let n = options.scenario.containers;
        let introspection = options.replay.is_none() && options.scenario.serves_introspection();
        Self {
            options,
            roster,
            base_path,
            introspection,
            started,
            state: Mutex::new(State {
                counts: [0; Route::ALL.len()],
                restarted_at: vec![None; n],
                restart_counts: vec![0; n],
                exits: vec![None; n],
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
    /// request arrives and the time the answer is built. `path` may end in `?query`, which only
    /// `/v1/tasks` reads. Sleeps (tokio's clock) for injected latency, so a server calls it
    /// from a task of its own.
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
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let route = Route::of(path, &self.base_path, self.introspection);
        let n = self.arrive(route, now());
        let plan = match route {
            Route::Unknown => faults::Plan::default(),
            _ => faults::plan(&self.options.faults, route.fault_path(), n),
        };
        if !plan.latency.is_zero() {
            tokio::time::sleep(plan.latency).await;
        }
        let reply = match plan.action {
            None => self.real_reply(route, query, n, now()),
            Some(kind) => self.faulty_reply(kind, route, query, n, now()),
        };
        tracing::debug!(path, ?route, request = n, fault = ?plan.action, status = reply.status, "answered");
        reply
    }

    /// Counts the request and applies the restart and exit events it triggers (faults or not:
    /// the container's life goes on whatever the answer); returns its number.
    fn arrive(&self, route: Route, now: DateTime<Utc>) -> u64 {
        let mut state = self.lock();
        let slot = &mut state.counts[route.index()];
        *slot += 1;
        let n = *slot;
        if route == Route::Task {
            for event in self.options.exits.iter().filter(|e| e.at_request == n) {
                if let Some(exit @ None) = state.exits.get_mut(event.container) {
                    *exit = Some(Exit {
                        code: event.code,
                        finished_at: stats::rfc3339(now),
                    });
                    tracing::info!(
                        container = event.container,
                        request = n,
                        exit_code = event.code,
                        "simulated container exit"
                    );
                }
            }
        }
        if route == Route::Stats {
            for event in self.options.restarts.iter().filter(|e| e.at_request == n) {
                // Validation refuses a restart at or after an exit's request number, but the
                // two count different routes: a container that has stopped stays stopped.
                if state
                    .exits
                    .get(event.container)
                    .is_some_and(Option::is_some)
                {
                    tracing::info!(
                        container = event.container,
                        request = n,
                        "simulated restart skipped: the container has exited"
                    );
                    continue;
                }
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

    fn faulty_reply(
        &self,
        kind: FaultKind,
        route: Route,
        query: &str,
        n: u64,
        now: DateTime<Utc>,
    ) -> Reply {
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
                let real = self.real_reply(route, query, n, now).body;
                Reply::new(200, JSON, real.slice(..real.len() / 2))
            }
            FaultKind::NotJson => Reply::new(200, HTML, HTML_BODY),
            FaultKind::Empty => Reply::new(200, JSON, Bytes::new()),
            FaultKind::NullStats => self.uniform_stats(|| StatsEntry::Null),
            FaultKind::EmptyStats => self.uniform_stats(|| StatsEntry::Empty {}),
            // Latency is taken out by `faults::plan`; kept total for the match.
            FaultKind::Latency(_) => self.real_reply(route, query, n, now),
        }
    }

    /// The correct answer for request `n` of `route` (with `query`, for `/v1/tasks`), as of
    /// `now`.
    fn real_reply(&self, route: Route, query: &str, n: u64, now: DateTime<Utc>) -> Reply {
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
                // Never routed while replaying; kept total for the match.
                Route::AgentMetadata | Route::AgentTasks | Route::Unknown => Reply::not_found(),
            };
        }
        match route {
            Route::Task | Route::TaskWithTags => {
                // The Fargate docs list no /taskWithTags: expect a 404 there.
                let with_tags = route == Route::TaskWithTags;
                if with_tags && scenario.platform == Platform::Fargate {
                    return Reply::not_found();
                }
                let (counts, exits) = self.lives();
                json_reply(&task::task_document(
                    scenario,
                    &self.roster,
                    &counts,
                    &exits,
                    with_tags,
                ))
            }
            Route::Stats => {
                let task_ns = nanos_between(self.started, now);
                let clocks = self.clocks(now);
                let exited: Vec<bool> = self.lock().exits.iter().map(Option::is_some).collect();
                json_reply(&stats::stats_document(
                    scenario,
                    &self.roster,
                    now,
                    task_ns,
                    &clocks,
                    &exited,
                ))
            }
            Route::Container => match self.roster.containers.first() {
                Some(first) => {
                    let (counts, exits) = self.lives();
                    json_reply(&task::container_document(
                        scenario,
                        &self.roster,
                        first,
                        &counts,
                        &exits,
                    ))
                }
                None => Reply::not_found(),
            },
            Route::AgentMetadata => json_reply(&introspection::agent_metadata()),
            Route::AgentTasks => match &self.options.agent_tasks {
                None => {
                    let (status, body) = introspection::tasks(&self.roster, query);
                    json_reply_with(status, &body)
                }
                // Read again on every request: a test changes the host's tasks between polls.
                Some(path) => match introspection::file_tasks(path, query) {
                    Ok((status, body)) => json_reply_with(status, &body),
                    Err(problem) => {
                        // On stderr whatever the log settings, as the test harness reads it.
                        eprintln!("ecs-emf-exporter simulate: /v1/tasks answers 500: {problem}");
                        Reply::new(500, TEXT, format!("{problem}\n"))
                    }
                },
            },
            Route::Unknown => Reply::not_found(),
        }
    }

    /// Each normal container's restart count and exit so far.
    fn lives(&self) -> (Vec<u32>, Vec<Option<Exit>>) {
        let state = self.lock();
        (state.restart_counts.clone(), state.exits.clone())
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
    json_reply_with(200, document)
}

fn json_reply_with(status: u16, document: &impl Serialize) -> Reply {
    match serde_json::to_vec(document) {
        Ok(body) => Reply::new(status, JSON, body),
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
    use crate::faults::{ExitEvent, Fault, RestartEvent};
    use crate::scenario::Scenario;
    use serde_json::json;

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

    /// 2026-01-01T00:00:00Z, the simulated task's start in the tests below.
    fn start() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default()
    }

    /// Answers `GET path` as if it arrived `secs` seconds after [`start`].
    async fn get_at(s: &Simulator, path: &str, secs: i64) -> Reply {
        let t = start() + chrono::TimeDelta::seconds(secs);
        s.respond(true, path, &move || t).await
    }

    async fn json_at(s: &Simulator, path: &str, secs: i64) -> serde_json::Value {
        let reply = get_at(s, path, secs).await;
        assert_eq!(reply.status, 200, "{path}");
        serde_json::from_slice(&reply.body).expect("a JSON body")
    }

    fn exits(specs: &[&str]) -> Vec<ExitEvent> {
        specs
            .iter()
            .map(|e| e.parse().expect("valid exit spec"))
            .collect()
    }

    #[tokio::test]
    async fn exit_is_applied_by_the_task_request_it_names() {
        let s = Simulator::new(
            SimOptions {
                exits: exits(&["1@2:3"]),
                ..SimOptions::default()
            },
            "/v4/sim-0001".to_owned(),
            start(),
        );
        assert_eq!(start().to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let first = json_at(&s, "/task", 10).await;
        assert_eq!(first["Containers"][1]["KnownStatus"], "RUNNING");
        assert!(first["Containers"][1].get("ExitCode").is_none());
        // Stats between /task 1 and 2: still running.
        let stats = json_at(&s, "/task/stats", 15).await;
        let id1 = first["Containers"][1]["DockerId"]
            .as_str()
            .unwrap_or_default();
        assert!(stats[id1].is_object());
        // /task request 2, 20 s after the start, stops it: FinishedAt is that moment.
        let second = json_at(&s, "/task", 20).await;
        let c1 = &second["Containers"][1];
        assert_eq!(c1["KnownStatus"], "STOPPED");
        assert_eq!(c1["DesiredStatus"], "STOPPED");
        assert_eq!(c1["ExitCode"], 3);
        assert_eq!(c1["FinishedAt"], "2026-01-01T00:00:20.000000000Z");
        assert_eq!(second["Containers"][0]["KnownStatus"], "RUNNING");
        // Later answers keep the same FinishedAt; Fargate's stats entry is now null.
        let third = json_at(&s, "/task", 30).await;
        assert_eq!(
            third["Containers"][1]["FinishedAt"],
            "2026-01-01T00:00:20.000000000Z"
        );
        let stats = json_at(&s, "/task/stats", 31).await;
        assert_eq!(stats[id1], serde_json::Value::Null);
        let id0 = first["Containers"][0]["DockerId"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            stats[id0]["cpu_stats"]["cpu_usage"]["total_usage"],
            1_000_000_000u64 + 50_000_000 * 31
        );
    }

    #[tokio::test]
    async fn oom_kill_counts_task_requests_only_and_shows_on_every_route() {
        let s = Simulator::new(
            SimOptions {
                scenario: Scenario::ec2(),
                exits: exits(&["0@2:137"]),
                ..SimOptions::default()
            },
            "/v4/sim-0001".to_owned(),
            start(),
        );
        // /taskWithTags, /task/stats and faulted answers do not move the /task count…
        for secs in [1, 2] {
            let tagged = json_at(&s, "/taskWithTags", secs).await;
            assert_eq!(tagged["Containers"][0]["KnownStatus"], "RUNNING");
        }
        json_at(&s, "/task/stats", 3).await;
        assert_eq!(
            json_at(&s, "/task", 4).await["Containers"][0]["KnownStatus"],
            "RUNNING"
        );
        // …the second /task does, at 65 s.
        let task = json_at(&s, "/task", 65).await;
        let app = &task["Containers"][0];
        assert_eq!(
            (app["KnownStatus"].clone(), app["ExitCode"].clone()),
            (json!("STOPPED"), json!(137))
        );
        assert_eq!(app["FinishedAt"], "2026-01-01T00:01:05.000000000Z");
        let tagged = json_at(&s, "/taskWithTags", 70).await;
        assert_eq!(tagged["Containers"][0], *app);
        let own = json_at(&s, "/v4/sim-0001", 71).await;
        assert_eq!(own, *app);
        let stats = json_at(&s, "/task/stats", 72).await;
        assert_eq!(
            stats[app["DockerId"].as_str().unwrap_or_default()],
            json!({})
        );
    }

    #[tokio::test]
    async fn a_faulted_task_request_still_stops_the_container() {
        let s = Simulator::new(
            SimOptions {
                exits: exits(&["2@1:1"]),
                faults: vec!["task:500@1".parse().expect("valid fault")],
                ..SimOptions::default()
            },
            "/v4/sim-0001".to_owned(),
            start(),
        );
        assert_eq!(get_at(&s, "/task", 5).await.status, 500);
        let task = json_at(&s, "/task", 6).await;
        assert_eq!(task["Containers"][2]["ExitCode"], 1);
        assert_eq!(
            task["Containers"][2]["FinishedAt"],
            "2026-01-01T00:00:05.000000000Z"
        );
    }

    #[tokio::test]
    async fn a_stopped_container_does_not_restart() {
        // Validation refuses this pair; the handler holds on its own when the /task count
        // runs ahead of the stats count.
        let mut scenario = Scenario::fargate();
        scenario.restart_count_field = true;
        let s = Simulator::new(
            SimOptions {
                scenario,
                exits: exits(&["1@1:0"]),
                restarts: vec![RestartEvent {
                    container: 1,
                    at_request: 1,
                }],
                ..SimOptions::default()
            },
            "/v4/sim-0001".to_owned(),
            start(),
        );
        json_at(&s, "/task", 1).await;
        json_at(&s, "/task/stats", 2).await;
        assert_eq!(s.lock().restart_counts, [0, 0, 0]);
        assert!(!s.clocks(start())[1].restarted);
    }

    fn ec2_sim(configure: impl FnOnce(&mut SimOptions)) -> Simulator {
        let mut options = SimOptions {
            scenario: Scenario::ec2(),
            ..SimOptions::default()
        };
        configure(&mut options);
        Simulator::new(options, "/v4/sim-0001".to_owned(), start())
    }

    #[tokio::test]
    async fn introspection_answers_on_ec2_with_the_tasks_identity() {
        let s = ec2_sim(|_| {});
        let task = json_at(&s, "/v4/sim-0001/task", 1).await;
        let meta = json_at(&s, "/v1/metadata", 2).await;
        assert_eq!(meta["Cluster"], task["Cluster"]);
        assert_eq!(meta["Cluster"], "sim-cluster");
        assert_eq!(meta["Version"], "Amazon ECS Agent - v1.89.2 (4c59f4a1)");
        let list = json_at(&s, "/v1/tasks", 3).await;
        let one = &list["Tasks"][0];
        assert_eq!(one["Arn"], task["TaskARN"]);
        assert_eq!(one["Family"], task["Family"]);
        assert_eq!(one["Version"], task["Revision"]);
        let ids = |v: &serde_json::Value| -> Vec<serde_json::Value> {
            v.as_array()
                .into_iter()
                .flatten()
                .map(|c| c["DockerId"].clone())
                .collect()
        };
        assert_eq!(ids(&one["Containers"]), ids(&task["Containers"]));
        let id = task["Containers"][2]["DockerId"]
            .as_str()
            .unwrap_or_default();
        let found = json_at(&s, &format!("/v1/tasks?dockerid={id}"), 4).await;
        assert_eq!(found, *one);
        let miss = get_at(&s, "/v1/tasks?dockerid=0123456789abcdef", 5).await;
        assert_eq!((miss.status, miss.content_type), (404, JSON));
        // A query on another route is ignored, as before.
        assert_eq!(get_at(&s, "/v4/sim-0001/task?x=1", 6).await.status, 200);
        assert_eq!(s.count(Route::AgentMetadata), 1);
        assert_eq!(s.count(Route::AgentTasks), 3);
        assert_eq!(s.count(Route::Task), 2);
    }

    #[tokio::test]
    async fn introspection_is_404_on_fargate_when_off_and_when_replaying() {
        let fargate = sim(SimOptions::default());
        let off = ec2_sim(|o| o.scenario.introspection = false);
        let replaying = ec2_sim(|o| {
            o.replay = Some(crate::replay::Replay {
                task: vec!["{}".to_owned()],
                stats: vec!["{}".to_owned()],
                task_with_tags: None,
            });
        });
        for s in [&fargate, &off, &replaying] {
            for path in ["/v1/metadata", "/v1/tasks", "/v1/tasks?taskarn=x"] {
                let r = get_at(s, path, 1).await;
                assert_eq!(
                    (r.status, r.body.as_ref()),
                    (404, NOT_FOUND_BODY.as_bytes()),
                    "{path}"
                );
            }
            assert_eq!(s.count(Route::Unknown), 3);
            assert_eq!(
                s.count(Route::AgentMetadata) + s.count(Route::AgentTasks),
                0
            );
        }
    }

    #[tokio::test]
    async fn faults_reach_introspection_by_name_and_through_all() {
        let faults = [
            "introspection:500@1",
            "introspection:truncated@2",
            "all:429@3",
            "task:404",
        ]
        .iter()
        .map(|f| f.parse().expect("valid fault"))
        .collect();
        let s = ec2_sim(|o| o.faults = faults);
        // Each introspection route counts its own requests.
        assert_eq!(get_at(&s, "/v1/metadata", 1).await.status, 500);
        assert_eq!(get_at(&s, "/v1/tasks", 1).await.status, 500);
        let whole = introspection::tasks(&s.roster, "taskarn=nope");
        let whole = serde_json::to_vec(&whole.1).expect("serializes");
        let cut = get_at(&s, "/v1/tasks?taskarn=nope", 2).await;
        // Truncated keeps status 200 and halves the real (404) body, query and all.
        assert_eq!(cut.status, 200);
        assert_eq!(cut.body.as_ref(), &whole[..whole.len() / 2]);
        let limited = get_at(&s, "/v1/tasks", 3).await;
        assert_eq!((limited.status, limited.retry_after), (429, true));
        assert_eq!(get_at(&s, "/v1/tasks", 4).await.status, 200);
        assert_eq!(get_at(&s, "/v1/metadata", 2).await.status, 200);
        // Off: the paths do not exist, so no fault turns their 404 into anything else.
        let off = ec2_sim(|o| {
            o.scenario.introspection = false;
            o.faults = vec!["introspection:500".parse().expect("valid fault")];
        });
        assert_eq!(get_at(&off, "/v1/metadata", 1).await.status, 404);
    }

    #[tokio::test]
    async fn introspection_latency_delays_the_answer() {
        let s = ec2_sim(|o| {
            o.faults = vec!["introspection:latency=200@1".parse().expect("valid fault")];
        });
        let before = std::time::Instant::now();
        assert_eq!(get_at(&s, "/v1/tasks", 1).await.status, 200);
        assert!(before.elapsed() >= std::time::Duration::from_millis(200));
        let before = std::time::Instant::now();
        assert_eq!(get_at(&s, "/v1/tasks", 2).await.status, 200);
        assert!(before.elapsed() < std::time::Duration::from_millis(200));
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
