//! Delivering one segment (to S3, or a dead-letter batch to its Kafka topic), retried with backoff
//! until it lands or conflicts, and the sink's record of an upload under way.

use std::sync::Arc;
use std::time::Duration;

use backon::Retryable;
use tokio::time::Instant;

use super::dead_letter::{DeadBatch, DeadLetterTopic};
use super::gate::Gate;
use super::segmenter::Segment;
use crate::error::chain;
use crate::error::ErrorClass;
use crate::record::TopicPartition;
use crate::s3::keys::KeyLayout;
use crate::s3::{PutOutcome, S3Error, SegmentStore};
use crate::task::TaskGuard;
use crate::telemetry::reachability::{Dependency, Reachability};
use crate::telemetry::{refusals, sink_events, PipelineStats};

/// Why a segment was not delivered: only a conflict in S3 ends the retries (the sink then
/// plans again from S3); every other error is retried.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    S3(#[from] S3Error),
}

impl DeliveryError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::S3(e) => e.class(),
        }
    }
}

/// Backoff between attempts: 100 ms doubling to 30 s, with jitter, without limit. A segment is
/// never dropped: the partition's memory gate pauses consumption while it waits.
pub(super) fn backoff() -> backon::ExponentialBuilder {
    supervisors::backoff::exponential(Duration::from_millis(100), Duration::from_secs(30))
}

/// Where one partition's closed segments go, and what an upload reports to.
pub struct Delivery<S> {
    pub tp: TopicPartition,
    /// The keys of its topic (dead letters the dead-letter topic refuses go to S3).
    pub layout: KeyLayout,
    pub store: Arc<S>,
    /// `errors.deadletterqueue.topic.name`: dead-letter batches go there instead of to S3.
    pub dead_topic: Option<Arc<dyn DeadLetterTopic>>,
    pub gate: Arc<Gate>,
    pub reach: Arc<Reachability>,
}

impl<S> Clone for Delivery<S> {
    fn clone(&self) -> Self {
        Self {
            tp: self.tp.clone(),
            layout: self.layout.clone(),
            store: self.store.clone(),
            dead_topic: self.dead_topic.clone(),
            gate: self.gate.clone(),
            reach: self.reach.clone(),
        }
    }
}

impl<S: SegmentStore> Delivery<S> {
    /// Starts delivering `seg` on its own task; `done` gets the result. The returned [`Upload`]
    /// aborts the task when dropped.
    pub(super) fn start(
        &self,
        ticket: u64,
        seg: Segment,
        done: impl FnOnce(Result<PutOutcome, DeliveryError>) + Send + 'static,
    ) -> Upload {
        let (key, first, records, bytes) = (seg.key.clone(), seg.meta.start_offset, seg.meta.records, seg.body.len());
        let (dead_letter, first_timestamp_ms) = (seg.dead_letter, seg.first_timestamp_ms);
        let me = self.clone();
        let task = TaskGuard::spawn(async move { done(me.deliver(&seg).await) });
        Upload {
            ticket,
            key,
            first,
            records,
            bytes,
            dead_letter,
            first_timestamp_ms,
            started: Instant::now(),
            _task: task,
        }
    }

    /// Delivers a closed segment: a dead-letter batch to the dead-letter topic when there is
    /// one, anything else to S3. Either way it is retried until it lands (or conflicts, in S3);
    /// the dead letters the topic refuses for good go to S3 as a dead-letter file.
    pub async fn deliver(&self, seg: &Segment) -> Result<PutOutcome, DeliveryError> {
        let (store, gate, reach, tp) = (&*self.store, &self.gate, &self.reach, &self.tp);
        let Some(dlq) = self.dead_topic.as_deref().filter(|_| seg.dead_letter) else {
            return Ok(put_with_retry(store, gate, reach, tp, seg).await?);
        };
        let refused = super::dead_delivery::send_each(dlq, gate, reach, tp, &seg.dead).await;
        if refused.is_empty() {
            return Ok(PutOutcome::Created);
        }
        refusals::dead_letters_set_aside(tp, refused.len());
        let mut batch = DeadBatch::new(0);
        refused.into_iter().for_each(|d| batch.push(d));
        let file = batch.into_segment(&self.layout, tp.partition, true);
        Ok(put_with_retry(store, gate, reach, tp, &file).await?)
    }
}

/// Writes `seg` unless its key exists; retries every error but a conflict, which only a
/// re-plan from S3 can resolve: a transient one until it passes, and one that needs a person
/// (or one the records caused) until someone acts, the records waiting in Kafka. From its first
/// failure until it ends, the upload marks the partition's gate as failing, so the router stops
/// feeding the partition; the failure goes to the reachability record (one WARN per interval,
/// whatever the number of partitions).
pub async fn put_with_retry<S: SegmentStore>(
    store: &S,
    gate: &Gate,
    reach: &Reachability,
    tp: &TopicPartition,
    seg: &Segment,
) -> Result<PutOutcome, S3Error> {
    let (mut failing, mut refused) = (None, 0u32);
    let result = (|| put_files(store, seg))
        .retry(backoff())
        .when(|e: &S3Error| !e.is_conflict())
        .notify(|e, delay| {
            failing.get_or_insert_with(|| gate.retrying());
            let (cause, class) = (chain(e), e.class());
            if class == ErrorClass::Transient {
                reach.failed(Dependency::S3, &cause);
            } else {
                // S3 answered, and will answer the same until a person acts: not "cannot
                // reach", but what it refused and why, at the first refusal and every tenth.
                reach.noted(Dependency::S3, &cause);
                if refused % 10 == 0 {
                    refusals::upload_refused(tp, &seg.key, class, &cause, refused + 1);
                }
                refused += 1;
            }
            sink_events::upload_retry(tp, &seg.key, class == ErrorClass::Transient, e, delay)
        })
        .await;
    if failing.is_some() && result.is_ok() {
        reach.answered(Dependency::S3);
    }
    result
}

/// The segment's keys and headers files, then its data file: a data file in S3 always has its
/// companions beside it, so a resume, which goes by data files, never leaves one without them.
/// A companion that exists with other bytes while its data file does not was left by an
/// attempt that crashed between the two PUTs (a replay cut the file at another boundary): it is
/// replaced. Where the data file exists too, it is a conflict like the data file's own.
async fn put_files<S: SegmentStore>(store: &S, seg: &Segment) -> Result<PutOutcome, S3Error> {
    for (key, body) in &seg.companions {
        match store.put_new(key, body.clone(), seg.meta.clone()).await {
            Err(e) if e.is_conflict() && !store.exists(&seg.key).await? => {
                store.put_replace(key, body.clone(), seg.meta.clone()).await?
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    }
    store.put_new(&seg.key, seg.body.clone(), seg.meta.clone()).await
}

/// An upload under way.
pub(super) struct Upload {
    pub ticket: u64,
    pub key: String,
    /// The lowest offset the segment holds: nothing at or past it may be committed before it lands.
    pub first: i64,
    pub records: u64,
    pub bytes: usize,
    pub dead_letter: bool,
    /// The Kafka timestamp of the file's first record (ms).
    pub first_timestamp_ms: Option<i64>,
    pub started: Instant,
    /// Aborted when the upload is dropped: an upload must never outlive its actor. A killed
    /// sink (ractor's `kill` skips `post_stop`) would otherwise leave a task retrying a file
    /// with the old incarnation's boundaries, landing after the new incarnation has re-planned
    /// and written different ones (duplicates, found by the chaos suite).
    pub _task: TaskGuard,
}

impl Upload {
    /// The file landed: counted, with its PUT time and its first record's wait.
    pub(super) fn report(&self, stats: &PipelineStats, tp: &TopicPartition) {
        let file = sink_events::UploadedFile {
            key: &self.key,
            bytes: self.bytes,
            records: self.records,
            dead_letter: self.dead_letter,
            took: self.started.elapsed(),
            waited: self.first_timestamp_ms.and_then(|ts| {
                let age = super::rotation::unix_ms() - ts;
                (age >= 0).then(|| Duration::from_millis(age as u64))
            }),
        };
        sink_events::file_uploaded(stats, tp, &file);
    }
}
