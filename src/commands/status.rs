//! `tickstream status`: the pipe's status (SQLite warehouse or Snowflake), like SYSTEM$PIPE_STATUS.

use std::path::Path;
use std::process::ExitCode;

use super::EXIT_UNREADABLE;

pub fn run(file: &Path, json: bool) -> ExitCode {
    let config = match super::load(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
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
    }
}
