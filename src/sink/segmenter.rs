//! Cutting one partition's records into files: the exactly-once rules, without any I/O.
//!
//! Records arrive in offset order. The [`Converter`] says what each becomes; the segmenter
//! keeps two open batches, one per lane, and decides per record:
//! - below the next expected offset: stale (already durable, or from before a seek): dropped;
//! - inside a file of its lane that already exists in S3: skipped, and the open data batch is
//!   cut first, so a new file never overlaps an existing one;
//! - written: appended to the open data batch, closed at `flush.size` records. A data file
//!   always holds consecutive offsets, so its n-th line (or Parquet row) is the record at its
//!   start offset + n. Under `format.class = "parquet"` a record whose field cannot take its
//!   column's type is rejected (below) with the column named;
//! - rejected: the open data batch is cut, and the record joins the dead-letter batch (closed
//!   at `flush.size` dead letters or by its own timer), or, under `errors.tolerance = none`,
//!   the partition halts there: nothing at or after it is taken;
//! - skipped on purpose (an ignored tombstone): the open data batch is cut; so is it by an
//!   offset that never arrived (retention, compaction, a transaction marker).
//!
//! Closed batches come out as [`Segment`]s for the uploader. Rotation by time is the caller's
//! timer calling [`Segmenter::rotate`] with the batch id it was given. What may be committed is
//! [`Segmenter::pending_from`]: every record below it is in a closed batch or was dropped.

use std::collections::VecDeque;

use bytes::Bytes;

use super::convert::Verdict;
use super::dead_letter::{DeadBatch, DeadLetter};
pub use super::rules::Rules;
use super::Record;
use crate::columnar::writer::RowBatch;
use crate::columnar::{ParquetSpec, Row};
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
    /// A batch of dead letters (its records are also in `dead`, for a Kafka dead-letter topic).
    pub dead_letter: bool,
    /// The dead letters, when this is a dead-letter batch.
    pub dead: Vec<DeadLetter>,
    /// The Kafka timestamp of the first record (ms), for the record → S3 latency.
    pub first_timestamp_ms: Option<i64>,
}

/// What happened to one pushed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Below the next expected offset: dropped.
    Stale,
    /// Already in an existing S3 file: dropped.
    Skipped,
    /// Appended to the open data batch; `opened` carries the id of a batch this record opened
    /// (start its rotation timer).
    Buffered { opened: Option<u64> },
    /// Joined the dead-letter batch (`opened` as above).
    DeadLettered { opened: Option<u64> },
    /// Skipped on purpose (an ignored tombstone).
    Ignored,
    /// `errors.tolerance = none`: the partition stops at this record, for this reason.
    Halted(String),
}

/// The open data batch.
#[derive(Debug)]
struct Batch {
    id: u64,
    start: i64,
    first_timestamp_ms: Option<i64>,
    last: i64,
    records: u64,
    /// JSON lines or raw values (empty for Parquet).
    body: Vec<u8>,
    /// The rows of a Parquet file.
    rows: Option<RowBatch>,
}

/// One partition's file cutter.
#[derive(Debug)]
pub struct Segmenter {
    layout: KeyLayout,
    partition: i32,
    rules: Rules,
    /// This topic's Parquet columns, when files are Parquet.
    parquet: Option<ParquetSpec>,
    next_offset: i64,
    existing: VecDeque<Span>,
    existing_dead: VecDeque<Span>,
    batch: Option<Batch>,
    dead: Option<DeadBatch>,
    next_batch_id: u64,
    /// Offsets that never arrived (deleted by retention before they were sunk), total.
    missing: u64,
    halted: bool,
    /// A file that could not be written starts here: nothing from it on may be committed.
    stuck_from: Option<i64>,
    /// Why, until the next record reports it.
    failure: Option<String>,
}

/// What one record becomes.
enum Take<'a> {
    Write(std::borrow::Cow<'a, [u8]>, Option<Row>),
    Reject(String),
    Skip,
}

impl Segmenter {
    /// Starts at `start`, skipping the `existing` data files and `existing_dead` dead-letter
    /// files (each sorted by start).
    pub fn new(
        layout: KeyLayout,
        partition: i32,
        rules: Rules,
        start: i64,
        existing: Vec<Span>,
        existing_dead: Vec<Span>,
    ) -> Self {
        Self {
            parquet: rules.parquet.as_ref().map(|p| p.spec(&layout.topic)),
            layout,
            partition,
            rules,
            next_offset: start,
            existing: existing.into(),
            existing_dead: existing_dead.into(),
            batch: None,
            dead: None,
            next_batch_id: 0,
            missing: 0,
            halted: false,
            stuck_from: None,
            failure: None,
        }
    }

    /// The offset the next record should have.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Every record below this offset is in a closed batch, or was dropped or skipped: the
    /// most that may be committed once the closed batches are durable.
    pub fn pending_from(&self) -> i64 {
        let data = self.batch.as_ref().map_or(i64::MAX, |b| b.start);
        let dead = self.dead.as_ref().map_or(i64::MAX, DeadBatch::first);
        data.min(dead)
            .min(self.next_offset)
            .min(self.stuck_from.unwrap_or(i64::MAX))
    }

    /// Records in the open batches.
    pub fn buffered(&self) -> u64 {
        self.batch.as_ref().map_or(0, |b| b.records) + self.dead.as_ref().map_or(0, DeadBatch::len)
    }

    /// Bytes of the open data batch's records (JSON lines, or a Parquet file's column buffers).
    pub fn buffered_bytes(&self) -> u64 {
        self.batch.as_ref().map_or(0, |b| {
            (b.body.len() + b.rows.as_ref().map_or(0, RowBatch::bytes)) as u64
        })
    }

    /// Offsets that were expected but never arrived.
    pub fn missing(&self) -> u64 {
        self.missing
    }

    /// Takes one record; closed segments are appended to `out`. Returns the gap `[from, to)`
    /// of offsets that never arrived, if this record skipped some.
    pub fn push(&mut self, rec: &Record, out: &mut Vec<Segment>) -> (Pushed, Option<(i64, i64)>) {
        if self.halted {
            let reason = self.failure.take().unwrap_or_else(|| "the partition is halted".into());
            return (Pushed::Halted(reason), None);
        }
        if rec.offset < self.next_offset {
            return (Pushed::Stale, None);
        }
        // A record inside an existing data file is in S3 already, whatever it is.
        while let Some(span) = self.existing.front().copied() {
            if span.start > rec.offset {
                break;
            }
            self.close(out);
            if rec.offset < span.end {
                self.next_offset = rec.offset + 1;
                return (Pushed::Skipped, None);
            }
            self.existing.pop_front();
        }
        let gap = (rec.offset > self.next_offset).then_some((self.next_offset, rec.offset));
        let pushed = match self.take(rec) {
            Take::Write(line, row) => self.buffer(rec, &line, row, out),
            Take::Reject(reason) if self.rules.halt_on_error => {
                self.close_data(out);
                self.halted = true;
                return (Pushed::Halted(reason), gap);
            }
            Take::Reject(reason) => self.dead_letter(rec, reason, out),
            Take::Skip => {
                self.close_data(out);
                Pushed::Ignored
            }
        };
        if let Some((from, to)) = gap {
            self.missing += (to - from) as u64;
        }
        self.next_offset = rec.offset + 1;
        (pushed, gap)
    }

    /// What `rec` becomes: the converter's verdict, and for a Parquet file its row (a field
    /// that cannot take its column's type rejects the record).
    fn take<'a>(&self, rec: &'a Record) -> Take<'a> {
        match (self.rules.converter.convert(rec.value.as_deref()), &self.parquet) {
            (Verdict::Write(line), Some(spec)) => match spec.row(&line) {
                Ok(row) => Take::Write(line, Some(row)),
                Err(reason) => Take::Reject(reason),
            },
            (Verdict::Write(line), None) => Take::Write(line, None),
            (Verdict::Reject(reason), _) => Take::Reject(reason),
            (Verdict::Skip, _) => Take::Skip,
        }
    }

    fn buffer(&mut self, rec: &Record, line: &[u8], row: Option<Row>, out: &mut Vec<Segment>) -> Pushed {
        // Offsets that never came (retention, compaction, a transaction's marker) cut the file:
        // its lines stay consecutive offsets.
        if self.batch.as_ref().is_some_and(|b| rec.offset != b.last + 1) {
            self.close_data(out);
        }
        let opened = match &mut self.batch {
            Some(_) => None,
            None => {
                let id = self.take_id();
                self.batch = Some(Batch {
                    id,
                    start: rec.offset,
                    first_timestamp_ms: rec.timestamp_ms,
                    last: rec.offset,
                    records: 0,
                    // Room for the whole batch at this record's size (capped: a batch that
                    // rotates early must not pin megabytes), instead of ~10 doublings.
                    body: match &self.parquet {
                        Some(_) => Vec::new(),
                        None => Vec::with_capacity(
                            (line.len() + 1)
                                .saturating_mul(self.rules.flush_size.min(u64::from(u32::MAX)) as usize)
                                .min(256 * 1024),
                        ),
                    },
                    rows: self
                        .parquet
                        .as_ref()
                        .map(|spec| RowBatch::new(spec, self.rules.flush_size.min(4_096) as usize)),
                });
                Some(id)
            }
        };
        let (flush_size, separator) = (self.rules.flush_size, &self.rules.separator);
        if let Some(b) = &mut self.batch {
            match (&mut b.rows, &row) {
                (Some(rows), Some(row)) => rows.push(row),
                _ => {
                    b.body.extend_from_slice(line);
                    b.body.extend_from_slice(separator);
                }
            }
            b.last = rec.offset;
            b.records += 1;
            if b.records >= flush_size {
                self.close_data(out);
            }
        }
        Pushed::Buffered { opened }
    }

    fn dead_letter(&mut self, rec: &Record, reason: String, out: &mut Vec<Segment>) -> Pushed {
        self.close_data(out);
        while let Some(span) = self.existing_dead.front().copied() {
            if span.start > rec.offset {
                break;
            }
            if rec.offset < span.end {
                return Pushed::Skipped;
            }
            self.existing_dead.pop_front();
        }
        let opened = match &self.dead {
            Some(_) => None,
            None => {
                let id = self.take_id();
                self.dead = Some(DeadBatch::new(id));
                Some(id)
            }
        };
        let full = self.dead.as_mut().is_some_and(|d| {
            d.push(DeadLetter::of(rec, reason));
            d.len() >= self.rules.flush_size
        });
        if full {
            self.close_dead(out);
        }
        Pushed::DeadLettered { opened }
    }

    fn take_id(&mut self) -> u64 {
        self.next_batch_id += 1;
        self.next_batch_id - 1
    }

    /// The rotation timer of batch `id` fired: close it if it is still open.
    pub fn rotate(&mut self, id: u64, out: &mut Vec<Segment>) {
        if self.batch.as_ref().is_some_and(|b| b.id == id) {
            self.close_data(out);
        }
        if self.dead.as_ref().is_some_and(|d| d.id() == id) {
            self.close_dead(out);
        }
    }

    /// Closes both open batches, if any (shutdown, revocation).
    pub fn close(&mut self, out: &mut Vec<Segment>) {
        self.close_data(out);
        self.close_dead(out);
    }

    fn close_data(&mut self, out: &mut Vec<Segment>) {
        if let Some(b) = self.batch.take() {
            let (compression, level) = self.rules.compression;
            let body = match (b.rows, &self.parquet) {
                (Some(rows), Some(spec)) => match rows.finish(spec) {
                    Ok(file) => file,
                    Err(e) => {
                        // Rows that passed their columns' types always write; should one not,
                        // the partition stops here (its records stay uncommitted in Kafka).
                        self.halted = true;
                        self.stuck_from = Some(b.start);
                        self.failure = Some(format!("writing the Parquet file at offset {}: {e}", b.start));
                        return;
                    }
                },
                _ => crate::s3::compression::compress(b.body, compression, level),
            };
            out.push(Segment {
                key: self.layout.object_key(self.partition, b.start),
                body: Bytes::from(body),
                meta: SegmentMeta {
                    start_offset: b.start,
                    end_offset: b.last + 1,
                    records: b.records,
                    error: None,
                },
                dead_letter: false,
                dead: Vec::new(),
                first_timestamp_ms: b.first_timestamp_ms,
            });
        }
    }

    fn close_dead(&mut self, out: &mut Vec<Segment>) {
        if let Some(d) = self.dead.take() {
            out.push(d.into_segment(&self.layout, self.partition, !self.rules.dead_to_kafka));
        }
    }
}

#[cfg(test)]
#[path = "segmenter_tests.rs"]
mod tests;
