//! The command line: subcommands and the global settings flags (each with its environment
//! variable), and [`main`], which wires settings, logging and the runtime to the command.

pub(crate) mod daemon;
pub(crate) mod demo;
pub(crate) mod metrics;
pub(crate) mod plan;
pub(crate) mod sidecar;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::run::logging;
use crate::settings::{LogFormat, OutputKind, RawSettings, Settings};
use sidecar::Wiring;
use tmde_simulator::SimulateArgs;

#[derive(Parser, Debug)]
#[command(
    name = "ecs-emf-exporter",
    version,
    about = "ECS sidecar: Task Metadata Endpoint v4 → CloudWatch metrics (EMF on stdout)",
    long_about = "Polls the ECS Task Metadata Endpoint v4 and publishes task and container CPU, memory, \
network and storage metrics as CloudWatch Embedded Metric Format lines on stdout. \
Without a subcommand it runs as the sidecar until SIGTERM."
)]
pub struct Cli {
    /// One collection, publish, flush, exit: 0 when delivered, 1 when nothing was collected or
    /// what was collected was not all delivered.
    #[arg(long)]
    pub(crate) once: bool,
    #[command(flatten)]
    pub settings: RawSettings,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the sidecar against the built-in simulated task and print EMF lines.
    Demo(Box<DemoArgs>),
    /// Serve only the simulated Task Metadata Endpoint v4 on loopback.
    Simulate(Box<SimulateArgs>),
    /// Print the metric catalog as the current settings publish it.
    Metrics(Box<MetricsArgs>),
    /// Read the task once and print every CloudWatch metric the settings create, with the
    /// estimated monthly cost.
    Plan(Box<PlanArgs>),
    /// Exit 0 when the running sidecar completed a collection recently, 1 otherwise.
    Healthcheck,
    /// EC2 only: one exporter per container instance, covering every task on it through the
    /// ECS agent introspection API and the Docker Engine API.
    Daemon(Box<DaemonArgs>),
}

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct DaemonArgs {
    /// The Docker Engine API: unix:///PATH or tcp://HOST:PORT (plain HTTP)
    /// [default: unix:///var/run/docker.sock].
    #[arg(long = "docker-host", env = "DOCKER_HOST", value_name = "URL")]
    pub(crate) docker_host: Option<String>,
    /// The host's cgroup tree, mounted read-only, for CPU throttling [default: /sys/fs/cgroup].
    #[arg(long = "cgroup-root", env = "ECS_EMF_CGROUP_ROOT", value_name = "PATH")]
    pub(crate) cgroup_root: Option<String>,
    /// Each task's ServiceName from ecs:DescribeTasks (true|false) [default: false].
    #[arg(
        long = "service-from-api",
        env = "ECS_EMF_SERVICE_FROM_API",
        value_name = "BOOL"
    )]
    pub(crate) service_from_api: Option<String>,
    /// Stop after N cycles (default: run until SIGTERM or SIGINT).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) cycles: Option<u64>,
    /// The exporter's settings; the introspection API defaults to http://127.0.0.1:51678.
    #[command(flatten)]
    pub(crate) settings: RawSettings,
}

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct MetricsArgs {
    /// Machine-readable JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// The catalog as `daemon` publishes it, with the daemon's settings (it refuses what
    /// `daemon` refuses).
    #[arg(long)]
    pub(crate) daemon: bool,
    /// With --daemon: each task's ServiceName from ecs:DescribeTasks (true|false)
    /// [default: false].
    #[arg(
        long = "service-from-api",
        env = "ECS_EMF_SERVICE_FROM_API",
        value_name = "BOOL"
    )]
    pub(crate) service_from_api: Option<String>,
    /// The settings whose namespace, filters and dimension sets the listing reflects.
    #[command(flatten)]
    pub(crate) settings: RawSettings,
}

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct DemoArgs {
    /// Stop after N cycles (default: run until Ctrl-C).
    #[arg(long)]
    pub(crate) cycles: Option<u64>,
    /// Also print a readable table of each cycle on stderr.
    #[arg(long)]
    pub(crate) pretty: bool,
    /// Simulated platform: fargate or ec2.
    #[arg(long, default_value = "fargate")]
    pub(crate) platform: String,
    /// Simulated containers.
    #[arg(long, default_value_t = 3)]
    pub(crate) containers: usize,
    /// The sidecar's settings (the demo polls every second unless --interval says otherwise).
    #[command(flatten)]
    pub(crate) settings: RawSettings,
}

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct PlanArgs {
    /// Machine-readable JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Plan for the built-in simulated task instead of ECS_CONTAINER_METADATA_URI_V4.
    #[arg(long)]
    pub(crate) demo: bool,
    /// With --demo: the simulated platform, fargate (default) or ec2.
    #[arg(long, requires = "demo", value_name = "fargate|ec2")]
    pub(crate) platform: Option<String>,
    /// With --demo: the simulated containers (default 3).
    #[arg(long, requires = "demo", value_name = "N")]
    pub(crate) containers: Option<usize>,
    /// Tasks per service to project the counts and costs for (the average number running).
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub(crate) tasks: u64,
    #[command(flatten)]
    pub(crate) prices: plan::prices::PriceArgs,
    /// The sidecar's settings, read like the sidecar reads them.
    #[command(flatten)]
    pub(crate) settings: RawSettings,
}

/// Exit code for invalid settings and other usage problems (README, Settings).
pub(crate) const EXIT_USAGE: u8 = 2;

/// Why a command stopped: one line on stderr, and its exit code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    /// A usage problem (invalid settings or flags, no endpoint outside ECS): exit 2.
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// The command could not do its work: exit 1.
    pub(crate) fn failed(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Says why on stderr; the exit code.
    fn exit(self) -> ExitCode {
        let _ = writeln!(std::io::stderr(), "ecs-emf-exporter: {}", self.message);
        ExitCode::from(self.code)
    }
}

/// Open files the exporter needs at the least: the runtime's epoll, waker, signal pair and
/// timer, the connections to the endpoint and the destination, the health file, and room.
const MIN_OPEN_FILES: u64 = 16;

/// Whether descriptors are left for the runtime. tokio panics when its signal driver cannot
/// make its socket pair (tokio/src/signal/unix.rs); a limit too low, or one nearly used up by
/// inherited descriptors, is said here instead.
fn enough_descriptors() -> Result<(), Failure> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the limits into the struct it is given.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if known && limit.rlim_cur < MIN_OPEN_FILES {
        return Err(Failure::failed(format!(
            "the open-file limit (ulimit -n) is {}; the exporter needs at least {MIN_OPEN_FILES}",
            limit.rlim_cur
        )));
    }
    // The runtime's descriptors, opened and closed again: if these fail, so would it.
    let probe: Result<Vec<_>, _> = (0..3)
        .map(|_| std::os::unix::net::UnixStream::pair())
        .collect();
    probe.map(drop).map_err(|e| {
        Failure::failed(format!(
            "cannot open the descriptors the runtime needs ({e}): raise the open-file limit"
        ))
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    enough_descriptors()?;
    // One thread: the work per cycle is small, and one thread keeps memory low.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("cannot start the async runtime: {e}")))
}

/// Runs the command line: parse, set up logging, run the command, its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Simulate(args)) = cli.command {
        // The simulator takes none of the exporter's settings.
        let _log = logging::init(LogFormat::Text, tracing::Level::INFO, None);
        return match runtime() {
            Ok(rt) => rt.block_on(tmde_simulator::run_simulate(*args)),
            Err(failure) => failure.exit(),
        };
    }
    let raw = match &cli.command {
        Some(Command::Demo(args)) => demo::settings(args),
        Some(Command::Metrics(args)) => args.settings.clone(),
        Some(Command::Plan(args)) => args.settings.clone(),
        Some(Command::Daemon(args)) => daemon::settings(args),
        _ => cli.settings.clone(),
    };
    let mut settings = match Settings::from_raw(&raw) {
        Ok(s) => s,
        Err(e) => return Failure::usage(e.to_string()).exit(),
    };
    let daemon_service_from_api = match &cli.command {
        Some(Command::Daemon(args)) => Some(args.service_from_api.as_deref()),
        Some(Command::Metrics(args)) if args.daemon => Some(args.service_from_api.as_deref()),
        _ => None,
    };
    if let Some(service_from_api) = daemon_service_from_api {
        match daemon::mode(&settings, service_from_api) {
            Ok(mode) => settings.mode = mode,
            Err(failure) => return failure.exit(),
        }
    }
    match &cli.command {
        Some(Command::Healthcheck) => return sidecar::healthcheck(&settings),
        Some(Command::Metrics(args)) => {
            return match metrics::print(&settings, args.json) {
                Ok(()) => ExitCode::SUCCESS,
                // `metrics | head` closes the pipe early; that is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => Failure::failed(format!("cannot write the catalog: {e}")).exit(),
            };
        }
        _ => {}
    }
    // The demo always writes EMF on stdout; the sidecar does with the stdout output.
    let emf_on_stdout = match &cli.command {
        Some(Command::Demo(_)) => true,
        Some(Command::Daemon(_)) => settings.output == OutputKind::Stdout,
        Some(_) => false,
        None => settings.output == OutputKind::Stdout,
    };
    let wiring = match Wiring::new(&settings, emf_on_stdout) {
        Ok(wiring) => wiring,
        Err(failure) => return failure.exit(),
    };
    let _log = logging::init(
        settings.log_format,
        settings.log_level,
        wiring.console.as_ref(),
    );
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(failure) => return failure.exit(),
    };
    let result = rt.block_on(async {
        match cli.command {
            Some(Command::Demo(args)) => demo::run(*args, settings, wiring).await,
            Some(Command::Plan(args)) => plan::run(&args, &settings)
                .await
                .map(|()| ExitCode::SUCCESS),
            Some(Command::Daemon(args)) => daemon::run(*args, settings, wiring).await,
            _ => sidecar::sidecar(settings, cli.once, wiring).await,
        }
    });
    result.unwrap_or_else(Failure::exit)
}
