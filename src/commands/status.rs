//! `tickstream status`: the pipe's status (SQLite warehouse or Snowflake), like SYSTEM$PIPE_STATUS.

use std::path::Path;
use std::process::ExitCode;

use super::{Outcome, EXIT_UNREADABLE};

pub fn run(file: &Path, json: bool) -> Outcome {
    let config = super::load(file)?;
    let runtime = super::runtime()?;
    Ok(
        match runtime.block_on(tickstream::warehouse::reports::status(&config)) {
            Ok(s) if json => {
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Ok(s) => {
                print!("{}", s.render());
                ExitCode::SUCCESS
            }
            Err(e) => super::fail("tickstream status", &e, ExitCode::from(EXIT_UNREADABLE)),
        },
    )
}
