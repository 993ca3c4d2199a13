//! Where a partition resumes: the committed offset, checked against what is really in S3.
//!
//! Commits only follow uploads, so normally the committed offset is the end of some file: the
//! last data file, or the last dead-letter batch. Files uploaded but not committed before a crash
//! (uploads overlap, and a dead-letter batch stays open across data files) lie beyond it; they
//! are returned as spans to skip, per lane, never rewritten. A committed offset that no file ends
//! at means S3 lost data or the offset came from elsewhere: S3 wins, and the partition re-reads
//! from the earliest offset Kafka still has, skipping every file that exists.
//!
//! Data files are listed from `flush.size` before the committed offset (a data file holds at
//! most that many consecutive offsets).
//!
//! Under the `field` and `time` partitioners ([`plan_partitioned`]) a partition keeps several
//! files open, so the commit stops at the oldest one's first offset and files that closed
//! later already hold some records after it. No file ends at the committed offset then; the
//! partition resumes there and each directory's files are listed when the first replayed
//! record routes to it ([`dir_spans`]), from [`super::rules::Rules::span_limit`] offsets
//! before the resume offset (no file spreads wider), so years of directories are never listed. Dead-letter batches can span far more offsets (a few bad
//! records among many good ones), so a partition's dead-letter files are listed whole: there
//! are few of them, `flush.size` dead letters each.

use super::segmenter::{DirFile, Extent, Span};
use super::source::Committed;
use crate::error::ErrorClass;
use crate::format::dead_letter::DeadLine;
use crate::format::{FormatError, Reader};
use crate::s3::keys::{DeadFile, KeyLayout};
use crate::s3::{S3Error, SegmentStore};

/// Why a partition's files in S3 could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error(transparent)]
    S3(#[from] S3Error),
    /// A file without metadata could not be read to count its records.
    #[error("counting the records of a file without metadata")]
    Unreadable(#[from] FormatError),
}

impl ResumeError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::S3(e) => e.class(),
            // A file the sink cannot read back holds records nobody can account for.
            Self::Unreadable(_) => ErrorClass::NeedsPerson,
        }
    }
}

/// Why a partition could not work out where to resume.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The committed offset or the earliest offset could not be read.
    #[error("kafka")]
    Kafka(#[from] super::source::SourceError),
    #[error(transparent)]
    Files(#[from] ResumeError),
}

impl PlanError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Kafka(e) => e.class(),
            Self::Files(e) => e.class(),
        }
    }
}

/// What a resume reads S3 with: the store, the partition's keys, and how a file without
/// metadata is split into records to count them.
pub struct Files<'a, S> {
    pub store: &'a S,
    pub layout: &'a KeyLayout,
    pub reader: &'a Reader,
}

impl<S> Clone for Files<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Files<'_, S> {}

impl<S: SegmentStore> Files<'_, S> {
    /// How far the file at `key` reaches: its end offset from its metadata, or else its count
    /// of records, read back as its format splits it.
    pub async fn extent(&self, key: &str) -> Result<Extent, ResumeError> {
        if let Some(end) = self.store.end_offset(key).await? {
            return Ok(Extent::End(end));
        }
        let body = self.store.get(key).await?;
        Ok(Extent::Records(self.reader.read(key, body)?.count() as u64))
    }

    /// The offset after the last record of a file of consecutive offsets from `start`.
    async fn end_of(&self, key: &str, start: i64) -> Result<i64, ResumeError> {
        Ok(match self.extent(key).await? {
            Extent::End(end) => end,
            Extent::Records(n) => start + n as i64,
        })
    }

    /// The offset after the last dead letter of a batch: from its metadata, or else from its
    /// lines (its offsets are not consecutive).
    async fn dead_end_of(&self, key: &str, start: i64) -> Result<i64, ResumeError> {
        if let Some(end) = self.store.end_offset(key).await? {
            return Ok(end);
        }
        let body = self.store.get(key).await?;
        let lines = Reader::default().read(key, body)?;
        let last = lines
            .iter()
            .filter_map(|l| serde_json::from_slice::<DeadLine>(l).ok())
            .map(|d| d.offset)
            .max();
        Ok(last.map_or(start, |o| o.max(start)) + 1)
    }
}

/// Where to start and what to skip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumePlan {
    /// The first offset to read.
    pub start: i64,
    /// Data files at or after `start` that already exist, sorted.
    pub existing: Vec<Span>,
    /// Dead-letter files reaching past `start` that already exist, sorted.
    pub existing_dead: Vec<Span>,
    /// Set when S3 did not back the committed offset (logged as a warning by the caller).
    pub committed_not_in_s3: Option<i64>,
    /// Set when a `field` or `time` partitioner follows a committed offset tickstream did not
    /// make (an external reset, `enable.auto.commit`): reported by the caller.
    pub foreign_commit: Option<i64>,
}

/// Builds the plan for `partition` from the committed offset (if any), the earliest offset Kafka
/// still has, and the S3 listing. A commit tickstream made (its checkpoint) is where the last
/// resume left off whatever its last record was; any other is trusted only where S3 backs it (a
/// file ends there), else the partition is read again from the earliest offset, skipping what
/// S3 has. `flush_size` bounds how far back the data file ending at the committed offset can
/// start, which keeps the listing short. `dead_in_s3`: dead letters go to S3 (not to a Kafka
/// topic), so their files count.
pub async fn plan<S: SegmentStore>(
    files: Files<'_, S>,
    partition: i32,
    committed: Option<Committed>,
    low_watermark: i64,
    flush_size: u64,
    dead_in_s3: bool,
) -> Result<ResumePlan, ResumeError> {
    let (store, layout) = (files.store, files.layout);
    let prefix = layout.partition_prefix(partition);
    let dead = match dead_in_s3 {
        true => dead_spans(files, partition).await?,
        false => Vec::new(),
    };
    let checkpoint = committed.is_some_and(|c| c.checkpoint);
    let committed = committed.map(|c| c.offset);
    if let Some(c) = committed {
        let window_start = c.saturating_sub(flush_size as i64);
        let start_after = (window_start > 0).then(|| layout.object_key(partition, window_start - 1));
        let listed = starts(layout, partition, store.list(&prefix, start_after.as_deref()).await?);
        let before = listed.iter().rev().find(|(start, _)| *start < c);
        let backed = checkpoint
            || c <= low_watermark
            || dead.iter().any(|s| s.end == c)
            || match before {
                Some((start, key)) => files.end_of(key, *start).await? == c,
                None => false,
            };
        if backed {
            let existing = spans(files, listed.iter().filter(|(s, _)| *s >= c)).await?;
            return Ok(ResumePlan {
                start: c,
                existing,
                existing_dead: dead.into_iter().filter(|s| s.end > c).collect(),
                committed_not_in_s3: None,
                foreign_commit: None,
            });
        }
    }
    let listed = starts(layout, partition, store.list(&prefix, None).await?);
    let existing: Vec<Span> = spans(files, listed.iter())
        .await?
        .into_iter()
        .filter(|s| s.end > low_watermark)
        .collect();
    Ok(ResumePlan {
        start: low_watermark,
        existing,
        existing_dead: dead.into_iter().filter(|s| s.end > low_watermark).collect(),
        committed_not_in_s3: committed.filter(|c| *c > low_watermark),
        foreign_commit: None,
    })
}

/// Where a partition resumes under a `field` or `time` partitioner: at the committed offset
/// (or the earliest Kafka still has), its directories listed as records reach them. A commit
/// that is not tickstream's checkpoint cannot be checked against S3 here (its files are spread
/// over directories): it is followed, and named in `foreign_commit` for the caller to report.
pub async fn plan_partitioned<S: SegmentStore>(
    files: Files<'_, S>,
    partition: i32,
    committed: Option<Committed>,
    low_watermark: i64,
    dead_in_s3: bool,
) -> Result<ResumePlan, ResumeError> {
    let foreign_commit = committed.filter(|c| !c.checkpoint && c.offset > low_watermark);
    let start = committed.map_or(low_watermark, |c| c.offset.max(low_watermark));
    let dead = match dead_in_s3 {
        true => dead_spans(files, partition).await?,
        false => Vec::new(),
    };
    Ok(ResumePlan {
        start,
        existing: Vec::new(),
        existing_dead: dead.into_iter().filter(|s| s.end > start).collect(),
        committed_not_in_s3: None,
        foreign_commit: foreign_commit.map(|c| c.offset),
    })
}

/// Under a `field` or `time` partitioner, the offset from which no record of the partition can
/// be in a file an earlier writer left (see [`super::segmenter::Segmenter::set_list_below`]):
/// `start` when S3 holds no file of the topic at all (a first run, a backfill into a new
/// bucket: nothing to list), else the high watermark read for this plan.
pub async fn list_below<S: SegmentStore>(
    files: Files<'_, S>,
    start: i64,
    high_watermark: i64,
) -> Result<i64, ResumeError> {
    match files.store.holds_any(&files.layout.topic_prefix()).await? {
        true => Ok(high_watermark.max(start)),
        false => Ok(start),
    }
}

/// The files of `partition` in `dir` that may hold records at or after `from`, sorted, with
/// their keys: a file starts less than `span_limit` offsets before every record it holds, so
/// the listing starts `span_limit` before `from`.
pub async fn dir_spans<S: SegmentStore>(
    files: Files<'_, S>,
    dir: &str,
    partition: i32,
    from: i64,
    span_limit: i64,
) -> Result<Vec<(String, DirFile)>, ResumeError> {
    let (store, layout) = (files.store, files.layout);
    let floor = from.saturating_sub(span_limit);
    let start_after = (floor > 0).then(|| layout.key_in(dir, partition, floor - 1));
    let keys = store
        .list(&layout.file_prefix(dir, partition), start_after.as_deref())
        .await?;
    let mut listed: Vec<(i64, String)> = keys
        .into_iter()
        .filter_map(|k| layout.parse_in(dir, partition, &k).map(|o| (o, k)))
        .collect();
    listed.sort();
    let mut out = Vec::new();
    for (start, key) in listed {
        let extent = files.extent(&key).await?;
        if !matches!(extent, Extent::End(end) if end <= from) {
            out.push((key, DirFile { start, extent }));
        }
    }
    Ok(out)
}

/// Every dead-letter file of the partition as a span, sorted.
async fn dead_spans<S: SegmentStore>(files: Files<'_, S>, partition: i32) -> Result<Vec<Span>, ResumeError> {
    let keys = files
        .store
        .list(&files.layout.dead_letter_prefix(partition), None)
        .await?;
    let mut out = Vec::new();
    for key in keys {
        match files.layout.parse_dead_letter_offset(partition, &key) {
            Some((start, DeadFile::Batch)) => out.push(Span {
                start,
                end: files.dead_end_of(&key, start).await?,
            }),
            Some((start, DeadFile::Single)) => out.push(Span { start, end: start + 1 }),
            None => {}
        }
    }
    out.sort_by_key(|s| s.start);
    Ok(out)
}

/// `(start offset, key)` for each key of this partition's layout, sorted by offset.
fn starts(layout: &KeyLayout, partition: i32, keys: Vec<String>) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = keys
        .into_iter()
        .filter_map(|k| layout.parse_start_offset(partition, &k).map(|o| (o, k)))
        .collect();
    v.sort();
    v
}

async fn spans<'a, S: SegmentStore>(
    files: Files<'_, S>,
    listed: impl Iterator<Item = &'a (i64, String)>,
) -> Result<Vec<Span>, ResumeError> {
    let mut out = Vec::new();
    for (start, key) in listed {
        out.push(Span {
            start: *start,
            end: files.end_of(key, *start).await?,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "resume_tests.rs"]
mod tests;
