//! Comparing the topic with the bucket (pure, so every verdict is unit-tested).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::read::{DeadLetters, Objects, Timestamps, TopicRecords};
use crate::format::convert::{Converted, Converter, Verdict};
use crate::partitioner::Partitioner;
use crate::record::view::RecordView;

/// One partition's audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PartitionReport {
    pub topic: String,
    pub partition: i32,
    /// The earliest offset Kafka still has; older offsets cannot be checked.
    pub kafka_low: i64,
    /// One past the last offset in Kafka.
    pub kafka_end: i64,
    pub records_in_kafka: u64,
    pub records_in_s3: u64,
    pub files: u64,
    /// Offsets in the dead letters (S3 `dlq/` or the dead-letter topic) instead of a data file.
    pub dead_lettered: u64,
    /// Offsets written nowhere on purpose (tombstones under `behavior.on.null.values = ignore`).
    pub skipped: u64,
    /// Ranges `[from, to)` of Kafka offsets in no file, not dead-lettered and not skipped.
    pub missing: Vec<(i64, i64)>,
    /// Ranges `[from, to)` of offsets present in more than one file.
    pub duplicated: Vec<(i64, i64)>,
    /// Start offsets of files that overlap the file before them.
    pub overlapping_files: Vec<i64>,
    /// Records whose bytes in S3 differ from what the converter makes of Kafka's record.
    pub mismatched: u64,
    /// One past the last offset accounted for (in a file, a dead letter, or skipped).
    pub s3_end: Option<i64>,
    /// The consumer group's committed offset, when a group was given.
    pub committed: Option<i64>,
}

impl PartitionReport {
    /// A commit beyond what S3 accounts for would let a restart skip records.
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
    /// The (run_id, symbol, seq) check, over the records that carry those three fields.
    pub symbols: Vec<SymbolReport>,
    /// Keys under the topics' prefixes that do not follow the file layout.
    pub foreign_keys: Vec<String>,
    /// Records in S3 without `run_id`, `symbol` and `seq` (not seq-checked; any producer's).
    pub records_without_seq: u64,
}

impl VerifyReport {
    /// No loss, no duplicate, no overlap, no mismatch, no commit ahead of S3, no seq gap or
    /// duplicate.
    pub fn ok(&self) -> bool {
        self.partitions.iter().all(PartitionReport::ok)
            && self.symbols.iter().all(|s| s.gaps.is_empty() && s.duplicated_seqs == 0)
    }
}

/// One topic's two sides.
pub struct TopicAudit<'a> {
    pub topic: &'a str,
    pub records: &'a TopicRecords,
    /// The records' Kafka timestamps (a time partitioner by `Record` routes by them).
    pub timestamps: &'a Timestamps,
    /// Which directory each record's file is in: under `field` and `time` a file holds every
    /// written record of its directory from its first offset on, so its lines are matched to
    /// the records the partitioner sends there.
    pub partitioner: &'a Partitioner,
    pub objects: &'a Objects,
    /// Partition → its dead-lettered offsets.
    pub dead_letters: &'a DeadLetters,
    /// The group's committed offsets.
    pub committed: &'a BTreeMap<i32, Option<i64>>,
    /// The topic's Parquet layout: what a record becomes in a Parquet file (its files read back
    /// as JSON lines of its typed columns, or of its text).
    pub parquet: &'a crate::format::parquet::ParquetSpec,
}

/// `(run_id, symbol, seq)` of a record that carries all three.
fn seq_identity(line: &[u8]) -> Option<(String, String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    Some((
        v.get("run_id")?.as_str()?.to_owned(),
        v.get("symbol")?.as_str()?.to_owned(),
        v.get("seq")?.as_u64()?,
    ))
}

/// `(run_id, symbol)` → the seqs of its records found in S3.
type Seqs = BTreeMap<(String, String), Vec<u64>>;

/// Compares each topic with its files; `converter` says what each record should have become.
pub fn check(topics: &[TopicAudit<'_>], converter: &Converter) -> VerifyReport {
    let mut report = VerifyReport::default();
    let mut seqs = Seqs::new();
    for t in topics {
        report.foreign_keys.extend(t.objects.foreign_keys.iter().cloned());
        for (p, records) in t.records {
            let mut r = partition_report(t, *p, records);
            let seen = files(
                t,
                *p,
                records,
                converter,
                &mut r,
                &mut seqs,
                &mut report.records_without_seq,
            );
            account(t, *p, records, converter, seen, &mut r);
            report.partitions.push(r);
        }
    }
    report.symbols = symbols(seqs);
    report
}

/// A partition's report before its files are read: what Kafka has, and what was committed.
fn partition_report(t: &TopicAudit<'_>, p: i32, records: &BTreeMap<i64, Option<Vec<u8>>>) -> PartitionReport {
    let low = records.keys().next().copied().unwrap_or(0);
    PartitionReport {
        topic: t.topic.to_owned(),
        partition: p,
        kafka_low: low,
        kafka_end: records.keys().last().map_or(low, |o| o + 1),
        records_in_kafka: records.len() as u64,
        files: t.objects.files.get(&p).map_or(0, |f| f.len() as u64),
        committed: t.committed.get(&p).copied().flatten(),
        ..PartitionReport::default()
    }
}

/// What a partition's files hold: how often each offset is in them, and the end of the files.
struct Seen {
    coverage: BTreeMap<i64, u32>,
    end: Option<i64>,
}

/// Reads partition `p`'s files against its records: each line matched to its record (by place
/// in consecutive files, by the partitioner's routing otherwise), overlaps and mismatches
/// counted into `r`, each tick's seq into `seqs`.
fn files(
    t: &TopicAudit<'_>,
    p: i32,
    records: &BTreeMap<i64, Option<Vec<u8>>>,
    converter: &Converter,
    r: &mut PartitionReport,
    seqs: &mut Seqs,
    without_seq: &mut u64,
) -> Seen {
    let empty = BTreeMap::new();
    let files = t.objects.files.get(&p).unwrap_or(&empty);
    let routed = (!t.partitioner.consecutive()).then(|| {
        // Under Parquet a record whose fields do not take their columns' types is a dead
        // letter, not a row.
        let parquet = t.objects.parquet.iter().any(|(q, _)| *q == p).then_some(t.parquet);
        route(records, t.timestamps.get(&p), converter, parquet, t.partitioner, p)
    });
    let mut seen = Seen {
        coverage: BTreeMap::new(),
        end: None,
    };
    // The end of the files so far: of the partition's for consecutive files, of each
    // directory's otherwise (files of different directories interleave).
    let mut ends: BTreeMap<&str, i64> = BTreeMap::new();
    for (start, lines) in files {
        let parquet = t.objects.parquet.contains(&(p, *start));
        let dir = t.objects.dirs.get(&(p, *start)).map_or("", String::as_str);
        let offsets: Vec<Option<i64>> = match &routed {
            None => (0..lines.len() as i64).map(|i| Some(start + i)).collect(),
            Some(by_dir) => {
                let mine = by_dir
                    .get(dir)
                    .map_or(&[][..], |v| &v[v.partition_point(|o| o < start)..]);
                (0..lines.len()).map(|i| mine.get(i).copied()).collect()
            }
        };
        let file_end = offsets.iter().flatten().last().map_or(*start, |o| o + 1);
        let lane = if routed.is_some() { dir } else { "" };
        if ends.get(lane).is_some_and(|e| *start < *e) || t.objects.clashes.contains(&(p, *start)) {
            r.overlapping_files.push(*start);
        }
        let e = ends.entry(lane).or_insert(file_end);
        *e = (*e).max(file_end);
        seen.end = Some(seen.end.map_or(file_end, |e| e.max(file_end)));
        for (line, offset) in lines.iter().zip(offsets) {
            r.records_in_s3 += 1;
            let Some(offset) = offset else {
                // More lines than records the partitioner sends to this directory.
                r.mismatched += 1;
                continue;
            };
            *seen.coverage.entry(offset).or_default() += 1;
            if let Some(value) = records.get(&offset) {
                let expected = match converter.convert(value.as_deref()) {
                    Verdict::Write(record) => {
                        let schema = t.objects.schemas.get(&(p, *start));
                        record.expected_in(schema, parquet.then_some(t.parquet), converter.style())
                    }
                    _ => None,
                };
                if expected.as_deref() != Some(line.as_slice()) {
                    r.mismatched += 1;
                }
            }
            match seq_identity(line) {
                Some((run_id, symbol, seq)) => seqs.entry((run_id, symbol)).or_default().push(seq),
                None => *without_seq += 1,
            }
        }
    }
    seen
}

/// Each record the files do not hold: a dead letter, a skipped tombstone, or missing; and
/// the offsets held twice.
fn account(
    t: &TopicAudit<'_>,
    p: i32,
    records: &BTreeMap<i64, Option<Vec<u8>>>,
    converter: &Converter,
    seen: Seen,
    r: &mut PartitionReport,
) {
    let dlq = t.dead_letters.get(&p);
    let is_dead_letter = |o: &i64| dlq.is_some_and(|d| d.contains(o));
    let mut accounted_end = seen.end;
    let mut missing = Vec::new();
    for (o, value) in records {
        if seen.coverage.contains_key(o) {
            continue;
        }
        if is_dead_letter(o) {
            r.dead_lettered += 1;
        } else if converter.convert(value.as_deref()).is_skip() {
            r.skipped += 1;
        } else {
            missing.push(*o);
            continue;
        }
        accounted_end = Some(accounted_end.map_or(o + 1, |e| e.max(o + 1)));
    }
    r.s3_end = accounted_end;
    r.missing = ranges(missing);
    r.duplicated = ranges(seen.coverage.iter().filter(|(_, n)| **n > 1).map(|(o, _)| *o));
}

/// Each `(run_id, symbol)`'s ticks: their count, the seqs missing, the seqs found twice.
fn symbols(seqs: Seqs) -> Vec<SymbolReport> {
    let mut out = Vec::new();
    for ((run_id, symbol), mut s) in seqs {
        s.sort_unstable();
        let unique: Vec<u64> = s.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        let present: BTreeSet<u64> = unique.iter().copied().collect();
        let max = unique.last().copied().unwrap_or(0);
        let gaps = ranges((0..=max as i64).filter(|q| !present.contains(&(*q as u64))))
            .into_iter()
            .map(|(a, b)| (a as u64, b as u64))
            .collect();
        out.push(SymbolReport {
            run_id,
            symbol,
            ticks: s.len() as u64,
            gaps,
            duplicated_seqs: (s.len() - unique.len()) as u64,
        });
    }
    out
}

/// Directory → the offsets (ascending) of the records of `partition` that are written (the
/// converter's verdict) and that the partitioner sends there.
fn route(
    records: &BTreeMap<i64, Option<Vec<u8>>>,
    timestamps: Option<&BTreeMap<i64, i64>>,
    converter: &Converter,
    parquet: Option<&crate::format::parquet::ParquetSpec>,
    partitioner: &Partitioner,
    partition: i32,
) -> std::collections::HashMap<String, Vec<i64>> {
    let mut out: std::collections::HashMap<String, Vec<i64>> = std::collections::HashMap::new();
    for (o, value) in records {
        if let Verdict::Write(record) = converter.convert(value.as_deref()) {
            let view = match &record {
                Converted::Line(line, _) => {
                    if parquet.is_some_and(|spec| spec.row(line).is_err()) {
                        continue;
                    }
                    RecordView::Json(line)
                }
                Converted::Avro(r) => RecordView::Avro(&r.value, &r.schema),
            };
            let ts = timestamps.and_then(|t| t.get(o)).copied();
            if let Ok(dir) = partitioner.encode(partition, ts, &view, 0) {
                out.entry(dir).or_default().push(*o);
            }
        }
    }
    out
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
#[path = "check_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "check_partition_tests.rs"]
mod partition_tests;
