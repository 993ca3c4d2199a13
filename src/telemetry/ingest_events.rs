//! The ingestion watcher's events: each logs and counts together.

use std::time::{Duration, SystemTime};

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};

const PENDING: &str = "tickstream_ingest_pending_files";
const FILES_LOADED: &str = "tickstream_ingest_files_loaded_total";
const ROWS_LOADED: &str = "tickstream_ingest_rows_loaded_total";
const LAST_LOAD: &str = "tickstream_ingest_last_load_timestamp_seconds";
pub(crate) const LATENCY: &str = "tickstream_ingest_latency_seconds";
const ERRORS: &str = "tickstream_ingest_errors_total";
const ROWS_REJECTED: &str = "tickstream_ingest_rows_rejected_total";
/// The kinds of `tickstream_ingest_errors_total`.
const ERROR_KINDS: [&str; 5] = ["parse", "fetch", "table", "warehouse", "poll"];

/// Buckets of `tickstream_ingest_latency_seconds` (tick timestamp → row loaded).
pub const INGEST_LATENCY_BUCKETS: &[f64] = &[
    0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// The HELP text and unit of every ingestion metric.
pub fn describe() {
    describe_gauge!(
        PENDING,
        Unit::Count,
        "Files in S3 the warehouse has not loaded yet (listed at the last poll)"
    );
    describe_counter!(FILES_LOADED, Unit::Count, "Files loaded into the warehouse");
    describe_counter!(ROWS_LOADED, Unit::Count, "Rows loaded into the warehouse");
    describe_gauge!(
        LAST_LOAD,
        Unit::Seconds,
        "Unix time of the last file loaded into the warehouse"
    );
    describe_histogram!(
        LATENCY,
        Unit::Seconds,
        "Per row: from the record's timestamp to the row being queryable in the warehouse"
    );
    describe_counter!(
        ROWS_REJECTED,
        Unit::Count,
        "Rows left out of a file loaded under warehouse.on_error = continue (the file is PARTIALLY_LOADED)"
    );
    describe_counter!(
        ERRORS,
        Unit::Count,
        "Ingestion errors by kind: parse (file recorded as LOAD_FAILED), fetch (S3 read, retried), poll (listing or warehouse, retried)"
    );
}

/// The watcher (or the Snowpipe monitor) started: its counters exist from 0.
pub fn watcher_started() {
    counter!(FILES_LOADED).increment(0);
    counter!(ROWS_LOADED).increment(0);
    counter!(ROWS_REJECTED).increment(0);
    for kind in ERROR_KINDS {
        counter!(ERRORS, "kind" => kind).increment(0);
    }
    gauge!(PENDING).set(0.0);
}

/// Files listed but not yet loaded, and the oldest of them.
pub fn pending(files: usize, oldest: Option<&str>) {
    gauge!(PENDING).set(files as f64);
    if let Some(key) = oldest.filter(|_| files > 0) {
        tracing::debug!(files, oldest = key, "files pending ingestion");
    }
}

fn count_loaded(rows: u64) {
    counter!(FILES_LOADED).increment(1);
    counter!(ROWS_LOADED).increment(rows);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    gauge!(LAST_LOAD).set(now);
}

pub fn file_loaded(key: &str, rows: usize, took: Duration, latencies_s: &[f64]) {
    count_loaded(rows as u64);
    let h = histogram!(LATENCY);
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
    counter!(ERRORS, "kind" => "parse").increment(1);
    tracing::error!(
        key,
        "file not loaded (recorded as LOAD_FAILED in LOAD_HISTORY): {first_error}"
    );
}

/// Rows of a file left out under `on_error = continue`; the rest loaded.
pub fn rows_rejected(key: &str, rows: usize, first_error: &str) {
    counter!(ROWS_REJECTED).increment(rows as u64);
    tracing::warn!(
        key,
        rows,
        "rows left out of the file (warehouse.on_error = continue; PARTIALLY_LOADED in LOAD_HISTORY): {first_error}"
    );
}

/// An object could not be read; retried at the next poll.
pub fn fetch_failed(key: &str, err: &str) {
    counter!(ERRORS, "kind" => "fetch").increment(1);
    tracing::warn!(key, "reading a file to ingest failed, retrying at the next poll: {err}");
}

/// `topic`'s table cannot be made ready in the warehouse (`err`): its files (from `key` on,
/// when one waits already) wait for the next poll; other topics' files load.
pub fn table_unready(topic: &str, key: Option<&str>, err: &str) {
    counter!(ERRORS, "kind" => "table").increment(1);
    tracing::warn!(
        topic,
        key,
        "the warehouse table of a topic is not ready, its files wait for the next poll: {err}"
    );
}

/// The warehouse file failed (cannot be opened, read or written), which the reachability
/// record logs: counted only.
pub fn warehouse_failed_quietly() {
    counter!(ERRORS, "kind" => "warehouse").increment(1);
}

/// A poll failed on S3, which the reachability record logs: counted only.
pub fn poll_failed_quietly() {
    counter!(ERRORS, "kind" => "poll").increment(1);
}

/// A whole poll failed (listing S3, or the warehouse file).
pub fn poll_failed(err: &str) {
    counter!(ERRORS, "kind" => "poll").increment(1);
    tracing::warn!("ingestion poll failed, retrying: {err}");
}
