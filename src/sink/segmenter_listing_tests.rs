//! Which records ask for a listing, which directories are listed ahead, and listings forgotten
//! once the partition is past every file an earlier writer can have left.

use bytes::Bytes;

use super::*;
use crate::partitioner::Partitioner;
use crate::sink::segment::{DirFile, Extent};
use crate::sink::segmenter::{Pushed, Rules};
use crate::sink::testing;

fn rec(offset: i64, symbol: &str) -> Record {
    Record {
        offset,
        value: Some(Bytes::from(format!(r#"{{"symbol":"{symbol}","o":{offset}}}"#))),
        timestamp_ms: Some(1_000 + offset),
        extra: None,
    }
}

fn seg(start: i64) -> Segmenter {
    let rules = Rules {
        partitioner: Partitioner::field(&["symbol"]),
        ..Rules::json(10)
    };
    Segmenter::new(testing::layout(4), 0, rules, start, vec![], vec![])
}

#[test]
fn only_records_below_the_horizon_ask_and_past_it_every_listing_is_forgotten() {
    let mut s = seg(0);
    s.set_list_below(3);
    let mut out = Vec::new();
    assert_eq!(
        s.push(&rec(0, "A"), &mut out).0,
        Pushed::NeedsListing("symbol=A".into())
    );
    // An earlier writer's file of A holds 0..2.
    let file = DirFile {
        start: 0,
        extent: Extent::End(2),
    };
    s.add_listing("symbol=A", vec![file]);
    assert_eq!(s.push(&rec(0, "A"), &mut out).0, Pushed::Skipped);
    assert_eq!(s.push(&rec(1, "A"), &mut out).0, Pushed::Skipped);
    assert_eq!(
        s.push(&rec(2, "B"), &mut out).0,
        Pushed::NeedsListing("symbol=B".into())
    );
    s.add_listing("symbol=B", vec![]);
    assert!(matches!(s.push(&rec(2, "B"), &mut out).0, Pushed::Buffered { .. }));
    assert_eq!(s.listed_dirs(), 2);
    // From the horizon on: no listing, and what the listings said is dropped.
    assert!(matches!(s.push(&rec(3, "C"), &mut out).0, Pushed::Buffered { .. }));
    assert_eq!(s.listed_dirs(), 0, "forgotten");
    assert!(matches!(s.push(&rec(4, "A"), &mut out).0, Pushed::Buffered { .. }));
}

#[test]
fn a_start_at_the_horizon_lists_nothing() {
    let mut s = seg(7);
    s.add_listing("symbol=A", vec![]);
    s.set_list_below(7);
    assert_eq!(s.listed_dirs(), 0);
    assert!(matches!(
        s.push(&rec(7, "A"), &mut Vec::new()).0,
        Pushed::Buffered { .. }
    ));
}

#[test]
fn the_directories_ahead_are_those_still_to_list_once_each() {
    let mut s = seg(0);
    s.set_list_below(8);
    s.add_listing("symbol=B", vec![]);
    let ahead: Vec<Record> = [
        (1, "A"),
        (2, "B"),
        (3, "C"),
        (4, "C"),
        (5, "not json"),
        (6, "D"),
        (8, "E"),
    ]
    .iter()
    .map(|&(o, sym)| match sym {
        "not json" => Record {
            value: Some(Bytes::from_static(b"{")),
            ..rec(o, sym)
        },
        _ => rec(o, sym),
    })
    .collect();
    // A asked; B is listed, C once, the bad record places nowhere, E is past the horizon.
    assert_eq!(
        s.unlisted_ahead("symbol=A", ahead.iter(), 100, 10),
        vec!["symbol=C", "symbol=D"]
    );
    assert_eq!(s.unlisted_ahead("symbol=A", ahead.iter(), 100, 1), vec!["symbol=C"]);
    assert_eq!(s.unlisted_ahead("symbol=A", ahead.iter(), 2, 10), Vec::<String>::new());
}
