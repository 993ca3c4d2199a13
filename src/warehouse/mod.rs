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

/// Warehouse errors; each names the file, table or key involved.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("warehouse: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    S3(#[from] crate::s3::S3Error),
    #[error("warehouse: creating {dir}: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("warehouse: {path} does not exist: run the pipeline first (warehouse.path)")]
    Missing { path: String },
    #[error(
        "warehouse: table {table} exists in neither tickstream's layout nor an earlier one (its columns: {columns}): \
         rename it, or load elsewhere (warehouse.table, warehouse.tables)"
    )]
    ForeignTable { table: String, columns: String },
    #[error("warehouse: migrating {table}: cannot tell the topic and start offset of {key} (not a sink file name)")]
    Unmigratable { table: String, key: String },
    #[error("warehouse: table {table} does not exist in the warehouse")]
    NoTable { table: String },
    #[error(
        "warehouse: table {table} has no {missing} column: stats and --ohlc need {needed} (map them in \
         warehouse.columns, or query RECORD_CONTENT with `tickstream query`)"
    )]
    NoStatsColumns {
        table: String,
        missing: String,
        needed: String,
    },
    #[error("warehouse: query is read-only: use SELECT (or WITH … SELECT)")]
    NotReadOnly,
    #[error("warehouse: the Snowpipe status")]
    Snowflake(#[source] snowflake::SnowflakeError),
    #[error("warehouse: serving {root} to list it")]
    ServeEmbedded {
        root: String,
        #[source]
        source: crate::s3::embedded::EmbeddedS3Error,
    },
    #[error("warehouse: s3.mode names no endpoint")]
    NoEndpoint,
    /// A load's blocking task ended without an answer (it panicked, or the runtime is stopping).
    #[error("warehouse: the loading task stopped")]
    Task(#[source] tokio::task::JoinError),
    #[error("warehouse: its lock was poisoned by a panic")]
    Poisoned,
}

impl WarehouseError {
    /// What the error means for loading: a busy or locked database, an S3 hiccup and a load
    /// that died with its task pass; a corrupt, read-only or full database, a table that is not
    /// tickstream's or a missing file need a person.
    pub fn class(&self) -> crate::error::ErrorClass {
        use crate::error::ErrorClass;
        match self {
            Self::Sql(e) | Self::Open { source: e, .. } => sql_class(e),
            Self::S3(e) => e.class(),
            Self::Task(_) | Self::Poisoned => ErrorClass::Transient,
            _ => ErrorClass::NeedsPerson,
        }
    }

    /// Whether the warehouse file itself failed (it cannot be opened, created, read or
    /// written), rather than S3 or a table.
    pub fn is_the_file(&self) -> bool {
        matches!(self, Self::Open { .. } | Self::CreateDir { .. } | Self::Sql(_))
    }
}

/// SQLite's answer: busy or locked passes, anything else (corrupt, read-only, full) does not.
fn sql_class(e: &rusqlite::Error) -> crate::error::ErrorClass {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => crate::error::ErrorClass::Transient,
        _ => crate::error::ErrorClass::NeedsPerson,
    }
}
