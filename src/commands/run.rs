//! `tickstream run`: the pipeline as a service ([`tickstream::service::run`]) until SIGINT or
//! SIGTERM stops it cleanly, or a non-zero exit when supervision gives up (systemd restarts
//! the service).

use std::path::Path;
use std::process::ExitCode;

use tickstream::pipeline::RunOptions;
use tickstream::service::{self, Ending};

use super::Outcome;

/// `tickstream run --config FILE [--seed N]`: exit 0 after a requested stop, 1 when supervision
/// gave up or the pipeline could not start (the cause is the last line), 2 for a bad file.
pub fn run(file: &Path, seed: Option<u64>) -> Outcome {
    let config = super::load(file)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = super::runtime_with(Some(config.runtime.workers(cores)))?;
    let options = RunOptions::new(seed.or(config.producer.seed));
    Ok(
        match runtime.block_on(service::run(&config, options, shutdown_signal())) {
            Ok(Ending::Stopped) => ExitCode::SUCCESS,
            Ok(Ending::Failed) => ExitCode::FAILURE,
            Err(e) => super::fail("tickstream", &e, ExitCode::FAILURE),
        },
    )
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
