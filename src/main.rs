//! `ecs-emf-exporter`: the command line is in `cli`.

fn main() -> std::process::ExitCode {
    ecs_emf_exporter::cli::main()
}
