use super::*;
use crate::sink::testing::{self, tick};
use bytes::Bytes;

fn layout() -> KeyLayout {
    testing::layout(4)
}

fn seg(flush_size: u64, start: i64) -> Segmenter {
    Segmenter::new(layout(), 0, Rules::json(flush_size), start, vec![], vec![])
}

fn bad(offset: i64) -> Record {
    Record {
        offset,
        value: Some(Bytes::from_static(b"garbage")),
        timestamp_ms: None,
        extra: None,
    }
}

fn push_all(s: &mut Segmenter, records: impl IntoIterator<Item = Record>) -> Vec<Segment> {
    let mut out = Vec::new();
    for r in records {
        s.push(&r, &mut out);
    }
    out
}

fn spans(segs: &[Segment]) -> Vec<(i64, i64, bool)> {
    segs.iter()
        .map(|s| (s.meta.start_offset, s.meta.end_offset, s.dead_letter))
        .collect()
}

#[test]
fn full_batches_close_at_flush_size_and_name_their_first_offset() {
    let mut s = seg(3, 0);
    let out = push_all(&mut s, (0..7).map(tick));
    assert_eq!(spans(&out), vec![(0, 3, false), (3, 6, false)]);
    assert_eq!(out[1].key, "topics/t/partition=0/t+0+0003.json");
    assert_eq!(out[1].body.iter().filter(|b| **b == b'\n').count(), 3);
    assert_eq!(s.buffered(), 1);
    assert_eq!(s.pending_from(), 6, "the open batch starts at 6");
}

#[test]
fn an_open_file_holding_half_of_max_buffered_bytes_is_written_out_before_flush_size() {
    let big = |offset| Record {
        offset,
        value: Some(Bytes::from(format!(r#"{{"blob":"{}"}}"#, "x".repeat(1_000)))),
        timestamp_ms: None,
        extra: None,
    };
    let rules = Rules {
        max_buffered_bytes: 8_000,
        ..Rules::json(1_000)
    };
    let mut s = Segmenter::new(layout(), 0, rules, 0, vec![], vec![]);
    let out = push_all(&mut s, (0..10).map(big));
    // Each line is 1,012 bytes: a file is cut once it holds 4,000 bytes or more.
    assert_eq!(spans(&out), vec![(0, 4, false), (4, 8, false)]);
    assert!(s.buffered_bytes() < 4_000, "{}", s.buffered_bytes());
}

#[test]
fn rotation_closes_only_the_batch_it_was_set_for() {
    let mut s = seg(100, 0);
    let mut out = Vec::new();
    let (p, _) = s.push(&tick(0), &mut out);
    assert_eq!(p, Pushed::Buffered { opened: Some(0) });
    s.rotate(0, &mut out);
    assert_eq!(spans(&out), vec![(0, 1, false)]);
    s.push(&tick(1), &mut out);
    s.rotate(0, &mut out); // stale timer
    assert_eq!(out.len(), 1);
    s.rotate(1, &mut out);
    assert_eq!(spans(&out), vec![(0, 1, false), (1, 2, false)]);
}

#[test]
fn records_below_the_start_are_stale() {
    let mut s = seg(10, 5);
    let mut out = Vec::new();
    assert_eq!(s.push(&tick(4), &mut out).0, Pushed::Stale);
    assert!(matches!(s.push(&tick(5), &mut out).0, Pushed::Buffered { .. }));
}

#[test]
fn existing_files_are_skipped_and_never_overlapped() {
    // S3 already holds [3, 6) and [8, 10) (uploaded before a crash, never committed).
    let existing = vec![Span { start: 3, end: 6 }, Span { start: 8, end: 10 }];
    let mut s = Segmenter::new(layout(), 0, Rules::json(100), 0, existing, vec![]);
    let mut out = push_all(&mut s, (0..12).map(tick));
    s.close(&mut out);
    assert_eq!(spans(&out), vec![(0, 3, false), (6, 8, false), (10, 12, false)]);
}

#[test]
fn a_gap_is_reported_as_missing() {
    let mut s = seg(100, 0);
    let mut out = Vec::new();
    s.push(&tick(0), &mut out);
    let (_, gap) = s.push(&tick(5), &mut out);
    assert_eq!(gap, Some((1, 5)));
    assert_eq!(s.missing(), 4);
    s.push(&tick(6), &mut out);
    s.close(&mut out);
    assert_eq!(
        spans(&out),
        vec![(0, 1, false), (5, 7, false)],
        "the gap cuts the file: each file's lines are consecutive offsets"
    );
}

#[test]
fn a_malformed_record_cuts_the_data_file_and_waits_in_the_dead_letter_batch() {
    let mut s = seg(100, 0);
    let mut out = push_all(&mut s, (0..2).map(tick));
    out.extend(push_all(&mut s, [bad(2)]));
    assert_eq!(
        spans(&out),
        vec![(0, 2, false)],
        "the data file is cut; the dead letter waits"
    );
    assert_eq!(s.pending_from(), 2, "nothing past the dead letter is committable yet");
    out.extend(push_all(&mut s, (3..5).map(tick)));
    s.close(&mut out);
    assert_eq!(spans(&out), vec![(0, 2, false), (3, 5, false), (2, 3, true)]);
    let dlq = &out[2];
    assert_eq!(dlq.key, "dlq/t/partition=0/t+0+0002.json");
    let line: serde_json::Value = serde_json::from_slice(dlq.body.strip_suffix(b"\n").unwrap()).unwrap();
    assert_eq!(line["offset"], 2);
    assert_eq!(line["value"], "garbage");
    assert!(line["error"].as_str().unwrap().starts_with("not JSON"), "{line}");
    assert_eq!(s.pending_from(), 5);
}

#[test]
fn a_burst_of_bad_records_makes_one_file_per_flush_size() {
    let mut s = seg(100, 0);
    let mut out = push_all(&mut s, (0..10_000).map(bad));
    s.close(&mut out);
    assert_eq!(out.len(), 100);
    assert!(out.iter().all(|o| o.dead_letter && o.meta.records == 100));
}

#[test]
fn dead_letters_already_in_s3_are_not_written_again() {
    let dead = vec![Span { start: 2, end: 5 }];
    let mut s = Segmenter::new(layout(), 0, Rules::json(100), 0, vec![], dead);
    let mut out = Vec::new();
    let pushed: Vec<Pushed> = [tick(0), bad(2), tick(3), bad(4), bad(6)]
        .iter()
        .map(|r| s.push(r, &mut out).0)
        .collect();
    assert_eq!(pushed[1], Pushed::Skipped);
    assert_eq!(pushed[3], Pushed::Skipped);
    assert_eq!(pushed[4], Pushed::DeadLettered { opened: Some(2) });
    s.close(&mut out);
    assert_eq!(spans(&out), vec![(0, 1, false), (3, 4, false), (6, 7, true)]);
}

#[test]
fn under_errors_tolerance_none_the_partition_halts_at_the_bad_record() {
    let rules = Rules {
        halt_on_error: true,
        ..Rules::json(100)
    };
    let mut s = Segmenter::new(layout(), 0, rules, 0, vec![], vec![]);
    let mut out = push_all(&mut s, (0..3).map(tick));
    let (pushed, _) = s.push(&bad(3), &mut out);
    assert!(
        matches!(pushed, Pushed::Halted(ref why) if why.starts_with("not JSON")),
        "{pushed:?}"
    );
    assert_eq!(spans(&out), vec![(0, 3, false)], "what came before is written");
    assert!(matches!(s.push(&tick(4), &mut out).0, Pushed::Halted(_)));
    assert_eq!(s.pending_from(), 3, "nothing is committed past the bad record");
}

#[test]
fn an_ignored_tombstone_cuts_the_file_so_files_stay_contiguous() {
    let rules = Rules {
        converter: {
            let sink = crate::config::SinkConfig {
                null_values: crate::config::NullValues::Ignore,
                ..crate::config::SinkConfig::default()
            };
            crate::format::convert::Converter::new(&sink)
        },
        ..Rules::json(100)
    };
    let mut s = Segmenter::new(layout(), 0, rules, 0, vec![], vec![]);
    let tombstone = Record {
        offset: 1,
        value: None,
        timestamp_ms: None,
        extra: None,
    };
    let mut out = push_all(&mut s, [tick(0), tombstone, tick(2)]);
    s.close(&mut out);
    assert_eq!(spans(&out), vec![(0, 1, false), (2, 3, false)]);
}

fn parquet_rules(flush_size: u64) -> Rules {
    let mut config = crate::config::Config::default();
    config.sink.format_class = crate::config::FormatClass::Parquet;
    config.sink.parquet_codec = crate::config::ParquetCodec::Zstd;
    Rules {
        flush_size,
        ..Rules::from_config(&config).expect("rules")
    }
}

#[test]
fn parquet_files_hold_rows_of_the_typed_columns_and_a_record_of_the_wrong_type_is_a_dead_letter() {
    let layout = KeyLayout {
        extension: crate::config::ParquetCodec::Zstd.extension(),
        ..layout()
    };
    let mut s = Segmenter::new(layout, 0, parquet_rules(3), 0, vec![], vec![]);
    let wrong = Record {
        offset: 4,
        value: Some(Bytes::from_static(br#"{"symbol":"AAPL","price":"high"}"#)),
        timestamp_ms: None,
        extra: None,
    };
    let mut out = push_all(&mut s, [tick(0), tick(1), tick(2), tick(3), wrong, tick(5)]);
    assert!(s.buffered_bytes() > 0, "the open file's column buffers are counted");
    s.close(&mut out);
    // close() writes the open data file before the dead letters.
    assert_eq!(
        spans(&out),
        vec![(0, 3, false), (3, 4, false), (5, 6, false), (4, 5, true)]
    );
    assert_eq!(out[0].key, "topics/t/partition=0/t+0+0000.zstd.parquet");
    assert!(
        String::from_utf8_lossy(&out[3].body).contains("column price (REAL)"),
        "the reason is kept: {:?}",
        out[3].body
    );
    let decoded = crate::format::Reader::default()
        .read(&out[0].key, out[0].body.clone())
        .expect("reads back");
    let rows: Vec<serde_json::Value> = decoded.iter().map(|l| serde_json::from_slice(l).unwrap()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["seq"], 2);
    assert!(decoded.by_column_name);
}
