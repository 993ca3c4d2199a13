//! The warehouse hop (Snowpipe's job): the ingestion watcher loads each new S3 file exactly once
//! into its topic's table (`STOCK_MARKET_DATA` by default), and the commands that read it.
//!
//! - [`table`]: one topic's table in the Snowflake Kafka connector's layout (`RECORD_CONTENT`,
//!   `RECORD_METADATA`, the configured typed columns, the identity (topic, partition, offset)).
//! - [`values`]: a record's field → its typed column (timestamps normalised).
//! - [`schema`]: the SQLite file: the tables, `LOAD_HISTORY`, `PIPE_STATE`.
//! - [`migrate`]: a file written by an earlier version, upgraded in place.
//! - [`load`]: fetched files → rows + a history entry each, one transaction per batch (a value
//!   that cannot be loaded follows `warehouse.on_error`).
//! - [`source`]: what the watcher needs from S3 (a trait; S3 listing today, SQS events later).
//! - [`watcher`]: the ingestion-watcher actor: discover, load, report.
//! - [`status`]: `SYSTEM$PIPE_STATUS`-like status and end-to-end latency (`tickstream status`).
//! - [`query`]: read-only SQL, `tickstream stats` and OHLC candles.
//! - [`reports`]: what `tickstream status`, `query` and `stats` show, for a configuration.
//! - [`snowflake`]: Snowflake mode: the DDL that matches our files, and the Snowpipe monitor
//!   that watches the pipe through the SQL API (key-pair JWT) instead of loading.

pub mod load;
pub mod migrate;
pub mod query;
pub mod reports;
pub mod schema;
pub mod snowflake;
pub mod source;
pub mod status;
pub mod table;
pub mod values;
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
