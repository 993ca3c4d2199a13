//! `[warehouse]`: the ingestion watcher (Snowpipe's job) and where it loads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::record::column::{tick_columns, Column, ColumnType};

/// Which warehouse the watcher serves.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WarehouseKind {
    /// An SQLite file at `path`: the watcher lists new S3 files and loads each exactly once.
    #[default]
    Sqlite,
    /// Snowflake: Snowpipe loads; `tickstream snowflake ddl` prints the set-up.
    Snowflake,
}

/// `[warehouse]`
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseConfig {
    /// Run the ingestion watcher in this process.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `sqlite` (default) or `snowflake`.
    #[serde(default)]
    pub kind: WarehouseKind,
    /// The SQLite file (`sqlite`); default `<runtime.data_dir>/warehouse.db`.
    /// Env: `TICKSTREAM_WAREHOUSE_PATH`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// How often the watcher lists S3 for new files.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// The table the first topic of `sink.topics` lands in (today's single topic).
    #[serde(default = "default_table")]
    pub table: String,
    /// Topic → table for the other topics; a topic in neither lands in its name upper-cased,
    /// every character outside `A-Z 0-9 _` made `_` (`finnhub-trades` → `FINNHUB_TRADES`,
    /// `1m-bars` → `1M_BARS`, `order` → `ORDER`: SQLite takes such names quoted).
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    /// Typed columns of every table, beside `RECORD_CONTENT` and `RECORD_METADATA`: each takes
    /// the record's field of its name (case-insensitively) or of its `source`. Default: the
    /// tick's eight fields.
    #[serde(default = "tick_columns")]
    pub columns: Vec<Column>,
    /// Topic → its own typed columns (instead of `columns`).
    #[serde(default)]
    pub topic_columns: BTreeMap<String, Vec<Column>>,
    /// A value that cannot take its column's type: `skip_file` (default: the file is recorded
    /// LOAD_FAILED and none of it loads) or `continue` (that row is left out, the rest loads);
    /// Snowpipe's `ON_ERROR` names. Rows left out are counted in `tickstream status`.
    #[serde(default)]
    pub on_error: OnError,
    /// Snowflake names (`tickstream snowflake ddl`) and, in `snowflake` mode, how to watch the pipe.
    #[serde(default)]
    pub snowflake: SnowflakeConfig,
}

/// `[warehouse.snowflake]`: the objects seed 000 creates by hand.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SnowflakeConfig {
    /// The database of the table, stage and pipe `tickstream snowflake ddl` creates.
    #[serde(default = "default_database")]
    pub database: String,
    /// Their schema.
    #[serde(default = "default_schema")]
    pub schema: String,
    /// The storage integration that lets the stage read the bucket.
    #[serde(default = "default_integration")]
    pub storage_integration: String,
    /// The IAM role Snowflake assumes to read the bucket.
    #[serde(default = "default_role_arn")]
    pub aws_role_arn: String,
    /// The external stage over `s3://<bucket>/<topics.dir>/`.
    #[serde(default = "default_stage")]
    pub stage: String,
    /// The `AUTO_INGEST` pipe of the first topic (each other topic's is named after its table).
    #[serde(default = "default_pipe")]
    pub pipe: String,
    /// Account identifier, e.g. `myorg-myaccount` or `xy12345.us-east-2.aws`
    /// (`snowflake` mode). Env: `TICKSTREAM_SNOWFLAKE_ACCOUNT`.
    #[serde(default)]
    pub account: Option<String>,
    /// The user whose RSA public key is registered (`ALTER USER … SET RSA_PUBLIC_KEY`).
    /// Env: `TICKSTREAM_SNOWFLAKE_USER`.
    #[serde(default)]
    pub user: Option<String>,
    /// Unencrypted PKCS#8 PEM private key of that user (mode 0600).
    /// Env: `TICKSTREAM_SNOWFLAKE_PRIVATE_KEY_PATH`. Under systemd,
    /// `$CREDENTIALS_DIRECTORY/snowflake_rsa_key.p8` (`LoadCredential=`) is read in its place.
    #[serde(default)]
    pub private_key_path: Option<PathBuf>,
    /// The role the monitoring statements run as (default: the user's).
    #[serde(default)]
    pub role: Option<String>,
    /// The virtual warehouse they run on (default: the user's).
    #[serde(default)]
    pub warehouse: Option<String>,
    /// SQL API base URL; default `https://<account>.snowflakecomputing.com`.
    #[serde(default)]
    pub api_url: Option<String>,
    /// How often the monitor reads SYSTEM$PIPE_STATUS and COPY_HISTORY. Each COPY_HISTORY
    /// read runs on `warehouse`, so keep this in minutes, not seconds.
    #[serde(default = "default_snowflake_poll_ms")]
    pub poll_interval_ms: u64,
    /// The COPY_HISTORY window the monitor reads.
    #[serde(default = "default_history_minutes")]
    pub history_minutes: u32,
}

impl SnowflakeConfig {
    /// `poll_interval_ms`.
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.poll_interval_ms)
    }

    /// The SQL API's base URL.
    pub fn api_base_url(&self) -> Option<String> {
        self.api_url.clone().or_else(|| {
            self.account
                .as_ref()
                .map(|a| format!("https://{a}.snowflakecomputing.com"))
        })
    }
}

impl WarehouseConfig {
    /// `poll_interval_ms`.
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.poll_interval_ms)
    }

    /// The SQLite file: `path`, else `<data_dir>/warehouse.db`.
    pub fn sqlite_path(&self, data_dir: &Path) -> PathBuf {
        self.path.clone().unwrap_or_else(|| data_dir.join("warehouse.db"))
    }

    /// The table `topic` lands in; `first_topic` is the first of `sink.topics`.
    pub fn table_for(&self, topic: &str, first_topic: Option<&str>) -> String {
        if let Some(t) = self.tables.get(topic) {
            return t.clone();
        }
        if first_topic == Some(topic) {
            return self.table.clone();
        }
        topic
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// The typed columns of `topic`'s table.
    pub fn columns_for(&self, topic: &str) -> &[Column] {
        self.topic_columns.get(topic).unwrap_or(&self.columns)
    }
}

/// `warehouse.on_error`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    #[default]
    SkipFile,
    Continue,
}

fn yes() -> bool {
    true
}
fn default_poll_interval_ms() -> u64 {
    1_000
}
fn default_table() -> String {
    "STOCK_MARKET_DATA".into()
}
fn default_database() -> String {
    "KAFKA_DB".into()
}
fn default_schema() -> String {
    "KAFKA_SCHEMA".into()
}
fn default_integration() -> String {
    "S3_INTEGRATION".into()
}
fn default_role_arn() -> String {
    "arn:aws:iam::123456789012:role/snowflake-s3-read".into()
}
fn default_stage() -> String {
    "KAFKA_S3_STAGE".into()
}
fn default_pipe() -> String {
    "STOCK_MARKET_PIPE".into()
}
fn default_snowflake_poll_ms() -> u64 {
    60_000
}
fn default_history_minutes() -> u32 {
    60
}

default_from_serde!(WarehouseConfig, SnowflakeConfig);
