//! The ingestion watcher's events: each logs and counts together.

use std::time::{Duration, SystemTime};

use metrics::{counter, gauge, histogram};

/// Buckets of `tickstream_ingest_latency_seconds` (tick timestamp → row loaded).
pub const INGEST_LATENCY_BUCKETS: &[f64] = &[
    0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Files listed but not yet loaded, and the oldest of them.
pub fn pending(files: usize, oldest: Option<&str>) {
    gauge!("tickstream_ingest_pending_files").set(files as f64);
    if let Some(key) = oldest.filter(|_| files > 0) {
        tracing::debug!(files, oldest = key, "files pending ingestion");
    }
}

fn count_loaded(rows: u64) {
    counter!("tickstream_ingest_files_loaded_total").increment(1);
    counter!("tickstream_ingest_rows_loaded_total").increment(rows);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    gauge!("tickstream_ingest_last_load_timestamp_seconds").set(now);
}

pub fn file_loaded(key: &str, rows: usize, took: Duration, latencies_s: &[f64]) {
    count_loaded(rows as u64);
    let h = histogram!("tickstream_ingest_latency_seconds");
    for l in latencies_s {
        h.record(*l);
    }
    tracing::debug!(
        key,
        rows,
        took_ms = took.as_millis() as u64,
        "file loaded into the warehouse"
    );
}

/// Snowpipe loaded a file (seen in COPY_HISTORY by the Snowflake monitor).
pub fn snowpipe_loaded(key: &str, rows: u64) {
    count_loaded(rows);
    tracing::debug!(key, rows, "snowpipe loaded a file");
}

/// A file that does not parse: recorded as LOAD_FAILED, skipped for good.
pub fn file_failed(key: &str, first_error: &str) {
    counter!("tickstream_ingest_errors_total", "kind" => "parse").increment(1);
    tracing::error!(
        key,
        "file not loaded (recorded as LOAD_FAILED in LOAD_HISTORY): {first_error}"
    );
}

/// An object could not be read; retried at the next poll.
pub fn fetch_failed(key: &str, err: &str) {
    counter!("tickstream_ingest_errors_total", "kind" => "fetch").increment(1);
    tracing::warn!(key, "reading a file to ingest failed, retrying at the next poll: {err}");
}

/// A whole poll failed (listing S3, or the warehouse file).
pub fn poll_failed(err: &str) {
    counter!("tickstream_ingest_errors_total", "kind" => "poll").increment(1);
    tracing::warn!("ingestion poll failed, retrying: {err}");
}
