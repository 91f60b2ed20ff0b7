//! `ecs-emf-exporter`: parse the command line, set up logging, run the command.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use ecs_emf_exporter::app::{self, EXIT_INVALID_SETTINGS};
use ecs_emf_exporter::cli::{Cli, Command};
use ecs_emf_exporter::logging;
use ecs_emf_exporter::settings::Settings;
use ecs_emf_exporter::{demo, simulator};

fn fail(code: u8, message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "ecs-emf-exporter: {message}");
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Metrics { json }) = cli.command {
        return app::print_metrics(json);
    }
    let settings = match Settings::from_raw(&cli.settings) {
        Ok(s) => s,
        Err(e) => return fail(EXIT_INVALID_SETTINGS, &e.to_string()),
    };
    if let Some(Command::Healthcheck) = cli.command {
        return app::healthcheck(&settings);
    }
    logging::init(settings.log_format, settings.log_level);
    // One thread: the work per cycle is small, and one thread keeps memory low.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(1, &format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Demo(args)) => demo::run(args, cli.settings).await,
            Some(Command::Simulate(args)) => Ok(simulator::run_simulate(args).await),
            _ => app::sidecar(settings, cli.once).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => fail(EXIT_INVALID_SETTINGS, &message),
    }
}
