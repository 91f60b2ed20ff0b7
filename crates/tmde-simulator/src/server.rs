//! The HTTP/1.1 server on loopback: binding, the accept loop, and shutting down.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::faults::{ExitEvent, Fault, FaultPath, RestartEvent};
use super::handler::{Reply, Simulator};
use super::replay::Replay;
use super::routes::Route;
use super::scenario::{Platform, Scenario};

/// The path of the base URL. Fixed, so that logs and tests are the same every run (the routes
/// match on suffixes, so the id carries no meaning).
pub(crate) const BASE_PATH: &str = "/v4/sim-0001";
/// How long in-flight answers (e.g. under a latency fault) may finish after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Everything that shapes the simulated endpoint.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    pub scenario: Scenario,
    pub faults: Vec<Fault>,
    pub restarts: Vec<RestartEvent>,
    /// Containers that exit (at most one event per container).
    pub exits: Vec<ExitEvent>,
    /// Serve these captured responses instead of the generated task.
    pub replay: Option<Replay>,
    /// Serve the agent's `/v1/tasks` from this file (the agent's body), read again on every
    /// request, instead of the simulated task: the tasks of a real host, for tests of the
    /// exporter's daemon mode. EC2 only, not with `replay` (`simulate --agent-tasks`).
    pub agent_tasks: Option<PathBuf>,
}

/// A running simulator. Dropping it stops the accept loop too; [`SimServer::shutdown`] also
/// waits for it.
#[derive(Debug)]
pub struct SimServer {
    base_url: String,
    local_addr: SocketAddr,
    sim: Arc<Simulator>,
    stop: watch::Sender<bool>,
    serving: JoinHandle<()>,
}

/// Binds `127.0.0.1:port` (0 picks a free port) and serves on a spawned task.
///
/// Only loopback, ever: the simulator must not be reachable from another machine.
pub async fn start(options: SimOptions, port: u16) -> io::Result<SimServer> {
    validate(&options)?;
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot bind 127.0.0.1:{port}: {e}")))?;
    let local_addr = listener.local_addr()?;
    let base_url = format!("http://{local_addr}{BASE_PATH}");
    let sim = Arc::new(Simulator::new(
        options,
        BASE_PATH.to_owned(),
        chrono::Utc::now(),
    ));
    let (stop, stopped) = watch::channel(false);
    let serving = tokio::spawn(accept_loop(listener, Arc::clone(&sim), stopped));
    tracing::debug!(%base_url, "simulator listening");
    Ok(SimServer {
        base_url,
        local_addr,
        sim,
        stop,
        serving,
    })
}

impl SimServer {
    /// `http://127.0.0.1:PORT/v4/sim-0001`: the value for `ECS_CONTAINER_METADATA_URI_V4`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many requests a route got (`All`: every request, unknown paths included;
    /// `Introspection`: `/v1/metadata` and `/v1/tasks` together, while they are served).
    /// Requests with a method other than GET are refused and not counted.
    pub fn requests(&self, path: FaultPath) -> u64 {
        match path {
            FaultPath::Task => self.sim.count(Route::Task),
            FaultPath::Stats => self.sim.count(Route::Stats),
            FaultPath::TaskWithTags => self.sim.count(Route::TaskWithTags),
            FaultPath::Introspection => {
                self.sim.count(Route::AgentMetadata) + self.sim.count(Route::AgentTasks)
            }
            FaultPath::All => Route::ALL.iter().map(|r| self.sim.count(*r)).sum(),
        }
    }

    /// Stops accepting, lets answers in flight finish (briefly), and waits for the server.
    pub async fn shutdown(self) {
        // An error means the loop is gone already, which is the goal.
        let _ = self.stop.send(true);
        if let Err(e) = self.serving.await {
            tracing::warn!(error = %e, "simulator task ended abnormally");
        }
    }
}

pub(crate) fn validate(options: &SimOptions) -> io::Result<()> {
    let containers = options.scenario.containers;
    if let Some(bad) = options.restarts.iter().find(|r| r.container >= containers) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "restart event for container {} but the task has containers 0..{containers}",
                bad.container
            ),
        ));
    }
    let invalid = |message: String| Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    for (i, exit) in options.exits.iter().enumerate() {
        if exit.container >= containers {
            return invalid(format!(
                "exit event for container {} but the task has containers 0..{containers}",
                exit.container
            ));
        }
        if options.exits[..i]
            .iter()
            .any(|e| e.container == exit.container)
        {
            return invalid(format!(
                "two exit events for container {}: a container stops once",
                exit.container
            ));
        }
        if let Some(restart) = restart_after_exit(&options.restarts, exit) {
            return invalid(format!(
                "restart event {}@{} for container {} which has exited at task request {}",
                restart.container, restart.at_request, exit.container, exit.at_request
            ));
        }
    }
    if options.replay.is_some() && !options.exits.is_empty() {
        return invalid("exit events cannot be combined with replay".to_owned());
    }
    if options.agent_tasks.is_some() {
        if options.scenario.platform != Platform::Ec2 {
            return invalid(
                "an agent tasks file needs the EC2 platform (Fargate has no agent API)".to_owned(),
            );
        }
        if options.replay.is_some() {
            return invalid(
                "an agent tasks file cannot be combined with replay (a replay serves no agent API)"
                    .to_owned(),
            );
        }
    }
    Ok(())
}

/// A restart of `exit`'s container numbered at or after the exit. The numbers count different
/// routes (stats and task requests), but a client polls both once per cycle, so the same
/// number means the same cycle: a stopped container does not come back.
pub(crate) fn restart_after_exit<'a>(
    restarts: &'a [RestartEvent],
    exit: &ExitEvent,
) -> Option<&'a RestartEvent> {
    restarts
        .iter()
        .find(|r| r.container == exit.container && r.at_request >= exit.at_request)
}

async fn accept_loop(
    listener: TcpListener,
    sim: Arc<Simulator>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&sim), stopped.clone()));
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "simulator cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // A stop signal, or the SimServer was dropped.
            _ = stopped.changed() => break,
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::debug!("simulator connections still busy at shutdown; closing them");
    }
}

async fn serve_connection(
    stream: TcpStream,
    sim: Arc<Simulator>,
    mut stopped: watch::Receiver<bool>,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        let sim = Arc::clone(&sim);
        async move { Ok::<_, Infallible>(to_response(answer(&sim, &request).await)) }
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stopped.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "simulator connection ended with an error");
    }
}

async fn answer(sim: &Simulator, request: &Request<Incoming>) -> Reply {
    // With the query: `/v1/tasks?dockerid=…` reads it.
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path(), |pq| pq.as_str());
    sim.respond(request.method() == Method::GET, target, &chrono::Utc::now)
        .await
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    if reply.retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if reply.status == 405 {
        headers.insert(ALLOW, HeaderValue::from_static("GET"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultKind;
    use crate::scenario::{NetworkMode, Platform};
    use crate::test_support::{Fetched, Scratch, get, request};
    use chrono::DateTime;
    use serde_json::{Value, json};

    async fn serve(options: SimOptions) -> SimServer {
        start(options, 0)
            .await
            .expect("bind an ephemeral loopback port")
    }

    fn scenario_options(scenario: Scenario) -> SimOptions {
        SimOptions {
            scenario,
            ..SimOptions::default()
        }
    }

    fn with_faults(scenario: Scenario, specs: &[&str]) -> SimOptions {
        SimOptions {
            faults: specs
                .iter()
                .map(|s| s.parse().expect("valid fault spec"))
                .collect(),
            ..scenario_options(scenario)
        }
    }

    async fn fetch(server: &SimServer, suffix: &str) -> Fetched {
        get(
            server.local_addr(),
            &format!("{}{suffix}", server.base_url()),
        )
        .await
    }

    /// `Containers[]` of `/task`, and the stats map, fetched now.
    async fn task_and_stats(server: &SimServer) -> (Vec<Value>, Value) {
        let task = fetch(server, "/task").await.json();
        let containers = task["Containers"].as_array().cloned().unwrap_or_default();
        (containers, fetch(server, "/task/stats").await.json())
    }

    fn stats_of<'a>(stats: &'a Value, container: &Value) -> &'a Value {
        &stats[container["DockerId"].as_str().unwrap_or_default()]
    }

    fn read_ns(entry: &Value) -> i64 {
        let read = entry["read"].as_str().unwrap_or_default();
        DateTime::parse_from_rfc3339(read)
            .ok()
            .and_then(|t| t.timestamp_nanos_opt())
            .unwrap_or_else(|| panic!("read is RFC 3339: {read}"))
    }

    fn preread_ns(entry: &Value) -> i64 {
        let preread = entry["preread"].as_str().unwrap_or_default();
        DateTime::parse_from_rfc3339(preread)
            .ok()
            .and_then(|t| t.timestamp_nanos_opt())
            .unwrap_or_else(|| panic!("preread is RFC 3339: {preread}"))
    }

    fn total_usage(entry: &Value) -> u64 {
        entry["cpu_stats"]["cpu_usage"]["total_usage"]
            .as_u64()
            .unwrap_or(u64::MAX)
    }

    #[tokio::test]
    async fn binds_loopback_and_answers_the_base_url_with_container_0() {
        let server = serve(SimOptions::default()).await;
        let addr = server.local_addr();
        assert!(addr.ip().is_loopback());
        assert_eq!(
            server.base_url(),
            format!("http://127.0.0.1:{}/v4/sim-0001", addr.port())
        );
        let own = fetch(&server, "").await;
        assert_eq!(own.status, 200);
        assert_eq!(own.header("content-type"), Some("application/json"));
        let own = own.json();
        assert_eq!(own["Name"], "app");
        assert_eq!(own["Type"], "NORMAL");
        assert_eq!(
            request(addr, "GET", "/v4/sim-0001/nothing").await.status,
            404
        );
        let post = request(addr, "POST", "/v4/sim-0001/task").await;
        assert_eq!((post.status, post.header("allow")), (405, Some("GET")));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fargate_shape_stopped_stats_null_and_no_tags_route() {
        let mut scenario = Scenario::fargate();
        scenario.stopped_containers = 1;
        let server = serve(scenario_options(scenario)).await;
        let (containers, stats) = task_and_stats(&server).await;
        let names: Vec<&str> = containers
            .iter()
            .filter_map(|c| c["Name"].as_str())
            .collect();
        assert_eq!(names, ["app", "ecs-emf-exporter", "worker-2", "stopped-0"]);
        assert!(containers.iter().all(|c| c["Type"] == "NORMAL"));
        assert_eq!(stats.as_object().map(|m| m.len()), Some(4));
        assert_eq!(*stats_of(&stats, &containers[3]), Value::Null);
        let app = stats_of(&stats, &containers[0]);
        assert_eq!(app["name"], "app");
        assert_eq!(app["id"], containers[0]["DockerId"]);
        assert_eq!(app["preread"], "0001-01-01T00:00:00Z");
        assert!(app["networks"].get("eth1").is_some());
        assert_eq!(app["memory_stats"]["limit"], 9_223_372_036_854_771_712u64);
        assert_eq!(fetch(&server, "/taskWithTags").await.status, 404);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn ec2_shape_stopped_stats_empty_and_tags() {
        let mut scenario = Scenario::ec2();
        scenario.stopped_containers = 1;
        scenario.tags = vec![("env".into(), "prod".into())];
        let server = serve(scenario_options(scenario)).await;
        let (containers, stats) = task_and_stats(&server).await;
        assert_eq!(containers.len(), 4);
        assert!(
            containers.iter().all(|c| c["Type"] == "NORMAL"),
            "no pause container in bridge mode"
        );
        assert_eq!(*stats_of(&stats, &containers[3]), json!({}));
        let app = stats_of(&stats, &containers[0]);
        assert_eq!(
            app["name"],
            format!(
                "/{}",
                containers[0]["DockerName"].as_str().unwrap_or_default()
            )
        );
        // Less than a second after the start, the previous sample is the start itself.
        let since_preread = read_ns(app) - preread_ns(app);
        assert!(
            (0..1_000_000_000).contains(&since_preread),
            "{since_preread}"
        );
        let tagged = fetch(&server, "/taskWithTags").await.json();
        assert_eq!(tagged["TaskTags"], json!({"env": "prod"}));
        assert_eq!(tagged["ContainerInstanceTags"]["Name"], "sim-ecs-instance");
        assert_eq!(tagged["Containers"].as_array().map(Vec::len), Some(4));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn ec2_awsvpc_lists_the_pause_container_with_stats() {
        let mut scenario = Scenario::ec2();
        scenario.network = NetworkMode::Awsvpc;
        let server = serve(scenario_options(scenario)).await;
        let (containers, stats) = task_and_stats(&server).await;
        let pause = containers.last().cloned().unwrap_or_default();
        assert_eq!(pause["Name"], "~internal~ecs~pause");
        assert_eq!(pause["Type"], "CNI_PAUSE");
        assert_eq!(pause["KnownStatus"], "RUNNING");
        let pause_stats = stats_of(&stats, &pause);
        assert!(
            pause_stats["networks"]["eth0"]["rx_bytes"]
                .as_u64()
                .unwrap_or(0)
                >= 1_000_000_000_000
        );
        // The normal containers all see the same task ENI, and it is not the pause's numbers.
        let eni = &stats_of(&stats, &containers[0])["networks"];
        assert!(eni["eth0"]["rx_bytes"].as_u64().unwrap_or(u64::MAX) < 1_000_000_000);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn rates_over_one_second_match_the_documented_numbers() {
        let fargate = serve(scenario_options(Scenario::fargate())).await;
        let ec2 = serve(scenario_options(Scenario::ec2())).await;
        let (f_containers, f1) = task_and_stats(&fargate).await;
        let (e_containers, e1) = task_and_stats(&ec2).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let f2 = fetch(&fargate, "/task/stats").await.json();
        let e2 = fetch(&ec2, "/task/stats").await.json();

        for (containers, s1, s2) in [(&f_containers, &f1, &f2), (&e_containers, &e1, &e2)] {
            for (k, c) in containers.iter().enumerate() {
                let (a, b) = (stats_of(s1, c), stats_of(s2, c));
                let dt_ns = (read_ns(b) - read_ns(a)) as f64;
                assert!(dt_ns >= 1e9, "polls are at least 1 s apart");
                let rate = (total_usage(b) - total_usage(a)) as f64 / dt_ns * 1e9;
                let expected = (k as f64 + 1.0) * 50e6;
                assert!(
                    (rate - expected).abs() < 2.0,
                    "k={k}: {rate} ns/s, expected {expected}"
                );
                let cpu_units = rate / 1e9 * 1024.0;
                assert!(
                    (cpu_units - (k as f64 + 1.0) * 51.2).abs() < 0.001,
                    "k={k}: {cpu_units}"
                );
            }
        }

        // awsvpc: every container reports the same task ENI counters.
        let eni: Vec<&Value> = f_containers
            .iter()
            .map(|c| &stats_of(&f2, c)["networks"])
            .collect();
        assert!(eni.iter().all(|n| *n == eni[0]));
        let dt = (read_ns(stats_of(&f2, &f_containers[0]))
            - read_ns(stats_of(&f1, &f_containers[0]))) as f64
            / 1e9;
        let rx = |s: &Value| s["networks"]["eth1"]["rx_bytes"].as_u64().unwrap_or(0) as f64;
        let rx_rate =
            (rx(stats_of(&f2, &f_containers[0])) - rx(stats_of(&f1, &f_containers[0]))) / dt;
        assert!((rx_rate - 100_000.0).abs() < 1.0, "{rx_rate}");

        // EC2 after a second: precpu_stats is the sample exactly one second earlier.
        for (k, c) in e_containers.iter().enumerate() {
            let entry = stats_of(&e2, c);
            assert_eq!(read_ns(entry) - preread_ns(entry), 1_000_000_000);
            let pre = entry["precpu_stats"]["cpu_usage"]["total_usage"]
                .as_u64()
                .unwrap_or(0);
            assert_eq!(total_usage(entry) - pre, (k as u64 + 1) * 50_000_000);
        }

        // bridge: each container its own eth0, growing at (k+1) × 10,000 B/s.
        for (k, c) in e_containers.iter().enumerate() {
            let (a, b) = (stats_of(&e1, c), stats_of(&e2, c));
            let dt = (read_ns(b) - read_ns(a)) as f64 / 1e9;
            let rx = |s: &Value| s["networks"]["eth0"]["rx_bytes"].as_u64().unwrap_or(0) as f64;
            let rate = (rx(b) - rx(a)) / dt;
            assert!(
                (rate - (k as f64 + 1.0) * 10_000.0).abs() < 1.0,
                "k={k}: {rate}"
            );
        }
        fargate.shutdown().await;
        ec2.shutdown().await;
    }

    #[tokio::test]
    async fn stats_500_on_requests_2_and_3_only() {
        let server = serve(with_faults(Scenario::fargate(), &["stats:500@2-3"])).await;
        let statuses: Vec<u16> = [
            fetch(&server, "/task/stats").await.status,
            fetch(&server, "/task/stats").await.status,
            fetch(&server, "/task/stats").await.status,
            fetch(&server, "/task/stats").await.status,
        ]
        .into();
        assert_eq!(statuses, [200, 500, 500, 200]);
        assert_eq!(fetch(&server, "/task").await.status, 200);
        assert_eq!(server.requests(FaultPath::Stats), 4);
        assert_eq!(server.requests(FaultPath::Task), 1);
        assert_eq!(server.requests(FaultPath::TaskWithTags), 0);
        fetch(&server, "/nope").await;
        assert_eq!(server.requests(FaultPath::All), 6);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn truncated_body_is_half_and_not_json() {
        let server = serve(with_faults(Scenario::ec2(), &["task:truncated@1"])).await;
        let cut = fetch(&server, "/task").await;
        let whole = fetch(&server, "/task").await;
        assert_eq!(cut.status, 200);
        assert_eq!(cut.header("content-type"), Some("application/json"));
        assert_eq!(cut.body, whole.body[..whole.body.len() / 2]);
        assert!(serde_json::from_slice::<Value>(&cut.body).is_err());
        assert!(serde_json::from_slice::<Value>(&whole.body).is_ok());
        server.shutdown().await;
    }

    #[tokio::test]
    async fn other_faults_over_http() {
        let server = serve(with_faults(
            Scenario::ec2(),
            &[
                "tags:429@1",
                "stats:nullstats@1",
                "stats:emptystats@2",
                "all:notjson@2",
                "task:latency=300@1",
            ],
        ))
        .await;
        let throttled = fetch(&server, "/taskWithTags").await;
        assert_eq!(
            (throttled.status, throttled.header("retry-after")),
            (429, Some("1"))
        );
        let nulls = fetch(&server, "/task/stats").await.json();
        assert!(
            nulls
                .as_object()
                .is_some_and(|m| m.len() == 3 && m.values().all(Value::is_null))
        );
        let empties = fetch(&server, "/task/stats").await.json();
        assert!(
            empties
                .as_object()
                .is_some_and(|m| m.len() == 3 && m.values().all(|v| *v == json!({})))
        );
        let before = std::time::Instant::now();
        assert_eq!(fetch(&server, "/task").await.status, 200);
        assert!(before.elapsed() >= Duration::from_millis(300));
        let html = fetch(&server, "/task").await;
        assert_eq!(html.status, 200);
        assert!(
            html.header("content-type")
                .is_some_and(|c| c.starts_with("text/html"))
        );
        assert!(server.requests(FaultPath::All) == 5);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn restart_resets_counters_and_bumps_restart_count() {
        let mut scenario = Scenario::ec2();
        scenario.restart_count_field = true;
        let server = serve(SimOptions {
            restarts: vec![RestartEvent {
                container: 1,
                at_request: 2,
            }],
            ..scenario_options(scenario)
        })
        .await;
        let (before_task, first) = task_and_stats(&server).await;
        let counts = |task: &[Value]| -> Vec<Value> {
            task.iter().map(|c| c["RestartCount"].clone()).collect()
        };
        assert_eq!(counts(&before_task), [json!(0), json!(0), json!(0)]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (after_task, second) = task_and_stats(&server).await;
        // /task was fetched before stats request 2: the restart shows from the next /task on.
        assert_eq!(counts(&after_task), [json!(0), json!(0), json!(0)]);
        let task = fetch(&server, "/task").await.json();
        let containers = task["Containers"].as_array().cloned().unwrap_or_default();
        assert_eq!(counts(&containers), [json!(0), json!(1), json!(0)]);
        assert_eq!(containers[1]["DockerId"], before_task[1]["DockerId"]);

        let c1 = &before_task[1];
        let (old, new) = (stats_of(&first, c1), stats_of(&second, c1));
        assert!(total_usage(old) >= 1_000_000_000);
        assert!(
            total_usage(new) < total_usage(old),
            "counter went down: {} -> {}",
            total_usage(old),
            total_usage(new)
        );
        assert!(
            total_usage(new) < 100_000_000,
            "restarted from ~0: {}",
            total_usage(new)
        );
        let rx = |s: &Value| {
            s["networks"]["eth0"]["rx_bytes"]
                .as_u64()
                .unwrap_or(u64::MAX)
        };
        assert!(rx(new) < rx(old));
        // The other containers keep counting.
        let c0 = &before_task[0];
        assert!(total_usage(stats_of(&second, c0)) > total_usage(stats_of(&first, c0)));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn replay_serves_bytes_verbatim_and_repeats_the_last_stats() {
        let dir = Scratch::new("server-replay");
        let task_text = "{\n  \"Cluster\" : \"c\",\n  \"Containers\": [ {\"DockerId\": \"d1\", \"Name\": \"x\"} ]\n}\n";
        let task = dir.file("task.json", task_text);
        let s1 = dir.file("s1.json", "{\"d1\": {\"read\": \"one\"}}");
        let s2 = dir.file("s2.json", "{ \"d1\" : {\"read\": \"two\"} }\n");
        let replay =
            crate::replay::Replay::from_files(&[task], &[s1, s2], None).expect("replay files");
        let server = serve(SimOptions {
            replay: Some(replay),
            faults: vec!["stats:500@2".parse().expect("valid fault")],
            ..SimOptions::default()
        })
        .await;
        assert_eq!(fetch(&server, "/task").await.body, task_text.as_bytes());
        let bodies = [
            fetch(&server, "/task/stats").await,
            fetch(&server, "/task/stats").await,
            fetch(&server, "/task/stats").await,
            fetch(&server, "/task/stats").await,
        ];
        assert_eq!(bodies[0].body, b"{\"d1\": {\"read\": \"one\"}}");
        assert_eq!(bodies[1].status, 500, "faults still apply");
        assert_eq!(bodies[2].body, b"{ \"d1\" : {\"read\": \"two\"} }\n");
        assert_eq!(bodies[3].body, bodies[2].body);
        assert_eq!(fetch(&server, "/taskWithTags").await.status, 404);
        assert_eq!(
            fetch(&server, "").await.json(),
            json!({"DockerId": "d1", "Name": "x"})
        );
        server.shutdown().await;
    }

    #[tokio::test]
    async fn name_length_pads_and_cuts_every_name() {
        for n in [1usize, 20, 255] {
            let mut scenario = Scenario::fargate();
            scenario.name_length = Some(n);
            scenario.stopped_containers = 1;
            scenario.containers = 4;
            let server = serve(scenario_options(scenario)).await;
            let (containers, stats) = task_and_stats(&server).await;
            assert_eq!(containers.len(), 5);
            for c in &containers {
                let name = c["Name"].as_str().unwrap_or_default();
                assert_eq!(name.chars().count(), n, "{name}");
                let entry = stats_of(&stats, c);
                if !entry.is_null() {
                    assert_eq!(entry["name"], c["Name"]);
                }
            }
            if n == 20 {
                assert_eq!(containers[0]["Name"], "appxxxxxxxxxxxxxxxxx");
            }
            server.shutdown().await;
        }
    }

    #[tokio::test]
    async fn restart_for_a_missing_container_is_refused() {
        let options = SimOptions {
            restarts: vec![RestartEvent {
                container: 3,
                at_request: 1,
            }],
            ..SimOptions::default()
        };
        let err = start(options, 0)
            .await
            .expect_err("container 3 does not exist");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn introspection_over_http_reads_the_query() {
        let server = serve(scenario_options(Scenario::ec2())).await;
        let addr = server.local_addr();
        let task = fetch(&server, "/task").await.json();
        let meta = request(addr, "GET", "/v1/metadata").await;
        assert_eq!(meta.header("content-type"), Some("application/json"));
        assert_eq!(meta.json()["Cluster"], "sim-cluster");
        let list = request(addr, "GET", "/v1/tasks").await.json();
        assert_eq!(list["Tasks"][0]["Arn"], task["TaskARN"]);
        let arn = task["TaskARN"].as_str().unwrap_or_default();
        let encoded = arn.replace(':', "%3A").replace('/', "%2F");
        let by_arn = request(addr, "GET", &format!("/v1/tasks?taskarn={encoded}")).await;
        assert_eq!(by_arn.status, 200);
        assert_eq!(by_arn.json(), list["Tasks"][0]);
        let id = task["Containers"][0]["DockerId"]
            .as_str()
            .unwrap_or_default();
        let short = request(addr, "GET", &format!("/v1/tasks?dockerid={}", &id[..12])).await;
        assert_eq!(short.json(), list["Tasks"][0]);
        let both = request(
            addr,
            "GET",
            &format!("/v1/tasks?dockerid={id}&taskarn={encoded}"),
        )
        .await;
        assert_eq!(both.status, 400);
        assert_eq!(
            both.json(),
            json!({"Arn": "", "KnownStatus": "", "Family": "", "Version": "", "Containers": null})
        );
        // Exact paths only: under the v4 base they are unknown.
        assert_eq!(fetch(&server, "/v1/metadata").await.status, 404);
        assert_eq!(server.requests(FaultPath::Introspection), 5);
        assert_eq!(server.requests(FaultPath::All), 7);
        server.shutdown().await;

        let fargate = serve(scenario_options(Scenario::fargate())).await;
        let addr = fargate.local_addr();
        assert_eq!(request(addr, "GET", "/v1/metadata").await.status, 404);
        assert_eq!(request(addr, "GET", "/v1/tasks").await.status, 404);
        assert_eq!(fargate.requests(FaultPath::Introspection), 0);
        fargate.shutdown().await;
    }

    /// The `/v1/tasks` body of a host with two tasks, as a test of daemon mode writes it.
    const HOST_TASKS: &str = r#"{"Tasks":[
        {"Arn":"arn:aws:ecs:eu-west-1:111122223333:task/prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
         "DesiredStatus":"RUNNING","KnownStatus":"RUNNING","Family":"web","Version":"12",
         "Containers":[
           {"DockerId":"aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888",
            "DockerName":"ecs-web-12-nginx-d2f0a1b3c4e5f6a7b801","Name":"nginx"},
           {"DockerId":"aaaa1111bbbb9999cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb0000",
            "DockerName":"ecs-web-12-sidecar-e3a1b2c3d4e5f6a7b802","Name":"sidecar"}]},
        {"Arn":"arn:aws:ecs:eu-west-1:111122223333:task/prod/99887766554433221100ffeeddccbbaa",
         "DesiredStatus":"STOPPED","KnownStatus":"RUNNING","Family":"batch","Version":"3",
         "Containers":[
           {"DockerId":"5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f",
            "DockerName":"ecs-batch-3-job-f4b2c3d4e5f6a7b8c903","Name":"job"}]}
    ]}"#;

    fn agent_tasks_options(path: &std::path::Path) -> SimOptions {
        SimOptions {
            agent_tasks: Some(path.to_owned()),
            ..scenario_options(Scenario::ec2())
        }
    }

    /// Replaces `path` the way a test should: a new file renamed over it.
    fn replace_atomically(path: &std::path::Path, body: &str) {
        let next = path.with_extension("next");
        std::fs::write(&next, body).expect("write the next tasks file");
        std::fs::rename(&next, path).expect("rename it over the tasks file");
    }

    #[tokio::test]
    async fn agent_tasks_file_is_served_as_written() {
        let dir = Scratch::new("server-agent-tasks-served");
        let file = dir.file("tasks.json", HOST_TASKS);
        let server = serve(agent_tasks_options(&file)).await;
        let addr = server.local_addr();
        let list = request(addr, "GET", "/v1/tasks").await;
        assert_eq!(list.status, 200);
        assert_eq!(list.header("content-type"), Some("application/json"));
        let written: Value = serde_json::from_str(HOST_TASKS).expect("valid JSON");
        assert_eq!(list.json(), written);
        // Re-serialized with the agent's names, in the file's order.
        let body = String::from_utf8_lossy(&list.body).into_owned();
        assert!(
            body.starts_with(
                r#"{"Tasks":[{"Arn":"arn:aws:ecs:eu-west-1:111122223333:task/prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0","DesiredStatus":"RUNNING","KnownStatus":"RUNNING","Family":"web","Version":"12","Containers":[{"DockerId":"aaaa1111bbbb2222"#
            ),
            "{body}"
        );
        // The rest is the simulated instance and task, as without the flag.
        assert_eq!(
            request(addr, "GET", "/v1/metadata").await.json()["Cluster"],
            "sim-cluster"
        );
        let task = fetch(&server, "/task").await;
        assert_eq!(task.status, 200);
        assert_eq!(task.json()["Family"], "sim-app");
        assert_eq!(fetch(&server, "/task/stats").await.status, 200);
        assert_eq!(server.requests(FaultPath::Introspection), 2);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn agent_tasks_file_replaced_between_requests_gives_the_new_list() {
        let dir = Scratch::new("server-agent-tasks-replaced");
        let file = dir.file("tasks.json", HOST_TASKS);
        let server = serve(agent_tasks_options(&file)).await;
        let addr = server.local_addr();
        let arns = |v: Value| -> Vec<String> {
            v["Tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["Arn"].as_str().map(str::to_owned))
                .collect()
        };
        assert_eq!(
            arns(request(addr, "GET", "/v1/tasks").await.json()),
            [
                "arn:aws:ecs:eu-west-1:111122223333:task/prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                "arn:aws:ecs:eu-west-1:111122223333:task/prod/99887766554433221100ffeeddccbbaa"
            ]
        );
        // The batch task stopped and a new one started; DesiredStatus may be left out.
        let next = json!({"Tasks": [
            {"Arn": "arn:aws:ecs:eu-west-1:111122223333:task/prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
             "DesiredStatus": "RUNNING", "KnownStatus": "RUNNING", "Family": "web", "Version": "12",
             "Containers": []},
            {"Arn": "arn:aws:ecs:eu-west-1:111122223333:task/prod/new0new0new0new0new0new0new0new0",
             "KnownStatus": "PENDING", "Family": "api", "Version": "1",
             "Containers": [{"DockerId": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                             "DockerName": "ecs-api-1-srv-a1b2c3d4e5f6a7b8c9d0", "Name": "srv"}]}
        ]});
        replace_atomically(&file, &next.to_string());
        let second = request(addr, "GET", "/v1/tasks").await;
        assert_eq!(second.status, 200);
        assert_eq!(second.json(), next);
        let by_id = request(addr, "GET", "/v1/tasks?dockerid=0123456789ab").await;
        assert_eq!(by_id.json()["Family"], "api");
        assert!(by_id.json().get("DesiredStatus").is_none());
        // No tasks at all.
        replace_atomically(&file, r#"{"Tasks":[]}"#);
        let none = request(addr, "GET", "/v1/tasks").await;
        assert_eq!((none.status, none.json()), (200, json!({"Tasks": []})));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn agent_tasks_lookups_by_task_arn_and_docker_id() {
        let dir = Scratch::new("server-agent-tasks-lookups");
        let file = dir.file("tasks.json", HOST_TASKS);
        let server = serve(agent_tasks_options(&file)).await;
        let addr = server.local_addr();
        let written: Value = serde_json::from_str(HOST_TASKS).expect("valid JSON");
        let (web, batch) = (&written["Tasks"][0], &written["Tasks"][1]);
        let empty =
            json!({"Arn": "", "KnownStatus": "", "Family": "", "Version": "", "Containers": null});
        let get_tasks = |query: String| async move {
            let got = request(addr, "GET", &format!("/v1/tasks?{query}")).await;
            (got.status, got.json())
        };
        let encoded = "arn%3Aaws%3Aecs%3Aeu-west-1%3A111122223333%3Atask%2Fprod%2F99887766554433221100ffeeddccbbaa";
        for (query, status, body) in [
            (format!("taskarn={encoded}"), 200, batch),
            (
                "taskarn=arn:aws:ecs:eu-west-1:111122223333:task/prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
                    .to_owned(),
                200,
                web,
            ),
            (
                "taskarn=arn:aws:ecs:eu-west-1:111122223333:task/prod/0".to_owned(),
                404,
                &empty,
            ),
            // Full ids are exact, in whichever task.
            (
                "dockerid=aaaa1111bbbb9999cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb0000"
                    .to_owned(),
                200,
                web,
            ),
            (
                "dockerid=5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f"
                    .to_owned(),
                200,
                batch,
            ),
            ("dockerid=5f5f5f5f5f5f5".to_owned(), 404, &empty),
            // Up to 12 characters: a unique prefix.
            ("dockerid=5f5f5f5f5f5f".to_owned(), 200, batch),
            ("dockerid=aaaa1111bbbb".to_owned(), 400, &empty),
            ("dockerid=5f".to_owned(), 200, batch),
            ("dockerid=".to_owned(), 400, &empty),
            ("dockerid=abc".to_owned(), 404, &empty),
            (format!("dockerid=5f&taskarn={encoded}"), 400, &empty),
        ] {
            assert_eq!(get_tasks(query.clone()).await, (status, body.clone()), "{query}");
        }
        server.shutdown().await;
    }

    #[tokio::test]
    async fn a_missing_or_malformed_agent_tasks_file_is_a_500_and_serving_goes_on() {
        let dir = Scratch::new("server-agent-tasks-bad");
        let file = dir.0.join("tasks.json");
        let server = serve(agent_tasks_options(&file)).await;
        let addr = server.local_addr();
        let missing = request(addr, "GET", "/v1/tasks").await;
        assert_eq!(missing.status, 500);
        assert_eq!(
            missing.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        let text = String::from_utf8_lossy(&missing.body).into_owned();
        assert!(
            text.starts_with(&format!(
                "agent tasks file {}: cannot read it: ",
                file.display()
            )),
            "{text}"
        );
        assert!(text.ends_with('\n') && text.lines().count() == 1, "{text}");
        assert_eq!(fetch(&server, "/task").await.status, 200);
        for (body, needle) in [
            ("not json", "not the agent's /v1/tasks body"),
            (r#"[{"Arn":"x"}]"#, "not the agent's /v1/tasks body"),
            (r#"{"Tasks":{}}"#, "not the agent's /v1/tasks body"),
            (
                r#"{"Tasks":[{"Arn":"a","KnownStatus":"RUNNING","Family":"f","Version":"1",
                   "Containers":[{"DockerName":"d","Name":"n"}]}]}"#,
                "missing field `DockerId`",
            ),
            (r#"{"Tasks":[{"Arn":"a"}]}"#, "missing field `KnownStatus`"),
            // serde would take arrays for structs; the agent's body has objects.
            ("[[]]", "must be JSON objects"),
            (
                r#"{"Tasks":[["a","RUNNING","RUNNING","f","1",null]]}"#,
                "must be JSON objects",
            ),
            (
                r#"{"Tasks":[{"Arn":"a","KnownStatus":"RUNNING","Family":"f","Version":"1",
                   "Containers":[["d","n","c"]]}]}"#,
                "must be JSON objects",
            ),
            (r#"{"Tasks":[]"#, "EOF while parsing"),
        ] {
            replace_atomically(&file, body);
            let bad = request(addr, "GET", "/v1/tasks?taskarn=a").await;
            let text = String::from_utf8_lossy(&bad.body).into_owned();
            assert_eq!(bad.status, 500, "{body}: {text}");
            assert!(
                text.starts_with(&format!("agent tasks file {}: ", file.display()))
                    && text.contains(needle),
                "{body}: {text}"
            );
            assert_eq!(fetch(&server, "/task").await.status, 200, "{body}");
        }
        // Fixed: served again.
        replace_atomically(&file, HOST_TASKS);
        assert_eq!(request(addr, "GET", "/v1/tasks").await.status, 200);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn faults_and_no_introspection_apply_over_the_agent_tasks_file() {
        let dir = Scratch::new("server-agent-tasks-faults");
        let file = dir.file("tasks.json", HOST_TASKS);
        let server = serve(SimOptions {
            faults: vec![
                "introspection:500@1".parse().expect("valid fault"),
                "introspection:truncated@2".parse().expect("valid fault"),
            ],
            ..agent_tasks_options(&file)
        })
        .await;
        let addr = server.local_addr();
        let faulty = request(addr, "GET", "/v1/tasks").await;
        assert_eq!(
            (faulty.status, faulty.body.as_slice()),
            (500, &b"\"simulated fault: internal server error\""[..])
        );
        let truncated = request(addr, "GET", "/v1/tasks").await;
        let full = request(addr, "GET", "/v1/tasks").await;
        assert_eq!(full.status, 200);
        assert_eq!(truncated.body, full.body[..full.body.len() / 2]);
        server.shutdown().await;

        // Without the agent API the file is never read: 404, missing or not.
        let mut options = agent_tasks_options(&dir.0.join("missing.json"));
        options.scenario.introspection = false;
        let off = serve(options).await;
        let addr = off.local_addr();
        assert_eq!(request(addr, "GET", "/v1/tasks").await.status, 404);
        assert_eq!(request(addr, "GET", "/v1/metadata").await.status, 404);
        off.shutdown().await;
    }

    #[tokio::test]
    async fn agent_tasks_need_ec2_and_no_replay() {
        let path = std::env::temp_dir().join("tasks.json");
        let fargate = SimOptions {
            agent_tasks: Some(path.clone()),
            ..SimOptions::default()
        };
        let err = start(fargate, 0).await.expect_err("fargate");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("needs the EC2 platform"), "{err}");
        let replaying = SimOptions {
            replay: Some(Replay {
                task: vec!["{}".to_owned()],
                stats: vec!["{}".to_owned()],
                task_with_tags: None,
            }),
            ..agent_tasks_options(&path)
        };
        let err = start(replaying, 0).await.expect_err("replay");
        assert!(
            err.to_string().contains("cannot be combined with replay"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn exits_are_checked_like_restarts() {
        let exit = |container: usize, at_request: u64| ExitEvent {
            container,
            at_request,
            code: 137,
        };
        for (options, needle) in [
            (
                SimOptions {
                    exits: vec![exit(3, 1)],
                    ..SimOptions::default()
                },
                "exit event for container 3",
            ),
            (
                SimOptions {
                    exits: vec![exit(1, 1), exit(1, 4)],
                    ..SimOptions::default()
                },
                "two exit events for container 1",
            ),
            (
                SimOptions {
                    exits: vec![exit(1, 4)],
                    restarts: vec![RestartEvent {
                        container: 1,
                        at_request: 4,
                    }],
                    ..SimOptions::default()
                },
                "restart event 1@4 for container 1 which has exited at task request 4",
            ),
            (
                SimOptions {
                    exits: vec![exit(0, 1)],
                    replay: Some(Replay {
                        task: vec!["{}".to_owned()],
                        stats: vec!["{}".to_owned()],
                        task_with_tags: None,
                    }),
                    ..SimOptions::default()
                },
                "cannot be combined with replay",
            ),
        ] {
            let err = start(options, 0).await.expect_err(needle);
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[tokio::test]
    async fn shutdown_stops_listening() {
        let server = serve(with_faults(Scenario::fargate(), &[])).await;
        let addr = server.local_addr();
        server.shutdown().await;
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[test]
    fn fault_kind_spelling_round_trips() {
        assert_eq!(
            "latency=5".parse::<FaultKind>().map(|k| k.to_string()),
            Ok("latency=5".to_owned())
        );
        assert_eq!(Scenario::default().platform, Platform::Fargate);
    }
}
