//! The audit of files cut by the `field` partitioner: several files of a Kafka partition
//! interleave, each holding its directory's records from its first offset on.

use super::tests::audit_by;
use super::*;

fn line(o: i64, symbol: &str) -> Vec<u8> {
    format!(r#"{{"symbol":"{symbol}","o":{o}}}"#).into_bytes()
}

/// Offsets 0..12 alternating A, B, C.
fn topic() -> TopicRecords {
    let syms = ["A", "B", "C"];
    BTreeMap::from([(0, (0..12).map(|o| (o, Some(line(o, syms[o as usize % 3])))).collect())])
}

/// Files given as (directory, offsets it holds).
fn files(t: &TopicRecords, list: &[(&str, &[i64])]) -> Objects {
    let mut o = Objects::default();
    for (dir, offsets) in list {
        let lines = offsets.iter().map(|x| t[&0][x].clone().unwrap()).collect();
        let start = offsets[0];
        if o.dirs.insert((0, start), (*dir).to_owned()).is_some() {
            o.clashes.push((0, start));
        }
        o.files.entry(0).or_default().insert(start, lines);
    }
    o
}

fn run(o: &Objects) -> VerifyReport {
    audit_by(
        &Partitioner::field(&["symbol"]),
        &topic(),
        o,
        &DeadLetters::new(),
        Some(12),
        &Converter::json(),
    )
}

#[test]
fn interleaved_files_that_hold_their_directorys_records_pass() {
    let t = topic();
    let o = files(
        &t,
        &[
            ("symbol=A", &[0, 3, 6]),
            ("symbol=B", &[1, 4, 7, 10]),
            ("symbol=C", &[2, 5, 8, 11]),
            ("symbol=A", &[9]),
        ],
    );
    let r = run(&o);
    assert!(r.ok(), "{:?}", r.partitions);
    assert_eq!((r.partitions[0].records_in_s3, r.partitions[0].files), (12, 4));
}

#[test]
fn a_record_left_out_of_its_directorys_file_is_missing() {
    let t = topic();
    // B's file skips 4: its lines are matched to 1, 4, 7 and so 7's line differs.
    let o = files(
        &t,
        &[
            ("symbol=A", &[0, 3, 6, 9]),
            ("symbol=B", &[1, 7, 10]),
            ("symbol=C", &[2, 5, 8, 11]),
        ],
    );
    let p = &run(&o).partitions[0];
    assert!(!p.ok());
    assert_eq!(p.missing, vec![(10, 11)]);
    assert_eq!(p.mismatched, 2);
}

#[test]
fn a_record_in_two_files_of_its_directory_is_duplicated_and_the_files_overlap() {
    let t = topic();
    let o = files(
        &t,
        &[
            ("symbol=A", &[0, 3, 6, 9]),
            ("symbol=A", &[3, 6]),
            ("symbol=B", &[1, 4, 7, 10]),
            ("symbol=C", &[2, 5, 8, 11]),
        ],
    );
    let p = &run(&o).partitions[0];
    assert_eq!(p.duplicated, vec![(3, 4), (6, 7)]);
    assert_eq!(p.overlapping_files, vec![3]);
}

#[test]
fn a_file_in_the_wrong_directory_is_a_mismatch() {
    let t = topic();
    let o = files(
        &t,
        &[
            ("symbol=A", &[0, 3, 6, 9]),
            ("symbol=C", &[1, 4, 7, 10]),
            ("symbol=B", &[2, 5, 8, 11]),
        ],
    );
    let p = &run(&o).partitions[0];
    assert!(!p.ok() && p.mismatched > 0, "{p:?}");
}
