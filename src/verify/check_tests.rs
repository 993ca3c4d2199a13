use super::*;

fn tick_line(symbol: &str, seq: u64) -> Vec<u8> {
    format!(
        r#"{{"symbol":"{symbol}","price":1.0,"volume":1,"change":0.0,"timestamp":"2026-12-01T10:00:00.000Z","exchange":"N","run_id":"r","seq":{seq}}}"#
    )
    .into_bytes()
}

/// Partition 0 holding `values` from offset 0.
fn partition_of(values: impl IntoIterator<Item = Option<Vec<u8>>>) -> TopicRecords {
    BTreeMap::from([(0, values.into_iter().enumerate().map(|(o, v)| (o as i64, v)).collect())])
}

/// A partition of `n` ticks of symbol A (seq = offset).
fn topic(n: i64) -> TopicRecords {
    partition_of((0..n).map(|o| Some(tick_line("A", o as u64))))
}

fn files(spans: &[(i64, i64)], t: &TopicRecords) -> Objects {
    let mut o = Objects::default();
    for (start, end) in spans {
        let lines = (*start..*end).map(|x| t[&0][&x].clone().unwrap_or_default()).collect();
        o.files.entry(0).or_default().insert(*start, lines);
    }
    o
}

fn audit(t: &TopicRecords, o: &Objects, dlq: &DeadLetters, committed: Option<i64>, c: &Converter) -> VerifyReport {
    audit_by(&Partitioner::default(), t, o, dlq, committed, c)
}

pub(super) fn audit_by(
    partitioner: &Partitioner,
    t: &TopicRecords,
    o: &Objects,
    dlq: &DeadLetters,
    committed: Option<i64>,
    c: &Converter,
) -> VerifyReport {
    let committed = BTreeMap::from([(0, committed)]);
    let parquet = parquet_spec();
    let timestamps = Timestamps::new();
    let topics = [TopicAudit {
        topic: "t",
        records: t,
        timestamps: &timestamps,
        partitioner,
        objects: o,
        dead_letters: dlq,
        committed: &committed,
        parquet: &parquet,
    }];
    check(&topics, c)
}

fn parquet_spec() -> crate::format::parquet::ParquetSpec {
    use crate::config::{ParquetCodec, RecordContent};
    crate::format::parquet::ParquetSpec::new(
        &crate::config::tick_columns(),
        RecordContent::Auto,
        ParquetCodec::Snappy,
    )
}

#[test]
fn a_parquet_file_is_compared_with_the_rows_its_records_become() {
    let t = topic(10);
    let spec = parquet_spec();
    let mut o = Objects::default();
    let rows = |r: std::ops::Range<i64>| -> Vec<Vec<u8>> {
        r.map(|x| spec.expected(t[&0][&x].as_deref().unwrap()).unwrap())
            .collect()
    };
    o.files.entry(0).or_default().insert(0, rows(0..4));
    o.parquet.insert((0, 0));
    o.files
        .entry(0)
        .or_default()
        .insert(4, files(&[(4, 10)], &t).files[&0][&4].clone());
    let r = audit(&t, &o, &BTreeMap::new(), Some(10), &Converter::json());
    assert!(r.ok(), "a Parquet file beside a JSON one: {r:?}");
    assert_eq!(r.symbols[0].ticks, 10, "rows carry run_id, symbol and seq");
    // JSON lines where Parquet rows belong: every line differs from its row.
    o.parquet.insert((0, 4));
    let r = audit(&t, &o, &BTreeMap::new(), Some(10), &Converter::json());
    assert_eq!(r.partitions[0].mismatched, 6);
}

fn run(spans: &[(i64, i64)], committed: Option<i64>) -> VerifyReport {
    let t = topic(10);
    audit(&t, &files(spans, &t), &BTreeMap::new(), committed, &Converter::json())
}

#[test]
fn contiguous_files_covering_the_partition_pass() {
    let r = run(&[(0, 4), (4, 10)], Some(10));
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.partitions[0].records_in_s3, 10);
    assert_eq!(r.partitions[0].topic, "t");
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
    let r = audit(&t, &o, &BTreeMap::new(), None, &Converter::json());
    assert_eq!(r.partitions[0].mismatched, 1);
    assert!(!r.ok());
}

#[test]
fn records_without_a_seq_are_checked_by_offset_only_and_folded_json_is_no_mismatch() {
    let values: Vec<Option<Vec<u8>>> = vec![
        Some(
            br#"{"stock": "AAPL",
 "price": 150.25}"#
                .to_vec(),
        ),
        Some(br#"{"s":"AAPL","p":189.12}"#.to_vec()),
    ];
    let t = partition_of(values);
    let mut o = Objects::default();
    let written = vec![
        br#"{"stock": "AAPL","price": 150.25}"#.to_vec(),
        br#"{"s":"AAPL","p":189.12}"#.to_vec(),
    ];
    o.files.entry(0).or_default().insert(0, written);
    let r = audit(&t, &o, &BTreeMap::new(), Some(2), &Converter::json());
    assert!(r.ok(), "{r:?}");
    assert_eq!((r.records_without_seq, r.symbols.len()), (2, 0));
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
    let t = partition_of(values.iter().cloned().map(Some));
    let mut o = Objects::default();
    o.files.entry(0).or_default().insert(0, values[..2].to_vec());
    o.files.entry(0).or_default().insert(3, values[3..].to_vec());
    let dlq = BTreeMap::from([(0, BTreeSet::from([2]))]);
    let r = audit(&t, &o, &dlq, Some(5), &Converter::json());
    assert_eq!(r.partitions[0].missing, vec![]);
    assert_eq!(r.partitions[0].dead_lettered, 1);
    assert!(r.ok(), "{r:?}");
    let without_dlq = audit(&t, &o, &BTreeMap::new(), None, &Converter::json());
    assert_eq!(
        without_dlq.partitions[0].missing,
        vec![(2, 3)],
        "an unaccounted offset is missing"
    );
}

#[test]
fn a_trailing_dead_letter_accounts_for_the_commit_past_the_last_file() {
    let values = [tick_line("A", 0), b"garbage".to_vec()];
    let t = partition_of(values.iter().cloned().map(Some));
    let mut o = Objects::default();
    o.files.entry(0).or_default().insert(0, values[..1].to_vec());
    let dlq = BTreeMap::from([(0, BTreeSet::from([1]))]);
    let r = audit(&t, &o, &dlq, Some(2), &Converter::json());
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.partitions[0].s3_end, Some(2));
}
