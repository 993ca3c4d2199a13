//! Snowflake, the production warehouse: Snowpipe loads our files there, so tickstream only
//! prints the set-up and watches the pipe.
//!
//! - [`ddl`](mod@ddl): the integration, stage, file format, table and AUTO_INGEST pipe (`tickstream
//!   snowflake ddl`).
//! - [`jwt`]: key-pair authentication (RS256 JWT naming the public key's fingerprint).
//! - [`sql_api`]: a client of Snowflake's SQL API (`POST /api/v2/statements`, 202 polling,
//!   partitions, retries with the same request id).
//! - [`pipe`]: `SYSTEM$PIPE_STATUS` and `COPY_HISTORY` read into our [`PipeStatus`](super::status::PipeStatus).
//! - [`monitor`]: the Snowpipe-watching actor that runs instead of the loader in
//!   `warehouse.kind = "snowflake"` mode, with the same metrics and alerts.

pub mod ddl;
pub mod jwt;
pub mod monitor;
pub mod pipe;
pub mod sql_api;

pub use ddl::ddl;

/// Why talking to Snowflake failed; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SnowflakeError {
    #[error("snowflake private key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("snowflake authentication: {0}")]
    Auth(String),
    #[error("snowflake configuration: {0}")]
    Config(String),
    #[error("snowflake SQL API {url}: {reason}")]
    Http { url: String, reason: String },
    #[error("snowflake answered HTTP {status}{}: {message}", code.as_deref().map(|c| format!(" (code {c})")).unwrap_or_default())]
    Api {
        status: u16,
        code: Option<String>,
        message: String,
    },
    #[error("snowflake statement {handle} still running after {waited_s} s")]
    StillRunning { handle: String, waited_s: u64 },
    #[error("snowflake answer not understood: {0}")]
    Parse(String),
}
