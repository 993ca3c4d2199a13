//! The `tickstream` binary: parse the command line, start logging, dispatch to the subcommand
//! (`commands/`, one file each). The library (`tickstream`) is the pipeline itself.

use std::process::ExitCode;

use clap::Parser;

mod commands;

fn main() -> ExitCode {
    let cli = commands::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,librdkafka=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours for a terminal only: journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    commands::dispatch(cli.command)
}
