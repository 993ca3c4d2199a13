//! The record path under random input: random bytes, random and hostile JSON, random field
//! values for the partitioner and random timestamps, under each partitioner. Every record ends
//! in exactly one data file or dead letter (or is an ignored tombstone), nothing is left pending
//! once the files close, and nothing panics or asks for what it cannot be given.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::s3::key_limits::KeyLimits;
use crate::sink::testing;

/// A hostile or ordinary text: empty, a `/`, control characters, non-ASCII, very long.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z]{1,5}",
        Just(String::new()),
        "[a-z/]{1,8}",
        "\\PC{0,12}",
        "[\\x00-\\x1f]{1,3}",
        (300usize..1_500).prop_map(|n| "Z".repeat(n)),
    ]
}

/// A timestamp field: epoch ms, an RFC 3339 time, garbage, or none.
fn stamp() -> impl Strategy<Value = Option<serde_json::Value>> {
    prop_oneof![
        any::<i64>().prop_map(|n| Some(serde_json::json!(n))),
        (0i64..4_102_444_800_000).prop_map(|n| Some(serde_json::json!(n))),
        Just(Some(serde_json::json!("2026-12-06T10:00:00Z"))),
        text().prop_map(|t| Some(serde_json::json!(t))),
        Just(None),
    ]
}

/// A record's value: random bytes, a tombstone, or JSON with random fields.
fn value() -> impl Strategy<Value = Option<Vec<u8>>> {
    let json = (text(), stamp(), any::<f64>(), any::<bool>()).prop_map(|(symbol, ts, price, nested)| {
        let mut v = serde_json::json!({"symbol": symbol, "price": price});
        if let Some(ts) = ts {
            v["timestamp"] = ts;
        }
        if nested {
            v["symbol"] = serde_json::json!({"nested": symbol});
        }
        Some(serde_json::to_vec(&v).unwrap_or_default())
    });
    prop_oneof![
        3 => json,
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Some),
        1 => Just(None),
    ]
}

fn record() -> impl Strategy<Value = (Option<Vec<u8>>, Option<i64>)> {
    (value(), proptest::option::of(any::<i64>()))
}

/// The sink settings under test, by index.
fn rules(setup: usize, flush_size: u64) -> Rules {
    let sink = [
        "",
        "\"partitioner.class\" = \"field\"\n\"partition.field.name\" = \"symbol\"",
        "\"partitioner.class\" = \"hourly\"\n\"timestamp.extractor\" = \"RecordField\"\n\"timestamp.field\" = \"timestamp\"",
        "\"partitioner.class\" = \"daily\"",
        "\"behavior.on.null.values\" = \"ignore\"\n\"value.converter\" = \"string\"",
    ][setup];
    let config = crate::config::parse_str(&format!("[sink]\n\"flush.size\" = {flush_size}\n{sink}")).unwrap();
    Rules {
        key_limits: KeyLimits::FILES,
        ..Rules::from_config(&config).unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_record_ends_in_one_file_or_dead_letter_and_nothing_stays_pending(
        setup in 0usize..5,
        flush_size in 1u64..8,
        records in proptest::collection::vec(record(), 1..60),
    ) {
        let mut s = Segmenter::new(testing::layout(4), 0, rules(setup, flush_size), 0, vec![], vec![]);
        s.set_clock(1_765_000_000_000);
        let (mut out, mut ignored) = (Vec::new(), 0u64);
        for (offset, (value, timestamp_ms)) in records.iter().enumerate() {
            let rec = Record {
                offset: offset as i64,
                value: value.clone().map(Bytes::from),
                timestamp_ms: *timestamp_ms,
                extra: None,
            };
            loop {
                match s.push(&rec, &mut out).0 {
                    Pushed::NeedsListing(dir) => s.add_listing(&dir, Vec::new()),
                    Pushed::Buffered { .. } | Pushed::DeadLettered { .. } => break,
                    Pushed::Ignored => {
                        ignored += 1;
                        break;
                    }
                    other => prop_assert!(false, "offset {offset}: {other:?}"),
                }
            }
        }
        s.close(&mut out);
        let data: u64 = out.iter().filter(|o| !o.dead_letter).map(|o| o.meta.records).sum();
        let mut dead: Vec<i64> = out.iter().flat_map(|o| o.dead.iter().map(|d| d.offset)).collect();
        let dead_count = dead.len() as u64;
        dead.sort_unstable();
        dead.dedup();
        prop_assert_eq!(dead.len() as u64, dead_count, "a record dead-lettered twice");
        prop_assert_eq!(data + dead_count + ignored, records.len() as u64, "every record once");
        prop_assert_eq!(s.pending_from(), records.len() as i64, "nothing pending after close");
        for o in out.iter().filter(|o| !o.dead_letter) {
            prop_assert!(o.key.len() <= 1_024 && o.key.split('/').all(|p| p.len() <= 255), "{}", o.key);
        }
    }
}
