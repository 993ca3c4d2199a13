//! Records that cannot be written, batched: a burst of bad records makes a few dead-letter files
//! (`flush.size` dead letters each), not one object per record.
//!
//! In S3 a batch is a file `dlq/<topic>/partition=<p>/<topic>+<p>+<first offset>.json` of
//! [`crate::format::dead_letter`] lines. With `errors.deadletterqueue.topic.name` the same
//! records go to that Kafka topic instead, with Connect's `__connect.errors.*` headers.

use std::collections::VecDeque;

use bytes::Bytes;

use super::segmenter::{Segment, Span};
pub use crate::format::dead_letter::DeadLetter;
use crate::s3::keys::KeyLayout;
use crate::s3::SegmentMeta;

/// The open dead-letter batch of a partition.
#[derive(Debug)]
pub struct DeadBatch {
    id: u64,
    entries: Vec<DeadLetter>,
}

impl DeadBatch {
    pub fn new(id: u64) -> Self {
        Self {
            id,
            entries: Vec::new(),
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The lowest offset in the batch (`i64::MAX` while empty).
    pub fn first(&self) -> i64 {
        self.entries.first().map_or(i64::MAX, |d| d.offset)
    }

    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn push(&mut self, d: DeadLetter) {
        self.entries.push(d);
    }

    /// The closed batch as a segment; its file body only when it goes to S3 (`with_body`).
    pub fn into_segment(self, layout: &KeyLayout, partition: i32, with_body: bool) -> Segment {
        let first = self.first();
        let last = self.entries.last().map_or(first, |d| d.offset);
        let mut body = Vec::new();
        if with_body {
            for d in &self.entries {
                body.extend_from_slice(&d.line(&layout.topic, partition));
                body.push(b'\n');
            }
        }
        Segment {
            companions: Vec::new(),
            key: layout.dead_letter_key(partition, first),
            body: Bytes::from(body),
            meta: SegmentMeta {
                start_offset: first,
                end_offset: last + 1,
                records: self.entries.len() as u64,
                error: None,
            },
            dead_letter: true,
            first_timestamp_ms: self.entries.first().and_then(|d| d.timestamp_ms),
            dead: self.entries,
        }
    }
}

/// A partition's dead letters: the open batch, and the dead-letter files already in S3 that a
/// replay skips (each sorted by start).
#[derive(Debug)]
pub struct DeadLane {
    batch: Option<DeadBatch>,
    existing: VecDeque<Span>,
}

impl DeadLane {
    pub fn new(existing: Vec<Span>) -> Self {
        Self {
            batch: None,
            existing: existing.into(),
        }
    }

    /// Whether the dead letter at `offset` is in a file already in S3 (offsets arrive in order).
    pub fn in_s3(&mut self, offset: i64) -> bool {
        while let Some(span) = self.existing.front().copied() {
            if span.start > offset {
                return false;
            }
            if offset < span.end {
                return true;
            }
            self.existing.pop_front();
        }
        false
    }

    /// Adds a dead letter, opening a batch with `new_id()` if none is open; returns that id if
    /// it opened one, and the batch's count.
    pub fn add(&mut self, d: DeadLetter, new_id: impl FnOnce() -> u64) -> (Option<u64>, u64) {
        let mut opened = None;
        let batch = self.batch.get_or_insert_with(|| {
            let id = new_id();
            opened = Some(id);
            DeadBatch::new(id)
        });
        batch.push(d);
        (opened, batch.len())
    }

    /// The open batch's lowest offset (`i64::MAX` if none).
    pub fn first(&self) -> i64 {
        self.batch.as_ref().map_or(i64::MAX, DeadBatch::first)
    }

    /// Dead letters in the open batch.
    pub fn buffered(&self) -> u64 {
        self.batch.as_ref().map_or(0, DeadBatch::len)
    }

    pub fn is_open(&self, id: u64) -> bool {
        self.batch.as_ref().is_some_and(|d| d.id() == id)
    }

    /// Takes the open batch.
    pub fn take(&mut self) -> Option<DeadBatch> {
        self.batch.take()
    }
}

/// Where dead letters go instead of S3 (`errors.deadletterqueue.topic.name`).
pub trait DeadLetterTopic: Send + Sync + 'static {
    /// Sends `letters` of `topic`'s `partition`; resolves once the broker answered each, with
    /// one outcome per letter, in order.
    fn send<'a>(
        &'a self,
        topic: &'a str,
        partition: i32,
        letters: &'a [DeadLetter],
    ) -> futures::future::BoxFuture<'a, Vec<Result<(), crate::kafka::KafkaError>>>;
}

impl DeadLetterTopic for crate::kafka::dead_letters::DeadLetterProducer {
    fn send<'a>(
        &'a self,
        topic: &'a str,
        partition: i32,
        letters: &'a [DeadLetter],
    ) -> futures::future::BoxFuture<'a, Vec<Result<(), crate::kafka::KafkaError>>> {
        Box::pin(crate::kafka::dead_letters::DeadLetterProducer::send(
            self, topic, partition, letters,
        ))
    }
}
