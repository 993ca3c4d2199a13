//! Putting one segment, retried with backoff until it lands or conflicts, and the sink's record
//! of an upload under way.

use std::time::Duration;

use backon::Retryable;
use tokio::time::Instant;

use super::gate::Gate;
use super::segmenter::Segment;
use crate::error::chain;
use crate::s3::{is_retriable, is_transient, PutOutcome, S3Error, SegmentStore};
use crate::task::TaskGuard;
use crate::telemetry::reachability::{Dependency, Reachability};
use crate::telemetry::sink_events;

/// Backoff between attempts: 100 ms doubling to 30 s, with jitter, without limit. A segment is
/// never dropped: the partition's memory gate pauses consumption while it waits.
fn backoff() -> backon::ExponentialBuilder {
    supervisors::backoff::exponential(Duration::from_millis(100), Duration::from_secs(30))
}

/// Writes `seg` unless its key exists; retries every error but a conflict, which only a
/// re-plan from S3 can resolve. From its first failure until it ends, the upload marks the
/// partition's gate as failing, so the router stops feeding the partition; the failure goes to
/// the reachability record (one WARN per interval, whatever the number of partitions).
pub async fn put_with_retry<S: SegmentStore>(
    store: &S,
    gate: &Gate,
    reach: &Reachability,
    partition: i32,
    seg: &Segment,
) -> Result<PutOutcome, S3Error> {
    let mut failing = None;
    let result = (|| store.put_new(&seg.key, seg.body.clone(), seg.meta.clone()))
        .retry(backoff())
        .when(is_retriable)
        .notify(|e, delay| {
            failing.get_or_insert_with(|| gate.retrying());
            reach.failed(Dependency::S3, &chain(e));
            sink_events::upload_retry(partition, &seg.key, is_transient(e), e, delay)
        })
        .await;
    if failing.is_some() && result.is_ok() {
        reach.answered(Dependency::S3);
    }
    result
}

/// An upload under way or finished but not yet committable (an earlier one is still running).
pub(super) struct Upload {
    pub ticket: u64,
    pub key: String,
    pub end: i64,
    pub records: u64,
    pub bytes: usize,
    pub dead_letter: bool,
    /// The Kafka timestamp of the file's first record (ms).
    pub first_timestamp_ms: Option<i64>,
    pub started: Instant,
    pub done: bool,
    /// Aborted when the upload is dropped: an upload must never outlive its actor. A killed
    /// sink (ractor's `kill` skips `post_stop`) would otherwise leave a task retrying a file
    /// with the old incarnation's boundaries, landing after the new incarnation has re-planned
    /// and written different ones (duplicates, found by the chaos suite).
    pub _task: TaskGuard,
}
