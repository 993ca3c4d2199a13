//! `tickstream athena ddl`: the Athena tables over this configuration's files.

use std::path::Path;
use std::process::ExitCode;

use super::{Outcome, EXIT_CONFIG};

pub fn ddl(file: &Path, database: &str) -> Outcome {
    let config = super::load(file)?;
    match tickstream::athena::ddl(&config, database) {
        Ok(ddl) => {
            print!("{ddl}");
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            eprintln!("tickstream athena ddl: {}: {why}", file.display());
            Err(ExitCode::from(EXIT_CONFIG))
        }
    }
}
