//! `ecs-emf-exporter`: parse the command line, set up logging, run the command.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use ecs_emf_exporter::app::{self, EXIT_INVALID_SETTINGS};
use ecs_emf_exporter::cli::{Cli, Command};
use ecs_emf_exporter::logging;
use ecs_emf_exporter::settings::{LogFormat, Settings};
use ecs_emf_exporter::{catalog_report, demo, plan, simulator};

fn fail(code: u8, message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "ecs-emf-exporter: {message}");
    ExitCode::from(code)
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    // One thread: the work per cycle is small, and one thread keeps memory low.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(1, &format!("cannot start the async runtime: {e}")))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Simulate(args)) = cli.command {
        // The simulator takes none of the exporter's settings.
        logging::init(LogFormat::Text, tracing::Level::INFO);
        return match runtime() {
            Ok(rt) => rt.block_on(simulator::run_simulate(args)),
            Err(code) => code,
        };
    }
    let raw = match &cli.command {
        Some(Command::Demo(args)) => demo::settings(args),
        Some(Command::Metrics(args)) => args.settings.clone(),
        Some(Command::Plan(args)) => args.settings.clone(),
        _ => cli.settings.clone(),
    };
    let settings = match Settings::from_raw(&raw) {
        Ok(s) => s,
        Err(e) => return fail(EXIT_INVALID_SETTINGS, &e.to_string()),
    };
    match &cli.command {
        Some(Command::Healthcheck) => return app::healthcheck(&settings),
        Some(Command::Metrics(args)) => {
            return match catalog_report::print(&settings, args.json) {
                Ok(()) => ExitCode::SUCCESS,
                // `metrics | head` closes the pipe early; that is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail(1, &format!("cannot write the catalog: {e}")),
            };
        }
        _ => {}
    }
    logging::init(settings.log_format, settings.log_level);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = rt.block_on(async {
        match cli.command {
            Some(Command::Demo(args)) => demo::run(*args, settings).await,
            Some(Command::Plan(args)) => Ok(match plan::run(&args, &settings).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e.code, &e.message),
            }),
            _ => app::sidecar(settings, cli.once).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => fail(EXIT_INVALID_SETTINGS, &message),
    }
}
