//! What a store accepts as an object key, checked before a record is placed in a directory: a
//! field value that would make a key S3 refuses (KeyTooLongError past 1,024 bytes) is the
//! record's fault, so it becomes a dead letter at once instead of a file that fails its upload
//! for ever.

use super::keys::KeyLayout;

/// S3's limit on a key, in bytes of UTF-8.
pub const S3_MAX_KEY_BYTES: usize = 1024;

/// A file system's limit on one name (ext4, xfs): the embedded store keeps each object as a
/// file, so a longer path segment fails there although S3 would take it.
pub const FILE_NAME_MAX_BYTES: usize = 255;

/// The limits a store puts on keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLimits {
    pub max_key_bytes: usize,
    /// A limit on each `/`-separated segment, on stores that keep objects as files.
    pub max_segment_bytes: Option<usize>,
}

impl KeyLimits {
    /// Amazon S3 (and any store that behaves as it does).
    pub const S3: Self = Self {
        max_key_bytes: S3_MAX_KEY_BYTES,
        max_segment_bytes: None,
    };

    /// The embedded store: S3's limit, and a file system's on each segment.
    pub const FILES: Self = Self {
        max_key_bytes: S3_MAX_KEY_BYTES,
        max_segment_bytes: Some(FILE_NAME_MAX_BYTES),
    };
}

/// The longest part a file beside a data file adds to its stem (`.metadata.json.zst`).
pub const LONGEST_BESIDE: usize = ".metadata.json.zst".len();

/// Whether the files of one Kafka partition can be stored in a directory, with what a key
/// around the directory takes computed once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirCheck {
    /// The bytes of the longest key of a file in a directory, less the directory's.
    overhead: usize,
    limits: KeyLimits,
}

impl KeyLayout {
    /// The check of directories for Kafka partition `partition`'s files under `limits`, each
    /// with files beside it up to `beside` bytes longer than its stem.
    pub fn dir_check(&self, partition: i32, limits: KeyLimits, beside: usize) -> DirCheck {
        // `topics/<topic>//<topic>+<p>+<the largest offset>.<extension>`: the key less a directory.
        let data = self.key_in("", partition, i64::MAX).len();
        let stem = data - self.extension.len() - 1;
        DirCheck {
            overhead: data.max(stem + beside),
            limits,
        }
    }
}

impl DirCheck {
    /// Why no file can be stored in `dir`, or `None` when every one can: the longest key such
    /// a file (or a file beside it) can have, at any offset, is over the limit, or a segment of
    /// `dir` is.
    pub fn refuse(&self, dir: &str) -> Option<String> {
        let longest = self.overhead + dir.len();
        if longest > self.limits.max_key_bytes {
            return Some(format!(
                "its files' keys would be up to {longest} bytes, over the store's {} (S3's KeyTooLongError)",
                self.limits.max_key_bytes
            ));
        }
        let max = self.limits.max_segment_bytes?;
        let long = dir.split('/').find(|s| s.len() > max)?;
        Some(format!(
            "the directory name {:?}… is {} bytes, over the {max} a file system takes (the embedded store keeps objects as files)",
            long.chars().take(40).collect::<String>(),
            long.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_refused_when_its_longest_key_or_a_segment_is_over_the_limit() {
        let layout = KeyLayout::json("topics", "ticks", 10);
        // topics/ticks/<dir>/ticks+0+<19 digits>.json is 39 bytes and the directory.
        let overhead = layout.key_in("", 0, i64::MAX).len();
        let fits = format!("symbol={}", "A".repeat(S3_MAX_KEY_BYTES - overhead - 7));
        let s3 = layout.dir_check(0, KeyLimits::S3, 0);
        assert_eq!(s3.refuse(&fits), None);
        assert_eq!(
            layout.key_in(&fits, 0, i64::MAX).len(),
            S3_MAX_KEY_BYTES,
            "the longest fits"
        );
        let why = s3.refuse(&format!("{fits}B")).unwrap();
        assert!(why.contains("1025 bytes, over the store's 1024"), "{why}");
        let beside = layout.dir_check(0, KeyLimits::S3, LONGEST_BESIDE);
        assert!(
            beside.refuse(&fits).is_some(),
            "a metadata file beside it would be over"
        );
        let segment = format!("symbol={}", "A".repeat(FILE_NAME_MAX_BYTES));
        assert_eq!(s3.refuse(&segment), None, "S3 takes it");
        let why = layout.dir_check(0, KeyLimits::FILES, 0).refuse(&segment).unwrap();
        assert!(why.contains("262 bytes, over the 255"), "{why}");
        assert_eq!(layout.dir_check(0, KeyLimits::FILES, 0).refuse("symbol=AAPL"), None);
    }
}
