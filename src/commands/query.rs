//! `tickstream query` (read-only SQL) and `tickstream stats` (per-symbol figures, OHLC candles)
//! on the SQLite warehouse.

use std::path::Path;
use std::process::ExitCode;

use tickstream::config::Config;
use tickstream::warehouse::query::{parse_interval, Table};
use tickstream::warehouse::{reports, WarehouseError};

use super::{cli::OutputFormat, Outcome};

pub fn query(file: &Path, sql: &str, format: OutputFormat) -> Outcome {
    print_table(file, format, |c| reports::query(c, sql))
}

pub fn stats(file: &Path, table: Option<&str>, ohlc: Option<&str>, format: OutputFormat) -> Outcome {
    let secs = match ohlc.map(parse_interval) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("--ohlc {e}");
            return Err(ExitCode::from(super::EXIT_CONFIG));
        }
    };
    print_table(file, format, |c| reports::stats(c, table, secs))
}

/// Runs `make` on the loaded configuration and prints its table in `format`.
fn print_table(
    file: &Path,
    format: OutputFormat,
    make: impl FnOnce(&Config) -> Result<Table, WarehouseError>,
) -> Outcome {
    let config = super::load(file)?;
    Ok(match make(&config) {
        Ok(t) => {
            match format {
                OutputFormat::Table => print!("{}", t.render()),
                OutputFormat::Csv => print!("{}", t.csv()),
                OutputFormat::Json => println!("{}", t.json()),
            }
            ExitCode::SUCCESS
        }
        Err(e) => super::fail("tickstream", &e, ExitCode::FAILURE),
    })
}
