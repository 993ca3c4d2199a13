//! What `tickstream status`, `query` and `stats` do, for a configuration.

use super::query::{self, Table};
use super::schema::open_read_only;
use super::status::{pipe_status, PipeStatus};
use super::WarehouseError;
use crate::config::{Config, S3Mode, WarehouseKind};
use crate::s3::client::{self, S3Endpoint};
use crate::s3::embedded::EmbeddedS3;
use crate::s3::keys::KeyLayout;
use crate::s3::S3SegmentStore;

fn layout(config: &Config) -> KeyLayout {
    KeyLayout {
        topics_dir: config.sink.topics_dir.clone(),
        topic: config.sink.topics.clone(),
        pad_width: config.sink.offset_pad_width,
    }
}

/// The pipe's status. Snowflake: SYSTEM$PIPE_STATUS, COPY_HISTORY and latency through the SQL
/// API. SQLite: the warehouse's view, plus the pending files listed from the bucket (the
/// embedded bucket's directory is served read-only for the listing when `s3.mode = "embedded"`).
pub async fn status(config: &Config) -> Result<PipeStatus, WarehouseError> {
    if config.warehouse.kind == WarehouseKind::Snowflake {
        let snowflake = |e: super::snowflake::SnowflakeError| WarehouseError::Other(e.to_string());
        let api = super::snowflake::monitor::connect(config).map_err(snowflake)?;
        return super::snowflake::monitor::status(config, &api).await.map_err(snowflake);
    }
    let path = config.warehouse.sqlite_path(&config.runtime.data_dir);
    let db = open_read_only(&path)?;
    let (endpoint, server) = match config.s3.mode {
        S3Mode::Embedded => {
            let root = config.runtime.data_dir.join("s3");
            let server = EmbeddedS3::start(&root, 0)
                .await
                .map_err(|e| WarehouseError::Other(format!("serving {} to list it: {e}", root.display())))?;
            (server.endpoint(), Some(server))
        }
        _ => (
            S3Endpoint::from_config(&config.s3)
                .ok_or_else(|| WarehouseError::Other("s3.mode names no endpoint".into()))?,
            None,
        ),
    };
    let store = S3SegmentStore::new(client::build(&endpoint).await, config.sink.bucket.clone());
    let result = pipe_status(&store, &db, &config.warehouse.table, &layout(config)).await;
    if let Some(s) = server {
        s.stop().await;
    }
    result
}

/// Runs read-only `sql` on the warehouse.
pub fn query(config: &Config, sql: &str) -> Result<Table, WarehouseError> {
    let db = open_read_only(&config.warehouse.sqlite_path(&config.runtime.data_dir))?;
    query::run(&db, sql)
}

/// Per-symbol statistics, or OHLC candles of `ohlc_secs` seconds.
pub fn stats(config: &Config, ohlc_secs: Option<u64>) -> Result<Table, WarehouseError> {
    let table = &config.warehouse.table;
    let sql = match ohlc_secs {
        Some(secs) => query::ohlc_sql(table, secs),
        None => query::stats_sql(table),
    };
    query(config, &sql)
}
