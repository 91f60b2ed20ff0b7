//! Reads the task as the sidecar would, for two polls, through the exporter's own pipeline
//! step ([`Pipeline::step`], fed by `run::read` like the run loop), and keeps both cycles.
//! The plan is made from the second: rates (CPU, network) need two samples, so the first
//! cycle is not the steady state.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cli::{Failure, PlanArgs};
use crate::pipeline::Pipeline;
use crate::pipeline::cycle::Cycle;
use crate::run::{self, REQUEST_TIMEOUT};
use crate::settings::Settings;
use crate::source::Source;
use crate::source::metadata::{Client, SimClock};

/// Time between the two polls: enough for every rate to have a sample interval.
pub(crate) const POLL_GAP: Duration = Duration::from_secs(1);
/// Polls made; the plan uses the last one.
pub(crate) const POLLS: usize = 2;
/// The simulated task's clock moves a little more than [`POLL_GAP`]: real polls never land
/// on a whole second, so real rates carry all their digits, and the length of the values is
/// part of what EMF bytes cost (a whole second gave values like `204.8`, 2 % fewer bytes than
/// the sidecar writes for the same task).
const SIMULATED_GAP: Duration = Duration::from_nanos(1_000_123_457);

/// The run's cycles: the first poll's and the steady one the plan is made from.
pub(crate) struct Observed {
    pub(crate) source: SourceInfo,
    pub(crate) first: Cycle,
    pub(crate) steady: Cycle,
}

/// Where the task came from, and how it was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SourceInfo {
    /// `endpoint` (ECS_CONTAINER_METADATA_URI_V4) or `demo` (the built-in simulator).
    pub(crate) kind: &'static str,
    pub(crate) description: String,
    pub(crate) polls: usize,
    pub(crate) poll_gap_ms: u64,
}

/// How the time between the two polls passes.
enum Gap {
    /// A real task: wait.
    Wait,
    /// The simulated task: move its clock (nothing to wait for).
    Advance(Arc<Mutex<DateTime<Utc>>>),
}

/// Reads the task (the simulated one with `--demo`) as the sidecar would, twice.
pub(crate) async fn observe(settings: &Settings, args: &PlanArgs) -> Result<Observed, Failure> {
    let info = |kind, description| SourceInfo {
        kind,
        description,
        polls: POLLS,
        poll_gap_ms: POLL_GAP.as_millis() as u64,
    };
    let timeout = REQUEST_TIMEOUT;
    let (info, client, gap, what) = if args.demo {
        let platform = args.platform.as_deref().unwrap_or("fargate");
        let containers = args.containers.unwrap_or(3);
        let now = Arc::new(Mutex::new(Utc::now()));
        let clock = SimClock::Manual(Arc::clone(&now));
        let client = crate::cli::demo::simulated_client(platform, containers, clock, timeout)
            .map_err(Failure::usage)?;
        let description =
            format!("the built-in simulated task ({platform}, containers: {containers})");
        let what = "the simulated task".to_string();
        (info("demo", description), client, Gap::Advance(now), what)
    } else {
        let Some(uri) = settings.metadata_uri.as_ref() else {
            return Err(Failure::usage(crate::cli::sidecar::no_metadata_uri(
                "ecs-emf-exporter plan --demo",
            )));
        };
        let client = Client::new(uri, timeout);
        let description = format!("the task at {uri}");
        let what = format!("the task from the metadata endpoint {uri}");
        (info("endpoint", description), client, Gap::Wait, what)
    };
    let (first, steady) = poll(
        settings,
        Source::for_settings(client, settings, timeout),
        &gap,
        &what,
    )
    .await?;
    Ok(Observed {
        source: info,
        first,
        steady,
    })
}

/// `POLLS` steps, `POLL_GAP` apart: the first cycle and the last.
async fn poll(
    settings: &Settings,
    mut source: Source,
    gap: &Gap,
    what: &str,
) -> Result<(Cycle, Cycle), Failure> {
    let mut pipeline = Pipeline::new(settings);
    let mut cycles = Vec::with_capacity(POLLS);
    for n in 0..POLLS {
        if n > 0 {
            match gap {
                Gap::Wait => tokio::time::sleep(POLL_GAP).await,
                Gap::Advance(now) => {
                    let mut now = now.lock().unwrap_or_else(|p| p.into_inner());
                    *now += SIMULATED_GAP;
                }
            }
        }
        let input = run::read(&mut source, &pipeline, tokio::time::Instant::now()).await;
        let step = pipeline.step(input);
        step.log_events();
        match step.cycle {
            Ok(cycle) => cycles.push(cycle),
            Err(why) => {
                return Err(Failure::failed(format!(
                    "cannot read {what} (poll {} of {POLLS}): {why}",
                    n + 1
                )));
            }
        }
    }
    let steady = cycles.pop();
    match (cycles.into_iter().next(), steady) {
        (Some(first), Some(steady)) => Ok((first, steady)),
        _ => Err(Failure::failed(format!(
            "{POLLS} polls of {what} gave fewer cycles"
        ))),
    }
}
