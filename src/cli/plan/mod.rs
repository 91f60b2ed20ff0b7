//! `ecs-emf-exporter plan [--json] [--demo] [--tasks N]`: every CloudWatch metric the
//! current settings create, how their number grows with tasks, and the estimated monthly
//! cost. Nothing is computed twice: the task is read by the real run loop (`observe`), the
//! metrics are the distinct name + dimension values of the cycle it would deliver
//! (`count`), and the bytes and requests come from the outputs' own encoder and batching
//! (`cost`). Prices are documented constants, overridable by flags (`prices`).

pub(crate) mod cost;
pub(crate) mod count;
pub(crate) mod observe;
pub(crate) mod prices;
pub(crate) mod report;

use std::io::Write;

use crate::cli::{Failure, PlanArgs};
use crate::settings::Settings;

/// Reads the task, plans, prints the plan on stdout.
pub(crate) async fn run(args: &PlanArgs, settings: &Settings) -> Result<(), Failure> {
    let prices = prices::Prices::with_overrides(&args.prices);
    let observed = observe::observe(settings, args).await?;
    let plan = report::Plan::build(&observed, settings, args.tasks, prices);
    let text = if args.json {
        serde_json::to_string_pretty(&plan)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| Failure::failed(format!("cannot serialize the plan: {e}")))?
    } else {
        report::render(&plan)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // `plan | head` closes the pipe early; that is not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::failed(format!(
            "cannot write the plan to stdout: {e}"
        ))),
        _ => Ok(()),
    }
}
