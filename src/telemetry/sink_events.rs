//! The sinks' named events (one partition's records, files, commits, pauses, gaps): each logs
//! and counts together. A partition's counters exist from its sink's start ([`sink_started`]).

use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};

use super::PipelineStats;
use crate::record::TopicPartition;

const RECORDS_CONSUMED: &str = "tickstream_sink_records_consumed_total";
const BUFFER_RECORDS: &str = "tickstream_sink_buffer_records";
const BUFFER_BYTES: &str = "tickstream_sink_buffer_bytes";
pub(crate) const FLUSH_DURATION: &str = "tickstream_sink_flush_duration_seconds";
pub(crate) const FILE_LATENCY: &str = "tickstream_sink_file_latency_seconds";
const FILES_UPLOADED: &str = "tickstream_sink_files_uploaded_total";
const BYTES_UPLOADED: &str = "tickstream_sink_bytes_uploaded_total";
const DEAD_LETTERS: &str = "tickstream_sink_dead_letters_total";
const COMMITTED_OFFSET: &str = "tickstream_sink_committed_offset";
pub(crate) const COMMIT_ERRORS: &str = "tickstream_sink_commit_errors_total";
const OFFSETS_MISSING: &str = "tickstream_sink_offsets_missing_total";
const UPLOAD_ERRORS: &str = "tickstream_sink_upload_errors_total";
const PLAN_ERRORS: &str = "tickstream_sink_plan_errors_total";
const FOREIGN_COMMITS: &str = "tickstream_sink_foreign_commits_total";
const PAUSES: &str = "tickstream_sink_pauses_total";
const HALTED: &str = "tickstream_sink_halted";

/// Buckets of `tickstream_sink_flush_duration_seconds` (PUT latency, retries included).
pub const FLUSH_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Buckets of `tickstream_sink_file_latency_seconds` (a file's first record → in S3): around
/// `rotate.interval.ms`, from a 1 s local rotation to the 60 s default and an outage's backlog.
pub const FILE_LATENCY_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 1.25, 1.5, 2.0, 5.0, 10.0, 30.0, 60.0, 62.5, 65.0, 75.0, 90.0, 120.0, 300.0, 600.0,
];

/// The HELP text and unit of every sink metric.
pub fn describe() {
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
    describe_gauge!(
        BUFFER_BYTES,
        Unit::Bytes,
        "Bytes of the records in the partition's open file (JSON lines, or a Parquet file's column buffers)"
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
        "Records the converter refused, sent to the dead letters (S3 dlq/ or errors.deadletterqueue.topic.name)"
    );
    describe_gauge!(
        COMMITTED_OFFSET,
        Unit::Count,
        "The partition's last committed Kafka offset"
    );
    describe_counter!(
        OFFSETS_MISSING,
        Unit::Count,
        "Offsets Kafka deleted (retention) before the sink wrote them to S3: data loss"
    );
    describe_counter!(
        FOREIGN_COMMITS,
        Unit::Count,
        "Resumes from a committed offset tickstream did not make (an external reset of the group, enable.auto.commit), re-read from the earliest offset or, under field and time partitioners, followed"
    );
    describe_counter!(UPLOAD_ERRORS, Unit::Count, "Failed PUT attempts to S3, each retried");
    describe_counter!(
        PLAN_ERRORS,
        Unit::Count,
        "Failed attempts to work out where a partition resumes (Kafka or S3 did not answer), each retried"
    );
    describe_counter!(
        PAUSES,
        Unit::Count,
        "Times the partition was paused: max.buffered.records held, or an upload failing"
    );
    describe_gauge!(
        HALTED,
        Unit::Count,
        "1 while the partition is stopped at a record errors.tolerance=none does not let it skip"
    );
}

/// Every per-partition series is labelled with its topic and partition.
fn p(tp: &TopicPartition) -> Vec<metrics::Label> {
    vec![
        metrics::Label::new("topic", tp.topic.to_string()),
        metrics::Label::new("partition", tp.partition.to_string()),
    ]
}

/// What [`file_uploaded`] reports of one file.
pub struct UploadedFile<'a> {
    pub key: &'a str,
    pub bytes: usize,
    /// Records in the file.
    pub records: u64,
    /// A batch of dead letters (to S3 or to the dead-letter topic), not a data file.
    pub dead_letter: bool,
    /// The PUT, retries included.
    pub took: Duration,
    /// Since the Kafka timestamp of the file's first record, when it has one.
    pub waited: Option<Duration>,
}

/// A partition's sink started (assignment or restart): its counters exist from 0.
pub fn sink_started(tp: &TopicPartition) {
    let label = p(tp);
    for name in [
        RECORDS_CONSUMED,
        FILES_UPLOADED,
        BYTES_UPLOADED,
        DEAD_LETTERS,
        OFFSETS_MISSING,
        COMMIT_ERRORS,
        PAUSES,
        PLAN_ERRORS,
        FOREIGN_COMMITS,
    ] {
        counter!(name, label.clone()).increment(0);
    }
    for retriable in ["true", "false"] {
        counter!(UPLOAD_ERRORS, retriable_labels(tp, retriable)).increment(0);
    }
    gauge!(HALTED, label.clone()).set(0.0);
    gauge!(BUFFER_RECORDS, label.clone()).set(0.0);
    gauge!(BUFFER_BYTES, label).set(0.0);
}

pub fn records_consumed(stats: &PipelineStats, tp: &TopicPartition, n: u64) {
    PipelineStats::add(&stats.records_consumed, n);
    counter!(RECORDS_CONSUMED, p(tp)).increment(n);
}

/// What the partition's open file holds: records, and their bytes in memory.
pub fn sink_buffer(tp: &TopicPartition, records: u64, bytes: u64) {
    gauge!(BUFFER_RECORDS, p(tp)).set(records as f64);
    gauge!(BUFFER_BYTES, p(tp)).set(bytes as f64);
}

pub fn file_uploaded(stats: &PipelineStats, tp: &TopicPartition, file: &UploadedFile<'_>) {
    histogram!(FLUSH_DURATION).record(file.took.as_secs_f64());
    tracing::debug!(
        topic = &*tp.topic,
        partition = tp.partition,
        bytes = file.bytes,
        dead_letter = file.dead_letter,
        took_ms = file.took.as_millis() as u64,
        "file uploaded"
    );
    if file.dead_letter {
        PipelineStats::add(&stats.dead_letters, file.records);
        counter!(DEAD_LETTERS, p(tp)).increment(file.records);
        return;
    }
    if let Some(waited) = file.waited {
        histogram!(FILE_LATENCY).record(waited.as_secs_f64());
    }
    PipelineStats::add(&stats.files_uploaded, 1);
    PipelineStats::add(&stats.bytes_uploaded, file.bytes as u64);
    stats.file_written(tp);
    counter!(FILES_UPLOADED, p(tp)).increment(1);
    counter!(BYTES_UPLOADED, p(tp)).increment(file.bytes as u64);
}

pub fn committed(stats: &PipelineStats, tp: &TopicPartition, offset: i64) {
    stats.committed(tp, offset);
    gauge!(COMMITTED_OFFSET, p(tp)).set(offset as f64);
}

pub fn commit_error(tp: &TopicPartition, offset: i64, err: &str) {
    counter!(COMMIT_ERRORS, p(tp)).increment(1);
    tracing::warn!(
        topic = &*tp.topic,
        partition = tp.partition,
        offset,
        "committing the offset failed (the next commit covers it): {err}"
    );
}

pub fn offsets_missing(stats: &PipelineStats, tp: &TopicPartition, from: i64, to: i64) {
    let n = (to - from) as u64;
    PipelineStats::add(&stats.offsets_missing, n);
    counter!(OFFSETS_MISSING, p(tp)).increment(n);
    tracing::error!(
        topic = &*tp.topic,
        partition = tp.partition,
        from,
        to,
        "DATA LOSS: offsets [{from}, {to}) are no longer in Kafka (deleted by retention before they were sunk)"
    );
}

/// One failed PUT attempt; counted here, logged at debug (the WARN line for S3 comes from the
/// reachability record, once per interval for every partition).
pub fn upload_retry(
    tp: &TopicPartition,
    key: &str,
    retriable: bool,
    err: &(dyn std::error::Error + 'static),
    delay: Duration,
) {
    counter!(
        UPLOAD_ERRORS,
        retriable_labels(tp, if retriable { "true" } else { "false" })
    )
    .increment(1);
    tracing::debug!(
        topic = &*tp.topic,
        partition = tp.partition,
        key,
        retriable,
        delay_ms = delay.as_millis() as u64,
        "upload failed, retrying: {}",
        crate::error::chain(err)
    );
}

/// Where a sink resumes: the committed offset, where it reads from, how many files in S3 it skips,
/// and, when no file ends at the committed offset, that offset.
pub struct Resumed {
    pub committed: Option<i64>,
    /// The committed offset is tickstream's checkpoint.
    pub checkpoint: bool,
    pub start: i64,
    pub skip_files: usize,
    pub committed_not_in_s3: Option<i64>,
    /// A `field` or `time` partitioner follows a commit tickstream did not make.
    pub foreign_commit: Option<i64>,
}

pub fn sink_planned(tp: &TopicPartition, r: &Resumed) {
    if let Some(c) = r.committed_not_in_s3 {
        counter!(FOREIGN_COMMITS, p(tp)).increment(1);
        tracing::warn!(
            topic = &*tp.topic,
            partition = tp.partition,
            committed = c,
            start = r.start,
            "the committed offset is not tickstream's and no file in S3 ends at it (an external reset of the group, or enable.auto.commit): re-reading from the earliest offset, skipping files already in S3"
        );
    }
    if let Some(c) = r.foreign_commit {
        counter!(FOREIGN_COMMITS, p(tp)).increment(1);
        tracing::warn!(
            topic = &*tp.topic,
            partition = tp.partition,
            committed = c,
            "the committed offset is not tickstream's (an external reset of the group, or enable.auto.commit): resuming from it, so records below it that were never written to S3 are skipped; `tickstream verify` finds them"
        );
    }
    tracing::info!(
        topic = &*tp.topic,
        partition = tp.partition,
        committed = ?r.committed,
        checkpoint = r.checkpoint,
        start = r.start,
        skip_files = r.skip_files,
        "sink resumes"
    );
}

pub fn sink_plan_failed(tp: &TopicPartition, err: &str, class: crate::error::ErrorClass, retry_in: Duration) {
    counter!(PLAN_ERRORS, p(tp)).increment(1);
    tracing::warn!(
        topic = &*tp.topic,
        partition = tp.partition,
        retry_in_ms = retry_in.as_millis() as u64,
        class = class.as_str(),
        "cannot work out where to resume yet: {err}"
    );
}

/// A partition waits for the Schema Registry: a record's schema could not be fetched.
pub fn schema_wait(
    tp: &TopicPartition,
    offset: i64,
    schema_id: u32,
    err: &str,
    class: crate::error::ErrorClass,
    retry_in: Duration,
) {
    tracing::warn!(
        topic = &*tp.topic,
        partition = tp.partition,
        offset,
        schema_id,
        retry_in_ms = retry_in.as_millis() as u64,
        class = class.as_str(),
        "waiting for schema {schema_id} (the record at offset {offset} needs it): {err}"
    );
}

/// A lost partition's sink dropped `files` not yet sent (their records are re-read by the
/// partition's new owner from the last commit).
pub fn lost_files_dropped(tp: &TopicPartition, files: usize) {
    if files > 0 {
        tracing::warn!(
            topic = &*tp.topic,
            partition = tp.partition,
            files,
            "the partition was lost: its files not yet in S3 are dropped (the new owner re-reads them from the last commit)"
        );
    }
}

pub fn drain_incomplete(tp: &TopicPartition, detail: &str) {
    tracing::error!(
        topic = &*tp.topic,
        partition = tp.partition,
        "sink did not drain in time; its open batch will be re-read at the next start: {detail}"
    );
}

pub fn partition_paused(tp: &TopicPartition, held: i64, uploads_failing: bool) {
    counter!(PAUSES, p(tp)).increment(1);
    if uploads_failing {
        tracing::info!(
            topic = &*tp.topic,
            partition = tp.partition,
            held,
            "partition paused until its failing upload lands"
        );
    } else {
        tracing::debug!(
            topic = &*tp.topic,
            partition = tp.partition,
            held,
            "partition paused: its sink holds max.buffered.records"
        );
    }
}

fn retriable_labels(tp: &TopicPartition, retriable: &'static str) -> Vec<metrics::Label> {
    let mut labels = p(tp);
    labels.push(metrics::Label::new("retriable", retriable));
    labels
}

/// `errors.tolerance = none` and a record the converter refuses: the partition stops there,
/// nothing past it is committed, and `tickstream_sink_halted` pages (TickstreamPartitionHalted).
pub fn sink_halted(tp: &TopicPartition, offset: i64, reason: &str) {
    gauge!(HALTED, p(tp)).set(1.0);
    tracing::error!(
        topic = &*tp.topic,
        partition = tp.partition,
        offset,
        "partition halted at offset {offset} (errors.tolerance = none): {reason}; fix or remove the record, or set errors.tolerance = \"all\" to dead-letter it, then restart"
    );
}
