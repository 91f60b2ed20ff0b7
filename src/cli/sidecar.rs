//! The commands, wired from settings to the pieces that do the work.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::Failure;
use crate::output::agent::{self, AgentOutput};
use crate::output::cloudwatch::CloudWatchOutput;
use crate::output::console::Console;
use crate::output::stdout::StdoutOutput;
use crate::output::{Counters, Output};
use crate::run::health;
use crate::run::{REQUEST_TIMEOUT, Runner, Stop};
use crate::settings::{OutputKind, Settings};
use crate::source::Source;
use crate::source::metadata::Client;

/// Why a command that reads the endpoint cannot start outside ECS; `instead` is the
/// command that works without it.
pub(crate) fn no_metadata_uri(instead: &str) -> String {
    format!(
        "ECS_CONTAINER_METADATA_URI_V4 is not set: ecs-emf-exporter must run inside an ECS task \
         (ECS sets this variable), or try `{instead}`"
    )
}

/// What the parts of a run share, made before the logger (which may write through the
/// console): the exporter's counters, and the console writer when EMF goes to stdout.
pub(crate) struct Wiring {
    pub(crate) counters: Arc<Counters>,
    pub(crate) console: Option<Console>,
}

impl Wiring {
    pub(crate) fn new(settings: &Settings, emf_on_stdout: bool) -> Result<Wiring, Failure> {
        let counters = Arc::new(Counters::default());
        let console = emf_on_stdout
            .then(|| Console::stdout(settings.buffer_bytes, Arc::clone(&counters)))
            .transpose()
            .map_err(|e| Failure::failed(format!("cannot start the stdout writer: {e}")))?;
        Ok(Wiring { counters, console })
    }
}

/// The sidecar (`once` = `--once`).
pub(crate) async fn sidecar(
    settings: Settings,
    once: bool,
    wiring: Wiring,
) -> Result<ExitCode, Failure> {
    let Some(uri) = settings.metadata_uri.clone() else {
        return Err(Failure::usage(no_metadata_uri("ecs-emf-exporter demo")));
    };
    let client = Client::new(&uri, REQUEST_TIMEOUT);
    let source = Source::for_settings(client, &settings, REQUEST_TIMEOUT);
    let counters = Arc::clone(&wiring.counters);
    let output = make_output(&settings, wiring)?;
    let mut runner = Runner::new(&settings, source, output, Arc::clone(&counters));
    if !once {
        let health = health::HealthFile::new(settings.health_file.clone(), settings.interval);
        runner = runner.with_health_file(health);
    }
    let summary = runner
        .run(if once {
            Stop::AfterCycles(1)
        } else {
            Stop::OnSignal
        })
        .await
        .map_err(Failure::failed)?;
    if !once {
        return Ok(ExitCode::SUCCESS);
    }
    if summary.collected == 0 {
        // Why is in the log already (the failed poll).
        return Ok(ExitCode::FAILURE);
    }
    let d = &summary.delivery;
    let unknown = Counters::get(&counters.unknown_values);
    if d.documents == 0 || !d.flushed || unknown > 0 {
        tracing::error!(
            "--once: the task was read but its metrics were not all delivered ({} documents delivered; {} values not delivered, {unknown} unconfirmed); exiting 1",
            d.documents,
            d.left_values,
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The output `ECS_EMF_OUTPUT` names. Must run inside the tokio runtime.
pub(crate) fn make_output(settings: &Settings, wiring: Wiring) -> Result<Box<dyn Output>, Failure> {
    let Wiring { counters, console } = wiring;
    match settings.output {
        OutputKind::Stdout => {
            let console = console.ok_or_else(|| Failure::failed("no stdout writer was started"))?;
            Ok(Box::new(StdoutOutput::new(
                settings.encoder(),
                counters,
                console,
            )))
        }
        OutputKind::Agent => {
            let endpoint = settings.agent_endpoint.clone();
            Ok(Box::new(AgentOutput::new(
                agent::encoder_config(settings),
                endpoint,
                settings.buffer_bytes,
                counters,
            )))
        }
        OutputKind::Cloudwatch => Ok(Box::new(CloudWatchOutput::new(
            settings.namespace.clone(),
            settings.high_resolution,
            settings.buffer_bytes,
            counters,
        ))),
    }
}

/// `healthcheck`: 0 when the sidecar's last good collection is recent.
pub(crate) fn healthcheck(settings: &Settings) -> ExitCode {
    match health::check(&settings.health_file, std::time::SystemTime::now()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(why) => {
            let _ = writeln!(std::io::stderr(), "unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}
