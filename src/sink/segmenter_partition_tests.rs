//! The segmenter under the `field` partitioner: several open files per Kafka partition, each
//! closed on its own, and a restart that replays records closed files already hold.

use bytes::Bytes;

use super::*;
use crate::partitioner::Partitioner;
use crate::sink::segment::Extent;
use crate::sink::testing;

fn rules(flush_size: u64, max_open_files: usize) -> Rules {
    Rules {
        partitioner: Partitioner::field(&["symbol"]),
        max_open_files,
        ..Rules::json(flush_size)
    }
}

fn rec(offset: i64, symbol: &str) -> Record {
    Record {
        offset,
        value: Some(Bytes::from(format!(r#"{{"symbol":"{symbol}","o":{offset}}}"#))),
        timestamp_ms: Some(1_000 + offset),
        extra: None,
    }
}

/// A segmenter at `start` whose directories have no files yet (listings answered empty).
fn seg(rules: Rules, start: i64) -> Segmenter {
    Segmenter::new(testing::layout(4), 0, rules, start, vec![], vec![])
}

fn end(start: i64, end: i64) -> DirFile {
    DirFile {
        start,
        extent: Extent::End(end),
    }
}

/// Pushes, answering every listing from `s3` (the segments already written; one whose
/// `meta.error` is set lost its metadata: only its count of records is known).
fn push(s: &mut Segmenter, r: &Record, s3: &[Segment], out: &mut Vec<Segment>) -> Pushed {
    loop {
        match s.push(r, out).0 {
            Pushed::NeedsListing(dir) => {
                let files = s3
                    .iter()
                    .filter(|f| f.key.contains(&format!("/{dir}/")))
                    .map(|f| DirFile {
                        start: f.meta.start_offset,
                        extent: match f.meta.error {
                            Some(_) => Extent::Records(f.meta.records),
                            None => Extent::End(f.meta.end_offset),
                        },
                    })
                    .collect();
                s.add_listing(&dir, files);
            }
            other => return other,
        }
    }
}

fn files(out: &[Segment]) -> Vec<(String, i64, i64, u64)> {
    out.iter()
        .map(|s| {
            let dir = s.key.split('/').nth(2).unwrap_or_default().to_owned();
            (dir, s.meta.start_offset, s.meta.end_offset, s.meta.records)
        })
        .collect()
}

/// The `o` of every line of every file.
fn offsets(out: &[Segment]) -> Vec<i64> {
    let mut v: Vec<i64> = out
        .iter()
        .flat_map(|s| {
            s.body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| l.to_vec())
                .collect::<Vec<_>>()
        })
        .map(|l| {
            serde_json::from_slice::<serde_json::Value>(&l).unwrap()["o"]
                .as_i64()
                .unwrap()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn each_directory_has_its_own_file_count_and_key() {
    let mut s = seg(rules(2, 10), 0);
    let mut out = Vec::new();
    for (o, sym) in [(0, "A"), (1, "B"), (2, "A"), (3, "B"), (4, "C")] {
        push(&mut s, &rec(o, sym), &[], &mut out);
    }
    assert_eq!(
        files(&out),
        vec![("symbol=A".into(), 0, 3, 2), ("symbol=B".into(), 1, 4, 2)]
    );
    assert_eq!(out[0].key, "topics/t/symbol=A/t+0+0000.json");
    assert_eq!((s.open_files(), s.buffered(), s.pending_from()), (1, 1, 4));
}

#[test]
fn the_commit_waits_for_the_oldest_open_file_and_rotation_closes_one_file() {
    let mut s = seg(rules(100, 10), 0);
    let mut out = Vec::new();
    let first = push(&mut s, &rec(0, "A"), &[], &mut out);
    push(&mut s, &rec(1, "B"), &[], &mut out);
    push(&mut s, &rec(2, "B"), &[], &mut out);
    assert_eq!(s.pending_from(), 0);
    let Pushed::Buffered { opened: Some(a_id) } = first else {
        panic!("{first:?}")
    };
    s.rotate(a_id, &mut out);
    assert_eq!(files(&out), vec![("symbol=A".into(), 0, 1, 1)]);
    assert_eq!(s.pending_from(), 1, "B's file from 1 holds the commit now");
}

#[test]
fn at_the_cap_the_oldest_file_is_written_out() {
    let mut s = seg(rules(100, 2), 0);
    let mut out = Vec::new();
    for (o, sym) in [(0, "A"), (1, "B"), (2, "A"), (3, "C")] {
        push(&mut s, &rec(o, sym), &[], &mut out);
    }
    assert_eq!(files(&out), vec![("symbol=A".into(), 0, 3, 2)]);
    assert_eq!(s.open_files(), 2);
}

#[test]
fn a_file_left_behind_by_the_span_limit_is_written_out() {
    // flush 5 × 2 files: no file spreads over 10 offsets.
    let r = rules(5, 2);
    assert_eq!(r.span_limit(), 10);
    let mut s = seg(r, 0);
    let mut out = Vec::new();
    push(&mut s, &rec(0, "RARE"), &[], &mut out);
    for o in 1..10 {
        push(&mut s, &rec(o, "HOT"), &[], &mut out);
    }
    assert!(files(&out).iter().all(|f| f.0 == "symbol=HOT"));
    push(&mut s, &rec(10, "HOT"), &[], &mut out);
    assert!(
        files(&out).contains(&("symbol=RARE".into(), 0, 1, 1)),
        "{:?}",
        files(&out)
    );
}

#[test]
fn open_files_holding_half_the_partitions_memory_bound_are_written_out_oldest_first() {
    let r = Rules {
        max_buffered: 8,
        ..rules(100, 10)
    };
    let mut s = seg(r, 0);
    let mut out = Vec::new();
    for (o, sym) in [(0, "A"), (1, "B"), (2, "C"), (3, "B")] {
        push(&mut s, &rec(o, sym), &[], &mut out);
    }
    assert!(out.is_empty());
    push(&mut s, &rec(4, "D"), &[], &mut out);
    assert_eq!(files(&out), vec![("symbol=A".into(), 0, 1, 1)]);
    assert_eq!(s.buffered(), 4);
}

#[test]
fn a_record_the_partitioner_cannot_place_is_a_dead_letter_and_cuts_nothing() {
    let mut s = seg(rules(100, 10), 0);
    let mut out = Vec::new();
    push(&mut s, &rec(0, "A"), &[], &mut out);
    let orphan = Record {
        value: Some(Bytes::from_static(br#"{"price":1}"#)),
        ..rec(1, "")
    };
    assert_eq!(
        push(&mut s, &orphan, &[], &mut out),
        Pushed::DeadLettered { opened: Some(1) }
    );
    push(&mut s, &rec(2, "A"), &[], &mut out);
    s.close(&mut out);
    let data: Vec<_> = out.iter().filter(|o| !o.dead_letter).collect();
    assert_eq!((data.len(), data[0].meta.records), (1, 2), "A's file holds 0 and 2");
    let dead: Vec<_> = out.iter().filter(|o| o.dead_letter).collect();
    assert!(String::from_utf8_lossy(&dead[0].body).contains("no field \\\"symbol\\\""));
}

#[test]
fn a_record_whose_directory_would_make_a_key_the_store_refuses_is_a_dead_letter_at_once() {
    let long = "X".repeat(2_000);
    for limits in [
        crate::s3::key_limits::KeyLimits::S3,
        crate::s3::key_limits::KeyLimits::FILES,
    ] {
        let mut s = seg(
            Rules {
                key_limits: limits,
                ..rules(100, 10)
            },
            0,
        );
        let mut out = Vec::new();
        push(&mut s, &rec(0, "A"), &[], &mut out);
        assert_eq!(
            push(&mut s, &rec(1, &long), &[], &mut out),
            Pushed::DeadLettered { opened: Some(1) },
            "no listing of its directory is asked for: no request is made with its key"
        );
        push(&mut s, &rec(2, "A"), &[], &mut out);
        s.close(&mut out);
        let data: Vec<_> = out.iter().filter(|o| !o.dead_letter).collect();
        assert_eq!((data.len(), data[0].meta.records), (1, 2), "A's file holds 0 and 2");
        let dead = String::from_utf8_lossy(&out.iter().find(|o| o.dead_letter).unwrap().body).into_owned();
        assert!(dead.contains("over the store's 1024 (S3's KeyTooLongError)"), "{dead}");
    }
    // On the embedded store a segment over a file name's 255 bytes is refused too; S3 takes it.
    let name = "Y".repeat(300);
    let pushed = |limits| {
        let mut s = seg(
            Rules {
                key_limits: limits,
                ..rules(100, 10)
            },
            0,
        );
        push(&mut s, &rec(0, &name), &[], &mut Vec::new())
    };
    assert!(matches!(
        pushed(crate::s3::key_limits::KeyLimits::S3),
        Pushed::Buffered { .. }
    ));
    assert!(matches!(
        pushed(crate::s3::key_limits::KeyLimits::FILES),
        Pushed::DeadLettered { .. }
    ));
}

#[test]
fn records_in_an_existing_file_of_their_directory_are_skipped_and_the_open_file_is_cut() {
    let mut s = seg(rules(100, 10), 0);
    let mut out = Vec::new();
    assert_eq!(
        s.push(&rec(0, "A"), &mut out).0,
        Pushed::NeedsListing("symbol=A".into())
    );
    // A file of A from 2 to 5 is in S3 already; B has none.
    s.add_listing("symbol=A", vec![end(2, 6)]);
    s.add_listing("symbol=B", vec![]);
    let got: Vec<Pushed> = [(0, "A"), (1, "B"), (2, "A"), (3, "B"), (5, "A"), (6, "A")]
        .iter()
        .map(|(o, sym)| s.push(&rec(*o, sym), &mut out).0)
        .collect();
    assert_eq!(got[2], Pushed::Skipped);
    assert_eq!(got[4], Pushed::Skipped);
    assert_eq!(
        files(&out),
        vec![("symbol=A".into(), 0, 1, 1)],
        "cut before the existing file"
    );
    s.close(&mut out);
    assert_eq!(offsets(&out), vec![0, 1, 3, 6]);
}

#[test]
fn a_file_without_metadata_skips_its_count_of_its_directorys_records() {
    let mut s = seg(rules(100, 10), 2);
    let mut out = Vec::new();
    // A's file from 2 holds two records (2 and 5: B's 3 and 4 are elsewhere); its end is lost.
    s.add_listing(
        "symbol=A",
        vec![DirFile {
            start: 2,
            extent: Extent::Records(2),
        }],
    );
    s.add_listing("symbol=B", vec![]);
    let got: Vec<Pushed> = [(2, "A"), (3, "B"), (4, "B"), (5, "A"), (6, "A")]
        .iter()
        .map(|(o, sym)| s.push(&rec(*o, sym), &mut out).0)
        .collect();
    assert_eq!((&got[0], &got[3]), (&Pushed::Skipped, &Pushed::Skipped));
    assert!(matches!(got[4], Pushed::Buffered { .. }), "{got:?}");
    s.close(&mut out);
    assert_eq!(offsets(&out), vec![3, 4, 6]);
}

/// Crash after any record: the first run's closed files are in S3, its commit is where the
/// segmenter said; the second run starts there, lists each directory, and between them every
/// record is in exactly one file.
#[test]
fn a_restart_after_any_record_writes_each_record_exactly_once() {
    let symbols = ["A", "B", "C", "D", "E"];
    let mut x: u64 = 7;
    let records: Vec<Record> = (0..300)
        .map(|o| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let weight = (x >> 33) % 10;
            rec(o, symbols[if weight < 5 { 0 } else { (weight % 4 + 1) as usize }])
        })
        .collect();
    for (crash_after, last_landed) in [0usize, 1, 17, 42, 99, 150, 299]
        .into_iter()
        .flat_map(|c| [(c, true), (c, false)])
    {
        let mut s3 = Vec::new();
        let mut first = seg(rules(7, 3), 0);
        for r in &records[..=crash_after] {
            push(&mut first, r, &[], &mut s3);
        }
        let mut committed = first.pending_from();
        if !last_landed {
            // The newest closed file was still uploading: the commit stopped before it, and
            // S3 kept its body but not its metadata.
            if let Some(last) = s3.last_mut() {
                committed = committed.min(last.meta.start_offset);
                last.meta.error = Some("metadata lost".into());
            }
        }
        let mut second = seg(rules(7, 3), committed);
        let mut out = Vec::new();
        for r in &records {
            let landed = s3.clone();
            push(&mut second, r, &landed, &mut out);
        }
        second.close(&mut out);
        s3.extend(out);
        assert_eq!(
            offsets(&s3),
            (0..300).collect::<Vec<i64>>(),
            "crash after {crash_after}, last landed {last_landed}"
        );
        let mut by_dir = files(&s3);
        by_dir.sort();
        for w in by_dir.windows(2) {
            assert!(w[0].0 != w[1].0 || w[0].2 <= w[1].1, "overlapping files {w:?}");
        }
    }
}

#[test]
fn under_wallclock_one_file_is_open_at_a_time_and_a_new_hour_cuts_it() {
    use crate::config::{PartitionerClass, SinkConfig, TimestampExtractor};
    let sink = SinkConfig {
        partitioner_class: PartitionerClass::Hourly,
        timestamp_extractor: TimestampExtractor::Wallclock,
        ..SinkConfig::default()
    };
    let r = Rules {
        partitioner: Partitioner::new(sink.partitioner().unwrap()),
        ..Rules::json(100)
    };
    let mut s = seg(r, 0);
    let mut out = Vec::new();
    // 2026-03-07T14:59:59Z, then a second later the next hour.
    s.set_clock(1_772_895_599_000);
    push(&mut s, &rec(0, "A"), &[], &mut out);
    push(&mut s, &rec(1, "B"), &[], &mut out);
    assert_eq!(s.open_files(), 1, "consecutive offsets, whatever the record");
    s.set_clock(1_772_895_600_000);
    push(&mut s, &rec(2, "A"), &[], &mut out);
    assert_eq!(
        files(&out),
        vec![("year=2026".into(), 0, 2, 2)],
        "the hour's file is cut when the clock moves on"
    );
    assert!(
        out[0].key.contains("/year=2026/month=03/day=07/hour=14/"),
        "{}",
        out[0].key
    );
    s.close(&mut out);
    assert!(out[1].key.contains("/hour=15/t+0+0002.json"), "{}", out[1].key);
}
