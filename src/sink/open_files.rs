//! A partition's open data files: one per directory the partitioner names (a single one under
//! the default partitioner), each with its own first offset, record count and rotation id.
//! Kept by directory and by first offset, so the oldest file (the one that holds the commit
//! back) is found at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::segment::Segment;
use super::Record;
use crate::format::companions::{Bodies, Companions};
use crate::format::{Converted, FileBody, FileFormat, FormatError};
use crate::record::RecordError;
use crate::s3::keys::KeyLayout;
use crate::s3::SegmentMeta;

/// A directory's name, shared by its open file and the index by first offset (a clone is a
/// count, not a copy: the default partitioner's one name serves every record).
pub(super) type Dir = Arc<str>;

/// A map by directory with a fast hasher (a lookup or two per record).
type ByDir<V> = std::collections::HashMap<Dir, V, foldhash::fast::RandomState>;

/// One open data file.
#[derive(Debug)]
pub(super) struct Batch {
    pub id: u64,
    /// The partitioner's directory (`partition=0`, `symbol=AAPL`, …).
    pub dir: Dir,
    pub start: i64,
    pub first_timestamp_ms: Option<i64>,
    pub last: i64,
    pub records: u64,
    /// Its records so far, as its format keeps them.
    pub file: FileBody,
    /// Its records' keys and headers lines, when they are written.
    pub companions: Bodies,
}

impl Batch {
    /// A file opened by `rec` (converted as `first`); `many`: one of many files open at once
    /// (each starts small). A file of a schema's columns says why the record's schema has none.
    pub fn new(
        id: u64,
        dir: Dir,
        rec: &Record,
        first: &Converted<'_>,
        flush_size: u64,
        format: &FileFormat,
        many: bool,
    ) -> Result<Self, RecordError> {
        Ok(Self {
            id,
            dir,
            start: rec.offset,
            first_timestamp_ms: rec.timestamp_ms,
            last: rec.offset,
            records: 0,
            file: format.open(first, rec.offset, flush_size, many)?,
            companions: Bodies::default(),
        })
    }

    /// The file to upload: its key, its body as its format finishes it, its offsets; or why
    /// the file could not be written.
    pub fn into_segment(
        self,
        layout: &KeyLayout,
        partition: i32,
        format: &FileFormat,
        companions: Option<&Companions>,
    ) -> Result<Segment, FormatError> {
        let key = layout.key_in(&self.dir, partition, self.start);
        let companions = match companions {
            Some(c) => c.finish(self.companions, &key, layout.extension)?,
            None => Vec::new(),
        };
        let meta = SegmentMeta {
            start_offset: self.start,
            end_offset: self.last + 1,
            records: self.records,
            error: None,
        };
        let body = format.finish(self.file)?;
        Ok(Segment {
            key,
            body: bytes::Bytes::from(body),
            meta,
            dead_letter: false,
            dead: Vec::new(),
            first_timestamp_ms: self.first_timestamp_ms,
            companions,
        })
    }

    /// Bytes held: the lines, or the Parquet column buffers, and the keys and headers.
    pub fn bytes(&self) -> u64 {
        self.file.bytes() + self.companions.bytes()
    }
}

/// The open files of one partition.
#[derive(Debug, Default)]
pub(super) struct OpenFiles {
    by_dir: ByDir<Batch>,
    /// First offset → directory (first offsets are distinct: each file opens at its record).
    by_start: BTreeMap<i64, Dir>,
    records: u64,
}

impl OpenFiles {
    pub fn len(&self) -> usize {
        self.by_dir.len()
    }

    /// Records in all open files.
    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn bytes(&self) -> u64 {
        self.by_dir.values().map(Batch::bytes).sum()
    }

    /// The first offset of the oldest open file.
    pub fn first_start(&self) -> Option<i64> {
        self.by_start.keys().next().copied()
    }

    /// The only open file, when exactly one is open.
    pub fn only(&self) -> Option<&Batch> {
        match self.by_dir.len() {
            1 => self.by_dir.values().next(),
            _ => None,
        }
    }

    /// The open file of `dir`.
    pub fn get(&self, dir: &Dir) -> Option<&Batch> {
        match self.by_dir.len() {
            1 => self
                .by_dir
                .values()
                .next()
                .filter(|b| Arc::ptr_eq(&b.dir, dir) || b.dir == *dir),
            _ => self.by_dir.get(&**dir),
        }
    }

    pub fn contains(&self, dir: &Dir) -> bool {
        match self.by_dir.len() {
            0 => false,
            1 if self.by_dir.values().next().is_some_and(|b| Arc::ptr_eq(&b.dir, dir)) => true,
            _ => self.by_dir.contains_key(&**dir),
        }
    }

    pub fn open(&mut self, batch: Batch) {
        self.by_start.insert(batch.start, batch.dir.clone());
        self.records += batch.records;
        self.by_dir.insert(batch.dir.clone(), batch);
    }

    /// Appends the record at `offset` to `dir`'s file (`write` adds its bytes); returns the
    /// file's count of records.
    pub fn append(&mut self, dir: &Dir, offset: i64, write: impl FnOnce(&mut Batch)) -> u64 {
        // One file open (the default partitioner's case): no hashing.
        let only = match self.by_dir.len() {
            1 => self.by_dir.values_mut().next().filter(|b| Arc::ptr_eq(&b.dir, dir)),
            _ => None,
        };
        let Some(b) = (match only {
            Some(b) => Some(b),
            None => self.by_dir.get_mut(&**dir),
        }) else {
            return 0;
        };
        write(b);
        b.last = offset;
        b.records += 1;
        self.records += 1;
        b.records
    }

    pub fn take(&mut self, dir: &str) -> Option<Batch> {
        let b = self.by_dir.remove(dir)?;
        self.by_start.remove(&b.start);
        self.records -= b.records;
        Some(b)
    }

    /// Takes the oldest open file.
    pub fn take_oldest(&mut self) -> Option<Batch> {
        let dir = self.by_start.values().next()?.clone();
        self.take(&dir)
    }

    /// The directory of the file with rotation id `id`.
    pub fn dir_of(&self, id: u64) -> Option<Dir> {
        self.by_dir.values().find(|b| b.id == id).map(|b| b.dir.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(id: u64, dir: &str, start: i64) -> Batch {
        Batch {
            id,
            dir: Dir::from(dir),
            start,
            first_timestamp_ms: None,
            last: start,
            records: 1,
            companions: Default::default(),
            file: crate::format::FileFormats::json()
                .for_topic("t")
                .open(&crate::format::Converted::Line(b"{}"[..].into(), None), start, 1, false)
                .unwrap(),
        }
    }

    #[test]
    fn the_oldest_file_is_the_one_with_the_smallest_first_offset() {
        let mut o = OpenFiles::default();
        o.open(batch(0, "symbol=B", 5));
        o.open(batch(1, "symbol=A", 2));
        assert_eq!((o.len(), o.records(), o.first_start()), (2, 2, Some(2)));
        assert_eq!(o.append(&Dir::from("symbol=B"), 9, |_| {}), 2);
        assert_eq!(o.dir_of(0).as_deref(), Some("symbol=B"));
        assert_eq!(o.take_oldest().map(|b| b.dir), Some("symbol=A".into()));
        assert_eq!((o.records(), o.first_start()), (2, Some(5)));
        assert_eq!(o.only().map(|b| &*b.dir), Some("symbol=B"));
        assert_eq!(
            o.take("symbol=B").map(|b| (b.start, b.last, b.records)),
            Some((5, 9, 2))
        );
        assert_eq!((o.len(), o.records(), o.first_start()), (0, 0, None));
    }
}
