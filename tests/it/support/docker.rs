//! The Docker CLI for the image tests (`tests/image.rs`, `tests/docker_awslogs.rs`) and the
//! daemon-mode tests (`tests/daemon.rs`). `scripts/e2e-docker.sh` starts a private dockerd,
//! builds the image and the workload image and sets `E2E_DOCKER` (the CLI), `E2E_IMAGE` (the
//! image), `E2E_LOADGEN_IMAGE` (the workload, `support/loadgen.c`) and `DOCKER_HOST`; the
//! tests are `#[ignore]`d so that a plain `cargo test` reports them as ignored, never as
//! passed.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct Docker {
    cli: String,
    pub image: String,
    /// Another dockerd than `DOCKER_HOST`'s (`unix://...`), for a test's own dockerd.
    host: Option<String>,
}

static NEXT_NAME: AtomicU32 = AtomicU32::new(0);

impl Docker {
    pub fn from_env() -> Docker {
        let image = std::env::var("E2E_IMAGE").unwrap_or_else(|_| {
            panic!("E2E_IMAGE is not set: run these tests through scripts/e2e-docker.sh")
        });
        let cli = std::env::var("E2E_DOCKER").unwrap_or_else(|_| "docker".to_string());
        Docker {
            cli,
            image,
            host: None,
        }
    }

    /// The same CLI and image, talking to the dockerd at `host` (`unix://...`).
    pub fn on_host(&self, host: &str) -> Docker {
        Docker {
            cli: self.cli.clone(),
            image: self.image.clone(),
            host: Some(host.to_string()),
        }
    }

    /// The CLI of `E2E_DOCKER` with the daemon-mode tests' workload image,
    /// `E2E_LOADGEN_IMAGE` (`support/loadgen.c`: `loadgen MIB SECONDS EXIT_CODE`).
    pub fn loadgen_from_env() -> Docker {
        let image = std::env::var("E2E_LOADGEN_IMAGE").unwrap_or_else(|_| {
            panic!("E2E_LOADGEN_IMAGE is not set: run these tests through scripts/e2e-docker.sh")
        });
        let cli = std::env::var("E2E_DOCKER").unwrap_or_else(|_| "docker".to_string());
        Docker {
            cli,
            image,
            host: None,
        }
    }

    /// `docker info -f FORMAT`, trimmed (`{{.CgroupDriver}}`).
    pub fn info(&self, format: &str) -> String {
        self.ok(&["info", "-f", format]).trim().to_string()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.cli);
        if let Some(host) = &self.host {
            cmd.env("DOCKER_HOST", host);
        }
        cmd.args(args)
            .output()
            .unwrap_or_else(|e| panic!("{} {args:?} did not run: {e}", self.cli))
    }

    /// Runs `args`, panics with its stderr unless it succeeds, returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `docker run -d` of the image with `options` (before the image) and `args` (after it).
    pub fn start(&self, options: &[&str], args: &[&str]) -> Container<'_> {
        let name = format!(
            "e2e-{}-{}",
            std::process::id(),
            NEXT_NAME.fetch_add(1, Ordering::Relaxed)
        );
        let mut all = vec!["run", "-d", "--name", &name];
        all.extend_from_slice(options);
        all.push(&self.image);
        all.extend_from_slice(args);
        self.ok(&all);
        Container { docker: self, name }
    }
}

/// A container of the test; removed (with its anonymous volumes) on drop.
pub struct Container<'a> {
    docker: &'a Docker,
    pub name: String,
}

impl Container<'_> {
    /// `docker exec` of the image's binary with `args`.
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["exec", self.name.as_str(), "/ecs-emf-exporter"];
        all.extend_from_slice(args);
        self.docker.run(&all)
    }

    /// Polls `healthcheck` inside the container until it exits 0, or the deadline passes.
    pub fn wait_healthy(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.exec(&["healthcheck"]).status.success() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        false
    }

    /// `docker stop` (SIGTERM, then SIGKILL after 20 s), then the exit code.
    pub fn stop(&self) -> i64 {
        self.docker.ok(&["stop", "-t", "20", &self.name]);
        self.docker
            .ok(&["inspect", "-f", "{{.State.ExitCode}}", &self.name])
            .trim()
            .parse()
            .expect("docker inspect prints the exit code")
    }

    /// `docker inspect` of the container: Docker's own view (`Id`, `State`, `HostConfig`).
    pub fn inspect(&self) -> serde_json::Value {
        let text = self.docker.ok(&["inspect", &self.name]);
        let all: serde_json::Value =
            serde_json::from_str(&text).expect("docker inspect prints JSON");
        all.get(0)
            .cloned()
            .unwrap_or_else(|| panic!("docker inspect {} printed no container", self.name))
    }

    /// The full container id (64 hex digits), as Docker and the ECS agent name it.
    pub fn id(&self) -> String {
        self.inspect()["Id"]
            .as_str()
            .expect("docker inspect gives the Id")
            .to_string()
    }

    /// What the container wrote, (stdout, stderr): json-file or local log driver only.
    pub fn logs(&self) -> (String, String) {
        let out = self.docker.run(&["logs", &self.name]);
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self.docker.run(&["rm", "-f", "-v", &self.name]);
    }
}
