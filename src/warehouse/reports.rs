//! What `tickstream status`, `query` and `stats` do, for a configuration.

use super::query::{self, Table};
use super::schema::open_read_only;
use super::status::{pipe_status, PipeStatus};
use super::table::Tables;
use super::WarehouseError;
use crate::config::Topics;
use crate::config::{Config, S3Mode, WarehouseKind};
use crate::s3::client::{self, S3Endpoint};
use crate::s3::embedded::EmbeddedS3;
use crate::s3::keys::KeyLayout;
use crate::s3::S3SegmentStore;

/// The pipe's status. Snowflake: SYSTEM$PIPE_STATUS, COPY_HISTORY and latency through the SQL
/// API. SQLite: the warehouse's view, plus the pending files listed from the bucket (the
/// embedded bucket's directory is served read-only for the listing when `s3.mode = "embedded"`).
pub async fn status(config: &Config) -> Result<PipeStatus, WarehouseError> {
    if config.warehouse.kind == WarehouseKind::Snowflake {
        let snowflake = WarehouseError::Snowflake;
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
                .map_err(|source| WarehouseError::ServeEmbedded {
                    root: root.display().to_string(),
                    source,
                })?;
            (server.endpoint(), Some(server))
        }
        _ => (
            S3Endpoint::from_config(&config.s3).ok_or(WarehouseError::NoEndpoint)?,
            None,
        ),
    };
    let store = S3SegmentStore::for_sink(client::build(&endpoint).await, &config.sink);
    let result = async {
        let topics = topic_names(config, &store).await?;
        let tables = Tables::new(config);
        let mut names: Vec<String> = topics.iter().map(|t| tables.layout(t).table).collect();
        names.dedup();
        let layouts: Vec<KeyLayout> = topics.iter().map(|t| KeyLayout::of(&config.sink, t)).collect();
        let mut status = pipe_status(&store, &db, &names, &layouts).await?;
        status.loaded_by = super::watcher::lease::holder(&path);
        Ok(status)
    }
    .await;
    if let Some(s) = server {
        s.stop().await;
    }
    result
}

/// The sink's topics: its list, or the topic folders in the bucket that match its pattern.
async fn topic_names(config: &Config, store: &S3SegmentStore) -> Result<Vec<String>, WarehouseError> {
    let topics = config.sink.topic_set();
    if let Topics::List(l) = topics {
        return Ok(l);
    }
    let root = format!("{}/", config.sink.topics_dir);
    let folders = store.folders(&root).await?;
    Ok(folders
        .iter()
        .filter_map(|f| f.strip_prefix(&root)?.strip_suffix('/'))
        .filter(|t| topics.contains(t))
        .map(str::to_owned)
        .collect())
}

/// Runs read-only `sql` on the warehouse.
pub fn query(config: &Config, sql: &str) -> Result<Table, WarehouseError> {
    let db = open_read_only(&config.warehouse.sqlite_path(&config.runtime.data_dir))?;
    query::run(&db, sql)
}

/// Per-symbol statistics, or OHLC candles of `ohlc_secs` seconds, of `table` (default: the
/// first topic's).
pub fn stats(config: &Config, table: Option<&str>, ohlc_secs: Option<u64>) -> Result<Table, WarehouseError> {
    let table = table.unwrap_or(&config.warehouse.table);
    let db = open_read_only(&config.warehouse.sqlite_path(&config.runtime.data_dir))?;
    query::check_stats_columns(&db, table)?;
    let sql = match ohlc_secs {
        Some(secs) => query::ohlc_sql(table, secs),
        None => query::stats_sql(table),
    };
    query::run(&db, &sql)
}
