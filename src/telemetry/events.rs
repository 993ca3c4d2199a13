//! Named events: each function logs and counts together, so metric names live only here.

use std::time::Duration;

use metrics::{counter, gauge, histogram};

use super::PipelineStats;
use crate::sink::resume::ResumePlan;

/// Buckets of `tickstream_sink_flush_duration_seconds` (PUT latency, retries included).
pub const FLUSH_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

fn p(partition: i32) -> String {
    partition.to_string()
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
    counter!("tickstream_ticks_failed_total").increment(1);
    tracing::error!(symbol, "tick delivery failed permanently: {err}");
}

pub fn producer_queue_full() {
    counter!("tickstream_producer_queue_full_total").increment(1);
}

pub fn records_consumed(stats: &PipelineStats, partition: i32, n: u64) {
    PipelineStats::add(&stats.records_consumed, n);
    counter!("tickstream_sink_records_consumed_total", "partition" => p(partition)).increment(n);
}

pub fn sink_buffer(partition: i32, records: u64) {
    gauge!("tickstream_sink_buffer_records", "partition" => p(partition)).set(records as f64);
}

pub fn file_uploaded(
    stats: &PipelineStats,
    partition: i32,
    key: &str,
    bytes: usize,
    dead_letter: bool,
    took: Duration,
) {
    histogram!("tickstream_sink_flush_duration_seconds").record(took.as_secs_f64());
    tracing::debug!(
        partition,
        bytes,
        dead_letter,
        took_ms = took.as_millis() as u64,
        "file uploaded"
    );
    if dead_letter {
        PipelineStats::add(&stats.dead_letters, 1);
        counter!("tickstream_sink_dead_letters_total", "partition" => p(partition)).increment(1);
        return;
    }
    PipelineStats::add(&stats.files_uploaded, 1);
    PipelineStats::add(&stats.bytes_uploaded, bytes as u64);
    stats.file_written(partition);
    stats.note_file_landed(partition, key);
    counter!("tickstream_sink_files_uploaded_total", "partition" => p(partition)).increment(1);
    counter!("tickstream_sink_bytes_uploaded_total", "partition" => p(partition)).increment(bytes as u64);
}

pub fn committed(stats: &PipelineStats, partition: i32, offset: i64) {
    stats.committed(partition, offset);
    gauge!("tickstream_sink_committed_offset", "partition" => p(partition)).set(offset as f64);
}

/// The sink consumer has been joining its group for too long; `action` says what is done.
pub fn consumer_group_stuck(join_state: &str, rebalance_age_ms: i64, action: &str) {
    counter!("tickstream_consumer_group_stuck_total").increment(1);
    tracing::error!(
        join_state,
        since_last_rebalance_s = rebalance_age_ms / 1000,
        "the sink consumer is stuck joining its group: {action}"
    );
}

pub fn commit_error(partition: i32, offset: i64, err: &str) {
    counter!("tickstream_sink_commit_errors_total", "partition" => p(partition)).increment(1);
    tracing::warn!(
        partition,
        offset,
        "committing the offset failed (the next commit covers it): {err}"
    );
}

pub fn commit_failed(offsets: &str, err: &rdkafka::error::KafkaError) {
    counter!("tickstream_sink_commit_errors_total", "partition" => "any").increment(1);
    tracing::warn!(
        offsets,
        "the broker rejected a commit (the next commit covers it): {err}"
    );
}

pub fn consumer_lag(partition: i32, lag: i64) {
    gauge!("tickstream_sink_consumer_lag", "partition" => p(partition)).set(lag as f64);
}

pub fn offsets_missing(stats: &PipelineStats, partition: i32, from: i64, to: i64) {
    let n = (to - from) as u64;
    PipelineStats::add(&stats.offsets_missing, n);
    counter!("tickstream_sink_offsets_missing_total", "partition" => p(partition)).increment(n);
    tracing::error!(
        partition,
        from,
        to,
        "DATA LOSS: offsets [{from}, {to}) are no longer in Kafka (deleted by retention before they were sunk)"
    );
}

pub fn upload_retry(partition: i32, key: &str, retriable: bool, err: &crate::s3::S3Error, delay: Duration) {
    counter!("tickstream_sink_upload_errors_total", "partition" => p(partition), "retriable" => retriable.to_string())
        .increment(1);
    let delay_ms = delay.as_millis() as u64;
    if retriable {
        tracing::warn!(partition, key, delay_ms, "upload failed, retrying: {err}");
    } else {
        tracing::error!(
            partition,
            key,
            delay_ms,
            "upload failed and needs attention; retrying: {err}"
        );
    }
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
    counter!("tickstream_sink_plan_errors_total", "partition" => p(partition)).increment(1);
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
    counter!("tickstream_consumer_errors_total").increment(1);
    if count.is_power_of_two() {
        tracing::warn!(errors_so_far = count, "consumer error: {err}");
    }
}

pub fn partition_paused(partition: i32, held: i64, uploads_failing: bool) {
    counter!("tickstream_sink_pauses_total", "partition" => p(partition)).increment(1);
    if uploads_failing {
        tracing::info!(partition, held, "partition paused until its failing upload lands");
    } else {
        tracing::debug!(partition, held, "partition paused: its sink holds max.buffered.records");
    }
}

/// A new MSK IAM token is in use (`remaining`: its lifetime from now).
pub fn token_refreshed(remaining: Duration, next_in: Duration) {
    counter!("tickstream_token_refresh_total", "result" => "ok").increment(1);
    gauge!("tickstream_token_expiry_seconds").set(remaining.as_secs_f64());
    tracing::info!(
        expires_in_s = remaining.as_secs(),
        next_refresh_in_s = next_in.as_secs(),
        "MSK IAM token refreshed"
    );
}

/// Signing a token failed; the current one (valid for `remaining`) stays in use.
pub fn token_refresh_failed(err: &crate::auth::AuthError, remaining: Duration, retry_in: Duration) {
    counter!("tickstream_token_refresh_total", "result" => "error").increment(1);
    gauge!("tickstream_token_expiry_seconds").set(remaining.as_secs_f64());
    tracing::warn!(
        current_token_expires_in_s = remaining.as_secs(),
        retry_in_ms = retry_in.as_millis() as u64,
        "MSK IAM token refresh failed: {err}"
    );
}

/// Seconds left on the token in use (updated between refreshes too, so the alert sees it fall).
pub fn token_remaining(remaining: Duration) {
    gauge!("tickstream_token_expiry_seconds").set(remaining.as_secs_f64());
}
