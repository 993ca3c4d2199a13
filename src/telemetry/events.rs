//! Named events: each function logs and counts together, so metric names live only here.
//!
//! Counters an alert or the dashboard reads exist from the moment their labels are known:
//! process-wide ones at start ([`pipeline_started`]), a partition's when its sink starts
//! ([`sink_started`]), the token's when MSK IAM is set up ([`token_auth_started`]). Prometheus's
//! `increase()` needs a sample before the first event, or the first one never alerts.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};

use super::PipelineStats;
use crate::sink::resume::ResumePlan;

pub(crate) const TICKS_PRODUCED: &str = "tickstream_ticks_produced_total";
pub(crate) const TICKS_ACKED: &str = "tickstream_ticks_acked_total";
const TICKS_FAILED: &str = "tickstream_ticks_failed_total";
const QUEUE_FULL: &str = "tickstream_producer_queue_full_total";
const RECORDS_CONSUMED: &str = "tickstream_sink_records_consumed_total";
const BUFFER_RECORDS: &str = "tickstream_sink_buffer_records";
const FLUSH_DURATION: &str = "tickstream_sink_flush_duration_seconds";
const FILE_LATENCY: &str = "tickstream_sink_file_latency_seconds";
const FILES_UPLOADED: &str = "tickstream_sink_files_uploaded_total";
const BYTES_UPLOADED: &str = "tickstream_sink_bytes_uploaded_total";
const DEAD_LETTERS: &str = "tickstream_sink_dead_letters_total";
const COMMITTED_OFFSET: &str = "tickstream_sink_committed_offset";
const GROUP_STUCK: &str = "tickstream_consumer_group_stuck_total";
const COMMIT_ERRORS: &str = "tickstream_sink_commit_errors_total";
const CONSUMER_LAG: &str = "tickstream_sink_consumer_lag";
const OFFSETS_MISSING: &str = "tickstream_sink_offsets_missing_total";
const UPLOAD_ERRORS: &str = "tickstream_sink_upload_errors_total";
const PLAN_ERRORS: &str = "tickstream_sink_plan_errors_total";
const CONSUMER_ERRORS: &str = "tickstream_consumer_errors_total";
const PAUSES: &str = "tickstream_sink_pauses_total";
const TOKEN_REFRESH: &str = "tickstream_token_refresh_total";
const TOKEN_EXPIRY: &str = "tickstream_token_expiry_seconds";
/// The client libraries' standard name: a new value means a new process.
const PROCESS_START: &str = "process_start_time_seconds";

/// Buckets of `tickstream_sink_flush_duration_seconds` (PUT latency, retries included).
pub const FLUSH_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Buckets of `tickstream_sink_file_latency_seconds` (a file's first record → in S3): around
/// `rotate.interval.ms`, from a 1 s local rotation to the 60 s default and an outage's backlog.
pub const FILE_LATENCY_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 1.25, 1.5, 2.0, 5.0, 10.0, 30.0, 60.0, 62.5, 65.0, 75.0, 90.0, 120.0, 300.0, 600.0,
];

/// Every histogram and its buckets, for the recorder.
pub const HISTOGRAMS: &[(&str, &[f64])] = &[
    (FLUSH_DURATION, FLUSH_DURATION_BUCKETS),
    (FILE_LATENCY, FILE_LATENCY_BUCKETS),
    (
        super::ingest_events::LATENCY,
        super::ingest_events::INGEST_LATENCY_BUCKETS,
    ),
];

/// The HELP text and unit of every metric here; call once after installing a recorder.
pub fn describe() {
    describe_counter!(TICKS_PRODUCED, Unit::Count, "Ticks handed to the Kafka producer");
    describe_counter!(TICKS_ACKED, Unit::Count, "Ticks the broker acknowledged (acks=all)");
    describe_counter!(
        TICKS_FAILED,
        Unit::Count,
        "Ticks the broker refused for good (authorization, message size, unknown topic)"
    );
    describe_counter!(
        QUEUE_FULL,
        Unit::Count,
        "Times a producer actor waited on a full local producer queue (backpressure)"
    );
    describe_counter!(
        RECORDS_CONSUMED,
        Unit::Count,
        "Records routed from Kafka to the partition's sink"
    );
    describe_gauge!(
        BUFFER_RECORDS,
        Unit::Count,
        "Records in the partition's open file, not yet uploaded"
    );
    describe_histogram!(
        FLUSH_DURATION,
        Unit::Seconds,
        "Time to put one file into S3, retries included"
    );
    describe_histogram!(
        FILE_LATENCY,
        Unit::Seconds,
        "From the Kafka timestamp of a file's first record to the file being in S3: the longest wait of any record in it"
    );
    describe_counter!(FILES_UPLOADED, Unit::Count, "Data files written to S3");
    describe_counter!(BYTES_UPLOADED, Unit::Bytes, "Bytes of data files written to S3");
    describe_counter!(
        DEAD_LETTERS,
        Unit::Count,
        "Malformed records written to the dead-letter prefix"
    );
    describe_gauge!(
        COMMITTED_OFFSET,
        Unit::Count,
        "The partition's last committed Kafka offset"
    );
    describe_counter!(
        GROUP_STUCK,
        Unit::Count,
        "Times the sink consumer stayed in a group join state over 60 s since its last rebalance"
    );
    describe_counter!(
        COMMIT_ERRORS,
        Unit::Count,
        "Offset commits that failed (the next commit covers them); partition \"any\" for broker rejections"
    );
    describe_gauge!(
        CONSUMER_LAG,
        Unit::Count,
        "High watermark minus the consumer's committed offset, from librdkafka's statistics (every 5 s)"
    );
    describe_counter!(
        OFFSETS_MISSING,
        Unit::Count,
        "Offsets Kafka deleted (retention) before the sink wrote them to S3: data loss"
    );
    describe_counter!(UPLOAD_ERRORS, Unit::Count, "Failed PUT attempts to S3, each retried");
    describe_counter!(
        PLAN_ERRORS,
        Unit::Count,
        "Failed attempts to work out where a partition resumes (Kafka or S3 did not answer), each retried"
    );
    describe_counter!(CONSUMER_ERRORS, Unit::Count, "Errors the sink consumer's poll returned");
    describe_counter!(
        PAUSES,
        Unit::Count,
        "Times the partition was paused: max.buffered.records held, or an upload failing"
    );
    describe_counter!(
        TOKEN_REFRESH,
        Unit::Count,
        "MSK IAM token signings, by result (ok or error)"
    );
    describe_gauge!(TOKEN_EXPIRY, Unit::Seconds, "Seconds left on the MSK IAM token in use");
    describe_gauge!(
        PROCESS_START,
        Unit::Seconds,
        "Start time of the process since the Unix epoch"
    );
    super::ingest_events::describe();
}

/// The process started: its start time, so Prometheus sees a restart however fast it was (an
/// escalation exits at once, and systemd restarts within seconds: too fast for `up`).
pub fn process_started() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    gauge!(PROCESS_START).set(now);
}

fn p(partition: i32) -> String {
    partition.to_string()
}

/// The pipeline is starting: the process-wide counters of what it runs exist from 0.
pub fn pipeline_started(producing: bool, sinking: bool) {
    if producing {
        for name in [TICKS_PRODUCED, TICKS_ACKED, TICKS_FAILED, QUEUE_FULL] {
            counter!(name).increment(0);
        }
    }
    if sinking {
        counter!(GROUP_STUCK).increment(0);
        counter!(CONSUMER_ERRORS).increment(0);
        counter!(COMMIT_ERRORS, "partition" => "any").increment(0);
    }
}

/// A partition's sink started (assignment or restart): its counters exist from 0.
pub fn sink_started(partition: i32) {
    let label = p(partition);
    for name in [
        RECORDS_CONSUMED,
        FILES_UPLOADED,
        BYTES_UPLOADED,
        DEAD_LETTERS,
        OFFSETS_MISSING,
        COMMIT_ERRORS,
        PAUSES,
        PLAN_ERRORS,
    ] {
        counter!(name, "partition" => label.clone()).increment(0);
    }
    for retriable in ["true", "false"] {
        counter!(UPLOAD_ERRORS, "partition" => label.clone(), "retriable" => retriable).increment(0);
    }
    gauge!(BUFFER_RECORDS, "partition" => label).set(0.0);
}

/// MSK IAM is set up: both results of a token refresh count from 0.
pub fn token_auth_started() {
    for result in ["ok", "error"] {
        counter!(TOKEN_REFRESH, "result" => result).increment(0);
    }
}

pub fn tick_produced(stats: &PipelineStats) {
    PipelineStats::add(&stats.ticks_produced, 1);
    stats.per_tick().produced.increment(1);
}

pub fn tick_acked(stats: &PipelineStats) {
    PipelineStats::add(&stats.ticks_acked, 1);
    stats.per_tick().acked.increment(1);
}

pub fn tick_delivery_failed(stats: &PipelineStats, symbol: &str, err: &rdkafka::error::KafkaError) {
    PipelineStats::add(&stats.ticks_failed, 1);
    counter!(TICKS_FAILED).increment(1);
    tracing::error!(symbol, "tick delivery failed permanently: {err}");
}

pub fn producer_queue_full() {
    counter!(QUEUE_FULL).increment(1);
}

pub fn records_consumed(stats: &PipelineStats, partition: i32, n: u64) {
    PipelineStats::add(&stats.records_consumed, n);
    counter!(RECORDS_CONSUMED, "partition" => p(partition)).increment(n);
}

pub fn sink_buffer(partition: i32, records: u64) {
    gauge!(BUFFER_RECORDS, "partition" => p(partition)).set(records as f64);
}

/// What [`file_uploaded`] reports of one file.
pub struct UploadedFile<'a> {
    pub key: &'a str,
    pub bytes: usize,
    pub dead_letter: bool,
    /// The PUT, retries included.
    pub took: Duration,
    /// Since the Kafka timestamp of the file's first record, when it has one.
    pub waited: Option<Duration>,
}

pub fn file_uploaded(stats: &PipelineStats, partition: i32, file: &UploadedFile<'_>) {
    histogram!(FLUSH_DURATION).record(file.took.as_secs_f64());
    tracing::debug!(
        partition,
        bytes = file.bytes,
        dead_letter = file.dead_letter,
        took_ms = file.took.as_millis() as u64,
        "file uploaded"
    );
    if file.dead_letter {
        PipelineStats::add(&stats.dead_letters, 1);
        counter!(DEAD_LETTERS, "partition" => p(partition)).increment(1);
        return;
    }
    if let Some(waited) = file.waited {
        histogram!(FILE_LATENCY).record(waited.as_secs_f64());
    }
    PipelineStats::add(&stats.files_uploaded, 1);
    PipelineStats::add(&stats.bytes_uploaded, file.bytes as u64);
    stats.file_written(partition);
    counter!(FILES_UPLOADED, "partition" => p(partition)).increment(1);
    counter!(BYTES_UPLOADED, "partition" => p(partition)).increment(file.bytes as u64);
}

pub fn committed(stats: &PipelineStats, partition: i32, offset: i64) {
    stats.committed(partition, offset);
    gauge!(COMMITTED_OFFSET, "partition" => p(partition)).set(offset as f64);
}

/// The sink consumer has been joining its group for too long; `action` says what is done.
pub fn consumer_group_stuck(join_state: &str, rebalance_age_ms: i64, action: &str) {
    counter!(GROUP_STUCK).increment(1);
    tracing::error!(
        join_state,
        since_last_rebalance_s = rebalance_age_ms / 1000,
        "the sink consumer is stuck joining its group: {action}"
    );
}

pub fn commit_error(partition: i32, offset: i64, err: &str) {
    counter!(COMMIT_ERRORS, "partition" => p(partition)).increment(1);
    tracing::warn!(
        partition,
        offset,
        "committing the offset failed (the next commit covers it): {err}"
    );
}

pub fn commit_failed(offsets: &str, err: &rdkafka::error::KafkaError) {
    counter!(COMMIT_ERRORS, "partition" => "any").increment(1);
    tracing::warn!(
        offsets,
        "the broker rejected a commit (the next commit covers it): {err}"
    );
}

pub fn consumer_lag(partition: i32, lag: i64) {
    gauge!(CONSUMER_LAG, "partition" => p(partition)).set(lag as f64);
}

pub fn offsets_missing(stats: &PipelineStats, partition: i32, from: i64, to: i64) {
    let n = (to - from) as u64;
    PipelineStats::add(&stats.offsets_missing, n);
    counter!(OFFSETS_MISSING, "partition" => p(partition)).increment(n);
    tracing::error!(
        partition,
        from,
        to,
        "DATA LOSS: offsets [{from}, {to}) are no longer in Kafka (deleted by retention before they were sunk)"
    );
}

/// One failed PUT attempt; counted here, logged at debug (the WARN line for S3 comes from the
/// reachability record, once per interval for every partition).
pub fn upload_retry(partition: i32, key: &str, retriable: bool, err: &crate::s3::S3Error, delay: Duration) {
    counter!(UPLOAD_ERRORS, "partition" => p(partition), "retriable" => retriable.to_string()).increment(1);
    tracing::debug!(
        partition,
        key,
        retriable,
        delay_ms = delay.as_millis() as u64,
        "upload failed, retrying: {}",
        crate::error::chain(err)
    );
}

pub fn sink_planned(partition: i32, committed: Option<i64>, plan: &ResumePlan) {
    if let Some(c) = plan.committed_not_in_s3 {
        tracing::warn!(
            partition,
            committed = c,
            start = plan.start,
            "no file in S3 ends at the committed offset: re-reading from the earliest offset, skipping files already in S3"
        );
    }
    tracing::info!(
        partition,
        ?committed,
        start = plan.start,
        skip_files = plan.existing.len(),
        "sink resumes"
    );
}

pub fn sink_plan_failed(partition: i32, err: &str, retry_in: Duration) {
    counter!(PLAN_ERRORS, "partition" => p(partition)).increment(1);
    tracing::warn!(
        partition,
        retry_in_ms = retry_in.as_millis() as u64,
        "cannot work out where to resume yet: {err}"
    );
}

pub fn drain_incomplete(partition: i32, detail: &str) {
    tracing::error!(
        partition,
        "sink did not drain in time; its open batch will be re-read at the next start: {detail}"
    );
}

pub fn consumer_error(count: u64, err: &rdkafka::error::KafkaError) {
    counter!(CONSUMER_ERRORS).increment(1);
    if count.is_power_of_two() {
        tracing::warn!(errors_so_far = count, "consumer error: {err}");
    }
}

pub fn partition_paused(partition: i32, held: i64, uploads_failing: bool) {
    counter!(PAUSES, "partition" => p(partition)).increment(1);
    if uploads_failing {
        tracing::info!(partition, held, "partition paused until its failing upload lands");
    } else {
        tracing::debug!(partition, held, "partition paused: its sink holds max.buffered.records");
    }
}

/// A new MSK IAM token is in use (`remaining`: its lifetime from now).
pub fn token_refreshed(remaining: Duration, next_in: Duration) {
    counter!(TOKEN_REFRESH, "result" => "ok").increment(1);
    gauge!(TOKEN_EXPIRY).set(remaining.as_secs_f64());
    tracing::info!(
        expires_in_s = remaining.as_secs(),
        next_refresh_in_s = next_in.as_secs(),
        "MSK IAM token refreshed"
    );
}

/// Signing a token failed; the current one (valid for `remaining`) stays in use.
pub fn token_refresh_failed(err: &crate::auth::AuthError, remaining: Duration, retry_in: Duration) {
    counter!(TOKEN_REFRESH, "result" => "error").increment(1);
    gauge!(TOKEN_EXPIRY).set(remaining.as_secs_f64());
    tracing::warn!(
        current_token_expires_in_s = remaining.as_secs(),
        retry_in_ms = retry_in.as_millis() as u64,
        "MSK IAM token refresh failed: {}",
        crate::error::chain(err)
    );
}

/// Seconds left on the token in use (updated between refreshes too, so the alert sees it fall).
pub fn token_remaining(remaining: Duration) {
    gauge!(TOKEN_EXPIRY).set(remaining.as_secs_f64());
}
