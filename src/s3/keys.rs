//! Object keys exactly as the Confluent S3 Sink Connector names them:
//! `<topics.dir>/<topic>/partition=<p>/<topic>+<p>+<start offset, zero padded>.json`.

/// Where one topic-partition's files live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLayout {
    /// `topics.dir`, e.g. `topics`.
    pub topics_dir: String,
    pub topic: String,
    /// `filename.offset.zero.pad.width`.
    pub pad_width: usize,
}

impl KeyLayout {
    /// `topics/stock-market-data/partition=0/` (with the trailing slash).
    pub fn partition_prefix(&self, partition: i32) -> String {
        format!("{}/{}/partition={}/", self.topics_dir, self.topic, partition)
    }

    /// The key of the file whose first record is at `start_offset`.
    pub fn object_key(&self, partition: i32, start_offset: i64) -> String {
        format!(
            "{}{}+{}+{:0width$}.json",
            self.partition_prefix(partition),
            self.topic,
            partition,
            start_offset,
            width = self.pad_width
        )
    }

    /// Where a malformed record goes: `dlq/<topic>/partition=<p>/<topic>+<p>+<offset>.bin`,
    /// the original bytes, with the reason in the object's metadata.
    pub fn dead_letter_key(&self, partition: i32, offset: i64) -> String {
        format!(
            "dlq/{}/partition={}/{}+{}+{:0width$}.bin",
            self.topic,
            partition,
            self.topic,
            partition,
            offset,
            width = self.pad_width
        )
    }

    /// The offset in a dead-letter key of this layout and partition.
    pub fn parse_dead_letter_offset(&self, partition: i32, key: &str) -> Option<i64> {
        let digits = key
            .strip_prefix(&format!(
                "dlq/{}/partition={}/{}+{}+",
                self.topic, partition, self.topic, partition
            ))?
            .strip_suffix(".bin")?;
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
    }

    /// The start offset in a key of this layout and partition, or `None` for any other key.
    pub fn parse_start_offset(&self, partition: i32, key: &str) -> Option<i64> {
        let name = key.strip_prefix(&self.partition_prefix(partition))?;
        let digits = name
            .strip_prefix(&format!("{}+{}+", self.topic, partition))?
            .strip_suffix(".json")?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> KeyLayout {
        KeyLayout {
            topics_dir: "topics".into(),
            topic: "stock-market-data".into(),
            pad_width: 10,
        }
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
    fn dead_letter_keys_round_trip() {
        let l = layout();
        assert_eq!(l.parse_dead_letter_offset(2, &l.dead_letter_key(2, 77)), Some(77));
        assert_eq!(l.parse_dead_letter_offset(1, &l.dead_letter_key(2, 77)), None);
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
