//! The statements that watch Snowpipe and how their answers become our [`PipeStatus`]:
//! `SYSTEM$PIPE_STATUS` (a JSON string), `COPY_HISTORY` over a recent window (one row per file:
//! loaded, failed, partially loaded) and, for `tickstream status`, latency percentiles from the
//! table's `LOADED_AT` column.

use serde::Deserialize;

use super::sql_api::ResultSet;
use super::SnowflakeError;
use crate::config::SnowflakeConfig;
use crate::warehouse::status::{Latency, PipeStatus};

/// `SYSTEM$PIPE_STATUS`'s fields (documented names; any may be absent).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SnowpipeStatus {
    pub execution_state: String,
    #[serde(default)]
    pub pending_file_count: u64,
    pub last_ingested_timestamp: Option<String>,
    pub last_ingested_file_path: Option<String>,
    pub notification_channel_name: Option<String>,
    pub num_outstanding_messages_on_channel: Option<u64>,
    pub last_received_message_timestamp: Option<String>,
    pub last_forwarded_message_timestamp: Option<String>,
    pub last_forwarded_file_path: Option<String>,
    /// Set when the pipe failed to compile or run.
    pub error: Option<String>,
    pub fault: Option<String>,
}

/// One file in `COPY_HISTORY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyFile {
    pub file_name: String,
    /// `Loaded`, `Load failed`, `Partially loaded`, …
    pub status: String,
    pub row_count: u64,
    /// Rows left out (`ERROR_COUNT`; a partially loaded file's rejected rows).
    pub error_count: u64,
    pub first_error: Option<String>,
    /// `LAST_LOAD_TIME` in Unix milliseconds.
    pub last_load_ms: Option<i64>,
}

impl CopyFile {
    /// Loaded whole, or in part (`ON_ERROR = CONTINUE` left rows out).
    pub fn loaded(&self) -> bool {
        self.status.eq_ignore_ascii_case("loaded") || self.status.eq_ignore_ascii_case("partially loaded")
    }
}

fn pipe_name(sf: &SnowflakeConfig) -> String {
    format!("{}.{}.{}", sf.database, sf.schema, sf.pipe)
}

pub fn pipe_status_sql(sf: &SnowflakeConfig) -> String {
    format!("SELECT SYSTEM$PIPE_STATUS('{}') AS PIPE_STATUS", pipe_name(sf))
}

/// Files the pipe touched in the last `minutes`, oldest first.
pub fn copy_history_sql(sf: &SnowflakeConfig, table: &str, minutes: u32) -> String {
    format!(
        "SELECT FILE_NAME, STATUS, ROW_COUNT, ERROR_COUNT, FIRST_ERROR_MESSAGE, \
                DATE_PART(EPOCH_MILLISECOND, LAST_LOAD_TIME) AS LAST_LOAD_MS \
         FROM TABLE({db}.INFORMATION_SCHEMA.COPY_HISTORY(\
             TABLE_NAME => '{db}.{schema}.{table}', \
             START_TIME => DATEADD(minute, -{minutes}, CURRENT_TIMESTAMP()))) \
         ORDER BY LAST_LOAD_TIME",
        db = sf.database,
        schema = sf.schema,
    )
}

/// Tick timestamp → `LOADED_AT` percentiles (seconds) over the last 15 minutes.
pub fn latency_sql(sf: &SnowflakeConfig, table: &str) -> String {
    format!(
        "SELECT COUNT(*) AS ROWS_LOADED, \
                APPROX_PERCENTILE(DATEDIFF(millisecond, TIMESTAMP, LOADED_AT), 0.5) / 1000 AS P50, \
                APPROX_PERCENTILE(DATEDIFF(millisecond, TIMESTAMP, LOADED_AT), 0.95) / 1000 AS P95, \
                APPROX_PERCENTILE(DATEDIFF(millisecond, TIMESTAMP, LOADED_AT), 0.99) / 1000 AS P99 \
         FROM {}.{}.{table} WHERE LOADED_AT >= DATEADD(minute, -15, CURRENT_TIMESTAMP())",
        sf.database, sf.schema,
    )
}

pub fn parse_pipe_status(rs: &ResultSet) -> Result<SnowpipeStatus, SnowflakeError> {
    let json = rs
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.as_deref())
        .ok_or_else(|| SnowflakeError::Parse("SYSTEM$PIPE_STATUS returned no value".into()))?;
    serde_json::from_str(json).map_err(|e| SnowflakeError::Parse(format!("SYSTEM$PIPE_STATUS: {e}: {json}")))
}

pub fn parse_copy_history(rs: &ResultSet) -> Result<Vec<CopyFile>, SnowflakeError> {
    (0..rs.rows.len())
        .map(|i| {
            let file_name = rs
                .get(i, "FILE_NAME")
                .ok_or_else(|| SnowflakeError::Parse(format!("COPY_HISTORY row {i}: no FILE_NAME")))?;
            Ok(CopyFile {
                file_name: file_name.to_owned(),
                status: rs.get(i, "STATUS").unwrap_or("").to_owned(),
                row_count: rs.get(i, "ROW_COUNT").and_then(|v| v.parse().ok()).unwrap_or(0),
                error_count: rs.get(i, "ERROR_COUNT").and_then(|v| v.parse().ok()).unwrap_or(0),
                first_error: rs.get(i, "FIRST_ERROR_MESSAGE").map(str::to_owned),
                last_load_ms: rs
                    .get(i, "LAST_LOAD_MS")
                    .and_then(|v| v.parse::<f64>().ok())
                    .map(|v| v as i64),
            })
        })
        .collect()
}

pub fn parse_latency(rs: &ResultSet) -> Option<Latency> {
    let num = |c: &str| rs.get(0, c).and_then(|v| v.parse::<f64>().ok());
    let rows = num("ROWS_LOADED")? as usize;
    (rows > 0).then(|| Latency {
        rows,
        p50: num("P50").unwrap_or(0.0),
        p95: num("P95").unwrap_or(0.0),
        p99: num("P99").unwrap_or(0.0),
    })
}

/// Our status from Snowpipe's: the pipe's own fields, counts over the copy-history window.
/// Snowpipe does not name its oldest pending file, so that field stays empty.
pub fn to_pipe_status(pipe: &SnowpipeStatus, files: &[CopyFile], latency: Option<Latency>) -> PipeStatus {
    let failed: Vec<&CopyFile> = files.iter().filter(|f| !f.loaded()).collect();
    PipeStatus {
        execution_state: pipe.execution_state.clone(),
        pending_file_count: pipe.pending_file_count as usize,
        last_ingested_timestamp: pipe.last_ingested_timestamp.clone(),
        last_ingested_file_path: pipe.last_ingested_file_path.clone(),
        oldest_pending_file_path: None,
        last_poll: Some(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        last_error: pipe
            .error
            .clone()
            .or_else(|| pipe.fault.clone())
            .or_else(|| failed.last().and_then(|f| f.first_error.clone())),
        loaded_files: files.iter().filter(|f| f.loaded()).count() as u64,
        loaded_rows: files.iter().filter(|f| f.loaded()).map(|f| f.row_count).sum(),
        rejected_rows: files.iter().filter(|f| f.loaded()).map(|f| f.error_count).sum(),
        failed_files: failed.len() as u64,
        last_failed_file_path: failed.last().map(|f| f.file_name.clone()),
        latency,
        loaded_by: None,
    }
}

#[cfg(test)]
#[path = "pipe_tests.rs"]
mod tests;
