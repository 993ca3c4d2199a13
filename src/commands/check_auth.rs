//! `tickstream check-auth`: MSK IAM end to end (credentials, principal, a signed token, the
//! brokers' answer).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use tickstream::config::KafkaMode;

use super::EXIT_UNREADABLE;

pub fn run(file: &Path, timeout_secs: u64) -> ExitCode {
    let config = match super::load(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if config.kafka.mode != KafkaMode::MskIam {
        eprintln!(
            "{}: kafka.mode is not \"msk_iam\": there is no IAM authentication to check",
            file.display()
        );
        return ExitCode::from(super::EXIT_CONFIG);
    }
    let runtime = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let timeout = Duration::from_secs(timeout_secs);
    match runtime.block_on(tickstream::auth::check::check_auth(&config, timeout)) {
        Ok(report) => {
            print!("{}", report.render());
            match report.ok() {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            }
        }
        Err(e) => super::fail("tickstream check-auth", &e, ExitCode::from(EXIT_UNREADABLE)),
    }
}
