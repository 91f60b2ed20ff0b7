//! The commands, wired from settings to the pieces that do the work.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use crate::health;
use crate::metadata::Client;
use crate::metrics::CATALOG;
use crate::output::Counters;
use crate::output::stdout::StdoutOutput;
use crate::runner::{Runner, Stop, request_timeout};
use crate::settings::{OutputKind, Settings};

/// Exit code for invalid settings (interface.md).
pub const EXIT_INVALID_SETTINGS: u8 = 2;

/// The sidecar (`once` = `--once`).
pub async fn sidecar(settings: Settings, once: bool) -> Result<ExitCode, String> {
    let Some(uri) = settings.metadata_uri.clone() else {
        return Err("ECS_CONTAINER_METADATA_URI_V4 is not set: ecs-emf-exporter must run inside an ECS task \
                    (ECS sets this variable), or try `ecs-emf-exporter demo`"
            .to_string());
    };
    if settings.output != OutputKind::Stdout {
        return Err(format!(
            "invalid setting ECS_EMF_OUTPUT={:?}: this build publishes to stdout only (the agent and cloudwatch outputs are not built yet)",
            format!("{:?}", settings.output).to_lowercase()
        ));
    }
    if settings.tags_from_api {
        return Err("invalid setting ECS_EMF_TAGS_FROM_API=\"true\": reading tags through the ECS API is not built yet; \
                    use ECS_EMF_STATIC_DIMENSIONS"
            .to_string());
    }
    let client = Client::new(&uri, request_timeout(settings.interval))?;
    let counters = Arc::new(Counters::default());
    let output = StdoutOutput::new(settings.encoder(), Arc::clone(&counters))
        .map_err(|e| format!("cannot start the stdout writer: {e}"))?;
    let health_file = settings.health_file.clone();
    let interval = settings.interval;
    let mut runner = Runner::new(settings, client, Box::new(output), counters);
    if !once {
        runner = runner.with_health_file(health::HealthFile::new(health_file, interval));
    }
    let summary = runner
        .run(if once {
            Stop::AfterCycles(1)
        } else {
            Stop::OnSignal
        })
        .await;
    Ok(if once && summary.collected == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `metrics [--json]`: the catalog, on stdout (a listing, not EMF).
pub fn print_metrics(json: bool) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = if json {
        serde_json::to_writer_pretty(&mut out, &CATALOG[..])
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out))
    } else {
        CATALOG.iter().try_for_each(|m| {
            writeln!(
                out,
                "{:<10} {:<28} {:<14} {}",
                m.level.as_str(),
                m.name,
                m.unit.as_str(),
                m.description
            )
        })
    };
    if written.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `healthcheck`: 0 when the sidecar's last good collection is recent.
pub fn healthcheck(settings: &Settings) -> ExitCode {
    match health::check(&settings.health_file, std::time::SystemTime::now()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(why) => {
            let _ = writeln!(std::io::stderr(), "unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}
