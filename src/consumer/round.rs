//! One routing round: the records the router polled, grouped by partition, each partition
//! bounded by its sink's room. The values are copied into one buffer per partition and round
//! and handed out as slices of it: a few allocations per round instead of one per record (the
//! per-record copy and free were ~5% of the sink's CPU at flush.size 10,000). A buffer per
//! partition, not one per round, because each slice counts its buffer's references: sinks on
//! other threads dropping slices of one buffer would contend for that count. Each buffer starts
//! as large as the partition's share of the previous round ([`Took`]), so a steady stream
//! copies each value once, without the growth copies of a buffer doubling from empty.

use bytes::{Bytes, BytesMut};

use crate::record::{KeyHeaders, Record, TopicPartition};

/// Where one record's value lies in the round's buffer.
struct Entry {
    offset: i64,
    start: usize,
    end: usize,
    /// A tombstone (no value at all, not an empty one).
    null: bool,
    timestamp_ms: Option<i64>,
    extra: Option<Box<KeyHeaders>>,
}

/// How much one partition took in a round: the size its next round's buffers start at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Took {
    pub records: usize,
    /// Bytes of values.
    pub bytes: usize,
}

/// One partition's place in a round: its sink's room, and what it took last round.
pub struct Share {
    pub tp: TopicPartition,
    /// Records its sink may take this round (`usize::MAX`: unbounded).
    pub room: usize,
    pub expect: Took,
}

struct Part {
    tp: TopicPartition,
    /// Records the sink may still take this round.
    room: usize,
    /// Its records' values, one after another.
    buf: BytesMut,
    entries: Vec<Entry>,
    /// What it took last round: its buffers' size once its first record comes (not before: a
    /// partition that gets nothing this round allocates nothing).
    expect: Took,
}

impl Part {
    fn new(tp: TopicPartition, room: usize, expect: Took) -> Self {
        Self {
            tp,
            room,
            buf: BytesMut::new(),
            entries: Vec::new(),
            expect,
        }
    }
}

/// The records of one round, as they are polled.
pub struct Round {
    parts: Vec<Part>,
    /// Index of the last partition pushed to (records come in runs of one partition).
    last: usize,
    /// Records pushed.
    len: usize,
}

impl Round {
    /// A round where each listed partition's sink has room for that many records; others
    /// are unbounded (the router drops them: no sink is attached).
    pub fn new(shares: impl IntoIterator<Item = Share>) -> Self {
        let parts = shares.into_iter().map(|s| Part::new(s.tp, s.room, s.expect)).collect();
        Self { parts, last: 0, len: 0 }
    }

    /// Adds a record; false when its partition's sink is now full (end the round there).
    pub fn push(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
        value: Option<&[u8]>,
        timestamp_ms: Option<i64>,
        extra: Option<Box<KeyHeaders>>,
    ) -> bool {
        let is = |p: &Part| p.tp.partition == partition && *p.tp.topic == *topic;
        let at = match self.parts.get(self.last) {
            Some(p) if is(p) => self.last,
            _ => match self.parts.iter().position(is) {
                Some(i) => i,
                None => {
                    let tp = TopicPartition::new(topic, partition);
                    self.parts.push(Part::new(tp, usize::MAX, Took::default()));
                    self.parts.len() - 1
                }
            },
        };
        self.last = at;
        let part = &mut self.parts[at];
        if part.entries.is_empty() {
            // Last round's take, but no more records' worth than the sink has room for (a
            // full sink's round must not pin a buffer it cannot fill).
            let records = part.expect.records.min(part.room);
            let bytes = part.expect.bytes.saturating_mul(records) / part.expect.records.max(1);
            part.buf.reserve(bytes);
            part.entries.reserve_exact(records);
        }
        let start = part.buf.len();
        part.buf.extend_from_slice(value.unwrap_or_default());
        part.entries.push(Entry {
            offset,
            start,
            end: part.buf.len(),
            null: value.is_none(),
            timestamp_ms,
            extra,
        });
        part.room = part.room.saturating_sub(1);
        self.len += 1;
        part.room > 0
    }

    /// Records pushed so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most records any one sink may still take this round (`usize::MAX` if none is
    /// bounded): a batch read no larger than this never hands a sink more than its room.
    pub fn least_room(&self) -> usize {
        self.parts.iter().map(|p| p.room).min().unwrap_or(usize::MAX)
    }

    /// Each partition that got records, with how much it took and them in poll order.
    pub fn into_records(self) -> impl Iterator<Item = (TopicPartition, Took, Vec<Record>)> {
        self.parts.into_iter().filter(|p| !p.entries.is_empty()).map(|p| {
            let took = Took {
                records: p.entries.len(),
                bytes: p.buf.len(),
            };
            let buf: Bytes = p.buf.freeze();
            let records = p
                .entries
                .into_iter()
                .map(|e| Record {
                    offset: e.offset,
                    value: (!e.null).then(|| buf.slice(e.start..e.end)),
                    timestamp_ms: e.timestamp_ms,
                    extra: e.extra,
                })
                .collect();
            (p.tp, took, records)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn share(p: i32, room: usize) -> Share {
        Share {
            tp: tp(p),
            room,
            expect: Took::default(),
        }
    }

    fn no_shares() -> Round {
        Round::new(Vec::new())
    }

    #[test]
    fn least_room_is_the_tightest_listed_sink_and_shrinks_as_records_come() {
        let mut r = Round::new([share(0, 10), share(1, 3)]);
        assert_eq!(r.least_room(), 3);
        assert!(r.push("t", 1, 0, Some(b"x"), None, None));
        assert_eq!(r.least_room(), 2);
        assert!(r.push("t", 7, 0, Some(b"unlisted"), None, None));
        assert_eq!(r.least_room(), 2, "an unlisted partition is unbounded");
        assert_eq!(r.len(), 2);
        assert_eq!(no_shares().least_room(), usize::MAX);
        assert!(no_shares().is_empty());
    }

    #[test]
    fn records_come_back_per_partition_in_order_and_a_full_sink_ends_the_round() {
        let mut r = Round::new([share(0, 10), share(1, 2)]);
        assert!(r.push("t", 0, 5, Some(b"a"), Some(1), None));
        assert!(r.push("t", 1, 7, Some(b"bb"), None, None));
        assert!(r.push("t", 0, 6, Some(b""), Some(2), None));
        assert!(r.push("t", 0, 7, None, None, None), "a tombstone");
        assert!(r.push("u", 0, 3, Some(b"other topic"), None, None));
        assert!(
            r.push("t", 9, 1, Some(b"unlisted"), None, None),
            "a partition without a sink is not bounded"
        );
        assert!(
            !r.push("t", 1, 8, Some(b"ccc"), None, None),
            "partition 1 had room for 2"
        );
        type Got = Vec<(String, (usize, usize), Vec<(i64, Option<Vec<u8>>, Option<i64>)>)>;
        let got: Got = r
            .into_records()
            .map(|(tp, took, recs)| {
                (
                    tp.to_string(),
                    (took.records, took.bytes),
                    recs.into_iter()
                        .map(|r| (r.offset, r.value.map(|v| v.to_vec()), r.timestamp_ms))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "t/0".into(),
                    (3, 1),
                    vec![
                        (5, Some(b"a".to_vec()), Some(1)),
                        (6, Some(vec![]), Some(2)),
                        (7, None, None)
                    ]
                ),
                (
                    "t/1".into(),
                    (2, 5),
                    vec![(7, Some(b"bb".to_vec()), None), (8, Some(b"ccc".to_vec()), None)]
                ),
                ("u/0".into(), (1, 11), vec![(3, Some(b"other topic".to_vec()), None)]),
                ("t/9".into(), (1, 8), vec![(1, Some(b"unlisted".to_vec()), None)]),
            ]
        );
    }

    #[test]
    fn a_partition_buffers_start_as_large_as_its_last_round_and_hold_only_its_values() {
        let expect = Took { records: 3, bytes: 300 };
        let mut r = Round::new([
            Share { expect, ..share(0, 2) },
            share(1, 10),
            Share { expect, ..share(2, 10) },
            Share { expect, ..share(3, 10) },
        ]);
        r.push("t", 0, 0, Some(b"zero"), None, None);
        let entries = r.parts[0].entries.capacity();
        assert_eq!(entries, 2, "never more entries than the sink's room");
        let bytes = r.parts[0].buf.capacity();
        assert!(
            (200..300).contains(&bytes),
            "two records' worth of the last round: {bytes}"
        );
        r.push("t", 3, 0, Some(b"three"), None, None);
        assert!(r.parts[3].buf.capacity() >= 300, "room for all of the last round");
        r.push("t", 1, 0, Some(b"one"), None, None);
        assert!(r.parts[1].buf.capacity() < 300);
        assert_eq!(r.parts[2].buf.capacity(), 0, "nothing came for it: nothing allocated");
        let values: Vec<(TopicPartition, Vec<Bytes>)> = r
            .into_records()
            .map(|(tp, _, recs)| (tp, recs.into_iter().filter_map(|r| r.value).collect()))
            .collect();
        assert_eq!(values[0].1, [&b"zero"[..]]);
        assert_eq!(values[1].1, [&b"one"[..]]);
        assert_eq!(values[2].1, [&b"three"[..]]);
    }
}
