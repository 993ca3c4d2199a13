//! A record's directory, which directories must be listed before a record is written, and
//! which ones the records ahead will ask for, so that the caller lists them together.
//!
//! A file in S3 that a replayed record may already be in was written by an earlier writer of
//! the partition (this process before a restart, another instance before a rebalance), which
//! read only records below the partition's high watermark at the time. So records from the
//! high watermark read when the partition was planned on are in no such file: their
//! directories need no listing, and once the partition is past it every listing is forgotten.
//! Steady state lists nothing, whatever the number of distinct directories; a replay lists
//! the directories of the replayed records only.

use std::collections::HashSet;

use super::schema::view;
use super::{convert, Dir, Segment, Segmenter};
use crate::record::view::RecordView;
use crate::record::RecordError;
use crate::sink::Record;

impl Segmenter {
    /// The directory of `rec` (`record`, as converted) under the partitioner, or why it cannot
    /// hold files.
    pub(super) fn directory(&self, rec: &Record, record: &RecordView<'_>) -> Result<Dir, RecordError> {
        if let Some(dir) = &self.default_dir {
            return Ok(dir.clone()); // the same for every record: no formatting per record
        }
        let dir = self
            .rules
            .partitioner
            .encode(self.partition, rec.timestamp_ms, record, self.now_ms)?;
        match self.dir_check.refuse(&dir) {
            None => Ok(Dir::from(dir)),
            Some(reason) => Err(RecordError::Unstorable {
                dir: dir.chars().take(80).collect(),
                reason,
            }),
        }
    }

    /// Whether `offset` is inside an existing file of `dir`; if so, the open file of `dir` (of
    /// any directory, for consecutive files) is cut first.
    pub(super) fn in_existing(&mut self, dir: &str, offset: i64, out: &mut Vec<Segment>) -> bool {
        let inside = self.existing.holds(dir, offset);
        if inside {
            match self.rules.partitioner.consecutive() {
                true => self.close(out),
                false => self.close_dir(dir, out),
            }
        }
        inside
    }

    /// Records from `offset` on are in no file an earlier writer left: the high watermark when
    /// the partition was planned, or its start when S3 holds no file of the topic at all.
    pub fn set_list_below(&mut self, offset: i64) {
        self.list_below = offset;
        if self.next_offset >= offset {
            self.existing.forget();
        }
    }

    /// Directories whose listing is kept.
    pub fn listed_dirs(&self) -> usize {
        self.existing.len()
    }

    /// Whether the record at `offset` needs `dir` listed first.
    pub(super) fn needs_listing(&self, dir: &str, offset: i64) -> bool {
        !self.default_partitioner && offset < self.list_below && !self.existing.knows(dir)
    }

    /// Besides `first`, up to `limit` directories not listed yet that `ahead` (the records
    /// after the one that asked, in order) will ask for, looking at `scan` records at most.
    /// A record that cannot be placed (or needs a schema first) is passed over: it asks for
    /// nothing.
    pub fn unlisted_ahead<'r>(
        &self,
        first: &str,
        ahead: impl Iterator<Item = &'r Record>,
        scan: usize,
        limit: usize,
    ) -> Vec<String> {
        let mut seen: HashSet<Dir> = HashSet::from([Dir::from(first)]);
        let mut dirs = Vec::new();
        let consecutive = self.rules.partitioner.consecutive();
        for rec in ahead.take(scan) {
            if dirs.len() >= limit {
                break;
            }
            if rec.offset < self.next_offset || rec.offset >= self.list_below {
                continue;
            }
            let dir = match consecutive {
                true => self.directory(rec, &RecordView::Json(b"")),
                false => match convert(rec, &self.rules.converter) {
                    Ok(record) => self.directory(rec, &view(&record)),
                    Err(_) => continue,
                },
            };
            let Ok(dir) = dir else { continue };
            if !self.existing.knows(&dir) && seen.insert(dir.clone()) {
                dirs.push(dir.to_string());
            }
        }
        dirs
    }
}

#[cfg(test)]
#[path = "segmenter_listing_tests.rs"]
mod tests;
