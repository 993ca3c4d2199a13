//! The subcommands, one file each; `main.rs` parses the command line and calls [`dispatch`].
//! What they share: loading a configuration, the async runtime, exit codes, and saying an
//! error with every cause ([`tickstream::error::chain`]).

use std::path::Path;
use std::process::ExitCode;

use tickstream::config::{self, Config};

mod alerts;
mod athena;
mod check_auth;
mod check_config;
pub mod cli;
mod connect;
mod query;
mod run;
mod snowflake;
mod status;
mod token;
mod verify;

use cli::{AthenaCommand, AuthCommand, Command, ConnectCommand, SnowflakeCommand};

/// Exit code for a configuration that cannot be used.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code when Kafka, S3 or AWS credentials cannot be read (`verify`, `check-auth`, `auth token`).
pub const EXIT_UNREADABLE: u8 = 3;

/// What a command ends with: `Err` when it stopped early (a bad file, no runtime); both carry
/// the exit code.
type Outcome = Result<ExitCode, ExitCode>;

/// Runs `command`; its exit code.
pub fn dispatch(command: Command) -> ExitCode {
    let outcome = match command {
        Command::CheckConfig { file } => check_config::run(&file),
        Command::Alerts { runbook_base_url } => alerts::run(&runbook_base_url),
        Command::Run { config, seed } => run::run(&config, seed),
        Command::Verify {
            config,
            json,
            timeout_secs,
        } => verify::run(&config, json, timeout_secs),
        Command::Status { config, json } => status::run(&config, json),
        Command::Query { config, sql, format } => query::query(&config, &sql, format),
        Command::Stats {
            config,
            ohlc,
            table,
            format,
        } => query::stats(&config, table.as_deref(), ohlc.as_deref(), format),
        Command::Snowflake(SnowflakeCommand::Ddl { config }) => snowflake::ddl(&config),
        Command::Snowflake(SnowflakeCommand::Fingerprint { config }) => snowflake::fingerprint(&config),
        Command::Connect(ConnectCommand::Import { file }) => connect::import(&file),
        Command::Athena(AthenaCommand::Ddl { config, database }) => athena::ddl(&config, &database),
        Command::CheckAuth { config, timeout_secs } => check_auth::run(&config, timeout_secs),
        Command::Auth(AuthCommand::Token { region, role_arn }) => token::run(&region, role_arn.as_deref()),
    };
    outcome.unwrap_or_else(|code| code)
}

/// Loads and validates a configuration, or prints why not and gives the exit code.
fn load(file: &Path) -> Result<Config, ExitCode> {
    config::load(file).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

/// The async runtime for a command, or the exit code when there is none.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    runtime_with(None)
}

/// The async runtime with `workers` threads (tokio's default, one per core, when `None`).
fn runtime_with(workers: Option<usize>) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n);
    }
    builder
        .enable_all()
        .build()
        .map_err(|e| fail("starting the async runtime", &e, ExitCode::FAILURE))
}

/// Prints `what: <the error and every cause>` and gives `code`.
fn fail(what: &str, err: &(dyn std::error::Error + 'static), code: ExitCode) -> ExitCode {
    eprintln!("{what}: {}", tickstream::error::chain(err));
    code
}
