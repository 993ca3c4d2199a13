//! `tickstream alerts`: the alert rules with absolute runbook links.

use std::process::ExitCode;

use super::{Outcome, EXIT_CONFIG};

pub fn run(base: &str) -> Outcome {
    match tickstream::telemetry::alerts::render(base) {
        Ok(rules) => {
            print!("{rules}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("tickstream alerts: {e}");
            Err(ExitCode::from(EXIT_CONFIG))
        }
    }
}
