//! Comparing the topic with the bucket (pure, so every verdict is unit-tested).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::read::{Objects, TopicRecords};
use crate::record::tick::Tick;

/// One partition's audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PartitionReport {
    pub partition: i32,
    /// The earliest offset Kafka still has; older offsets cannot be checked.
    pub kafka_low: i64,
    /// One past the last offset in Kafka.
    pub kafka_end: i64,
    pub records_in_kafka: u64,
    pub records_in_s3: u64,
    pub files: u64,
    /// Offsets written to the dead-letter prefix instead of a data file.
    pub dead_lettered: u64,
    /// Ranges `[from, to)` of Kafka offsets in no file and not dead-lettered.
    pub missing: Vec<(i64, i64)>,
    /// Ranges `[from, to)` of offsets present in more than one file.
    pub duplicated: Vec<(i64, i64)>,
    /// Start offsets of files that overlap the file before them.
    pub overlapping_files: Vec<i64>,
    /// Lines whose bytes differ from Kafka's record at that offset.
    pub mismatched: u64,
    /// One past the last offset in S3.
    pub s3_end: Option<i64>,
    /// The consumer group's committed offset, when a group was given.
    pub committed: Option<i64>,
}

impl PartitionReport {
    /// A commit beyond the data in S3 would let a restart skip records.
    pub fn commit_ahead_of_s3(&self) -> bool {
        matches!((self.committed, self.s3_end), (Some(c), Some(e)) if c > e)
            || (self.committed.is_some_and(|c| c > self.kafka_low) && self.s3_end.is_none())
    }

    pub fn ok(&self) -> bool {
        self.missing.is_empty()
            && self.duplicated.is_empty()
            && self.overlapping_files.is_empty()
            && self.mismatched == 0
            && !self.commit_ahead_of_s3()
    }
}

/// One (run_id, symbol)'s ticks as found in S3.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SymbolReport {
    pub run_id: String,
    pub symbol: String,
    pub ticks: u64,
    /// Seqs missing between 0 and the highest seq found.
    pub gaps: Vec<(u64, u64)>,
    pub duplicated_seqs: u64,
}

/// The whole audit.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub partitions: Vec<PartitionReport>,
    pub symbols: Vec<SymbolReport>,
    /// Keys under the prefix that do not follow the file layout.
    pub foreign_keys: Vec<String>,
    /// Lines in S3 that are not ticks (should be none: malformed records are dead-lettered).
    pub lines_not_ticks: u64,
}

impl VerifyReport {
    /// No loss, no duplicate, no overlap, no commit ahead of S3, no seq gap or duplicate.
    pub fn ok(&self) -> bool {
        self.partitions.iter().all(PartitionReport::ok)
            && self.symbols.iter().all(|s| s.gaps.is_empty() && s.duplicated_seqs == 0)
            && self.lines_not_ticks == 0
    }
}

/// Compares `topic` with `objects`. `dead_letters` holds each partition's dead-lettered offsets,
/// `committed` the group's committed offsets.
pub fn check(
    topic: &TopicRecords,
    objects: &Objects,
    dead_letters: &BTreeMap<i32, BTreeSet<i64>>,
    committed: &BTreeMap<i32, Option<i64>>,
) -> VerifyReport {
    let mut report = VerifyReport {
        foreign_keys: objects.foreign_keys.clone(),
        ..VerifyReport::default()
    };
    let mut seqs: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    let empty = BTreeMap::new();
    for (p, records) in topic {
        let files = objects.files.get(p).unwrap_or(&empty);
        let low = records.keys().next().copied().unwrap_or(0);
        let end = records.keys().last().map_or(low, |o| o + 1);
        let dlq = dead_letters.get(p);
        let mut r = PartitionReport {
            partition: *p,
            kafka_low: low,
            kafka_end: end,
            records_in_kafka: records.len() as u64,
            files: files.len() as u64,
            committed: committed.get(p).copied().flatten(),
            ..PartitionReport::default()
        };
        let mut coverage: BTreeMap<i64, u32> = BTreeMap::new();
        let mut previous_end: Option<i64> = None;
        for (start, lines) in files {
            if previous_end.is_some_and(|e| *start < e) {
                r.overlapping_files.push(*start);
            }
            let file_end = start + lines.len() as i64;
            previous_end = Some(previous_end.map_or(file_end, |e| e.max(file_end)));
            for (i, line) in lines.iter().enumerate() {
                let offset = start + i as i64;
                *coverage.entry(offset).or_default() += 1;
                r.records_in_s3 += 1;
                if let Some(expected) = records.get(&offset) {
                    if expected != line {
                        r.mismatched += 1;
                    }
                }
                match serde_json::from_slice::<Tick>(line) {
                    Ok(t) => seqs.entry((t.run_id, t.symbol)).or_default().push(t.seq),
                    Err(_) => report.lines_not_ticks += 1,
                }
            }
        }
        r.s3_end = previous_end;
        r.dead_lettered = dlq.map_or(0, |d| d.len() as u64);
        let is_dead_letter = |o: &i64| dlq.is_some_and(|d| d.contains(o));
        r.missing = ranges(
            records
                .keys()
                .copied()
                .filter(|o| !coverage.contains_key(o) && !is_dead_letter(o)),
        );
        r.duplicated = ranges(coverage.iter().filter(|(_, n)| **n > 1).map(|(o, _)| *o));
        report.partitions.push(r);
    }
    for ((run_id, symbol), mut s) in seqs {
        s.sort_unstable();
        let unique: Vec<u64> = s.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        let present: BTreeSet<u64> = unique.iter().copied().collect();
        let max = unique.last().copied().unwrap_or(0);
        let gaps = ranges((0..=max as i64).filter(|q| !present.contains(&(*q as u64))))
            .into_iter()
            .map(|(a, b)| (a as u64, b as u64))
            .collect();
        report.symbols.push(SymbolReport {
            run_id,
            symbol,
            ticks: s.len() as u64,
            gaps,
            duplicated_seqs: (s.len() - unique.len()) as u64,
        });
    }
    report
}

/// Sorted values → maximal runs `[from, to)`.
fn ranges(values: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some((_, to)) if *to == v => *to = v + 1,
            _ => out.push((v, v + 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick_line(symbol: &str, seq: u64) -> Vec<u8> {
        format!(
            r#"{{"symbol":"{symbol}","price":1.0,"volume":1,"change":0.0,"timestamp":"t","exchange":"N","run_id":"r","seq":{seq}}}"#
        )
        .into_bytes()
    }

    /// A partition of `n` ticks of symbol A (seq = offset).
    fn topic(n: i64) -> TopicRecords {
        BTreeMap::from([(0, (0..n).map(|o| (o, tick_line("A", o as u64))).collect())])
    }

    fn files(spans: &[(i64, i64)], t: &TopicRecords) -> Objects {
        let mut o = Objects::default();
        for (start, end) in spans {
            o.files
                .entry(0)
                .or_default()
                .insert(*start, (*start..*end).map(|x| t[&0][&x].clone()).collect());
        }
        o
    }

    fn run(spans: &[(i64, i64)], committed: Option<i64>) -> VerifyReport {
        let t = topic(10);
        check(
            &t,
            &files(spans, &t),
            &BTreeMap::new(),
            &BTreeMap::from([(0, committed)]),
        )
    }

    #[test]
    fn contiguous_files_covering_the_partition_pass() {
        let r = run(&[(0, 4), (4, 10)], Some(10));
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.partitions[0].records_in_s3, 10);
        assert_eq!(r.symbols[0].ticks, 10);
    }

    #[test]
    fn a_missing_range_is_reported_and_fails() {
        let r = run(&[(0, 4), (6, 10)], Some(10));
        assert_eq!(r.partitions[0].missing, vec![(4, 6)]);
        assert_eq!(r.symbols[0].gaps, vec![(4, 6)]);
        assert!(!r.ok());
    }

    #[test]
    fn overlapping_files_are_duplicates_and_fail() {
        let r = run(&[(0, 6), (4, 10)], Some(10));
        assert_eq!(r.partitions[0].duplicated, vec![(4, 6)]);
        assert_eq!(r.partitions[0].overlapping_files, vec![4]);
        assert_eq!(r.symbols[0].duplicated_seqs, 2);
        assert!(!r.ok());
    }

    #[test]
    fn a_commit_ahead_of_s3_fails() {
        let r = run(&[(0, 4)], Some(8));
        assert!(r.partitions[0].commit_ahead_of_s3());
        assert!(!r.ok());
    }

    #[test]
    fn a_changed_record_is_a_mismatch() {
        let t = topic(4);
        let mut o = files(&[(0, 4)], &t);
        o.files.get_mut(&0).unwrap().get_mut(&0).unwrap()[2] = tick_line("A", 99);
        let r = check(&t, &o, &BTreeMap::new(), &BTreeMap::new());
        assert_eq!(r.partitions[0].mismatched, 1);
        assert!(!r.ok());
    }

    #[test]
    fn dead_lettered_offsets_are_not_missing() {
        // Offset 2 is garbage injected on the topic; the ticks around it keep their seqs 0..4.
        let values = [
            tick_line("A", 0),
            tick_line("A", 1),
            b"garbage".to_vec(),
            tick_line("A", 2),
            tick_line("A", 3),
        ];
        let t: TopicRecords = BTreeMap::from([(
            0,
            values.iter().cloned().enumerate().map(|(o, v)| (o as i64, v)).collect(),
        )]);
        let mut o = Objects::default();
        o.files.entry(0).or_default().insert(0, values[..2].to_vec());
        o.files.entry(0).or_default().insert(3, values[3..].to_vec());
        let dlq = BTreeMap::from([(0, BTreeSet::from([2]))]);
        let r = check(&t, &o, &dlq, &BTreeMap::new());
        assert_eq!(r.partitions[0].missing, vec![]);
        assert_eq!(r.partitions[0].dead_lettered, 1);
        assert!(r.ok(), "{r:?}");
        let without_dlq = check(&t, &o, &BTreeMap::new(), &BTreeMap::new());
        assert_eq!(
            without_dlq.partitions[0].missing,
            vec![(2, 3)],
            "an unaccounted offset is missing"
        );
    }
}
