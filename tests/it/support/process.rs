//! Runs the built binary as a real process: the simulator, and the exporter against it.
//! Every wait has a deadline, so a broken build fails a test instead of hanging CI.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test: this build's, or `ECS_EMF_TEST_BIN` (to show that a test fails
/// on an older build).
pub fn bin() -> String {
    std::env::var("ECS_EMF_TEST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ecs-emf-exporter").to_string())
}

/// Lines of a child's stream, read on a thread; all of stderr is also kept for assertions.
pub struct Lines {
    rx: Receiver<String>,
    pub all: Arc<Mutex<Vec<String>>>,
    /// Set when the stream reached its end (the process closed it or exited).
    ended: Arc<std::sync::atomic::AtomicBool>,
}

impl Lines {
    fn spawn(stream: impl std::io::Read + Send + 'static) -> Lines {
        let (tx, rx) = channel();
        let all = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&all);
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let end = Arc::clone(&ended);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                keep.lock().expect("lock").push(line.clone());
                if tx.send(line).is_err() {
                    // Nobody reads any more; keep collecting into `all`.
                }
            }
            end.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Lines { rx, all, ended }
    }

    /// The next line, or `None` when the deadline passes or the stream ends.
    pub fn next(&self, timeout: Duration) -> Option<String> {
        self.rx.recv_timeout(timeout).ok()
    }

    pub fn text(&self) -> String {
        self.all.lock().expect("lock").join("\n")
    }

    /// Waits until a line containing `needle` has been read; false at the deadline.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self
                .all
                .lock()
                .expect("lock")
                .iter()
                .any(|l| l.contains(needle))
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the stream ended (the process exited), so `text` is complete.
    pub fn wait_end(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.ended.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// SIGTERM first (the exporter flushes on it, the CloudWatch proxy answers its calls in
/// flight), SIGKILL if the child is still running after `grace`.
pub fn kill_gently(child: &mut Child, grace: Duration) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `ecs-emf-exporter simulate …` on a loopback port.
pub struct Sim {
    child: Child,
    pub base_url: String,
    pub stderr: Lines,
}

impl Sim {
    pub fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(bin())
            .arg("simulate")
            .args(args)
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("simulate starts");
        let stderr = Lines::spawn(child.stderr.take().expect("stderr"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(line) = stderr.next(Duration::from_millis(200))
                && let Some(url) = line.strip_prefix("ECS_CONTAINER_METADATA_URI_V4=")
            {
                return Sim {
                    child,
                    base_url: url.trim().to_string(),
                    stderr,
                };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("simulate printed no address; stderr:\n{}", stderr.text());
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        kill_gently(&mut self.child, Duration::from_secs(5));
    }
}

/// The exporter as a sidecar process, its stdout (EMF) and stderr (logs) read separately.
pub struct Exporter {
    child: Child,
    pub stdout: Lines,
    pub stderr: Lines,
}

impl Exporter {
    pub fn start(metadata_uri: &str, env: &[(&str, &str)], args: &[&str]) -> Exporter {
        let mut cmd = Command::new(bin());
        cmd.env_clear()
            .env("ECS_CONTAINER_METADATA_URI_V4", metadata_uri)
            .env("ECS_EMF_INTERVAL", "1s")
            .env(
                "ECS_EMF_HEALTH_FILE",
                std::env::temp_dir().join(format!("emf-health-{}", std::process::id())),
            )
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("exporter starts");
        let stdout = Lines::spawn(child.stdout.take().expect("stdout"));
        let stderr = Lines::spawn(child.stderr.take().expect("stderr"));
        Exporter {
            child,
            stdout,
            stderr,
        }
    }

    /// Reads EMF documents until `done` says enough, or the deadline passes.
    pub fn read_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        let mut docs = Vec::new();
        while Instant::now() < deadline && !done(&docs) {
            if let Some(line) = self.stdout.next(Duration::from_millis(100)) {
                let problems = super::emf_rules::problems(
                    &line,
                    16_383,
                    Some(chrono::Utc::now().timestamp_millis()),
                );
                assert!(problems.is_empty(), "invalid EMF line {problems:?}: {line}");
                docs.push(serde_json::from_str(&line).expect("validated JSON"));
            }
        }
        docs
    }

    /// The process id (to read /proc/<pid>).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then the exit code (waits at most `timeout`).
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        self.signal("-TERM", timeout)
    }

    /// SIGINT (Ctrl-C), then the exit code.
    pub fn interrupt(&mut self, timeout: Duration) -> Option<i32> {
        self.signal("-INT", timeout)
    }

    fn signal(&mut self, signal: &str, timeout: Duration) -> Option<i32> {
        let _ = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Everything the process wrote is read before anyone looks at it.
                self.stdout.wait_end(Duration::from_secs(2));
                self.stderr.wait_end(Duration::from_secs(2));
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        kill_gently(&mut self.child, Duration::from_secs(5));
    }
}

/// A number from the exporter's last line (`stopped cycles=… collected=… documents=…`)
/// in its log `text`.
pub fn stopped_field(text: &str, name: &str) -> u64 {
    let stopped = text
        .lines()
        .rev()
        .find(|l| l.contains(" stopped cycles="))
        .unwrap_or_else(|| panic!("no stopped line in:\n{text}"));
    let prefix = format!("{name}=");
    stopped
        .split_whitespace()
        .find_map(|field| field.strip_prefix(prefix.as_str()))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name}=N in {stopped}"))
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A loopback UDP port with no listener that stays that way for the test: taken below the
/// kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`), where no socket bound
/// to port 0 (every other test's listeners and clients, the exporter's own UDP socket) can
/// land. A port freed from the ephemeral range could be handed to one of those a moment later,
/// and a datagram sent there would be taken as delivered.
pub fn unbound_udp_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    // Spread over the range below it, so parallel runs seldom try the same ports.
    let start = 10_000 + (std::process::id() % 10_000) as u16;
    (start..low.max(start + 1))
        .chain(10_000..start)
        .find(|port| std::net::UdpSocket::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free UDP port below the ephemeral range")
}

/// Whether `n` complete cycles arrived: the last document of a cycle is the last
/// container's, so count the documents of the container named `last`.
pub fn cycles_done(docs: &[serde_json::Value], last: &str, n: usize) -> bool {
    container_docs(docs, last).len() >= n
}

/// Task documents (`Type` = Task), in order.
pub fn task_docs(docs: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    docs.iter().filter(|d| d["Type"] == "Task").collect()
}

pub fn container_docs<'a>(docs: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    docs.iter()
        .filter(|d| d["Type"] == "Container" && d["ContainerName"] == name)
        .collect()
}

/// Every metric a document declares, with its value (NaN when the member is missing or not a
/// number, so a check on finite values catches it).
pub fn metric_values(doc: &serde_json::Value) -> Vec<(String, f64)> {
    doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["Name"].as_str())
        .map(|name| (name.to_string(), doc[name].as_f64().unwrap_or(f64::NAN)))
        .collect()
}

/// A member of a document as a number.
pub fn value(doc: &serde_json::Value, name: &str) -> Option<f64> {
    doc.get(name).and_then(serde_json::Value::as_f64)
}

/// Every metric value of `docs`, with its name.
pub fn all_values(docs: &[serde_json::Value]) -> Vec<(String, f64)> {
    docs.iter().flat_map(metric_values).collect()
}

pub fn approx(actual: Option<f64>, expected: f64, rel: f64) -> bool {
    actual.is_some_and(|a| (a - expected).abs() <= rel * expected.abs().max(1e-9))
}

/// `ecs-emf-exporter --once` against `metadata_uri` with `env`: exit code, the validated
/// EMF documents from stdout, and stderr.
pub fn run_once(
    metadata_uri: &str,
    env: &[(&str, &str)],
) -> (Option<i32>, Vec<serde_json::Value>, String) {
    run_once_with(metadata_uri, env, 16_383)
}

/// As [`run_once`], the lines validated against `max_line_bytes` (the exporter's
/// `ECS_EMF_MAX_LINE_BYTES`, which `env` sets when it is not the default).
pub fn run_once_with(
    metadata_uri: &str,
    env: &[(&str, &str)],
    max_line_bytes: usize,
) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let out = Command::new(bin())
        .env_clear()
        .env("ECS_CONTAINER_METADATA_URI_V4", metadata_uri)
        .envs(env.iter().copied())
        .arg("--once")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let docs = super::emf_rules::assert_valid_lines(&stdout, max_line_bytes);
    (
        out.status.code(),
        docs,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A pipe: (read end, write end).
pub fn pipe() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe fills two descriptors, which are then owned here.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both are open descriptors nothing else owns.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    }
}

/// Fills a pipe through its write end until it holds no more, then leaves the end in
/// blocking mode: the next write to it blocks until someone reads.
pub fn fill(write_end: &std::os::fd::OwnedFd) {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let fd = write_end.as_raw_fd();
    // SAFETY: fcntl on a descriptor the test owns.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    let mut file = std::fs::File::from(write_end.try_clone().expect("dup"));
    while file.write(&[b'x'; 4096]).is_ok() {}
    // The rest of a page, a byte at a time.
    while file.write(b"x").is_ok() {}
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags) };
}

/// Sends `signal` (`-TERM`, `-INT`) to `pid`.
pub fn send_signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Waits at most `timeout` for `child` to exit; its exit code and how long it took.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> (Option<i32>, Duration) {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if let Ok(Some(status)) = child.try_wait() {
            return (status.code(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    (None, started.elapsed())
}

/// Reads one HTTP/1.x request head from `reader` (a fault server's connection): the request
/// target (path and query), or `None` when the stream ends first.
pub fn read_request_target(reader: &mut impl std::io::BufRead) -> Option<String> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return None;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).unwrap_or(0) > 2 {
        header.clear();
    }
    Some(
        request_line
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_string(),
    )
}
