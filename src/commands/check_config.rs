//! `tickstream check-config FILE`: validate without running (environment overrides applied).

use std::path::Path;
use std::process::ExitCode;

use super::Outcome;

pub fn run(file: &Path) -> Outcome {
    super::load(file)?;
    println!("{}: ok", file.display());
    Ok(ExitCode::SUCCESS)
}
