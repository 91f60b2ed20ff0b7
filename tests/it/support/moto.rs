//! A local CloudWatch for tests that publish through the real AWS SDK: moto (which speaks
//! only awsQuery/JSON for CloudWatch) behind `cloudwatch_proxy.py`, which speaks the Smithy
//! RPC v2 CBOR protocol of aws-sdk-cloudwatch and can inject faults. Point the SDK at
//! [`Moto::endpoint`] (see [`Moto::env`]); read back what moto stored with
//! [`Moto::readback`].
//!
//! Needs `.venv` at the repo root (`scripts/setup-moto.sh`). Every wait has a deadline; the
//! panics carry the tail of the child's log.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use super::process::kill_gently;
use serde_json::Value;

const STARTUP: Duration = Duration::from_secs(30);
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// moto and the CBOR proxy in front of it, both children of the test; killed on drop.
pub struct Moto {
    /// moto itself (awsQuery/JSON): what the readback talks to.
    pub moto_url: String,
    /// The proxy: what `AWS_ENDPOINT_URL_CLOUDWATCH` points at.
    pub endpoint: String,
    moto: Child,
    proxy: Option<Child>,
    proxy_port: u16,
    /// How the proxy talks to moto: `json` (awsJson 1.0) or `query` (awsQuery).
    moto_protocol: String,
    /// Logs, and the proxy's state (faults, counters, accepted datums), which survives
    /// `stop_proxy` + `start_proxy`.
    dir: tempfile::TempDir,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    repo_root().join(".venv/bin/python")
}

/// Set (to anything but `0`) by the README's test command: there a missing moto is a failure,
/// not a skip.
const REQUIRE: &str = "ECS_EMF_REQUIRE_MOTO";

/// Whether moto can run here. Where it cannot and [`REQUIRE`] is not set, the calling test is
/// reported as skipped, on stderr itself (libtest keeps a passing test's `eprintln!` to itself).
fn available() -> bool {
    let python = python();
    if python.exists() {
        return true;
    }
    let why = format!(
        "{} is missing: run scripts/setup-moto.sh (it installs moto into .venv)",
        python.display()
    );
    let required = std::env::var(REQUIRE).is_ok_and(|v| v != "0");
    assert!(!required, "{why} ({REQUIRE} is set)");
    let test = std::thread::current()
        .name()
        .unwrap_or("a moto test")
        .to_string();
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    false
}

/// `.venv/bin/python` for the harness's children: everything they talk to is on loopback,
/// so an HTTP proxy from the environment (which urllib and botocore honour) is kept out.
fn python_command() -> Command {
    let mut cmd = Command::new(python());
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    cmd
}

fn script(name: &str) -> PathBuf {
    repo_root().join("tests/it/support").join(name)
}

fn log_file(path: &Path) -> File {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .expect("log file in the temp dir")
}

/// The last lines of a log, for panic messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

impl Moto {
    /// Starts moto and the proxy on free loopback ports and waits (at most 30 s each) until
    /// both answer. The proxy talks awsJson 1.0 to moto (moto parses large awsQuery forms
    /// slowly); see [`Moto::start_with`].
    ///
    /// `None` where moto is not installed (the test then returns: skipped, and said so).
    pub fn start() -> Option<Moto> {
        Moto::start_with("json")
    }

    /// As [`Moto::start`], the proxy talking `moto_protocol` (`json` or `query`) to moto.
    pub fn start_with(moto_protocol: &str) -> Option<Moto> {
        if !available() {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir for moto's logs");

        // moto cannot report the port it bound, so pick one; if another process takes it
        // first, moto exits and the next attempt picks another.
        let mut attempt = 0;
        let (moto, moto_port) = loop {
            attempt += 1;
            let port = super::process::free_port();
            let log = dir.path().join("moto.log");
            let mut child = python_command()
                .args([
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(log_file(&log))
                .stderr(log_file(&log))
                .spawn()
                .expect("spawn .venv/bin/python -m moto.server");
            match wait_for_moto(&mut child, port) {
                Ok(()) => break (child, port),
                Err(why) => {
                    kill(&mut child);
                    if attempt >= 3 {
                        panic!(
                            "moto did not start ({why}); is moto installed? run \
                             scripts/setup-moto.sh\nmoto.log:\n{}",
                            tail(&log)
                        );
                    }
                }
            }
        };

        let moto_url = format!("http://127.0.0.1:{moto_port}");
        let mut this = Moto {
            moto_url,
            endpoint: String::new(),
            moto,
            proxy: None,
            proxy_port: 0,
            moto_protocol: moto_protocol.to_string(),
            dir,
        };
        this.spawn_proxy(0);
        Some(this)
    }

    /// The environment that points the exporter (or any SDK client) at the proxy.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL_CLOUDWATCH", self.endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The next `count` requests of `operation` get fault `kind` (`throttling`, `invalid`,
    /// `unavailable`) from the proxy, without reaching moto.
    pub fn inject(&self, operation: &str, kind: &str, count: u32) {
        let body = serde_json::json!({"operation": operation, "kind": kind, "count": count});
        let (status, answer) = self.proxy_call("POST", "/_proxy/faults", Some(&body.to_string()));
        assert_eq!(status, 200, "inject {kind} into {operation}: {answer}");
    }

    /// Per operation: `received`, `injected`, `forwarded`, `datums_forwarded`, `accepted`,
    /// `datums_accepted`, `compressed` (requests that came gzip-encoded).
    pub fn stats(&self) -> Value {
        let (status, answer) = self.proxy_call("GET", "/_proxy/stats", None);
        assert_eq!(status, 200, "proxy stats: {answer}");
        serde_json::from_str(&answer).expect("proxy stats are JSON")
    }

    /// Waits until moto has accepted `n` PutMetricData requests (the proxy must be up);
    /// false at the deadline.
    pub fn wait_accepted(&self, n: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let accepted = self.stats()["PutMetricData"]["accepted"]
                .as_u64()
                .unwrap_or(0);
            if accepted >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every PutMetricData datum of `namespace` that moto accepted, in arrival order, as the
    /// SDK sent it: `{"Namespace", "MetricName", "Dimensions": {..}, "Timestamp": epoch_ms,
    /// "Value" | "Values" + "Counts" | "StatisticValues", "Unit", "StorageResolution"}`
    /// (absent fields were not sent). Kept across `stop_proxy` + `start_proxy`.
    pub fn accepted_datums(&self, namespace: &str) -> Value {
        let path = format!("/_proxy/datums?namespace={}", percent_encode(namespace));
        let (status, answer) = self.proxy_call("GET", &path, None);
        assert_eq!(status, 200, "proxy datums: {answer}");
        serde_json::from_str(&answer).expect("proxy datums are JSON")
    }

    /// Clears moto's state, the proxy's faults, counters and datum log.
    pub fn reset(&self) {
        let (status, answer) = self.proxy_call("POST", "/_proxy/reset", Some(""));
        assert_eq!(status, 200, "proxy reset: {answer}");
        let (status, answer) = http(self.moto_addr(), "POST", "/moto-api/reset", Some(""))
            .unwrap_or_else(|e| panic!("moto reset: {e}"));
        assert!(
            (200..300).contains(&status),
            "moto reset: {status} {answer}"
        );
    }

    /// CloudWatch "down": stops the proxy, so the endpoint refuses connections. The stop is
    /// graceful (SIGTERM): a call moto already accepted is answered before the proxy ends, so
    /// the outage never eats the answer to a delivered batch, which would make the client
    /// send it again (a real network can do that; a test of "each datum once" must not).
    pub fn stop_proxy(&mut self) {
        if let Some(mut child) = self.proxy.take() {
            kill_gently(&mut child, Duration::from_secs(25));
        }
        let deadline = Instant::now() + STARTUP;
        while TcpStream::connect_timeout(&self.proxy_addr(), Duration::from_millis(200)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "the proxy port {} still accepts connections",
                self.proxy_port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// CloudWatch up again, on the same port (faults, counters and datum log kept).
    pub fn start_proxy(&mut self) {
        if self.proxy.is_none() {
            self.spawn_proxy(self.proxy_port);
        }
    }

    /// `ecs_setup.py` against this moto: cluster `cluster` with a RunTask task tagged `tags`
    /// (`K=V`), and with `service` (name, count) that many tasks of that service; their ARNs,
    /// the tagged task's first.
    pub fn ecs_tasks(
        &self,
        cluster: &str,
        tags: &[&str],
        service: Option<(&str, usize)>,
    ) -> Vec<String> {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut cmd = Command::new(format!("{root}/.venv/bin/python"));
        cmd.arg(format!("{root}/tests/it/support/ecs_setup.py"))
            .args(["--endpoint", &self.moto_url, "--cluster", cluster])
            .args(tags.iter().flat_map(|t| ["--tag", t]));
        if let Some((name, count)) = service {
            cmd.args(["--service", name, "--service-tasks", &count.to_string()]);
        }
        let out = cmd
            .output()
            .expect("python runs (scripts/setup-moto.sh creates .venv)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Everything moto holds for `namespace`, with 60 s buckets: see [`Moto::readback_with`].
    pub fn readback(&self, namespace: &str) -> Value {
        self.readback_with(namespace, &["--period", "60"])
    }

    /// `cloudwatch_readback.py` with extra arguments (`--period S`, `--start EPOCH`,
    /// `--end EPOCH`): a list sorted by (MetricName, Dimensions, Unit) of `{"MetricName",
    /// "Dimensions": {name: value}, "Unit", "Datapoints": [{"Timestamp": epoch_ms, "Sum",
    /// "SampleCount", "Minimum", "Maximum"}]}`. Panics when moto cannot answer exactly (the
    /// script explains why).
    pub fn readback_with(&self, namespace: &str, args: &[&str]) -> Value {
        self.try_readback(namespace, args)
            .unwrap_or_else(|e| panic!("readback of {namespace}: {e}"))
    }

    /// As [`Moto::readback_with`], the script's complaint as the error.
    pub fn try_readback(&self, namespace: &str, args: &[&str]) -> Result<Value, String> {
        let mut all = vec!["--namespace", namespace];
        all.extend_from_slice(args);
        self.run_readback(&all)
    }

    /// moto's own stored datums of `namespace`, one by one in storage order, from
    /// `/moto-api/data.json`: `{"MetricName", "Unit", "Value"}` or `{"MetricName", "Unit",
    /// "StatisticValues": {..}}`. moto's data.json has no timestamps nor dimensions; those
    /// are in [`Moto::accepted_datums`].
    pub fn readback_raw(&self, namespace: &str) -> Value {
        self.run_readback(&["--namespace", namespace, "--raw"])
            .unwrap_or_else(|e| panic!("raw readback of {namespace}: {e}"))
    }

    /// Every event of a CloudWatch Logs stream moto holds, oldest first, as
    /// `[{"timestamp": epoch_ms, "message": text}]` (`logs_readback.py`).
    pub fn log_events(&self, group: &str, stream: &str) -> Value {
        let out = run_with_deadline(
            python_command()
                .arg(script("logs_readback.py"))
                .args(["--endpoint", &self.moto_url])
                .args(["--group", group, "--stream", stream]),
            HTTP_TIMEOUT,
        )
        .unwrap_or_else(|e| panic!("logs readback of {group}/{stream}: {e}"));
        assert_eq!(out.0, Some(0), "logs_readback.py failed: {}", out.2);
        serde_json::from_str(&out.1)
            .unwrap_or_else(|e| panic!("logs readback is not JSON ({e}): {}", out.1))
    }

    fn run_readback(&self, args: &[&str]) -> Result<Value, String> {
        let out = run_with_deadline(
            python_command()
                .arg(script("cloudwatch_readback.py"))
                .args(["--endpoint", &self.moto_url])
                .args(args),
            HTTP_TIMEOUT,
        )?;
        if out.0 != Some(0) {
            return Err(format!(
                "cloudwatch_readback.py exited {:?}: {}",
                out.0, out.2
            ));
        }
        serde_json::from_str(&out.1).map_err(|e| format!("readback is not JSON ({e}): {}", out.1))
    }

    fn moto_addr(&self) -> SocketAddr {
        let port = self
            .moto_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("moto_url ends with its port");
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn proxy_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.proxy_port))
    }

    fn proxy_call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        http(self.proxy_addr(), method, path, body)
            .unwrap_or_else(|e| panic!("proxy {method} {path}: {e} (is the proxy stopped?)"))
    }

    /// Spawns the proxy on `port` (0: any) and waits for its `LISTENING <port>` line.
    fn spawn_proxy(&mut self, port: u16) {
        let log = self.dir.path().join("proxy.log");
        let state = self.dir.path().join("proxy-state");
        let mut child = python_command()
            .arg(script("cloudwatch_proxy.py"))
            .args(["--listen", &port.to_string(), "--moto", &self.moto_url])
            .args(["--moto-protocol", &self.moto_protocol])
            .arg("--state-dir")
            .arg(&state)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file(&log))
            .spawn()
            .expect("spawn .venv/bin/python cloudwatch_proxy.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            // The proxy prints one line; keep reading so it never blocks on a full pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let listening = rx.recv_timeout(STARTUP).ok().and_then(|line| {
            line.strip_prefix("LISTENING ")
                .and_then(|p| p.trim().parse::<u16>().ok())
        });
        let Some(bound) = listening else {
            kill(&mut child);
            panic!(
                "cloudwatch_proxy.py did not start on port {port} within {STARTUP:?}; run \
                 scripts/setup-moto.sh if .venv is incomplete\nproxy.log:\n{}",
                tail(&log)
            );
        };
        self.proxy_port = bound;
        self.endpoint = format!("http://127.0.0.1:{bound}");
        self.proxy = Some(child);
        let (status, answer) = self.proxy_call("GET", "/_proxy/stats", None);
        assert_eq!(status, 200, "proxy not answering: {answer}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(mut child) = self.proxy.take() {
            kill(&mut child);
        }
        kill(&mut self.moto);
    }
}

fn wait_for_moto(child: &mut Child, port: u16) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + STARTUP;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("moto exited with {status}"));
        }
        if let Ok((status, _)) = http(addr, "GET", "/moto-api/config", None)
            && (200..300).contains(&status)
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "moto did not answer on port {port} within {STARTUP:?}"
    ))
}

/// Runs a command to completion within `timeout`: (exit code, stdout, stderr).
fn run_with_deadline(
    cmd: &mut Command,
    timeout: Duration,
) -> Result<(Option<i32>, String, String), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                kill(&mut child);
                return Err(format!("{cmd:?} did not finish within {timeout:?}"));
            }
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok((status.code(), stdout, stderr))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One HTTP/1.1 request with `Connection: close`: (status, body as text).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(HTTP_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(HTTP_TIMEOUT)))
        .map_err(|e| format!("socket timeouts: {e}"))?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send to {addr}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no header end in the answer of {addr}"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut payload = raw[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line from {addr}: {head}"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        payload = dechunk(&payload).ok_or_else(|| format!("bad chunked body from {addr}"))?;
    }
    Ok((status, String::from_utf8_lossy(&payload).into_owned()))
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
