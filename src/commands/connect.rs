//! `tickstream connect import`: a Confluent S3 sink connector's configuration as tickstream TOML.

use std::path::Path;
use std::process::ExitCode;

use tickstream::connect_import;

use super::{Outcome, EXIT_CONFIG};

pub fn import(file: &Path) -> Outcome {
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| {
        eprintln!("tickstream connect import: reading {shown}: {e}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    let source = connect_import::read(&shown, &text).map_err(|e| {
        eprintln!("tickstream connect import: {}", tickstream::error::chain(&e));
        ExitCode::from(EXIT_CONFIG)
    })?;
    let out = connect_import::convert(&source);
    print!("{}", out.toml);
    for i in &out.ignored {
        eprintln!("ignored: {i}");
    }
    // The imported file is checked as `check-config` would (without the environment).
    if let Ok(config) = tickstream::config::parse_str(&out.toml) {
        for p in tickstream::config::validate(&config) {
            eprintln!("check: {}: {}", p.key, p.message);
        }
    }
    if out.unsupported.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for u in &out.unsupported {
        eprintln!("NOT SUPPORTED: {u}");
    }
    eprintln!(
        "tickstream connect import: {} setting(s) of {shown} cannot be honoured yet; the TOML above would behave differently",
        out.unsupported.len()
    );
    Ok(ExitCode::FAILURE)
}
