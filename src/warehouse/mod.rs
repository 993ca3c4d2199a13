//! The warehouse hop (Snowpipe's job): the ingestion watcher loads each new S3 file exactly once
//! into `STOCK_MARKET_DATA`, and the commands that read it.
//!
//! - [`schema`]: the SQLite file: `STOCK_MARKET_DATA`, `LOAD_HISTORY`, `PIPE_STATE`, indexes.
//! - [`load`]: fetched files → rows + a history entry each, one transaction per batch (a file that
//!   does not parse is a recorded failure).
//! - [`source`]: what the watcher needs from S3 (a trait; S3 listing today, SQS events later).
//! - [`watcher`]: the ingestion-watcher actor: discover, load, report.
//! - [`status`]: `SYSTEM$PIPE_STATUS`-like status and end-to-end latency (`tickstream status`).
//! - [`query`]: read-only SQL, `tickstream stats` and OHLC candles.
//! - [`reports`]: what `tickstream status`, `query` and `stats` show, for a configuration.
//! - [`snowflake`]: Snowflake mode: the DDL that matches our files, and the Snowpipe monitor
//!   that watches the pipe through the SQL API (key-pair JWT) instead of loading.

pub mod load;
pub mod query;
pub mod reports;
pub mod schema;
pub mod snowflake;
pub mod source;
pub mod status;
pub mod watcher;

/// Warehouse errors; each names the file or key involved.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("warehouse: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    S3(#[from] crate::s3::S3Error),
    #[error("warehouse: {0}")]
    Other(String),
}
