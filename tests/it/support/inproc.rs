//! The sidecar's run loop in the test's own process, on tokio's paused clock: the simulated
//! task read in-process (`Client::simulated`, the simulator's own clock running with tokio's),
//! an output that keeps what it is handed as EMF lines, and the logs kept. Nothing waits for
//! real time: seven cycles at a 1 s interval (faults, latency and timeouts included) take
//! milliseconds, and give the same result every run.
//!
//! Call [`run`] from `#[tokio::test(start_paused = true)]`.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{CommandFactory, Parser};
use ecs_emf_exporter::cli::Cli;
use ecs_emf_exporter::emf::{EncoderConfig, encode};
use ecs_emf_exporter::output::{Counters, DeliveryReport, Output};
use ecs_emf_exporter::pipeline::cycle::Cycle;
use ecs_emf_exporter::run::ticker::Ticker;
use ecs_emf_exporter::run::{REQUEST_TIMEOUT, RunSummary, Runner, Stop};
use ecs_emf_exporter::settings::Settings;
use ecs_emf_exporter::source::Source;
use ecs_emf_exporter::source::metadata::{Client, SimClock};
use serde_json::Value;
use tmde_simulator::{SimulateArgs, Simulator};

/// What a run left: the EMF documents in order (each line checked against the EMF rules), the
/// exporter's log, and its summary.
pub struct Run {
    pub docs: Vec<Value>,
    pub logs: String,
    pub summary: RunSummary,
}

/// `ecs-emf-exporter simulate SIM_ARGS` as options, the way the subcommand reads them.
fn simulation(sim_args: &[&str]) -> tmde_simulator::SimOptions {
    #[derive(Parser)]
    struct Simulate {
        #[command(flatten)]
        args: SimulateArgs,
    }
    let args =
        Simulate::try_parse_from(std::iter::once("simulate").chain(sim_args.iter().copied()))
            .unwrap_or_else(|e| panic!("simulate {sim_args:?}: {e}"));
    args.args
        .to_options()
        .unwrap_or_else(|e| panic!("simulate {sim_args:?}: {e}"))
        .0
}

/// The sidecar's settings from `env` (variable, value), read by the real command line: each
/// variable becomes the flag that has it as its environment variable. A 1 s interval unless
/// `env` says otherwise, as in `support::process`.
pub fn settings(env: &[(&str, &str)]) -> Settings {
    let command = Cli::command();
    let mut argv = vec!["ecs-emf-exporter".to_string()];
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "ECS_EMF_INTERVAL") {
        env.push(("ECS_EMF_INTERVAL", "1s"));
    }
    for (var, value) in env {
        let flag = command
            .get_arguments()
            .find(|a| a.get_env().is_some_and(|e| e == var))
            .and_then(|a| a.get_long())
            .unwrap_or_else(|| panic!("no flag reads {var}"));
        argv.push(format!("--{flag}={value}"));
    }
    let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    Settings::from_raw(&cli.settings).unwrap_or_else(|e| panic!("{argv:?}: {e}"))
}

/// An output that encodes what it is handed as the stdout output would, and keeps the lines.
struct Recorder {
    encoder: EncoderConfig,
    counters: Arc<Counters>,
    lines: Arc<Mutex<Vec<u8>>>,
}

impl Output for Recorder {
    fn deliver(&mut self, cycle: Arc<Cycle>) {
        let encoded = encode(&cycle, &self.encoder);
        self.counters.record_rejected(&encoded.rejected);
        Counters::add(&self.counters.documents, encoded.documents as u64);
        Counters::add(&self.counters.values, encoded.values as u64);
        self.lines
            .lock()
            .expect("lines")
            .extend_from_slice(&encoded.bytes);
    }

    fn close(
        self: Box<Self>,
        _deadline: Duration,
        _abort: Arc<tokio::sync::Notify>,
    ) -> Pin<Box<dyn Future<Output = DeliveryReport> + Send>> {
        let c = Arc::clone(&self.counters);
        Box::pin(async move {
            DeliveryReport {
                documents: Counters::get(&c.documents),
                values: Counters::get(&c.values),
                dropped_values: Counters::get(&c.dropped_values),
                left_values: 0,
                flushed: true,
            }
        })
    }
}

/// A shared buffer the log is written to.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `cycles` cycles of the run loop against `simulate SIM_ARGS`, with settings from `env`.
pub async fn run(sim_args: &[&str], env: &[(&str, &str)], cycles: u64) -> Run {
    let settings = settings(env);
    let clock = SimClock::tokio();
    let started = clock.now();
    // The task started before its sidecar's first poll, as in ECS (EC2's embedded previous
    // sample reaches back a second, which the first cycle's CPU rate uses).
    let task_started = started - chrono::TimeDelta::seconds(10);
    let sim = Simulator::in_process(simulation(sim_args), task_started).expect("valid simulation");
    let client = Client::simulated(sim, clock, REQUEST_TIMEOUT);
    let counters = Arc::new(Counters::default());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let output = Recorder {
        encoder: settings.encoder(),
        counters: Arc::clone(&counters),
        lines: Arc::clone(&lines),
    };
    let log = LogBuffer::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_target(false)
        .finish();
    let summary = {
        let _logs = tracing::subscriber::set_default(subscriber);
        Runner::new(
            &settings,
            Source::for_settings(client, &settings, REQUEST_TIMEOUT),
            Box::new(output),
            counters,
        )
        .with_ticker(Ticker::tokio(settings.interval))
        .without_signals()
        .run(Stop::AfterCycles(cycles))
        .await
        .expect("no signals to listen for")
    };
    let text = String::from_utf8(lines.lock().expect("lines").clone()).expect("UTF-8 EMF");
    let docs = text
        .lines()
        .map(|line| {
            let problems = super::emf_rules::problems(
                line,
                settings.max_line_bytes,
                Some(started.timestamp_millis()),
            );
            assert!(problems.is_empty(), "invalid EMF line {problems:?}: {line}");
            serde_json::from_str(line).expect("validated JSON")
        })
        .collect();
    let logs = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    Run {
        docs,
        logs,
        summary,
    }
}
