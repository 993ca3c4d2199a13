//! `tickstream check-config FILE`: validate without running (environment overrides applied).

use std::path::Path;
use std::process::ExitCode;

pub fn run(file: &Path) -> ExitCode {
    match super::load(file) {
        Ok(_) => {
            println!("{}: ok", file.display());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
