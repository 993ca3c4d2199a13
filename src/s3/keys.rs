//! Object keys exactly as the Confluent S3 Sink Connector names them:
//! `<topics.dir>/<topic>/partition=<p>/<topic>+<p>+<start offset, zero padded>.<extension>`
//! (`json`, `snappy.parquet` and the other Parquet codecs', or `bin` for raw values, each
//! `.gz`/`.zst` when compressed), and tickstream's dead-letter files beside them.

/// Where one topic-partition's files live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLayout {
    /// `topics.dir`, e.g. `topics`.
    pub topics_dir: String,
    pub topic: String,
    /// `filename.offset.zero.pad.width`.
    pub pad_width: usize,
    /// The data files' extension: `json`, or `bin` (`value.converter = "bytes"`).
    pub extension: &'static str,
    /// Files are in a `field` or `time` partitioner's directories, not `partition=<p>/`.
    pub by_directory: bool,
}

impl KeyLayout {
    /// The layout of `topic` with JSON files.
    pub fn json(topics_dir: &str, topic: &str, pad_width: usize) -> Self {
        Self {
            topics_dir: topics_dir.to_owned(),
            topic: topic.to_owned(),
            pad_width,
            extension: "json",
            by_directory: false,
        }
    }

    /// The layout `[sink]` describes, for `topic`: `.bin` files of raw values, `.json` files,
    /// each with `.gz` or `.zst` when `s3.compression.type` says, or Parquet files named by
    /// their codec (`.snappy.parquet`).
    pub fn of(sink: &crate::config::SinkConfig, topic: &str) -> Self {
        Self {
            extension: crate::format::names::extension(sink),
            by_directory: sink.partitioner_class != crate::config::PartitionerClass::Default,
            ..Self::json(&sink.topics_dir, topic, sink.offset_pad_width)
        }
    }

    /// The same layout for another topic.
    pub fn for_topic(&self, topic: &str) -> Self {
        Self {
            topic: topic.to_owned(),
            ..self.clone()
        }
    }

    /// `topics/stock-market-data/partition=0/` (with the trailing slash): the default
    /// partitioner's directory of a Kafka partition.
    pub fn partition_prefix(&self, partition: i32) -> String {
        self.dir_prefix(&format!("partition={partition}"))
    }

    /// `topics/stock-market-data/` (with the trailing slash).
    pub fn topic_prefix(&self) -> String {
        format!("{}/{}/", self.topics_dir, self.topic)
    }

    /// `topics/<topic>/<dir>/`: a directory a partitioner names (`symbol=AAPL`,
    /// `year=2026/month=03/day=07/hour=14`).
    pub fn dir_prefix(&self, dir: &str) -> String {
        format!("{}/{}/{}/", self.topics_dir, self.topic, dir)
    }

    /// `topics/<topic>/<dir>/<topic>+<p>+`: what every file of Kafka partition `partition` in
    /// `dir` starts with.
    pub fn file_prefix(&self, dir: &str, partition: i32) -> String {
        format!("{}{}+{}+", self.dir_prefix(dir), self.topic, partition)
    }

    /// The key of the default partitioner's file whose first record is at `start_offset`.
    pub fn object_key(&self, partition: i32, start_offset: i64) -> String {
        self.key_in(&format!("partition={partition}"), partition, start_offset)
    }

    /// The key of the file in `dir` of Kafka partition `partition` whose first record is at
    /// `start_offset`.
    pub fn key_in(&self, dir: &str, partition: i32, start_offset: i64) -> String {
        format!(
            "{}{:0width$}.{}",
            self.file_prefix(dir, partition),
            start_offset,
            self.extension,
            width = self.pad_width
        )
    }

    /// `dlq/<topic>/partition=<p>/`: where the partition's dead letters go.
    pub fn dead_letter_prefix(&self, partition: i32) -> String {
        format!("dlq/{}/partition={}/", self.topic, partition)
    }

    /// A batch of dead letters whose first is at `offset`:
    /// `dlq/<topic>/partition=<p>/<topic>+<p>+<offset>.json`, JSON lines.
    pub fn dead_letter_key(&self, partition: i32, offset: i64) -> String {
        format!(
            "{}{}+{}+{:0width$}.json",
            self.dead_letter_prefix(partition),
            self.topic,
            partition,
            offset,
            width = self.pad_width
        )
    }

    /// The first offset in a dead-letter key of this layout and partition, and whether it is
    /// a batch (`.json`) or an older single record's original bytes (`.bin`, one offset).
    pub fn parse_dead_letter_offset(&self, partition: i32, key: &str) -> Option<(i64, DeadFile)> {
        let name = key.strip_prefix(&self.dead_letter_prefix(partition))?;
        let rest = name.strip_prefix(&format!("{}+{}+", self.topic, partition))?;
        let (digits, kind) = match (rest.strip_suffix(".json"), rest.strip_suffix(".bin")) {
            (Some(d), _) => (d, DeadFile::Batch),
            (None, Some(d)) => (d, DeadFile::Single),
            _ => return None,
        };
        number(digits).map(|o| (o, kind))
    }

    /// The start offset in a key of this layout and partition, or `None` for any other key.
    /// A file of JSON records counts whatever its format (JSON lines, compressed or not, or
    /// Parquet of any codec), and a raw-value file whether or not it is compressed: files
    /// written before a change of `format.class`, `parquet.codec` or `s3.compression.type` still
    /// hold their offsets (resuming and `verify` see them).
    pub fn parse_start_offset(&self, partition: i32, key: &str) -> Option<i64> {
        self.parse_in(&format!("partition={partition}"), partition, key)
    }

    /// The start offset in a key of a file of `partition` in `dir` (as
    /// [`Self::parse_start_offset`] reads it).
    pub fn parse_in(&self, dir: &str, partition: i32, key: &str) -> Option<i64> {
        self.start_of(key.strip_prefix(&self.file_prefix(dir, partition))?)
    }

    /// Any data file of this topic, whatever directory it is in.
    pub fn parse_any(&self, key: &str) -> Option<FileKey> {
        let (dir, name) = key.strip_prefix(&self.topic_prefix())?.rsplit_once('/')?;
        let (partition, rest) = name.strip_prefix(&format!("{}+", self.topic))?.split_once('+')?;
        Some(FileKey {
            dir: dir.to_owned(),
            partition: i32::try_from(number(partition)?).ok()?,
            start: self.start_of(rest)?,
        })
    }

    /// The start offset of `<digits>.<extension>`.
    fn start_of(&self, rest: &str) -> Option<i64> {
        number(crate::format::names::strip_extension(
            rest,
            crate::format::names::is_raw(self.extension),
        )?)
    }
}

/// A data file's place: its directory, Kafka partition and first offset.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileKey {
    pub dir: String,
    pub partition: i32,
    pub start: i64,
}

/// What a dead-letter object holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadFile {
    /// JSON lines, one per dead letter ([`crate::sink::dead_letter`]).
    Batch,
    /// One record's original bytes, the reason in its metadata (tickstream before batching).
    Single,
}

fn number(digits: &str) -> Option<i64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> KeyLayout {
        KeyLayout::json("topics", "stock-market-data", 10)
    }

    #[test]
    fn keys_match_the_confluent_layout() {
        assert_eq!(
            layout().object_key(0, 0),
            "topics/stock-market-data/partition=0/stock-market-data+0+0000000000.json"
        );
        assert_eq!(
            layout().object_key(2, 1234),
            "topics/stock-market-data/partition=2/stock-market-data+2+0000001234.json"
        );
    }

    #[test]
    fn offsets_wider_than_the_padding_are_not_truncated() {
        let l = KeyLayout {
            pad_width: 3,
            ..layout()
        };
        assert!(l.object_key(1, 123_456).ends_with("+1+123456.json"));
        assert_eq!(l.parse_start_offset(1, &l.object_key(1, 123_456)), Some(123_456));
    }

    #[test]
    fn parsing_round_trips_and_rejects_foreign_keys() {
        let l = layout();
        assert_eq!(l.parse_start_offset(1, &l.object_key(1, 42)), Some(42));
        assert_eq!(l.parse_start_offset(2, &l.object_key(1, 42)), None);
        assert_eq!(
            l.parse_start_offset(1, "topics/stock-market-data/partition=1/notes.txt"),
            None
        );
        assert_eq!(
            l.parse_start_offset(1, "topics/stock-market-data/partition=1/stock-market-data+1+-5.json"),
            None
        );
    }

    #[test]
    fn dead_letter_keys_round_trip_and_older_single_records_are_still_read() {
        let l = layout();
        assert_eq!(
            l.dead_letter_key(2, 77),
            "dlq/stock-market-data/partition=2/stock-market-data+2+0000000077.json"
        );
        assert_eq!(
            l.parse_dead_letter_offset(2, &l.dead_letter_key(2, 77)),
            Some((77, DeadFile::Batch))
        );
        assert_eq!(l.parse_dead_letter_offset(1, &l.dead_letter_key(2, 77)), None);
        let old = "dlq/stock-market-data/partition=2/stock-market-data+2+0000000078.bin";
        assert_eq!(l.parse_dead_letter_offset(2, old), Some((78, DeadFile::Single)));
    }

    #[test]
    fn gzip_files_end_in_gz_and_plain_files_of_the_same_format_still_parse() {
        let sink = crate::config::SinkConfig {
            compression: crate::config::Compression::Gzip,
            ..crate::config::SinkConfig::default()
        };
        let l = KeyLayout::of(&sink, "t");
        let key = l.object_key(1, 7);
        assert!(key.ends_with("t+1+0000000007.json.gz"), "{key}");
        assert_eq!(l.parse_start_offset(1, &key), Some(7));
        assert_eq!(
            l.parse_start_offset(1, "topics/t/partition=1/t+1+0000000003.json"),
            Some(3)
        );
        assert_eq!(
            l.parse_start_offset(1, "topics/t/partition=1/t+1+0000000004.json.zst"),
            Some(4)
        );
        assert_eq!(
            l.parse_start_offset(1, "topics/t/partition=1/t+1+0000000003.bin.gz"),
            None
        );
        assert_eq!(
            layout().parse_start_offset(0, &layout().object_key(0, 5).replace(".json", ".json.gz")),
            Some(5)
        );
    }

    #[test]
    fn parquet_files_are_named_by_their_codec_and_any_json_record_file_still_parses() {
        use crate::config::{FormatClass, ParquetCodec, SinkConfig};
        for (codec, ext) in [
            (ParquetCodec::Snappy, ".snappy.parquet"),
            (ParquetCodec::Zstd, ".zstd.parquet"),
            (ParquetCodec::Gzip, ".gz.parquet"),
            (ParquetCodec::None, ".parquet"),
        ] {
            let sink = SinkConfig {
                format_class: FormatClass::Parquet,
                parquet_codec: codec,
                ..SinkConfig::default()
            };
            let l = KeyLayout::of(&sink, "t");
            let key = l.object_key(1, 9);
            assert_eq!(key, format!("topics/t/partition=1/t+1+0000000009{ext}"));
            assert_eq!(l.parse_start_offset(1, &key), Some(9));
            for other in ["json", "json.gz", "zstd.parquet", "snappy.parquet"] {
                let k = format!("topics/t/partition=1/t+1+0000000003.{other}");
                assert_eq!(l.parse_start_offset(1, &k), Some(3), "{other}");
                assert_eq!(
                    layout().for_topic("t").parse_start_offset(1, &k),
                    Some(3),
                    "json sees {other}"
                );
            }
            assert_eq!(l.parse_start_offset(1, "topics/t/partition=1/t+1+0000000003.bin"), None);
            assert_eq!(
                l.parse_start_offset(1, "topics/t/partition=1/t+1+0000000003.lz4.parquet"),
                None
            );
        }
    }

    #[test]
    fn raw_value_files_end_in_bin() {
        let l = KeyLayout {
            extension: "bin",
            ..layout()
        };
        assert!(l.object_key(0, 5).ends_with("+0+0000000005.bin"));
        assert_eq!(l.parse_start_offset(0, &l.object_key(0, 5)), Some(5));
        assert_eq!(l.parse_start_offset(0, &layout().object_key(0, 5)), None);
    }

    #[test]
    fn partitioned_keys_put_the_directory_between_topic_and_file() {
        let l = layout().for_topic("t");
        let key = l.key_in("symbol=AAPL", 2, 40);
        assert_eq!(key, "topics/t/symbol=AAPL/t+2+0000000040.json");
        assert_eq!(l.parse_in("symbol=AAPL", 2, &key), Some(40));
        assert_eq!(l.parse_in("symbol=MSFT", 2, &key), None);
        let deep = l.key_in("year=2026/month=03/day=07/hour=14", 0, 7);
        assert_eq!(
            l.parse_any(&deep),
            Some(FileKey {
                dir: "year=2026/month=03/day=07/hour=14".into(),
                partition: 0,
                start: 7
            })
        );
        assert_eq!(
            l.parse_any(&l.object_key(1, 3)).map(|f| f.dir),
            Some("partition=1".into())
        );
        assert_eq!(
            l.parse_any("topics/t/t+0+0000000001.json"),
            None,
            "a file needs a directory"
        );
        assert_eq!(
            l.parse_any("topics/t/symbol=A/u+0+0000000001.json"),
            None,
            "another topic's name"
        );
        assert_eq!(l.parse_any("topics/t/symbol=A/t+x+0000000001.json"), None);
    }

    #[test]
    fn zero_padding_keeps_lexicographic_order_numeric() {
        let l = layout();
        let mut keys: Vec<String> = [100, 9, 10_000, 0].iter().map(|o| l.object_key(0, *o)).collect();
        keys.sort();
        let offsets: Vec<i64> = keys.iter().filter_map(|k| l.parse_start_offset(0, k)).collect();
        assert_eq!(offsets, vec![0, 9, 100, 10_000]);
    }
}
