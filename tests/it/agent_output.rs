//! `ECS_EMF_OUTPUT=agent`: EMF to a CloudWatch agent / Fluent Bit over TCP or UDP, against
//! a real listener in the test and the simulator.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use crate::support::emf_rules::problems;
use crate::support::process::{Exporter, Sim};
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
    let collected: usize = stderr
        .split("collected=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("shutdown line reports collected=N");
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
