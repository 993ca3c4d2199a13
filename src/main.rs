//! The `tickstream` binary: parse the command line, start logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use tickstream::app::{self, Outcome};
use tickstream::cli::{Cli, Command};
use tickstream::config;

/// Exit code for a configuration that cannot be used.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,rdkafka=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    match cli.command {
        Command::CheckConfig { file } => match config::load(&file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Run { config: file, seed } => {
            let config = match config::load(&file) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("starting the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(app::run(config, seed, app::shutdown_signal())) {
                Ok(Outcome::Stopped) => ExitCode::SUCCESS,
                Ok(Outcome::Failed) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("tickstream: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
