//! The files already in S3 that a partition's replayed records may be in, per directory: a
//! directory is known once it has been listed, and each listed file is skipped over as the
//! records it holds come by again.

use std::collections::{HashMap, VecDeque};

use super::segment::DirFile;
use super::segment::Extent;

/// Listed directories and their files that reach past the resume point, sorted by start.
#[derive(Debug, Default)]
pub(super) struct Existing {
    by_dir: HashMap<String, VecDeque<DirFile>, foldhash::fast::RandomState>,
    /// Files left in all directories: once the replay is past them, nothing is looked up.
    remaining: usize,
}

impl Existing {
    /// Drops every listing (their memory too): the partition is past every file they named.
    pub fn forget(&mut self) {
        if !self.by_dir.is_empty() {
            *self = Self::default();
        }
    }

    /// Directories listed and not forgotten.
    pub fn len(&self) -> usize {
        self.by_dir.len()
    }

    /// Whether `dir` has been listed.
    pub fn knows(&self, dir: &str) -> bool {
        self.by_dir.contains_key(dir)
    }

    /// `dir`'s files, listed when the partition was at offset `from`. `consecutive`: files
    /// hold consecutive offsets, so a count of records is an end.
    pub fn insert(&mut self, dir: &str, files: Vec<DirFile>, from: i64, consecutive: bool) {
        let mut files: Vec<DirFile> = files
            .into_iter()
            .map(|f| match f.extent {
                Extent::Records(n) if consecutive => DirFile {
                    extent: Extent::End(f.start + n as i64),
                    ..f
                },
                _ => f,
            })
            .filter(|f| match f.extent {
                Extent::End(end) => end > from,
                // Counted from before the resume point, its count is of records not replayed:
                // not skipped (a duplicate at worst, never a loss).
                Extent::Records(_) => f.start >= from,
            })
            .collect();
        files.sort_by_key(|f| f.start);
        self.remaining += files.len();
        if let Some(old) = self.by_dir.insert(dir.to_owned(), files.into()) {
            self.remaining -= old.len();
        }
    }

    /// Whether the record at `offset` of `dir` is in one of its files (records of one
    /// directory arrive in offset order; a counted file is used up by its records).
    pub fn holds(&mut self, dir: &str, offset: i64) -> bool {
        if self.remaining == 0 {
            return false;
        }
        let Some(files) = self.by_dir.get_mut(dir) else {
            return false;
        };
        while let Some(f) = files.front_mut() {
            if f.start > offset {
                return false;
            }
            match &mut f.extent {
                Extent::End(end) if offset < *end => return true,
                Extent::Records(n) if *n > 0 => {
                    *n -= 1;
                    if *n == 0 {
                        files.pop_front();
                        self.remaining -= 1;
                    }
                    return true;
                }
                _ => {
                    files.pop_front();
                    self.remaining -= 1;
                }
            }
        }
        false
    }
}
