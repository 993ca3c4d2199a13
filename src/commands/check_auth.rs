//! `tickstream check-auth`: MSK IAM end to end (credentials, principal, a signed token, the
//! brokers' answer).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use tickstream::config::KafkaMode;

use super::{Outcome, EXIT_UNREADABLE};

pub fn run(file: &Path, timeout_secs: u64) -> Outcome {
    let config = super::load(file)?;
    if config.kafka.mode != KafkaMode::MskIam {
        eprintln!(
            "{}: kafka.mode is not \"msk_iam\": there is no IAM authentication to check",
            file.display()
        );
        return Err(ExitCode::from(super::EXIT_CONFIG));
    }
    let runtime = super::runtime()?;
    let timeout = Duration::from_secs(timeout_secs);
    Ok(
        match runtime.block_on(tickstream::auth::check::check_auth(&config, timeout)) {
            Ok(report) => {
                print!("{}", report.render());
                match report.ok() {
                    true => ExitCode::SUCCESS,
                    false => ExitCode::FAILURE,
                }
            }
            Err(e) => super::fail("tickstream check-auth", &e, ExitCode::from(EXIT_UNREADABLE)),
        },
    )
}
