//! The real binary against hostile pipes, signals, limits and endpoints: it never panics,
//! never hangs, never cuts a line, and stops within its deadline. Every wait is bounded.
//!
//! Each test here failed on the build before issue 14 (run them against another binary with
//! `ECS_EMF_TEST_BIN=path cargo test --test it hostile`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::emf_rules;
use crate::support::process::{
    Sim, bin, fill, pipe, read_request_target, send_signal, stopped_field, task_docs, wait_exit,
};

/// The exporter at a 1 s interval against `uri`, with `env`, its stdout and stderr as given.
fn exporter(uri: &str, env: &[(&str, &str)], stdout: Stdio, stderr: Stdio) -> Child {
    let dir = std::env::temp_dir().join(format!("emf-hostile-{}", std::process::id()));
    Command::new(bin())
        .env_clear()
        .env("ECS_CONTAINER_METADATA_URI_V4", uri)
        .env("ECS_EMF_INTERVAL", "1s")
        .env("ECS_EMF_HEALTH_FILE", dir.with_extension("health"))
        .envs(env.iter().copied())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("the exporter starts")
}

/// Reads `file` on a thread, slowly (`pause` after each read of `chunk` bytes; nothing at
/// all for the first `stall`), until EOF.
fn read_slowly(
    mut file: std::fs::File,
    stall: Duration,
    chunk: usize,
    pause: Duration,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        std::thread::sleep(stall);
        let mut all = Vec::new();
        let mut buf = vec![0u8; chunk];
        while let Ok(n) = file.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            std::thread::sleep(pause);
        }
        all
    })
}

/// Lines of `stream`, collected on a thread.
fn lines(stream: impl Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let all = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&all);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            keep.lock().expect("lines").push(line);
        }
    });
    all
}

/// Waits until `docs` (EMF lines) hold `n` task documents; false at the deadline.
/// The whole log of an exited process, once its reader thread has read the last lines.
fn all_of(log: &Arc<Mutex<Vec<String>>>) -> String {
    std::thread::sleep(Duration::from_millis(200));
    log.lock().expect("log").join("\n")
}

fn wait_for_tasks(docs: &Arc<Mutex<Vec<String>>>, n: usize, timeout: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        let have = docs
            .lock()
            .expect("lines")
            .iter()
            .filter(|l| l.contains("\"Type\":\"Task\""))
            .count();
        if have >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn stderr_sharing_stdouts_pipe_never_panics_and_never_cuts_a_line() {
    // Faults and tag errors make log lines while EMF lines are written; a pipe of one page
    // and a reader that stalls, then reads slowly, keep it full, so writes land in parts.
    let sim = Sim::start(&[
        "--platform",
        "ec2",
        "--containers",
        "10",
        "--tags-error",
        "--fault",
        "stats:500@2",
        "--fault",
        "stats:429@3",
        "--fault",
        "task:notjson@5",
    ]);
    let (read_end, write_end) = pipe();
    use std::os::fd::AsRawFd;
    // SAFETY: F_SETPIPE_SZ on a pipe the test owns.
    unsafe { libc::fcntl(write_end.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    let out = Stdio::from(write_end.try_clone().expect("dup"));
    let err = Stdio::from(write_end);
    let mut child = exporter(
        &sim.base_url,
        &[
            ("ECS_EMF_TAG_DIMENSIONS", "team"),
            ("ECS_EMF_LOG_LEVEL", "debug"),
        ],
        out,
        err,
    );
    let reader = read_slowly(
        read_end,
        Duration::from_secs(3),
        512,
        Duration::from_millis(2),
    );
    std::thread::sleep(Duration::from_millis(6500));
    send_signal(child.id(), "-TERM");
    let (code, _) = wait_exit(&mut child, Duration::from_secs(15));
    let text = String::from_utf8(reader.join().expect("reader")).expect("UTF-8");
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    let (mut emf, mut logs) = (0, 0);
    for line in text.lines() {
        if line.starts_with('{') {
            let problems = emf_rules::problems(line, 16_383, None);
            assert!(problems.is_empty(), "a cut EMF line {problems:?}: {line}");
            emf += 1;
        } else {
            // tracing's text lines begin with their timestamp.
            assert!(line.starts_with("20"), "a cut log line: {line:?}");
            logs += 1;
        }
    }
    assert!(emf >= 20 && logs >= 5, "{emf} EMF lines, {logs} log lines");
}

#[test]
fn a_full_stderr_stops_neither_polling_nor_sigterm() {
    let sim = Sim::start(&[]);
    let (_read_end, write_end) = pipe();
    fill(&write_end);
    let mut child = exporter(
        &sim.base_url,
        &[("ECS_EMF_LOG_LEVEL", "debug")],
        Stdio::piped(),
        Stdio::from(write_end),
    );
    let docs = lines(child.stdout.take().expect("stdout"));
    assert!(
        wait_for_tasks(&docs, 3, Duration::from_secs(15)),
        "polling goes on while no log line can be written"
    );
    send_signal(child.id(), "-TERM");
    let (code, took) = wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(3), "SIGTERM handled in {took:?}");
}

#[test]
fn sigterm_during_a_slow_poll_cancels_it_at_once_and_exits_0() {
    // /task/stats answers after 4 s; the signal arrives 1 s into the first cycle.
    let sim = Sim::start(&["--fault", "stats:latency=4000"]);
    let mut child = exporter(
        &sim.base_url,
        &[("ECS_EMF_INTERVAL", "10s")],
        Stdio::piped(),
        Stdio::piped(),
    );
    let log = lines(child.stderr.take().expect("stderr"));
    std::thread::sleep(Duration::from_millis(1000));
    send_signal(child.id(), "-TERM");
    let (code, took) = wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(code, Some(0));
    // Acted on within 100 ms; the process's own start-up and exit take the rest.
    assert!(took < Duration::from_millis(1000), "stopped after {took:?}");
    let text = all_of(&log);
    assert!(
        text.contains("SIGTERM received during a cycle: it is cancelled"),
        "{text}"
    );
    assert!(text.contains("collected=0"), "{text}");
}

#[test]
fn a_task_endpoint_that_hangs_at_the_stop_costs_at_most_half_the_deadline() {
    // Poll 1 is /task request 1; the read at SIGTERM is request 2, which answers after 30 s.
    let sim = Sim::start(&["--fault", "task:latency=30000@2-1000"]);
    let mut child = exporter(
        &sim.base_url,
        &[("ECS_EMF_INTERVAL", "60s"), ("ECS_EMF_STOP_TIMEOUT", "4s")],
        Stdio::piped(),
        Stdio::piped(),
    );
    let docs = lines(child.stdout.take().expect("stdout"));
    let log = lines(child.stderr.take().expect("stderr"));
    assert!(
        wait_for_tasks(&docs, 1, Duration::from_secs(15)),
        "{}",
        all_of(&log)
    );
    send_signal(child.id(), "-TERM");
    let (code, took) = wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(code, Some(0), "{}", all_of(&log));
    // Half of the 4 s deadline for the read, then the flush (nothing pending).
    assert!(took < Duration::from_millis(3500), "stopped after {took:?}");
    assert!(
        took >= Duration::from_millis(1900),
        "the read waited: {took:?}"
    );
    let text = all_of(&log);
    assert!(
        text.contains("/task did not answer within 2000 ms of the stop"),
        "{text}"
    );
    assert!(text.contains("flushed=true"), "{text}");
}

/// The exporter with a stdout nobody reads (full), after it has queued a few cycles; the
/// read end of its stdout (kept open, never read) and the simulator come back with it.
fn exporter_with_a_stuck_stdout(
    env: &[(&str, &str)],
) -> (Child, Arc<Mutex<Vec<String>>>, std::fs::File, Sim) {
    let sim = Sim::start(&["--containers", "10"]);
    let (read_end, write_end) = pipe();
    fill(&write_end);
    let mut child = exporter(
        &sim.base_url,
        env,
        Stdio::from(write_end.try_clone().expect("dup")),
        Stdio::piped(),
    );
    let log = lines(child.stderr.take().expect("stderr"));
    std::thread::sleep(Duration::from_millis(2500));
    (child, log, read_end, sim)
}

#[test]
fn the_whole_stop_keeps_one_deadline_even_with_stdout_stuck() {
    let (mut child, log, _read_end, _sim) =
        exporter_with_a_stuck_stdout(&[("ECS_EMF_STOP_TIMEOUT", "2s")]);
    send_signal(child.id(), "-TERM");
    let (code, took) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(code, Some(0));
    assert!(
        took < Duration::from_millis(3500),
        "ECS_EMF_STOP_TIMEOUT=2s, stopped after {took:?}"
    );
    let text = all_of(&log);
    assert!(text.contains("flushed=false"), "{text}");
}

#[test]
fn a_second_signal_ends_a_stuck_flush_at_once_and_says_what_was_not_delivered() {
    let (mut child, log, _read_end, _sim) = exporter_with_a_stuck_stdout(&[]);
    send_signal(child.id(), "-TERM");
    std::thread::sleep(Duration::from_millis(500));
    let second = Instant::now();
    send_signal(child.id(), "-INT");
    let (code, _) = wait_exit(&mut child, Duration::from_secs(30));
    let took = second.elapsed();
    assert_eq!(code, Some(0));
    assert!(
        took < Duration::from_millis(1000),
        "stopped {took:?} after the second signal"
    );
    let text = all_of(&log);
    assert!(
        text.contains("SIGINT received again: stopping now"),
        "{text}"
    );
    assert!(stopped_field(&text, "not_delivered") > 0, "{text}");
}

#[test]
fn too_few_descriptors_is_a_clean_error_not_a_panic() {
    let sim = Sim::start(&[]);
    for limit in [5, 6, 7, 8, 12] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {limit}; exec \"$0\" --once",))
            .arg(bin())
            .env_clear()
            .env("ECS_CONTAINER_METADATA_URI_V4", &sim.base_url)
            .output()
            .expect("sh runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "ulimit -n {limit}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "ulimit -n {limit}: exit {:?}, {stderr}",
            out.status.code()
        );
        if out.status.code() == Some(1) {
            assert!(stderr.contains("ecs-emf-exporter: "), "{stderr}");
        }
    }
}

/// A metadata endpoint on loopback that serves the Fargate fixture, except `/task/stats`
/// request `bad` (1-based), which gets `answer`.
fn fault_server(bad: usize, answer: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ecs_exporter/");
    let task = std::fs::read(format!("{fixtures}fargate_task_metadata.json")).expect("fixture");
    let stats = std::fs::read(format!("{fixtures}fargate_task_stats.json")).expect("fixture");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v4/fault", listener.local_addr().expect("addr"));
    let stats_requests = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&stats_requests);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let (task, stats, count) = (task.clone(), stats.clone(), Arc::clone(&count));
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                loop {
                    let Some(path) = read_request_target(&mut reader) else {
                        return;
                    };
                    let body = if path.ends_with("/task/stats") {
                        if count.fetch_add(1, Ordering::SeqCst) + 1 == bad {
                            let _ = conn.write_all(&answer);
                            return;
                        }
                        &stats
                    } else if path.ends_with("/task") {
                        &task
                    } else {
                        let _ =
                            conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                        continue;
                    };
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                    if conn
                        .write_all(head.as_bytes())
                        .and_then(|()| conn.write_all(body))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, stats_requests)
}

#[test]
fn a_chunk_larger_than_any_body_is_one_logged_problem_and_polling_goes_on() {
    // A chunk of 70,000 bytes, then one of 2^64 - 19: the old client's length sum wrapped
    // and it sliced past its buffer (exit 101).
    let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11170\r\n".to_vec();
    answer.extend(std::iter::repeat_n(b'a', 70_000));
    answer.extend_from_slice(b"\r\nffffffffffffffed\r\n");
    let (url, _) = fault_server(2, answer);
    let mut child = exporter(
        &url,
        &[("ECS_EMF_ALLOW_ANY_METADATA_HOST", "true")],
        Stdio::piped(),
        Stdio::piped(),
    );
    let docs = lines(child.stdout.take().expect("stdout"));
    let log = lines(child.stderr.take().expect("stderr"));
    assert!(
        wait_for_tasks(&docs, 3, Duration::from_secs(15)),
        "{}",
        log.lock().expect("log").join("\n")
    );
    send_signal(child.id(), "-TERM");
    let (code, _) = wait_exit(&mut child, Duration::from_secs(15));
    let text = all_of(&log);
    assert_eq!(code, Some(0), "{text}");
    // Now it is one unusable answer, said once.
    assert_eq!(
        text.matches("metadata endpoint unreachable (/task/stats)")
            .count(),
        1,
        "{text}"
    );
    let parsed: Vec<serde_json::Value> = docs
        .lock()
        .expect("docs")
        .iter()
        .map(|l| serde_json::from_str(l).expect("EMF"))
        .collect();
    assert!(task_docs(&parsed).len() >= 3);
}

/// Peak resident memory of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_4_mb_task_arn_over_30_containers_keeps_memory_bounded() {
    // The task's properties went into every document at full length: 4 MB × 31 documents a
    // cycle, 272 MB of peak memory. Properties are cut at 1024 characters now.
    let dir = tempfile::tempdir().expect("tempdir");
    let arn = format!(
        "arn:aws:ecs:us-east-1:123456789012:task/prod/{}",
        "a".repeat(4 << 20)
    );
    let containers: Vec<serde_json::Value> = (0..30)
        .map(|i| {
            serde_json::json!({"DockerId": format!("c{i}"), "Name": format!("app-{i}"),
                "KnownStatus": "RUNNING", "Type": "NORMAL", "Limits": {"CPU": 128, "Memory": 256}})
        })
        .collect();
    let task = serde_json::json!({"Cluster": "prod", "ServiceName": "web", "TaskARN": arn,
        "Family": "web", "Revision": "1", "LaunchType": "EC2", "Containers": containers});
    let stats: serde_json::Map<String, serde_json::Value> = (0..30)
        .map(|i| {
            (
                format!("c{i}"),
                serde_json::json!({"read": "2025-01-01T00:00:00Z",
                    "cpu_stats": {"cpu_usage": {"total_usage": 1_000_000u64 * (i + 1)}},
                    "memory_stats": {"usage": 10_485_760u64}}),
            )
        })
        .collect();
    let (task_file, stats_file) = (dir.path().join("task.json"), dir.path().join("stats.json"));
    std::fs::write(&task_file, task.to_string()).expect("write");
    std::fs::write(&stats_file, serde_json::Value::Object(stats).to_string()).expect("write");
    let sim = Sim::start(&[
        "--replay-task",
        task_file.to_str().expect("utf-8"),
        "--replay-stats",
        stats_file.to_str().expect("utf-8"),
    ]);
    let mut child = exporter(&sim.base_url, &[], Stdio::piped(), Stdio::piped());
    let docs = lines(child.stdout.take().expect("stdout"));
    let log = lines(child.stderr.take().expect("stderr"));
    let enough = wait_for_tasks(&docs, 4, Duration::from_secs(30));
    let peak = peak_rss_kib(child.id());
    send_signal(child.id(), "-TERM");
    let (code, _) = wait_exit(&mut child, Duration::from_secs(15));
    let text = all_of(&log);
    assert!(enough, "{text}");
    assert_eq!(code, Some(0));
    // The sidecar's container has a 64 MiB limit (infra/).
    assert!(peak < 48 * 1024, "peak RSS {peak} KiB");
    assert_eq!(
        text.matches("property TaskARN is longer than 1024 characters")
            .count(),
        1,
        "{text}"
    );
    let first: serde_json::Value =
        serde_json::from_str(&docs.lock().expect("docs")[0]).expect("EMF");
    assert_eq!(
        first["TaskARN"].as_str().map(|a| a.chars().count()),
        Some(1024)
    );
}

#[test]
fn a_stdout_nobody_reads_holds_at_most_its_buffer_in_bytes() {
    // 501 documents (about 750 KB) a cycle into a full stdout with a 1 MiB buffer: whole
    // cycles are dropped (said once) rather than queued, so memory stops growing. The
    // previous build queued 60 cycles whatever their size (500 containers: 40 MiB after
    // 50 s and rising; 2000 containers: 204 MB).
    let sim = Sim::start(&["--containers", "500"]);
    let (_read_end, write_end) = pipe();
    fill(&write_end);
    let mut child = exporter(
        &sim.base_url,
        &[("ECS_EMF_BUFFER_BYTES", "1048576")],
        Stdio::from(write_end),
        Stdio::piped(),
    );
    let log = lines(child.stderr.take().expect("stderr"));
    std::thread::sleep(Duration::from_secs(5));
    let early = peak_rss_kib(child.id());
    std::thread::sleep(Duration::from_secs(5));
    let late = peak_rss_kib(child.id());
    // The second signal ends the flush into the full pipe at once.
    send_signal(child.id(), "-INT");
    send_signal(child.id(), "-TERM");
    let (code, _) = wait_exit(&mut child, Duration::from_secs(15));
    let text = all_of(&log);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        text.matches("stdout is not keeping up").count(),
        1,
        "said once:\n{text}"
    );
    assert!(stopped_field(&text, "dropped_values") > 0, "{text}");
    // Five more cycles (3.7 MB of EMF) after the first five: the peak grew by less than
    // two of them.
    assert!(
        late < early + 2048,
        "peak RSS {early} KiB after 5 s, {late} KiB after 10 s"
    );
}
