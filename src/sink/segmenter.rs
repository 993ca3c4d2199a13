//! Cutting one partition's records into files: the exactly-once rules, without any I/O.
//!
//! Records arrive in offset order. The segmenter keeps the open batch and decides, per record:
//! - below the next expected offset: stale (already durable, or from before a seek) — dropped;
//! - inside a file that already exists in S3: skipped, and the open batch is cut first, so a
//!   new file never overlaps an existing one;
//! - malformed: the open batch is cut and the record becomes a dead-letter object;
//! - otherwise buffered; a batch of `flush.size` records is closed at once.
//!
//! Closed batches come out as [`Segment`]s for the uploader. Rotation by time is the caller's
//! timer calling [`Segmenter::rotate`] with the batch id it was given.

use std::collections::VecDeque;

use bytes::Bytes;

use super::encode::json_line;
use super::Record;
use crate::s3::keys::KeyLayout;
use crate::s3::SegmentMeta;

/// Offsets `[start, end)` of a file already in S3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

/// What to upload.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub key: String,
    pub body: Bytes,
    pub meta: SegmentMeta,
    pub dead_letter: bool,
    /// The Kafka timestamp of the first record (ms), for the record → S3 latency.
    pub first_timestamp_ms: Option<i64>,
}

/// What happened to one pushed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Below the next expected offset: dropped.
    Stale,
    /// Already in an existing S3 file: dropped.
    Skipped,
    /// Appended to the open batch; `opened` carries the id of a batch this record opened
    /// (start its rotation timer).
    Buffered { opened: Option<u64> },
    /// Malformed: emitted as a dead-letter segment.
    DeadLettered,
}

/// The open batch.
#[derive(Debug)]
struct Batch {
    id: u64,
    start: i64,
    first_timestamp_ms: Option<i64>,
    last: i64,
    records: u64,
    body: Vec<u8>,
}

/// One partition's file cutter.
#[derive(Debug)]
pub struct Segmenter {
    layout: KeyLayout,
    partition: i32,
    flush_size: u64,
    next_offset: i64,
    existing: VecDeque<Span>,
    batch: Option<Batch>,
    next_batch_id: u64,
    /// Offsets that never arrived (deleted by retention before they were sunk), total.
    missing: u64,
}

impl Segmenter {
    /// Starts at `start`, skipping the `existing` files (sorted by start).
    pub fn new(layout: KeyLayout, partition: i32, flush_size: u64, start: i64, existing: Vec<Span>) -> Self {
        Self {
            layout,
            partition,
            flush_size,
            next_offset: start,
            existing: existing.into(),
            batch: None,
            next_batch_id: 0,
            missing: 0,
        }
    }

    /// The offset the next record should have.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Records in the open batch.
    pub fn buffered(&self) -> u64 {
        self.batch.as_ref().map_or(0, |b| b.records)
    }

    /// Offsets that were expected but never arrived.
    pub fn missing(&self) -> u64 {
        self.missing
    }

    /// Takes one record; closed segments are appended to `out`. Returns the gap `[from, to)`
    /// of offsets that never arrived, if this record skipped some.
    pub fn push(&mut self, rec: &Record, out: &mut Vec<Segment>) -> (Pushed, Option<(i64, i64)>) {
        if rec.offset < self.next_offset {
            return (Pushed::Stale, None);
        }
        while let Some(span) = self.existing.front().copied() {
            if span.start > rec.offset {
                break;
            }
            // This record reaches an existing file: whatever is open must end before it.
            self.close(out);
            if rec.offset < span.end {
                self.next_offset = rec.offset + 1;
                return (Pushed::Skipped, None);
            }
            self.existing.pop_front();
        }
        let gap = (rec.offset > self.next_offset).then_some((self.next_offset, rec.offset));
        if let Some((from, to)) = gap {
            self.missing += (to - from) as u64;
        }
        self.next_offset = rec.offset + 1;
        let line = match json_line(&rec.value) {
            Ok(line) => line,
            Err(reason) => {
                self.close(out);
                out.push(self.dead_letter(rec, reason));
                return (Pushed::DeadLettered, gap);
            }
        };
        let opened = match &mut self.batch {
            Some(_) => None,
            None => {
                let id = self.next_batch_id;
                self.next_batch_id += 1;
                self.batch = Some(Batch {
                    id,
                    start: rec.offset,
                    first_timestamp_ms: rec.timestamp_ms,
                    last: rec.offset,
                    records: 0,
                    // Room for the whole batch at this record's size (capped: a batch that
                    // rotates early must not pin megabytes), instead of ~10 doublings.
                    body: Vec::with_capacity(
                        (line.len() + 1)
                            .saturating_mul(self.flush_size.min(u64::from(u32::MAX)) as usize)
                            .min(256 * 1024),
                    ),
                });
                Some(id)
            }
        };
        if let Some(b) = &mut self.batch {
            b.body.extend_from_slice(&line);
            b.body.push(b'\n');
            b.last = rec.offset;
            b.records += 1;
            if b.records >= self.flush_size {
                self.close(out);
            }
        }
        (Pushed::Buffered { opened }, gap)
    }

    /// The rotation timer of batch `id` fired: close it if it is still the open one.
    pub fn rotate(&mut self, id: u64, out: &mut Vec<Segment>) {
        if self.batch.as_ref().is_some_and(|b| b.id == id) {
            self.close(out);
        }
    }

    /// Closes the open batch, if any (shutdown, revocation).
    pub fn close(&mut self, out: &mut Vec<Segment>) {
        if let Some(b) = self.batch.take() {
            out.push(Segment {
                key: self.layout.object_key(self.partition, b.start),
                body: Bytes::from(b.body),
                meta: SegmentMeta {
                    start_offset: b.start,
                    end_offset: b.last + 1,
                    records: b.records,
                    error: None,
                },
                dead_letter: false,
                first_timestamp_ms: b.first_timestamp_ms,
            });
        }
    }

    fn dead_letter(&self, rec: &Record, reason: String) -> Segment {
        Segment {
            key: self.layout.dead_letter_key(self.partition, rec.offset),
            body: rec.value.clone(),
            meta: SegmentMeta {
                start_offset: rec.offset,
                end_offset: rec.offset + 1,
                records: 1,
                error: Some(reason),
            },
            dead_letter: true,
            first_timestamp_ms: rec.timestamp_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::testing::{self, tick};

    fn layout() -> KeyLayout {
        testing::layout(4)
    }

    fn push_all(s: &mut Segmenter, offsets: impl IntoIterator<Item = i64>) -> Vec<Segment> {
        let mut out = Vec::new();
        for o in offsets {
            s.push(&tick(o), &mut out);
        }
        out
    }

    fn spans(segs: &[Segment]) -> Vec<(i64, i64)> {
        segs.iter().map(|s| (s.meta.start_offset, s.meta.end_offset)).collect()
    }

    #[test]
    fn full_batches_close_at_flush_size_and_name_their_first_offset() {
        let mut s = Segmenter::new(layout(), 0, 3, 0, vec![]);
        let out = push_all(&mut s, 0..7);
        assert_eq!(spans(&out), vec![(0, 3), (3, 6)]);
        assert_eq!(out[1].key, "topics/t/partition=0/t+0+0003.json");
        assert_eq!(out[1].body.iter().filter(|b| **b == b'\n').count(), 3);
        assert_eq!(s.buffered(), 1);
    }

    #[test]
    fn rotation_closes_only_the_batch_it_was_set_for() {
        let mut s = Segmenter::new(layout(), 0, 100, 0, vec![]);
        let mut out = Vec::new();
        let (p, _) = s.push(&tick(0), &mut out);
        assert_eq!(p, Pushed::Buffered { opened: Some(0) });
        s.rotate(0, &mut out);
        assert_eq!(spans(&out), vec![(0, 1)]);
        s.push(&tick(1), &mut out);
        s.rotate(0, &mut out); // stale timer
        assert_eq!(out.len(), 1);
        s.rotate(1, &mut out);
        assert_eq!(spans(&out), vec![(0, 1), (1, 2)]);
    }

    #[test]
    fn records_below_the_start_are_stale() {
        let mut s = Segmenter::new(layout(), 0, 10, 5, vec![]);
        let mut out = Vec::new();
        assert_eq!(s.push(&tick(4), &mut out).0, Pushed::Stale);
        assert!(matches!(s.push(&tick(5), &mut out).0, Pushed::Buffered { .. }));
    }

    #[test]
    fn existing_files_are_skipped_and_never_overlapped() {
        // S3 already holds [3, 6) and [8, 10) (uploaded before a crash, never committed).
        let existing = vec![Span { start: 3, end: 6 }, Span { start: 8, end: 10 }];
        let mut s = Segmenter::new(layout(), 0, 100, 0, existing);
        let mut out = push_all(&mut s, 0..12);
        s.close(&mut out);
        assert_eq!(spans(&out), vec![(0, 3), (6, 8), (10, 12)]);
    }

    #[test]
    fn a_gap_is_reported_as_missing() {
        let mut s = Segmenter::new(layout(), 0, 100, 0, vec![]);
        let mut out = Vec::new();
        s.push(&tick(0), &mut out);
        let (_, gap) = s.push(&tick(5), &mut out);
        assert_eq!(gap, Some((1, 5)));
        assert_eq!(s.missing(), 4);
    }

    #[test]
    fn a_malformed_record_cuts_the_batch_and_is_dead_lettered() {
        let mut s = Segmenter::new(layout(), 2, 100, 0, vec![]);
        let mut out = push_all(&mut s, 0..2);
        s.push(
            &Record {
                offset: 2,
                value: Bytes::from_static(b"garbage"),
                timestamp_ms: None,
            },
            &mut out,
        );
        out.extend(push_all(&mut s, 3..4));
        s.close(&mut out);
        assert_eq!(spans(&out), vec![(0, 2), (2, 3), (3, 4)]);
        assert!(out[1].dead_letter);
        assert_eq!(out[1].key, "dlq/t/partition=2/t+2+0002.bin");
        assert_eq!(out[1].body.as_ref(), b"garbage");
        assert!(out[1].meta.error.as_deref().unwrap().starts_with("not a tick"));
    }
}
