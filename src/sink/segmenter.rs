//! Cutting one partition's records into files: the exactly-once rules, without any I/O.
//!
//! Records arrive in offset order. The [`Converter`] says what each becomes and the
//! partitioner which directory its file is in; the segmenter keeps the open data files (one
//! per directory) and one dead-letter batch, and decides per record:
//! - below the next expected offset: stale (already durable, or from before a seek): dropped;
//! - in a directory whose existing files are not known yet: [`Pushed::NeedsListing`]; the
//!   caller lists them ([`Segmenter::add_listing`]) and pushes the record again. Only records
//!   an earlier writer may have read ask: see [`Segmenter::set_list_below`];
//! - inside a file of its directory that already exists in S3: skipped, and that directory's
//!   open file is cut first, so a new file never overlaps an existing one;
//! - written: appended to its directory's open file, closed at `flush.size` records. Under
//!   `format.class = "parquet"` a record whose field cannot take its column's type is
//!   rejected (below) with the column named, and so is one the partitioner cannot place;
//! - rejected: the record joins the dead-letter batch (closed at `flush.size` dead letters or
//!   by its own timer), or, under `errors.tolerance = none`, the partition halts there:
//!   nothing at or after it is taken;
//! - skipped on purpose (an ignored tombstone): nothing written.
//!
//! Two ways of cutting, by partitioner:
//! - **consecutive** (`default`, and `Wallclock`, whose directory only moves forward): one file
//!   open at a time, cut by a new directory, a rejected or skipped record, or an offset that
//!   never arrived (retention, compaction, a transaction marker). A file holds consecutive
//!   offsets, so its n-th line (or Parquet row) is the record at its start offset + n.
//! - **interleaved** (`field`, and `time` by `Record` or `RecordField`): a file per directory,
//!   up to `max.open.files.per.partition` (at the cap the oldest is written out), each with its
//!   own count and rotation timer. A file holds every written record of its directory between
//!   its first and last offset: routing is a pure function of the record, so which ones is
//!   decidable again (on resume, and by `verify`). A file whose first offset falls
//!   [`Rules::span_limit`] behind the newest record is written out, which bounds the listing.
//!
//! Closed batches come out as [`Segment`]s for the uploader. Rotation by time is the caller's
//! timer calling [`Segmenter::rotate`] with the batch id it was given. What may be committed is
//! [`Segmenter::pending_from`]: every record below it is in a closed batch or was dropped.

use std::sync::Arc;

use super::dead_letter::{DeadLane, DeadLetter};
use super::existing::Existing;
use super::open_files::{Batch, Dir, OpenFiles};
pub use super::rules::Rules;
use super::segment::{convert, NotWritten, Written};
pub use super::segment::{DirFile, Extent, Pushed, Segment, Span};
use super::Record;
use crate::format::companions::Lines;
use crate::format::{Converted, FileFormat, Row};
use crate::record::view::RecordView;
use crate::record::RecordError;
use crate::s3::key_limits::{DirCheck, LONGEST_BESIDE};
use crate::s3::keys::KeyLayout;

/// One partition's file cutter.
#[derive(Debug)]
pub struct Segmenter {
    layout: KeyLayout,
    partition: i32,
    rules: Rules,
    /// What this topic's data files are.
    format: FileFormat,
    next_offset: i64,
    /// Files already in S3 reaching past the start, per directory (a directory is here once
    /// it has been listed).
    existing: Existing,
    open: OpenFiles,
    dead: DeadLane,
    next_batch_id: u64,
    /// Offsets that never arrived (deleted by retention before they were sunk), total.
    missing: u64,
    halted: bool,
    /// A file that could not be written starts here: nothing from it on may be committed.
    stuck_from: Option<i64>,
    /// Why, until the next record reports it.
    failure: Option<String>,
    /// The clock for `Wallclock` (epoch ms), set by the caller.
    now_ms: i64,
    /// `partition=<p>`, under the default partitioner (lent out while a record is pushed).
    default_dir: Option<Dir>,
    /// Whether the partitioner is the default one (its directory needs no listing per record).
    default_partitioner: bool,
    /// Whether the store takes the keys of a directory's files.
    dir_check: DirCheck,
    /// Records from this offset on are in no file an earlier writer left: see
    /// [`Segmenter::set_list_below`].
    list_below: i64,
}

impl Segmenter {
    /// Starts at `start`, skipping the `existing` data files (under the default partitioner,
    /// in `partition=<p>`; other partitioners' directories are listed as records reach them)
    /// and the `existing_dead` dead-letter files (each sorted by start).
    pub fn new(
        layout: KeyLayout,
        partition: i32,
        rules: Rules,
        start: i64,
        existing: Vec<Span>,
        existing_dead: Vec<Span>,
    ) -> Self {
        let mut known = Existing::default();
        let rules_default = rules.partitioner.is_default();
        if rules_default {
            let files = existing.iter().map(|s| DirFile {
                start: s.start,
                extent: super::segment::Extent::End(s.end),
            });
            known.insert(&format!("partition={partition}"), files.collect(), start, true);
        }
        let beside = if rules.companions.is_some() { LONGEST_BESIDE } else { 0 };
        let dir_check = layout.dir_check(partition, rules.key_limits, beside);
        Self {
            format: rules.files.for_topic(&layout.topic),
            layout,
            partition,
            rules,
            next_offset: start,
            existing: known,
            open: OpenFiles::default(),
            dead: DeadLane::new(existing_dead),
            next_batch_id: 0,
            missing: 0,
            halted: false,
            stuck_from: None,
            failure: None,
            now_ms: 0,
            default_dir: rules_default.then(|| Dir::from(format!("partition={partition}"))),
            default_partitioner: rules_default,
            dir_check,
            list_below: i64::MAX,
        }
    }

    /// The offset the next record should have.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Sets the clock a `Wallclock` partitioner reads (epoch ms).
    pub fn set_clock(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
    }

    /// The files already in S3 under `dir` that may hold records at or after the start, as
    /// listed by the caller after [`Pushed::NeedsListing`].
    pub fn add_listing(&mut self, dir: &str, files: Vec<DirFile>) {
        let consecutive = self.rules.partitioner.consecutive();
        self.existing.insert(dir, files, self.next_offset, consecutive);
    }

    /// Every record below this offset is in a closed batch, or was dropped or skipped: the
    /// most that may be committed once the closed batches are durable.
    pub fn pending_from(&self) -> i64 {
        let data = self.open.first_start().unwrap_or(i64::MAX);
        data.min(self.dead.first())
            .min(self.next_offset)
            .min(self.stuck_from.unwrap_or(i64::MAX))
    }

    /// Records in the open batches.
    pub fn buffered(&self) -> u64 {
        self.open.records() + self.dead.buffered()
    }

    /// Bytes of the open data files' records (JSON lines, or Parquet column buffers).
    pub fn buffered_bytes(&self) -> u64 {
        self.open.bytes()
    }

    /// Data files open now.
    pub fn open_files(&self) -> usize {
        self.open.len()
    }

    /// Offsets that were expected but never arrived.
    pub fn missing(&self) -> u64 {
        self.missing
    }

    /// Takes one record; closed segments are appended to `out`. Returns the gap `[from, to)`
    /// of offsets that never arrived, if this record skipped some.
    pub fn push(&mut self, rec: &Record, out: &mut Vec<Segment>) -> (Pushed, Option<(i64, i64)>) {
        // The default partitioner's one directory is lent to the record's path, not cloned: a
        // clone and a drop of its reference count per record were 2% of the JSON sink's CPU
        // (perf, benches/RESULTS.md).
        let default = self.default_dir.take();
        let pushed = self.push_into(rec, default.as_ref(), out);
        self.default_dir = default;
        pushed
    }

    fn push_into(
        &mut self,
        rec: &Record,
        default: Option<&Dir>,
        out: &mut Vec<Segment>,
    ) -> (Pushed, Option<(i64, i64)>) {
        if self.halted {
            let reason = self.failure.take().unwrap_or_else(|| "the partition is halted".into());
            return (Pushed::Halted(reason), None);
        }
        if rec.offset < self.next_offset {
            return (Pushed::Stale, None);
        }
        if rec.offset >= self.list_below {
            self.existing.forget();
        }
        let consecutive = self.rules.partitioner.consecutive();
        // Consecutive files: the directory does not depend on the record, and a record inside
        // an existing file is in S3 already, whatever it is.
        let computed;
        let fixed_dir = match (consecutive, default) {
            (true, Some(dir)) => Some(dir),
            (true, None) => match self.directory(rec, &RecordView::Json(b"")) {
                Ok(dir) => {
                    computed = dir;
                    Some(&computed)
                }
                Err(reason) => return (Pushed::Halted(reason.to_string()), None),
            },
            (false, _) => None,
        };
        if let Some(dir) = fixed_dir {
            // The default partitioner's one directory was listed by the resume plan.
            if self.needs_listing(dir, rec.offset) {
                return (Pushed::NeedsListing(dir.to_string()), None);
            }
            if self.in_existing(dir, rec.offset, out) {
                self.next_offset = rec.offset + 1;
                return (Pushed::Skipped, None);
            }
        }
        let gap = (rec.offset > self.next_offset).then_some((self.next_offset, rec.offset));
        let pushed = match self.write(rec, fixed_dir, out) {
            Ok(Written::Buffered(pushed)) => pushed,
            Ok(Written::Not(pushed)) => return (pushed, None),
            Err(NotWritten::NeedsSchema(id)) => return (Pushed::NeedsSchema(id), None),
            Err(NotWritten::Reject(reason)) if self.rules.halt_on_error => {
                self.close_data(out);
                self.halted = true;
                return (Pushed::Halted(reason.to_string()), gap);
            }
            Err(NotWritten::Reject(reason)) => self.dead_letter(rec, reason, out),
            Err(NotWritten::Skip) => {
                if consecutive {
                    self.close_data(out);
                }
                Pushed::Ignored
            }
        };
        if let Some((from, to)) = gap {
            self.missing += (to - from) as u64;
        }
        self.next_offset = rec.offset + 1;
        (pushed, gap)
    }

    /// Converts `rec` and buffers it in its directory's open file, unless its directory must
    /// be listed first or a file in S3 holds it already.
    fn write(&mut self, rec: &Record, fixed_dir: Option<&Dir>, out: &mut Vec<Segment>) -> Result<Written, NotWritten> {
        let record = convert(rec, &self.rules.converter)?;
        // A Parquet file's row, built where it stands (a field its column cannot take rejects).
        let mut row = Row::default();
        self.format.encode(&record, &mut row).map_err(NotWritten::Reject)?;
        // A key that cannot be written rejects the record before anything of it is buffered.
        let lines = match &self.rules.companions {
            Some(c) => Some(c.lines(rec).map_err(NotWritten::Reject)?),
            None => None,
        };
        let computed;
        let dir = match fixed_dir {
            Some(dir) => dir,
            None => {
                computed = self.directory(rec, &view(&record)).map_err(NotWritten::Reject)?;
                &computed
            }
        };
        if self.needs_listing(dir, rec.offset) {
            return Ok(Written::Not(Pushed::NeedsListing(dir.to_string())));
        }
        if !self.rules.partitioner.consecutive() && self.in_existing(dir, rec.offset, out) {
            self.next_offset = rec.offset + 1;
            return Ok(Written::Not(Pushed::Skipped));
        }
        self.buffer(rec, dir, (&record, &row, lines), out)
            .map(Written::Buffered)
            .map_err(NotWritten::Reject)
    }

    fn buffer(
        &mut self,
        rec: &Record,
        dir: &Dir,
        (record, row, lines): (&Converted<'_>, &Row<'_>, Option<Lines>),
        out: &mut Vec<Segment>,
    ) -> Result<Pushed, RecordError> {
        if self.rules.partitioner.consecutive() {
            // One file at a time, of consecutive offsets: a new directory or an offset that
            // never came (retention, compaction, a transaction's marker) cuts it.
            let cut = self
                .open
                .only()
                .is_some_and(|b| !(Arc::ptr_eq(&b.dir, dir) || b.dir == *dir) || rec.offset != b.last + 1);
            if cut || self.open.bytes() >= self.rules.max_buffered_bytes / 2 {
                self.close_data(out);
            }
        } else {
            // A file far behind holds the commit back and widens what a resume must list; and
            // the open files together keep within half the partition's memory bound, the other
            // half being room for uploads: open files holding all of it would fill the gate,
            // and with no record coming nothing but their timers would write them out.
            let limit = self.rules.span_limit();
            while self.open.first_start().is_some_and(|s| rec.offset - s >= limit)
                || (self.open.len() > 0 && self.open.records() >= self.rules.max_buffered / 2)
                || (self.open.len() > 0 && self.open.bytes() >= self.rules.max_buffered_bytes / 2)
            {
                self.close_oldest(out);
            }
        }
        let projected = match record {
            Converted::Avro(r) => self.fit_schema(dir, r, out)?,
            Converted::Line(..) => None,
        };
        let record = projected.as_ref().unwrap_or(record);
        let mut opened = None;
        if !self.open.contains(dir) {
            let many = !self.rules.partitioner.consecutive();
            let flush = self.rules.flush_size;
            let batch = Batch::new(self.next_batch_id, dir.clone(), rec, record, flush, &self.format, many)?;
            if self.open.len() >= self.rules.max_open_files {
                self.close_oldest(out);
            }
            let id = self.take_id();
            self.open.open(batch);
            opened = Some(id);
        }
        let (format, companions) = (&self.format, self.rules.companions.as_ref());
        let records = self.open.append(dir, rec.offset, |b| {
            format.append(&mut b.file, record, row);
            if let (Some(c), Some(lines)) = (companions, lines) {
                c.append(&mut b.companions, lines);
            }
        });
        if records >= self.rules.flush_size {
            self.close_dir(dir, out);
        }
        Ok(Pushed::Buffered { opened })
    }

    fn dead_letter(&mut self, rec: &Record, reason: RecordError, out: &mut Vec<Segment>) -> Pushed {
        if self.rules.partitioner.consecutive() {
            self.close_data(out);
        }
        if self.dead.in_s3(rec.offset) {
            return Pushed::Skipped;
        }
        let next_id = &mut self.next_batch_id;
        let (opened, len) = self.dead.add(DeadLetter::of(rec, reason.to_string()), || {
            *next_id += 1;
            *next_id - 1
        });
        if len >= self.rules.flush_size {
            self.close_dead(out);
        }
        Pushed::DeadLettered { opened }
    }

    fn take_id(&mut self) -> u64 {
        self.next_batch_id += 1;
        self.next_batch_id - 1
    }
}

#[path = "segmenter_close.rs"]
mod close;
#[path = "segmenter_listing.rs"]
mod listing;
#[path = "segmenter_schema.rs"]
mod schema;
use schema::view;

#[cfg(test)]
#[path = "segmenter_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "segmenter_partition_tests.rs"]
mod partition_tests;

#[cfg(test)]
#[path = "segmenter_avro_tests.rs"]
mod avro_tests;

#[cfg(test)]
#[path = "segmenter_property_tests.rs"]
mod property_tests;
