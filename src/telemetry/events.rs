//! Named events of the producers, the consumer group, MSK IAM and the process: each function logs
//! and counts together, so metric names live only here (the sinks' are in [`super::sink_events`],
//! the warehouse's in [`super::ingest_events`]).
//!
//! Counters an alert or the dashboard reads exist from the moment their labels are known:
//! process-wide ones at start ([`pipeline_started`]), a partition's when its sink starts
//! ([`super::sink_events::sink_started`]), the token's when MSK IAM is set up ([`token_auth_started`]). Prometheus's
//! `increase()` needs a sample before the first event, or the first one never alerts.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, gauge, Unit};

use super::sink_events::COMMIT_ERRORS;
use super::PipelineStats;

pub(crate) const TICKS_PRODUCED: &str = "tickstream_ticks_produced_total";
pub(crate) const TICKS_ACKED: &str = "tickstream_ticks_acked_total";
const TICKS_FAILED: &str = "tickstream_ticks_failed_total";
const QUEUE_FULL: &str = "tickstream_producer_queue_full_total";
const CSV_ROWS: &str = "tickstream_csv_rows_total";
const GROUP_STUCK: &str = "tickstream_consumer_group_stuck_total";
const CONSUMER_LAG: &str = "tickstream_sink_consumer_lag";
const CONSUMER_ERRORS: &str = "tickstream_consumer_errors_total";
const TOKEN_REFRESH: &str = "tickstream_token_refresh_total";
const TOKEN_EXPIRY: &str = "tickstream_token_expiry_seconds";
/// The client libraries' standard name: a new value means a new process.
const PROCESS_START: &str = "process_start_time_seconds";

/// Every histogram and its buckets, for the recorder.
pub const HISTOGRAMS: &[(&str, &[f64])] = &[
    (
        super::sink_events::FLUSH_DURATION,
        super::sink_events::FLUSH_DURATION_BUCKETS,
    ),
    (
        super::sink_events::FILE_LATENCY,
        super::sink_events::FILE_LATENCY_BUCKETS,
    ),
    (
        super::ingest_events::LATENCY,
        super::ingest_events::INGEST_LATENCY_BUCKETS,
    ),
    (
        super::group_events::REVOKE_DURATION,
        super::group_events::REVOKE_DURATION_BUCKETS,
    ),
    (super::feed_events::ACK_LATENCY, super::feed_events::ACK_LATENCY_BUCKETS),
    (
        super::feed_events::SEND_LATENCY,
        super::feed_events::ACK_LATENCY_BUCKETS,
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
        CSV_ROWS,
        Unit::Count,
        "Rows of a CSV replay: dealt to their symbol's producer, or bad (not a tick: skipped, logged with file:line); of the bad, dead_lettered to [producer.csv] dead_letter_topic"
    );
    describe_counter!(
        GROUP_STUCK,
        Unit::Count,
        "Times the sink consumer stayed in a group join state over 60 s since its last rebalance"
    );
    describe_counter!(
        COMMIT_ERRORS,
        Unit::Count,
        "Offset commits that failed; partition \"any\" for broker rejections (by cause in tickstream_consumer_commit_failures_total)"
    );
    describe_gauge!(
        CONSUMER_LAG,
        Unit::Count,
        "High watermark minus the consumer's committed offset, from librdkafka's statistics (every 5 s)"
    );
    describe_counter!(CONSUMER_ERRORS, Unit::Count, "Errors the sink consumer's poll returned");
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
    super::sink_events::describe();
    super::group_events::describe();
    super::ingest_events::describe();
    super::registry_events::describe();
    super::feed_events::describe();
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
        super::group_events::consumer_started();
    }
}

/// MSK IAM is set up: both results of a token refresh count from 0.
pub fn token_auth_started() {
    for result in ["ok", "error"] {
        counter!(TOKEN_REFRESH, "result" => result).increment(0);
    }
}

/// `n` replayed CSV rows were handed to their symbols' producer actors.
pub fn csv_rows_dealt(n: u64) {
    counter!(CSV_ROWS, "outcome" => "dealt").increment(n);
}

/// A bad CSV row was sent to the replay's dead-letter topic.
pub fn csv_row_dead_lettered() {
    counter!(CSV_ROWS, "outcome" => "dead_lettered").increment(1);
}

/// A replayed CSV row was not a tick (its file and line are logged where it was read).
pub fn csv_row_bad() {
    counter!(CSV_ROWS, "outcome" => "bad").increment(1);
}

pub fn tick_produced(stats: &PipelineStats) {
    ticks_produced(stats, 1);
}

/// `n` ticks handed to the producer at once.
pub fn ticks_produced(stats: &PipelineStats, n: u64) {
    PipelineStats::add(&stats.ticks_produced, n);
    stats.per_tick().produced.increment(n);
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

/// The sink consumer has been joining its group for too long; `action` says what is done.
pub fn consumer_group_stuck(join_state: &str, rebalance_age_ms: i64, action: &str) {
    counter!(GROUP_STUCK).increment(1);
    tracing::error!(
        join_state,
        since_last_rebalance_s = rebalance_age_ms / 1000,
        "the sink consumer is stuck joining its group: {action}"
    );
}

/// The broker refused a commit (logged, and counted by cause, in
/// [`super::group_events::commit_refused`]).
pub fn commit_failed(offsets: &str, err: &rdkafka::error::KafkaError) {
    counter!(COMMIT_ERRORS, "topic" => "any", "partition" => "any").increment(1);
    super::group_events::commit_refused(offsets, err);
}

pub fn consumer_lag(topic: &str, partition: i32, lag: i64) {
    gauge!(CONSUMER_LAG, "topic" => topic.to_owned(), "partition" => p(partition)).set(lag as f64);
}

pub fn consumer_error(count: u64, err: &rdkafka::error::KafkaError) {
    counter!(CONSUMER_ERRORS).increment(1);
    if count.is_power_of_two() {
        tracing::warn!(errors_so_far = count, "consumer error: {err}");
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
pub fn token_refresh_failed(err: &(dyn std::error::Error + 'static), remaining: Duration, retry_in: Duration) {
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
