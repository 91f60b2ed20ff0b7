//! The `ecs-emf-exporter simulate` subcommand: flags, validation, and serving until a signal.
//!
//! Single values are checked by clap while parsing (its error names the flag, exit code 2);
//! what depends on several flags is checked in [`SimulateArgs::to_options`], which
//! [`run_simulate`] turns into one line on stderr and exit code 2.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use super::faults::{ExitEvent, Fault, RestartEvent};
use super::replay::Replay;
use super::scenario::{Cgroup, ClockDriftMode, NetworkMode, Platform, Scenario};
use super::server::{self, SimOptions, restart_after_exit};

/// Exit code for invalid flags, the same clap uses for its own parse errors.
const EXIT_USAGE: u8 = 2;

/// Serve a simulated ECS Task Metadata Endpoint v4 on 127.0.0.1 until SIGINT/SIGTERM.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Platform to simulate: fargate or ec2.
    #[arg(long, value_name = "fargate|ec2", default_value = "fargate")]
    pub platform: Platform,

    /// cgroup version of the stats: v1 or v2 [default: v1 on fargate, v2 on ec2].
    #[arg(long, value_name = "v1|v2")]
    pub cgroup: Option<Cgroup>,

    /// Network mode: awsvpc or bridge [default: awsvpc on fargate, bridge on ec2].
    #[arg(long, value_name = "awsvpc|bridge")]
    pub network: Option<NetworkMode>,

    /// Number of running containers (1 to 500).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = parse_containers)]
    pub containers: usize,

    /// Pad (with 'x') or cut every container name to exactly N characters (1 to 255).
    #[arg(long, value_name = "N", value_parser = parse_name_length)]
    pub name_length: Option<usize>,

    /// Number of extra containers in STOPPED state (0 to 500).
    #[arg(long = "stopped", value_name = "N", default_value_t = 0, value_parser = parse_stopped)]
    pub stopped: usize,

    /// A task tag served by /taskWithTags (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,

    /// /taskWithTags reports an AccessDeniedException in `Errors`.
    #[arg(long)]
    pub tags_error: bool,

    /// Leave `ServiceName` out of the task (a standalone task).
    #[arg(long)]
    pub no_service_name: bool,

    /// Include `RestartCount` on the containers.
    #[arg(long)]
    pub restart_count_field: bool,

    /// What Fargate's /task serves as ClockDrift [default: synchronized; EC2 serves none].
    #[arg(
        long,
        value_name = "synchronized|not-synchronized|missing|malformed|negative"
    )]
    pub clock_drift: Option<ClockDriftMode>,

    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 0)]
    pub port: u16,

    /// Inject a fault: PATH:KIND[@FROM[-TO]] with PATH task|stats|tags|introspection|all and
    /// KIND 500|429|404|truncated|notjson|empty|latency=MS|nullstats|emptystats (repeatable).
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<Fault>,

    /// Restart container K at stats request N: K@N (repeatable).
    #[arg(long = "restart", value_name = "K@N")]
    pub restarts: Vec<RestartEvent>,

    /// Container K has stopped with exit code CODE (0 to 255) from /task request N on:
    /// K@N:CODE (repeatable, one exit per container).
    #[arg(long = "exit", value_name = "K@N:CODE")]
    pub exits: Vec<ExitEvent>,

    /// Container K was killed by the OOM killer at /task request N: --exit K@N:137
    /// (repeatable).
    #[arg(long = "oom-kill", value_name = "K@N", value_parser = parse_oom_kill)]
    pub oom_kills: Vec<ExitEvent>,

    /// Answer 404 on the agent's introspection API (/v1/metadata, /v1/tasks) on EC2 too
    /// (Fargate never has it).
    #[arg(long)]
    pub no_introspection: bool,

    /// CPU throttling counters grow as a plain Docker host reports them (the ECS agent serves
    /// zeros).
    #[arg(long)]
    pub throttled: bool,

    /// Serve the agent's /v1/tasks from FILE ({"Tasks":[...]}, the agent's body), read again on
    /// every request, instead of the simulated task: real containers for tests of daemon mode
    /// (ec2 only).
    #[arg(long, value_name = "FILE")]
    pub agent_tasks: Option<PathBuf>,

    /// Serve these files verbatim as /task, one per request, the last one repeating (needs
    /// --replay-stats).
    #[arg(long = "replay-task", value_name = "FILE")]
    pub replay_task: Vec<PathBuf>,

    /// Serve these files verbatim as /task/stats, one per request, the last one repeating.
    #[arg(long = "replay-stats", value_name = "FILE")]
    pub replay_stats: Vec<PathBuf>,

    /// Serve this file verbatim as /taskWithTags (404 without it when replaying).
    #[arg(long, value_name = "FILE")]
    pub replay_task_with_tags: Option<PathBuf>,
}

impl SimulateArgs {
    /// The simulator's options and port, or a one-line message naming the offending flag.
    pub fn to_options(&self) -> Result<(SimOptions, u16), String> {
        let scenario = self.scenario()?;
        if let Some(bad) = self
            .restarts
            .iter()
            .find(|r| r.container >= scenario.containers)
        {
            return Err(format!(
                "--restart {}@{}: there is no container {} (--containers {} gives 0 to {})",
                bad.container,
                bad.at_request,
                bad.container,
                scenario.containers,
                scenario.containers - 1
            ));
        }
        let exits = self.checked_exits(scenario.containers)?;
        let replay = self.replay()?;
        if replay.is_some() && !self.restarts.is_empty() {
            return Err(
                "--restart cannot be combined with --replay-task: replayed stats are fixed"
                    .to_owned(),
            );
        }
        if let (Some(_), Some((flag, _))) = (&replay, exits.first()) {
            return Err(format!(
                "{flag} cannot be combined with --replay-task: replayed tasks are fixed"
            ));
        }
        if self.agent_tasks.is_some() {
            if self.platform == Platform::Fargate {
                return Err(
                    "--agent-tasks is not possible with --platform fargate (Fargate has no agent introspection API)"
                        .to_owned(),
                );
            }
            if replay.is_some() {
                return Err(
                    "--agent-tasks cannot be combined with --replay-task: a replay serves no agent API"
                        .to_owned(),
                );
            }
        }
        let options = SimOptions {
            scenario,
            faults: self.faults.clone(),
            restarts: self.restarts.clone(),
            exits: exits.into_iter().map(|(_, exit)| exit).collect(),
            replay,
            agent_tasks: self.agent_tasks.clone(),
        };
        Ok((options, self.port))
    }

    /// `--exit` then `--oom-kill` events, each with its flag as written for messages, checked:
    /// the container exists, exits once, and has no `--restart` at or after its exit.
    fn checked_exits(&self, containers: usize) -> Result<Vec<(String, ExitEvent)>, String> {
        let exits: Vec<(String, ExitEvent)> = self
            .exits
            .iter()
            .map(|e| (format!("--exit {e}"), *e))
            .chain(
                self.oom_kills
                    .iter()
                    .map(|e| (format!("--oom-kill {}@{}", e.container, e.at_request), *e)),
            )
            .collect();
        for (i, (flag, exit)) in exits.iter().enumerate() {
            let k = exit.container;
            if k >= containers {
                return Err(format!(
                    "{flag}: there is no container {k} (--containers {containers} gives 0 to {})",
                    containers - 1
                ));
            }
            if let Some((first, _)) = exits[..i].iter().find(|(_, e)| e.container == k) {
                return Err(format!(
                    "{flag}: container {k} already exits with {first} (one exit per container)"
                ));
            }
            if let Some(restart) = restart_after_exit(&self.restarts, exit) {
                return Err(format!(
                    "--restart {k}@{} cannot be combined with {flag}: container {k} has stopped \
                     by then (only a restart before the exit's request number is possible)",
                    restart.at_request
                ));
            }
        }
        Ok(exits)
    }

    fn scenario(&self) -> Result<Scenario, String> {
        let mut scenario = match self.platform {
            Platform::Fargate => Scenario::fargate(),
            Platform::Ec2 => Scenario::ec2(),
        };
        if let Some(cgroup) = self.cgroup {
            scenario.cgroup = cgroup;
        }
        if let Some(network) = self.network {
            if self.platform == Platform::Fargate && network == NetworkMode::Bridge {
                return Err(
                    "--network bridge is not possible with --platform fargate (Fargate tasks always use awsvpc)"
                        .to_owned(),
                );
            }
            scenario.network = network;
        }
        scenario.containers = self.containers;
        scenario.name_length = self.name_length;
        scenario.stopped_containers = self.stopped;
        scenario.tags = self.tags.clone();
        scenario.tags_error = self.tags_error;
        scenario.service_name = !self.no_service_name;
        scenario.restart_count_field = self.restart_count_field;
        scenario.introspection = !self.no_introspection;
        scenario.throttled = self.throttled;
        if let Some(drift) = self.clock_drift {
            if self.platform == Platform::Ec2 && drift != ClockDriftMode::Missing {
                return Err(format!(
                    "--clock-drift {drift} is not possible with --platform ec2 (only Fargate serves ClockDrift)"
                ));
            }
            scenario.clock_drift = drift;
        }
        Ok(scenario)
    }

    fn replay(&self) -> Result<Option<Replay>, String> {
        if self.replay_task.is_empty() {
            if !self.replay_stats.is_empty() || self.replay_task_with_tags.is_some() {
                return Err(
                    "--replay-stats and --replay-task-with-tags need --replay-task".to_owned(),
                );
            }
            return Ok(None);
        }
        if self.replay_stats.is_empty() {
            return Err("--replay-task needs at least one --replay-stats FILE".to_owned());
        }
        Replay::from_files(
            &self.replay_task,
            &self.replay_stats,
            self.replay_task_with_tags.as_deref(),
        )
        .map(Some)
        .map_err(|e| format!("{}: {e}", self.replay_flag_named_in(&e)))
    }

    /// Which replay flag gave the file an error message names (the message names the file).
    fn replay_flag_named_in(&self, message: &str) -> &'static str {
        let names = |path: &PathBuf| message.contains(&format!("file {}:", path.display()));
        if self.replay_task.iter().any(names) {
            "--replay-task"
        } else if self.replay_task_with_tags.as_ref().is_some_and(names) {
            "--replay-task-with-tags"
        } else {
            "--replay-stats"
        }
    }
}

/// Runs `ecs-emf-exporter simulate`: serves until SIGINT or SIGTERM, then exits 0.
pub async fn run_simulate(args: SimulateArgs) -> ExitCode {
    run_until(args, wait_for_signal()).await
}

/// [`run_simulate`] with the stop condition as a parameter, so tests need not send signals.
async fn run_until(
    args: SimulateArgs,
    stop: impl Future<Output = io::Result<&'static str>>,
) -> ExitCode {
    let (options, port) = match args.to_options() {
        Ok(built) => built,
        Err(message) => {
            // The CLI's contract: one line on stderr naming the flag (logs may be off or JSON).
            eprintln!("ecs-emf-exporter simulate: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let server = match server::start(options, port).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("ecs-emf-exporter simulate: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        base_url = server.base_url(),
        "simulated Task Metadata Endpoint v4 is serving"
    );
    // Scripts and tests read the endpoint from this exact line.
    eprintln!("ECS_CONTAINER_METADATA_URI_V4={}", server.base_url());
    let outcome = stop.await;
    server.shutdown().await;
    match outcome {
        Ok(signal) => {
            tracing::info!(signal, "simulator stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot wait for a stop signal; simulator stopped");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() -> io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.map(|()| "SIGINT"),
            _ = terminate.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| "Ctrl-C")
    }
}

fn parse_bounded(s: &str, min: usize, max: usize) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from {min} to {max}")),
    }
}

fn parse_containers(s: &str) -> Result<usize, String> {
    parse_bounded(s, 1, 500)
}

fn parse_name_length(s: &str) -> Result<usize, String> {
    parse_bounded(s, 1, 255)
}

fn parse_stopped(s: &str) -> Result<usize, String> {
    parse_bounded(s, 0, 500)
}

fn parse_oom_kill(s: &str) -> Result<ExitEvent, String> {
    ExitEvent::parse_oom_kill(s)
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE with a non-empty KEY".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{FaultKind, FaultPath, RequestRange};
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }

    fn parse(flags: &[&str]) -> Result<SimulateArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("simulate").chain(flags.iter().copied()))
            .map(|c| c.args)
    }

    fn options(flags: &[&str]) -> Result<(SimOptions, u16), String> {
        parse(flags).map_err(|e| e.to_string())?.to_options()
    }

    #[test]
    fn defaults_are_the_fargate_scenario() {
        let (o, port) = options(&[]).expect("no flags is valid");
        assert_eq!(o.scenario, Scenario::fargate());
        assert_eq!(port, 0);
        assert!(o.faults.is_empty() && o.restarts.is_empty() && o.replay.is_none());
    }

    #[test]
    fn ec2_defaults_to_cgroup_v2_and_bridge() {
        let (o, _) = options(&["--platform", "ec2"]).expect("valid");
        assert_eq!(o.scenario, Scenario::ec2());
        let (o, _) = options(&["--platform", "ec2", "--network", "awsvpc", "--cgroup", "v1"])
            .expect("valid");
        assert_eq!(
            (o.scenario.network, o.scenario.cgroup),
            (NetworkMode::Awsvpc, Cgroup::V1)
        );
    }

    #[test]
    fn every_flag_reaches_the_options() {
        let (o, port) = options(&[
            "--containers",
            "5",
            "--name-length",
            "12",
            "--stopped",
            "2",
            "--tag",
            "env=prod",
            "--tag",
            "empty=",
            "--tags-error",
            "--no-service-name",
            "--restart-count-field",
            "--port",
            "8123",
            "--fault",
            "stats:500@2-3",
            "--fault",
            "all:latency=10",
            "--restart",
            "4@2",
        ])
        .expect("valid");
        let s = &o.scenario;
        assert_eq!(
            (s.containers, s.name_length, s.stopped_containers),
            (5, Some(12), 2)
        );
        assert_eq!(
            s.tags,
            [
                ("env".into(), "prod".into()),
                ("empty".into(), String::new())
            ]
        );
        assert!(s.tags_error && !s.service_name && s.restart_count_field);
        assert_eq!(port, 8123);
        assert_eq!(
            o.faults[0],
            Fault {
                path: FaultPath::Stats,
                kind: FaultKind::ServerError,
                range: RequestRange { from: 2, to: 3 }
            }
        );
        assert_eq!(
            o.restarts,
            [RestartEvent {
                container: 4,
                at_request: 2
            }]
        );
    }

    #[test]
    fn clap_rejects_bad_single_values_naming_the_flag() {
        for (flags, flag) in [
            (&["--platform", "lambda"][..], "--platform"),
            (&["--cgroup", "v3"], "--cgroup"),
            (&["--network", "host"], "--network"),
            (&["--containers", "0"], "--containers"),
            (&["--containers", "501"], "--containers"),
            (&["--name-length", "256"], "--name-length"),
            (&["--stopped", "501"], "--stopped"),
            (&["--stopped=-1"], "--stopped"),
            (&["--tag", "novalue"], "--tag"),
            (&["--tag", "=x"], "--tag"),
            (&["--port", "70000"], "--port"),
            (&["--fault", "stats:503"], "--fault"),
            (&["--fault", "stats:500@3-1"], "--fault"),
            (&["--fault", "task:nullstats"], "--fault"),
            (&["--restart", "1"], "--restart"),
            (&["--exit", "1@3"], "--exit"),
            (&["--exit", "1@3:256"], "--exit"),
            (&["--exit", "1@0:1"], "--exit"),
            (&["--oom-kill", "1"], "--oom-kill"),
            (&["--oom-kill", "1@2:137"], "--oom-kill"),
            (&["--fault", "introspection:nullstats"], "--fault"),
            (&["--throttled=yes"], "--throttled"),
        ] {
            let err = parse(flags).expect_err(flag);
            assert_eq!(err.exit_code(), 2, "{flags:?}");
            assert!(err.to_string().contains(flag), "{flags:?}: {err}");
        }
    }

    #[test]
    fn exits_oom_kills_introspection_and_throttling_reach_the_options() {
        let (o, _) = options(&[
            "--platform",
            "ec2",
            "--oom-kill",
            "2@5",
            "--exit",
            "1@3:2",
            "--restart",
            "1@2",
            "--no-introspection",
            "--throttled",
            "--fault",
            "introspection:latency=20@1-2",
        ])
        .expect("valid");
        // --exit events first, then --oom-kill ones, whatever the order on the command line.
        assert_eq!(
            o.exits,
            [
                ExitEvent {
                    container: 1,
                    at_request: 3,
                    code: 2
                },
                ExitEvent {
                    container: 2,
                    at_request: 5,
                    code: 137
                }
            ]
        );
        assert!(!o.scenario.introspection && o.scenario.throttled);
        assert_eq!(o.faults[0].path, FaultPath::Introspection);
        let (o, _) = options(&[]).expect("valid");
        assert!(o.exits.is_empty() && o.scenario.introspection && !o.scenario.throttled);
    }

    #[test]
    fn exit_errors_name_the_flag() {
        for (flags, needle) in [
            (
                &["--exit", "3@1:0"][..],
                "--exit 3@1:0: there is no container 3 (--containers 3 gives 0 to 2)",
            ),
            (
                &["--containers", "1", "--oom-kill", "1@4"],
                "--oom-kill 1@4: there is no container 1 (--containers 1 gives 0 to 0)",
            ),
            (
                &["--exit", "1@5:0", "--oom-kill", "1@2"],
                "--oom-kill 1@2: container 1 already exits with --exit 1@5:0 (one exit per container)",
            ),
            (
                &["--exit", "0@5:0", "--exit", "0@6:1"],
                "--exit 0@6:1: container 0 already exits with --exit 0@5:0",
            ),
            (
                &["--exit", "1@3:0", "--restart", "1@3"],
                "--restart 1@3 cannot be combined with --exit 1@3:0: container 1 has stopped",
            ),
            (
                &["--oom-kill", "0@2", "--restart", "0@9"],
                "--restart 0@9 cannot be combined with --oom-kill 0@2",
            ),
        ] {
            let err = options(flags).expect_err(needle);
            assert!(err.contains(needle), "{flags:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
        // A restart before the exit, or of another container, is fine.
        assert!(options(&["--exit", "1@3:0", "--restart", "1@2", "--restart", "2@3"]).is_ok());
        let dir = crate::test_support::Scratch::new("args-exit-replay");
        let file = dir.file("task.json", "{}");
        let file = file.to_string_lossy().into_owned();
        let err = options(&[
            "--replay-task",
            &file,
            "--replay-stats",
            &file,
            "--oom-kill",
            "0@1",
        ])
        .expect_err("replay");
        assert_eq!(
            err,
            "--oom-kill 0@1 cannot be combined with --replay-task: replayed tasks are fixed"
        );
    }

    #[tokio::test]
    async fn an_invalid_exit_exits_2_without_serving() {
        let args = parse(&["--exit", "7@1:1"]).expect("clap accepts it");
        let code = run_until(args, async { Ok("test") }).await;
        assert_eq!(code, ExitCode::from(2));
    }

    #[test]
    fn cross_flag_errors_name_the_flag() {
        for (flags, needle) in [
            (&["--network", "bridge"][..], "--network bridge"),
            (&["--restart", "3@1"], "--restart 3@1"),
            (
                &["--platform", "ec2", "--clock-drift", "not-synchronized"],
                "--clock-drift not-synchronized is not possible with --platform ec2",
            ),
            (&["--replay-stats", "x.json"], "need --replay-task"),
            (&["--replay-task", "x.json"], "--replay-stats"),
            (
                &[
                    "--replay-task",
                    "/nonexistent/t.json",
                    "--replay-stats",
                    "s.json",
                ],
                "--replay-task: replay file /nonexistent/t.json: cannot read it",
            ),
        ] {
            let err = options(flags).expect_err(needle);
            assert!(err.contains(needle), "{flags:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn replay_errors_name_the_flag_of_the_bad_file() {
        let dir = crate::test_support::Scratch::new("args-replay");
        let good = dir.file("task.json", "{}");
        let good = good.to_string_lossy().into_owned();
        let bad = dir.file("bad.json", "not json");
        let bad = bad.to_string_lossy().into_owned();
        let err =
            options(&["--replay-task", &good, "--replay-stats", &bad]).expect_err("bad stats");
        assert!(
            err.starts_with("--replay-stats: replay file") && err.contains("bad.json: not JSON"),
            "{err}"
        );
        let err = options(&[
            "--replay-task",
            &good,
            "--replay-stats",
            &good,
            "--replay-task-with-tags",
            &bad,
        ])
        .expect_err("bad tags");
        assert!(err.starts_with("--replay-task-with-tags: "), "{err}");
        let (o, _) =
            options(&["--replay-task", &good, "--replay-stats", &good]).expect("valid replay");
        assert_eq!(o.replay.map(|r| r.stats.len()), Some(1));
        let err = options(&[
            "--replay-task",
            &good,
            "--replay-stats",
            &good,
            "--restart",
            "0@1",
        ])
        .expect_err("restart");
        assert!(err.contains("--restart cannot be combined"), "{err}");
    }

    #[test]
    fn agent_tasks_is_ec2_only_and_not_with_replay() {
        let (o, _) = options(&["--platform", "ec2", "--agent-tasks", "/run/host/tasks.json"])
            .expect("valid");
        assert_eq!(o.agent_tasks, Some(PathBuf::from("/run/host/tasks.json")));
        // Read per request, so a file that does not exist yet is fine at start.
        assert!(options(&["--platform", "ec2", "--agent-tasks", "/nonexistent/t.json"]).is_ok());
        assert!(
            options(&[
                "--platform",
                "ec2",
                "--no-introspection",
                "--agent-tasks",
                "t.json"
            ])
            .is_ok()
        );
        let (o, _) = options(&["--platform", "ec2"]).expect("valid");
        assert_eq!(o.agent_tasks, None);
        for flags in [
            &["--agent-tasks", "t.json"][..],
            &["--platform", "fargate", "--agent-tasks", "t.json"],
        ] {
            let err = options(flags).expect_err("fargate");
            assert_eq!(
                err,
                "--agent-tasks is not possible with --platform fargate (Fargate has no agent introspection API)"
            );
        }
        let dir = crate::test_support::Scratch::new("args-agent-tasks-replay");
        let file = dir.file("task.json", "{}");
        let file = file.to_string_lossy().into_owned();
        let err = options(&[
            "--platform",
            "ec2",
            "--replay-task",
            &file,
            "--replay-stats",
            &file,
            "--agent-tasks",
            "t.json",
        ])
        .expect_err("replay");
        assert_eq!(
            err,
            "--agent-tasks cannot be combined with --replay-task: a replay serves no agent API"
        );
    }

    #[tokio::test]
    async fn agent_tasks_on_fargate_exits_2_without_serving() {
        let args = parse(&["--agent-tasks", "t.json"]).expect("clap accepts it");
        let code = run_until(args, async { Ok("test") }).await;
        assert_eq!(code, ExitCode::from(2));
    }

    #[tokio::test]
    async fn invalid_combination_exits_2_without_serving() {
        let args = parse(&["--network", "bridge"]).expect("clap accepts it");
        let code = run_until(args, async { Ok("test") }).await;
        assert_eq!(code, ExitCode::from(2));
    }

    #[tokio::test]
    async fn serves_until_stopped_then_exits_0() {
        let args = parse(&["--platform", "ec2"]).expect("valid");
        let code = run_until(args, async { Ok("test") }).await;
        assert_eq!(code, ExitCode::SUCCESS);
        let args = parse(&[]).expect("valid");
        let code = run_until(args, async { Err(io::Error::other("no signals here")) }).await;
        assert_eq!(code, ExitCode::FAILURE);
    }
}
