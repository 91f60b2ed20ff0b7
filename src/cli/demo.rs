//! `demo`: the sidecar against the built-in simulated task, in one process. A newcomer's
//! first command: EMF on stdout within seconds, no AWS, no network at all.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::sidecar::Wiring;
use crate::cli::{DemoArgs, Failure};
use crate::pipeline::cycle::Cycle;
use crate::run::{REQUEST_TIMEOUT, Runner, Stop, logging};
use crate::settings::{RawSettings, Settings};
use crate::source::Source;
use crate::source::metadata::{Client, SimClock};
use tmde_simulator::{Scenario, SimOptions, Simulator};

/// The demo polls every second unless `--interval` / `ECS_EMF_INTERVAL` says otherwise.
const DEMO_INTERVAL: &str = "1s";

/// The demo's raw settings: the user's, with a one-second interval unless they chose one.
pub(crate) fn settings(args: &DemoArgs) -> RawSettings {
    let mut raw = args.settings.clone();
    raw.interval
        .get_or_insert_with(|| DEMO_INTERVAL.to_string());
    raw
}

/// The simulated task for `--platform` and `--containers` (demo and `plan --demo`).
pub(crate) fn scenario(platform: &str, containers: usize) -> Result<Scenario, String> {
    let mut scenario = match platform {
        "fargate" => Scenario::fargate(),
        "ec2" => Scenario::ec2(),
        other => {
            return Err(format!(
                "invalid --platform {other:?}: expected fargate or ec2"
            ));
        }
    };
    if !(1..=500).contains(&containers) {
        return Err(format!(
            "invalid --containers {containers}: expected 1 to 500"
        ));
    }
    scenario.containers = containers;
    Ok(scenario)
}

/// The simulated task for `--platform` and `--containers`, read in-process (no server, no
/// socket), its clock running with tokio's.
pub(crate) fn simulated_client(
    platform: &str,
    containers: usize,
    clock: SimClock,
    timeout: Duration,
) -> Result<Client, String> {
    let scenario = scenario(platform, containers)?;
    let sim = Simulator::in_process(
        SimOptions {
            scenario,
            ..SimOptions::default()
        },
        clock.now(),
    )
    .map_err(|e| format!("cannot simulate the task: {e}"))?;
    Ok(Client::simulated(sim, clock, timeout))
}

pub(crate) async fn run(
    args: DemoArgs,
    settings: Settings,
    wiring: Wiring,
) -> Result<ExitCode, Failure> {
    let client = simulated_client(
        &args.platform,
        args.containers,
        SimClock::tokio(),
        REQUEST_TIMEOUT,
    )
    .map_err(Failure::usage)?;
    tracing::info!(
        "demo: a simulated {} task with {} containers, read in-process",
        args.platform,
        args.containers
    );
    let source = Source::for_settings(client, &settings, REQUEST_TIMEOUT);
    let counters = Arc::clone(&wiring.counters);
    let output = crate::cli::sidecar::make_output(&settings, wiring)?;
    let mut runner = Runner::new(&settings, source, output, counters);
    if args.pretty {
        let mut n = 0u64;
        runner = runner.with_observer(Box::new(move |cycle: &Cycle| {
            n += 1;
            // Through the log's writer: never blocking, never inside an EMF line.
            logging::write_text(pretty_table(n, cycle).into_bytes());
        }));
    }
    let stop = args.cycles.map_or(Stop::OnSignal, Stop::AfterCycles);
    let summary = runner.run(stop).await.map_err(Failure::failed)?;
    Ok(if summary.collected > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A readable view of one cycle: one block per document type, one line per value.
pub(crate) fn pretty_table(n: u64, cycle: &Cycle) -> String {
    let mut out = String::new();
    let when = chrono::DateTime::from_timestamp_millis(cycle.timestamp_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    let _ = writeln!(out, "── cycle {n} at {when} ──");
    for e in &cycle.entities {
        let who = e.field("ContainerName").unwrap_or_default();
        let _ = writeln!(out, "{} {}", e.level.as_str(), who);
        for s in &e.samples {
            let _ = writeln!(
                out,
                "  {:<32} {:>14.3} {}",
                s.metric.name,
                s.value,
                s.metric.unit.as_str()
            );
        }
    }
    out
}
