//! Runs the exporter's own pipeline (metadata client → collector → labeler, i.e. `Runner`)
//! for two polls and keeps the cycles it would deliver. The plan is made from the second:
//! rates (CPU, network) need two samples, so the first cycle is not the steady state.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::PlanError;
use crate::cli::PlanArgs;
use crate::output::{Counters, DeliveryReport, Output};
use crate::pipeline::cycle::Cycle;
use crate::run::{Runner, request_timeout};
use crate::settings::Settings;
use crate::source::metadata::Client;
use tmde_simulator::{self as simulator, SimOptions};

/// Time between the two polls: enough for every rate to have a sample interval.
pub const POLL_GAP: Duration = Duration::from_secs(1);
/// Polls made; the plan uses the last one.
pub const POLLS: usize = 2;

/// The run's cycles: the first poll's and the steady one the plan is made from.
pub struct Observed {
    pub source: Source,
    pub first: Arc<Cycle>,
    pub steady: Arc<Cycle>,
}

/// Where the task came from, and how it was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// `endpoint` (ECS_CONTAINER_METADATA_URI_V4) or `demo` (the built-in simulator).
    pub kind: &'static str,
    pub description: String,
    pub polls: usize,
    pub poll_gap_ms: u64,
}

/// An output that only keeps what it is handed: the plan delivers nothing anywhere.
struct Recorder(Arc<Mutex<Vec<Arc<Cycle>>>>);

impl Output for Recorder {
    fn name(&self) -> &'static str {
        "plan"
    }

    fn deliver(&mut self, cycle: Arc<Cycle>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(cycle);
    }

    fn close(
        self: Box<Self>,
        _deadline: Duration,
    ) -> Pin<Box<dyn Future<Output = DeliveryReport> + Send>> {
        Box::pin(async { DeliveryReport::default() })
    }
}

/// Reads the task (the simulator with `--demo`) as the sidecar would, twice.
pub async fn observe(settings: &Settings, args: &PlanArgs) -> Result<Observed, PlanError> {
    let source = |kind, description| Source {
        kind,
        description,
        polls: POLLS,
        poll_gap_ms: POLL_GAP.as_millis() as u64,
    };
    if !args.demo {
        let Some(uri) = settings.metadata_uri.as_deref() else {
            return Err(PlanError::invalid(crate::cli::sidecar::no_metadata_uri(
                "ecs-emf-exporter plan --demo",
            )));
        };
        let (first, steady) = poll(settings, uri).await?;
        let src = source("endpoint", format!("the task at {uri}"));
        return Ok(Observed {
            source: src,
            first,
            steady,
        });
    }
    let scenario = crate::cli::demo::scenario(
        args.platform.as_deref().unwrap_or("fargate"),
        args.containers.unwrap_or(3),
    )
    .map_err(PlanError::invalid)?;
    let description = format!(
        "the built-in simulated task ({}, containers: {})",
        scenario.platform, scenario.containers
    );
    let server = simulator::start(
        SimOptions {
            scenario,
            ..SimOptions::default()
        },
        0,
    )
    .await
    .map_err(|e| PlanError::failed(format!("cannot start the simulated metadata endpoint: {e}")))?;
    let polled = poll(settings, server.base_url()).await;
    tokio::time::timeout(Duration::from_secs(2), server.shutdown())
        .await
        .ok();
    let (first, steady) = polled?;
    Ok(Observed {
        source: source("demo", description),
        first,
        steady,
    })
}

/// `POLLS` cycles of the real run loop, `POLL_GAP` apart: the first and the last.
async fn poll(settings: &Settings, base: &str) -> Result<(Arc<Cycle>, Arc<Cycle>), PlanError> {
    let client =
        Client::new(base, request_timeout(settings.interval)).map_err(PlanError::failed)?;
    let kept = Arc::new(Mutex::new(Vec::new()));
    let recorder = Box::new(Recorder(Arc::clone(&kept)));
    let mut runner = Runner::new(
        settings.clone(),
        client,
        recorder,
        Arc::new(Counters::default()),
    );
    for n in 0..POLLS {
        if n > 0 {
            tokio::time::sleep(POLL_GAP).await;
        }
        if let Err(why) = runner.cycle().await {
            return Err(PlanError::failed(format!(
                "cannot read the task from the metadata endpoint {base} (poll {} of {POLLS}): {why}",
                n + 1
            )));
        }
    }
    let cycles = std::mem::take(&mut *kept.lock().unwrap_or_else(|p| p.into_inner()));
    match (cycles.first(), cycles.last()) {
        (Some(first), Some(last)) if cycles.len() == POLLS => {
            Ok((Arc::clone(first), Arc::clone(last)))
        }
        _ => Err(PlanError::failed(format!(
            "the run loop delivered {} cycles for {POLLS} polls",
            cycles.len()
        ))),
    }
}
