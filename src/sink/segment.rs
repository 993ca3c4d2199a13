//! What the segmenter takes and gives: spans and files already in S3, the segments it closes,
//! and what became of each record pushed.

use bytes::Bytes;

use super::dead_letter::DeadLetter;
use super::Record;
use crate::format::{Converted, Converter, Verdict};
use crate::record::RecordError;
use crate::s3::SegmentMeta;

/// Offsets `[start, end)` of a file already in S3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

/// A file already in S3 in one directory, as a resume lists it: it starts at `start` and
/// holds the directory's records up to its end offset (from its metadata) or, for a file
/// without metadata, its next `n` records of the directory. Only a file whose upload had not
/// been acknowledged can lack metadata (see [`Extent`]), and such a file starts at or after
/// the committed offset, so its records are all replayed and counting them is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirFile {
    pub start: i64,
    pub extent: Extent,
}

/// How far a file in S3 reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// The offset after its last record (tickstream's metadata).
    End(i64),
    /// Only its count of records is known: written by another tool, or its metadata was lost
    /// ([`crate::s3::SegmentStore::end_offset`] says how).
    Records(u64),
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
    /// Its keys and headers files (key, body), uploaded before it (`store.kafka.keys`,
    /// `store.kafka.headers`).
    pub companions: Vec<(String, Bytes)>,
}

/// What happened to one pushed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Below the next expected offset: dropped.
    Stale,
    /// Already in an existing S3 file: dropped.
    Skipped,
    /// Appended to its directory's open file; `opened` carries the id of a batch this record
    /// opened (start its rotation timer).
    Buffered { opened: Option<u64> },
    /// Joined the dead-letter batch (`opened` as above).
    DeadLettered { opened: Option<u64> },
    /// Skipped on purpose (an ignored tombstone).
    Ignored,
    /// `errors.tolerance = none`: the partition stops at this record, for this reason.
    Halted(String),
    /// Not taken: the files already in S3 under this directory must be listed first
    /// ([`Segmenter::add_listing`]); then push the record again.
    NeedsListing(String),
    /// Not taken: the record's schema (this registry id) must be fetched into the converter's
    /// cache first; then push the record again.
    NeedsSchema(u32),
}

/// Why a record is not written to a data file.
pub(super) enum NotWritten {
    /// It cannot be (converter, column type, partitioner): a dead letter, or a halt.
    Reject(RecordError),
    /// Skipped on purpose (an ignored tombstone).
    Skip,
    /// Not converted yet: its schema must be fetched first.
    NeedsSchema(u32),
}

/// What the segmenter did with a record it could convert.
pub(super) enum Written {
    /// Buffered in its directory's open file.
    Buffered(Pushed),
    /// Not buffered, and not done with: its directory needs listing, or S3 holds it already.
    Not(Pushed),
}

/// What the converter writes for `rec`, or why nothing.
pub(super) fn convert<'a>(rec: &'a Record, converter: &Converter) -> Result<Converted<'a>, NotWritten> {
    match converter.convert(rec.value.as_deref()) {
        Verdict::Write(record) => Ok(record),
        Verdict::Reject(reason) => Err(NotWritten::Reject(reason)),
        Verdict::Skip => Err(NotWritten::Skip),
        Verdict::NeedsSchema(id) => Err(NotWritten::NeedsSchema(id)),
    }
}
