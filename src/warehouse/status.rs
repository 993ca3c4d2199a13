//! Pipe status in the shape of Snowflake's `SYSTEM$PIPE_STATUS`, plus end-to-end latency.

use std::fmt::Write as _;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::load::known_keys;
use super::source::ObjectSource;
use super::WarehouseError;
use crate::s3::keys::KeyLayout;

/// Latency percentiles (seconds, tick timestamp → row loaded) over recent rows.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    pub rows: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// What `tickstream status` shows. Field names follow `SYSTEM$PIPE_STATUS` in JSON.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipeStatus {
    /// `RUNNING`, `STALLED_EXECUTION_ERROR`, `STOPPED` (no watcher polled recently) or
    /// `NOT_STARTED` (no watcher ever ran on this warehouse).
    pub execution_state: String,
    pub pending_file_count: usize,
    pub last_ingested_timestamp: Option<String>,
    pub last_ingested_file_path: Option<String>,
    pub oldest_pending_file_path: Option<String>,
    pub last_poll: Option<String>,
    pub last_error: Option<String>,
    /// Files loaded whole or in part (PARTIALLY_LOADED: some rows left out, `on_error = continue`).
    pub loaded_files: u64,
    pub loaded_rows: u64,
    /// Rows left out of partially loaded files.
    pub rejected_rows: u64,
    pub failed_files: u64,
    pub last_failed_file_path: Option<String>,
    /// Over the rows loaded in the last 15 minutes.
    pub latency: Option<Latency>,
    /// The process that holds the SQLite warehouse's lease and so loads it (pid, host, since
    /// when); `None` when none does (or for Snowflake).
    pub loaded_by: Option<String>,
}

/// Percentile `q` (0–1) of sorted `v` (nearest rank).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Reads the warehouse side of the status (everything but the pending files); the latency over
/// the `tables` that have a `timestamp` column.
pub fn from_warehouse(db: &Connection, tables: &[String]) -> Result<PipeStatus, WarehouseError> {
    let state: Option<(String, String, Option<String>, i64, f64)> = db
        .query_row(
            "SELECT state, last_poll, last_error, poll_interval_ms,
                    (julianday('now') - julianday(last_poll)) * 86400.0 FROM PIPE_STATE WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let execution_state = match &state {
        None => "NOT_STARTED".to_owned(),
        Some((_, _, _, interval_ms, age_s)) if *age_s > (3.0 * *interval_ms as f64 / 1000.0).max(10.0) => {
            "STOPPED".to_owned()
        }
        Some((s, ..)) => s.clone(),
    };
    let (loaded_files, loaded_rows, rejected_rows): (i64, i64, i64) = db.query_row(
        "SELECT COUNT(*), COALESCE(SUM(rows), 0), COALESCE(SUM(rows_rejected), 0) FROM LOAD_HISTORY
         WHERE status IN ('LOADED', 'PARTIALLY_LOADED')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let failed_files: i64 = db.query_row(
        "SELECT COUNT(*) FROM LOAD_HISTORY WHERE status = 'LOAD_FAILED'",
        [],
        |r| r.get(0),
    )?;
    let last: Option<(String, String)> = db
        .query_row(
            "SELECT loaded_at, s3_key FROM LOAD_HISTORY WHERE status IN ('LOADED', 'PARTIALLY_LOADED')
             ORDER BY loaded_at DESC, s3_key DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let last_failed: Option<String> = db
        .query_row(
            "SELECT s3_key FROM LOAD_HISTORY WHERE status = 'LOAD_FAILED' ORDER BY loaded_at DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let mut latencies: Vec<f64> = Vec::new();
    for table in tables {
        let cols = super::table::existing_columns(db, table)?;
        if !cols.iter().any(|c| c.eq_ignore_ascii_case("timestamp")) {
            continue;
        }
        let mut stmt = db.prepare(&format!(
            "SELECT (julianday(loaded_at) - julianday(timestamp)) * 86400.0 FROM {}
             WHERE loaded_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-15 minutes')",
            super::table::quoted(table)
        ))?;
        let rows = stmt.query_map([], |r| r.get::<_, Option<f64>>(0))?;
        latencies.extend(rows.filter_map(|r| r.ok().flatten()));
    }
    latencies.sort_by(f64::total_cmp);
    let latency = (!latencies.is_empty()).then(|| Latency {
        rows: latencies.len(),
        p50: percentile(&latencies, 0.50),
        p95: percentile(&latencies, 0.95),
        p99: percentile(&latencies, 0.99),
    });
    Ok(PipeStatus {
        execution_state,
        pending_file_count: 0,
        last_ingested_timestamp: last.as_ref().map(|(t, _)| t.clone()),
        last_ingested_file_path: last.map(|(_, k)| k),
        oldest_pending_file_path: None,
        last_poll: state.as_ref().map(|s| s.1.clone()),
        last_error: state.and_then(|s| s.2),
        loaded_files: loaded_files as u64,
        loaded_rows: loaded_rows as u64,
        rejected_rows: rejected_rows as u64,
        failed_files: failed_files as u64,
        last_failed_file_path: last_failed,
        latency,
        loaded_by: None,
    })
}

/// The full status: the warehouse's view plus the files in S3 that LOAD_HISTORY lacks.
/// `layouts` are the key layouts of the topics to look at.
pub async fn pipe_status<S: ObjectSource>(
    source: &S,
    db: &Connection,
    tables: &[String],
    layouts: &[KeyLayout],
) -> Result<PipeStatus, WarehouseError> {
    let mut status = from_warehouse(db, tables)?;
    let mut pending: Vec<(i64, String)> = Vec::new();
    for layout in layouts {
        let prefix = layout.topic_prefix();
        let keys = source.list(&prefix, None).await?;
        let known = known_keys(db, &keys)?;
        pending.extend(
            keys.into_iter()
                .filter(|k| !known.contains(k))
                .filter_map(|k| layout.parse_any(&k).map(|f| (f.start, k))),
        );
    }
    pending.sort();
    status.pending_file_count = pending.len();
    status.oldest_pending_file_path = pending.into_iter().next().map(|(_, k)| k);
    Ok(status)
}

impl PipeStatus {
    /// The human table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let rows = [
            ("executionState", self.execution_state.clone()),
            ("pendingFileCount", self.pending_file_count.to_string()),
            ("lastIngestedTimestamp", opt(&self.last_ingested_timestamp)),
            ("lastIngestedFilePath", opt(&self.last_ingested_file_path)),
            ("oldestPendingFilePath", opt(&self.oldest_pending_file_path)),
            ("lastPoll", opt(&self.last_poll)),
            ("lastError", opt(&self.last_error)),
            ("loadedFiles", self.loaded_files.to_string()),
            ("loadedRows", self.loaded_rows.to_string()),
            ("rejectedRows", self.rejected_rows.to_string()),
            ("failedFiles", self.failed_files.to_string()),
            ("lastFailedFilePath", opt(&self.last_failed_file_path)),
            ("loadedBy", opt(&self.loaded_by)),
        ];
        for (k, v) in rows {
            let _ = writeln!(out, "{k:<24}{v}");
        }
        match &self.latency {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "{:<24}p50 {:.3} s  p95 {:.3} s  p99 {:.3} s  ({} rows, last 15 min)",
                    "latency", l.p50, l.p95, l.p99, l.rows
                );
            }
            None => {
                let _ = writeln!(out, "{:<24}- (no rows loaded in the last 15 min)", "latency");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 50.0);
        assert_eq!(percentile(&v, 0.95), 95.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
