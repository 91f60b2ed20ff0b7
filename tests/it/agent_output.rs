//! `ECS_EMF_OUTPUT=agent`: EMF to a CloudWatch agent / Fluent Bit over TCP or UDP, against
//! a real listener in the test and the simulator.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::emf_rules::problems;
use crate::support::process::{Exporter, Sim, metric_values, stopped_field};
use serde_json::Value;

const TCP_MAX: usize = 262_118;

/// Reads from an accepted connection until `done` says so or `timeout`; returns complete
/// lines. Reading keeps going briefly after `done`, so the socket is drained when dropped.
fn read_lines(
    stream: &mut std::net::TcpStream,
    timeout: Duration,
    mut done: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let deadline = Instant::now() + timeout;
    let mut bytes = Vec::new();
    let mut docs = Vec::new();
    let mut drain_until: Option<Instant> = None;
    loop {
        let mut chunk = [0u8; 65_536];
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(_) => {}
        }
        while let Some(pos) = bytes.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = bytes.drain(..=pos).collect();
            let text = String::from_utf8(line).expect("utf-8");
            let text = text.trim_end_matches('\n');
            let p = problems(text, TCP_MAX, Some(chrono::Utc::now().timestamp_millis()));
            assert!(p.is_empty(), "{p:?}: {text}");
            docs.push(serde_json::from_str(text).expect("json"));
        }
        let now = Instant::now();
        if drain_until.is_none() && done(&docs) {
            drain_until = Some(now + Duration::from_millis(300));
        }
        if drain_until.is_some_and(|t| now >= t) || now >= deadline {
            break;
        }
    }
    docs
}

fn task_timestamps(docs: &[Value]) -> Vec<i64> {
    docs.iter()
        .filter(|d| d["Type"] == "Task")
        .filter_map(|d| d["_aws"]["Timestamp"].as_i64())
        .collect()
}

fn accept(listener: &TcpListener, timeout: Duration) -> std::net::TcpStream {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).expect("blocking");
                return s;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("no connection from the exporter: {e}"),
        }
    }
}

#[test]
fn tcp_agent_receives_valid_emf_with_log_group_and_stdout_stays_empty() {
    let sim = Sim::start(&["--platform", "ec2"]);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("tcp://{}", listener.local_addr().expect("addr"));
    let env = [
        ("ECS_EMF_OUTPUT", "agent"),
        ("AWS_EMF_AGENT_ENDPOINT", endpoint.as_str()),
        ("AWS_EMF_LOG_GROUP_NAME", "/ecs/metrics"),
        ("AWS_EMF_LOG_STREAM_NAME", "task-1"),
    ];
    let mut exporter = Exporter::start(&sim.base_url, &env, &[]);
    let mut conn = accept(&listener, Duration::from_secs(10));
    let docs = read_lines(&mut conn, Duration::from_secs(15), |d| {
        task_timestamps(d).len() >= 2
    });
    assert!(
        task_timestamps(&docs).len() >= 2,
        "stderr:\n{}",
        exporter.stderr.text()
    );
    assert_eq!(docs[0]["_aws"]["LogGroupName"], "/ecs/metrics");
    assert_eq!(docs[0]["_aws"]["LogStreamName"], "task-1");
    // EC2: CPU from the first cycle, (1+2+3) × 51.2 units.
    let cpu = docs[0]["CpuUtilized"].as_f64().expect("cpu");
    assert!((cpu - 307.2).abs() < 0.5, "{cpu}");
    assert_eq!(exporter.terminate(Duration::from_secs(10)), Some(0));
    assert!(
        exporter.stdout.next(Duration::from_millis(100)).is_none(),
        "agent output: nothing on stdout"
    );
}

#[test]
fn tcp_agent_killed_and_restarted_loses_nothing_and_duplicates_nothing() {
    let sim = Sim::start(&[]);
    // Bound before its port is named: another test taking it in between is not possible.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let env = [
        ("ECS_EMF_OUTPUT", "agent"),
        ("AWS_EMF_AGENT_ENDPOINT", endpoint.as_str()),
    ];
    let mut exporter = Exporter::start(&sim.base_url, &env, &[]);
    let mut conn = accept(&listener, Duration::from_secs(10));
    let mut docs = read_lines(&mut conn, Duration::from_secs(15), |d| {
        task_timestamps(d).len() >= 2
    });
    // The agent goes away for about three cycles.
    drop(conn);
    drop(listener);
    std::thread::sleep(Duration::from_secs(3));
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("rebind the same port");
    let mut conn = accept(&listener, Duration::from_secs(20));
    let before = task_timestamps(&docs).len();
    docs.extend(read_lines(&mut conn, Duration::from_secs(20), |d| {
        task_timestamps(d).len() >= 5
    }));
    assert!(
        task_timestamps(&docs).len() > before + 2,
        "the backlog arrived; stderr:\n{}",
        exporter.stderr.text()
    );
    assert_eq!(exporter.terminate(Duration::from_secs(25)), Some(0));
    docs.extend(read_lines(&mut conn, Duration::from_secs(3), |_| false));
    let stamps = task_timestamps(&docs);
    let mut unique = stamps.clone();
    unique.dedup();
    assert_eq!(unique, stamps, "in order, no duplicates");
    let stderr = exporter.stderr.text();
    let collected = stopped_field(&stderr, "collected") as usize;
    assert_eq!(
        stamps.len(),
        collected,
        "every collected cycle arrived exactly once:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("agent output: cannot send").count(),
        1,
        "one line for the outage:\n{stderr}"
    );
}

#[test]
fn udp_agent_receives_one_valid_datagram_per_document() {
    let sim = Sim::start(&["--containers", "2"]);
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let endpoint = format!("udp://{}", socket.local_addr().expect("addr"));
    let exporter = Exporter::start(
        &sim.base_url,
        &[
            ("ECS_EMF_OUTPUT", "agent"),
            ("AWS_EMF_AGENT_ENDPOINT", endpoint.as_str()),
        ],
        &[],
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut docs: Vec<Value> = Vec::new();
    let mut buf = vec![0u8; 70_000];
    let containers = |docs: &[Value]| docs.iter().filter(|d| d["Type"] == "Container").count();
    while Instant::now() < deadline && containers(&docs) < 4 {
        if let Ok(n) = socket.recv(&mut buf) {
            assert!(n <= 65_000, "datagram of {n} bytes");
            let text = std::str::from_utf8(&buf[..n]).expect("utf-8");
            assert!(!text.contains('\n'), "one document per datagram");
            let p = problems(text, 65_000, Some(chrono::Utc::now().timestamp_millis()));
            assert!(p.is_empty(), "{p:?}");
            docs.push(serde_json::from_str(text).expect("json"));
        }
    }
    assert!(
        task_timestamps(&docs).len() >= 2,
        "stderr:\n{}",
        exporter.stderr.text()
    );
    // Each cycle: the task document and one per container (2 here).
    assert!(containers(&docs) >= 4);
}

#[test]
fn an_invalid_agent_endpoint_is_rejected_at_start() {
    let (code, docs, stderr) = crate::support::process::run_once(
        "http://127.0.0.1:9/v4/x",
        &[
            ("ECS_EMF_OUTPUT", "agent"),
            ("AWS_EMF_AGENT_ENDPOINT", "http://localhost:25888"),
        ],
    );
    assert_eq!(code, Some(2));
    assert!(docs.is_empty());
    assert!(
        stderr.contains("AWS_EMF_AGENT_ENDPOINT") && stderr.contains("tcp://HOST:PORT"),
        "{stderr}"
    );
}

// Hostile agents. Lines handed to the kernel are not delivered lines: whatever the agent
// does, the exporter never counts more than arrived, never leaves a cut line, and says each
// problem once.

/// Complete lines an agent received over all its connections, and whether any connection
/// ended inside a line.
#[derive(Default)]
struct Received {
    docs: Vec<Value>,
    cut: bool,
}

impl Received {
    /// Takes the complete lines out of one connection's bytes.
    fn take(&mut self, bytes: &[u8], connection_ended: bool) {
        let mut rest = bytes;
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            let text = std::str::from_utf8(&rest[..pos]).expect("utf-8");
            let p = problems(text, TCP_MAX, None);
            assert!(p.is_empty(), "{p:?}: {text}");
            self.docs.push(serde_json::from_str(text).expect("json"));
            rest = &rest[pos + 1..];
        }
        if connection_ended && !rest.is_empty() {
            self.cut = true;
        }
    }

    fn values(&self) -> u64 {
        self.docs
            .iter()
            .map(|d| metric_values(d).len() as u64)
            .sum()
    }
}

/// An agent on a thread: accepts connections until `stop`, handling each with `serve`,
/// which returns the bytes it read and whether it took them all to the connection's end.
fn hostile_agent(
    serve: impl Fn(std::net::TcpStream) -> (Vec<u8>, bool) + Send + 'static,
) -> (String, Arc<AtomicBool>, std::thread::JoinHandle<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let endpoint = format!("tcp://{}", listener.local_addr().expect("addr"));
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let agent = std::thread::spawn(move || {
        let mut received = Received::default();
        while !stopping.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((conn, _)) => {
                    conn.set_nonblocking(false).expect("blocking");
                    let (bytes, whole) = serve(conn);
                    received.take(&bytes, whole);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        received
    });
    (endpoint, stop, agent)
}

/// Runs the exporter (4 documents a cycle) against `endpoint` for `run`, stops it and
/// returns its log.
fn run_against(endpoint: &str, run: Duration, extra: &[(&str, &str)]) -> String {
    let sim = Sim::start(&["--containers", "3"]);
    let mut env = vec![
        ("ECS_EMF_OUTPUT", "agent"),
        ("AWS_EMF_AGENT_ENDPOINT", endpoint),
    ];
    env.extend_from_slice(extra);
    let mut exporter = Exporter::start(&sim.base_url, &env, &[]);
    std::thread::sleep(run);
    assert_eq!(exporter.terminate(Duration::from_secs(15)), Some(0));
    exporter.stderr.text()
}

#[test]
fn an_agent_that_closes_after_each_line_is_credited_with_no_more_than_it_got() {
    // It reads what the kernel has, keeps the first line and closes: the rest of what it
    // read is thrown away although the exporter's kernel saw it acknowledged.
    let (endpoint, stop, agent) = hostile_agent(|mut conn| {
        conn.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 65_536];
        while !bytes.contains(&b'\n') {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
        }
        let first = bytes.iter().position(|b| *b == b'\n').map_or(0, |p| p + 1);
        bytes.truncate(first);
        (bytes, true)
    });
    let log = run_against(&endpoint, Duration::from_secs(5), &[]);
    stop.store(true, Ordering::SeqCst);
    let received = agent.join().expect("agent");
    assert!(!received.docs.is_empty(), "{log}");
    let documents = stopped_field(&log, "documents");
    let values = stopped_field(&log, "values");
    assert!(
        documents <= received.docs.len() as u64 && values <= received.values(),
        "counted {documents} documents ({values} values); {} arrived ({} values):\n{log}",
        received.docs.len(),
        received.values()
    );
    assert!(stopped_field(&log, "unknown_values") > 0, "{log}");
    assert!(stopped_field(&log, "errors") > 0, "{log}");
    assert_eq!(
        log.matches("may not have been read").count(),
        1,
        "one line for the problem:\n{log}"
    );
}

#[test]
fn an_agent_that_reads_100_bytes_then_resets_gets_nothing_counted_as_delivered() {
    let (endpoint, stop, agent) = hostile_agent(|mut conn| {
        let mut first = [0u8; 100];
        let _ = conn.read_exact(&mut first);
        // A reset, not a close: linger 0.
        let socket = socket2::SockRef::from(&conn);
        socket.set_linger(Some(Duration::ZERO)).expect("linger");
        (Vec::new(), true)
    });
    let log = run_against(&endpoint, Duration::from_secs(4), &[]);
    stop.store(true, Ordering::SeqCst);
    agent.join().expect("agent");
    assert_eq!(stopped_field(&log, "documents"), 0, "{log}");
    assert_eq!(stopped_field(&log, "values"), 0, "{log}");
    assert!(stopped_field(&log, "unknown_values") > 0, "{log}");
    assert!(stopped_field(&log, "errors") > 0, "{log}");
    assert_eq!(log.matches("may not have been read").count(), 1, "{log}");
}

#[test]
fn an_agent_that_stops_reading_never_gets_a_cut_line() {
    // 501 documents (about 750 KB) a second against an agent that reads nothing for 8 s,
    // with a small receive buffer: the exporter's send buffer fills within seconds. Then
    // the exporter stops and the agent reads everything it was sent.
    let sim = Sim::start(&["--containers", "500"]);
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    listener.set_recv_buffer_size(4096).expect("rcvbuf");
    listener
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .expect("addr")
                .into(),
        )
        .expect("bind");
    listener.listen(4).expect("listen");
    let listener: TcpListener = listener.into();
    let endpoint = format!("tcp://{}", listener.local_addr().expect("addr"));
    let env = [
        ("ECS_EMF_OUTPUT", "agent"),
        ("AWS_EMF_AGENT_ENDPOINT", endpoint.as_str()),
        ("ECS_EMF_STOP_TIMEOUT", "2s"),
    ];
    let mut exporter = Exporter::start(&sim.base_url, &env, &[]);
    let mut conn = accept(&listener, Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(exporter.terminate(Duration::from_secs(15)), Some(0));
    let log = exporter.stderr.text();
    let mut bytes = Vec::new();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let ended = conn.read_to_end(&mut bytes);
    let mut received = Received::default();
    received.take(&bytes, true);
    assert!(ended.is_ok(), "the connection ends with a close: {ended:?}");
    assert!(!received.cut, "a cut line reached the agent:\n{log}");
    assert!(!received.docs.is_empty(), "{log}");
    let documents = stopped_field(&log, "documents");
    assert!(documents <= received.docs.len() as u64, "{log}");
    assert!(stopped_field(&log, "not_delivered") > 0, "{log}");
    assert_eq!(
        log.matches("has read nothing for 5 s").count(),
        1,
        "said once:\n{log}"
    );
}

#[test]
fn udp_to_a_port_with_no_listener_is_one_line_and_nothing_delivered() {
    let endpoint = format!(
        "udp://127.0.0.1:{}",
        crate::support::process::unbound_udp_port()
    );
    let started = Instant::now();
    let log = run_against(&endpoint, Duration::from_secs(5), &[]);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the stop waits for no one"
    );
    assert_eq!(stopped_field(&log, "documents"), 0, "{log}");
    assert!(stopped_field(&log, "collected") >= 4, "{log}");
    assert!(stopped_field(&log, "not_delivered") > 0, "{log}");
    // Until the stop, whose summary says what was lost.
    let running = log.split("SIGTERM received").next().unwrap_or_default();
    let agent_lines: Vec<&str> = running
        .lines()
        .filter(|l| l.contains("agent output"))
        .collect();
    assert_eq!(agent_lines.len(), 1, "one line for one problem:\n{log}");
    assert!(agent_lines[0].contains("cannot send"), "{log}");
    assert!(
        log.contains("not delivered: the agent could not be reached"),
        "{log}"
    );
    assert!(stopped_field(&log, "stop_ms") < 1000, "{log}");
}

#[test]
fn a_closed_tcp_port_does_not_hold_the_stop() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("tcp://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let log = run_against(&endpoint, Duration::from_secs(3), &[]);
    let stop_ms = stopped_field(&log, "stop_ms");
    assert!(stop_ms < 1000, "the stop took {stop_ms} ms:\n{log}");
    assert_eq!(stopped_field(&log, "documents"), 0, "{log}");
    assert!(log.contains("flushed=false"), "{log}");
}

#[test]
fn once_exits_1_when_the_cycle_was_collected_but_not_delivered() {
    let sim = Sim::start(&[]);
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("tcp://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let metadata = sim.base_url.clone();
    let (code, _, stderr) = crate::support::process::run_once(
        &metadata,
        &[
            ("ECS_EMF_OUTPUT", "agent"),
            ("AWS_EMF_AGENT_ENDPOINT", endpoint.as_str()),
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("--once: the task was read but its metrics were not all delivered"),
        "{stderr}"
    );
    assert_eq!(stopped_field(&stderr, "collected"), 1, "{stderr}");
    assert_eq!(stopped_field(&stderr, "documents"), 0, "{stderr}");
}
