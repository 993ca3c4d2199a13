//! The sink actor under the `field` partitioner (directories listed as records reach them, and
//! a listing S3 refuses holds the records back, in order, until it answers) and under
//! `rotate.schedule.interval.ms`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;

use super::actor::SinkMsg;
use super::actor_tests::{start_with, FakeSource};
use super::segmenter::Rules;
use super::testing::MemoryStore;
use super::Record;
use crate::partitioner::Partitioner;

fn rec(offset: i64, symbol: &str) -> Record {
    Record {
        offset,
        value: Some(Bytes::from(format!(r#"{{"symbol":"{symbol}","o":{offset}}}"#))),
        timestamp_ms: Some(offset),
        extra: None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_listing_s3_refuses_holds_the_records_back_in_order_until_it_answers() {
    let store = MemoryStore::default();
    let rules = Rules {
        partitioner: Partitioner::field(&["symbol"]),
        ..Rules::json(2)
    };
    // An earlier run's file of B from 3 is in S3 (uploaded, never committed).
    let layout = super::testing::layout(10);
    store.insert(&layout.key_in("symbol=B", 0, 3), 3, 5);
    let h = start_with(rules, 60_000, FakeSource::default(), store, Duration::ZERO).await;
    // Attached: the next three listings (the first directories') fail.
    h.store.failing_lists.store(3, Ordering::SeqCst);
    let send = |records: Vec<Record>| {
        h.gate.hold(records.len());
        h.sink.cast(SinkMsg::Append(records)).unwrap();
    };
    send(vec![rec(0, "A"), rec(1, "A"), rec(2, "A")]);
    send(vec![rec(3, "B"), rec(4, "B"), rec(5, "B"), rec(6, "B")]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(h.store.keys().len() == 1, "nothing written while the listing fails");
    h.wait_until(|h| h.store.keys().len() == 3).await;
    assert_eq!(
        h.store.keys(),
        vec![
            layout.key_in("symbol=A", 0, 0),
            layout.key_in("symbol=B", 0, 3),
            layout.key_in("symbol=B", 0, 5),
        ],
        "A's file, and B's records after the file already in S3"
    );
    assert!(
        h.store.list_attempts.load(Ordering::SeqCst) >= 5,
        "retried, then one listing per directory"
    );
    h.wait_until(|h| h.commits().last() == Some(&(2, false))).await;
    assert_eq!(h.gate.held(), 1, "A's 2 waits in its open file");
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_rotation_closes_the_open_file_at_each_boundary_without_new_records() {
    use super::actor_tests::{layout, start_scheduled};
    let schedule = super::rotation::Schedule {
        interval: Duration::from_secs(10),
        zone: chrono_tz::Tz::UTC,
    };
    // Neither flush.size nor rotate.interval.ms (an hour) would close these files.
    let h = start_scheduled(
        Rules::json(1_000),
        3_600_000,
        Some(schedule),
        FakeSource::default(),
        MemoryStore::default(),
        Duration::ZERO,
    )
    .await;
    h.append(0..3);
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    h.wait_until(|h| h.commits() == vec![(3, false)]).await;
    h.append(3..5);
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    h.wait_until(|h| h.commits().last() == Some(&(5, false))).await;
    assert_eq!(
        h.store.keys(),
        vec![layout().object_key(0, 0), layout().object_key(0, 3)],
        "one file per boundary, each holding what arrived before it"
    );
}

/// `field` rules by symbol, a file per record.
fn by_symbol() -> Rules {
    Rules {
        partitioner: Partitioner::field(&["symbol"]),
        ..Rules::json(1)
    }
}

#[tokio::test(start_paused = true)]
async fn records_from_the_planned_high_watermark_on_list_no_directory() {
    let store = MemoryStore::default();
    // S3 holds a file of the topic (so the plan cannot rule every directory out).
    store.insert(&super::testing::layout(10).key_in("symbol=Z", 0, 0), 0, 1);
    let mut source = FakeSource::default();
    source.high = Some(10);
    let h = start_with(by_symbol(), 60_000, source, store, Duration::ZERO).await;
    let planned = h.store.list_attempts.load(Ordering::SeqCst);
    // Ten replayed records (below the high watermark) in ten directories, then twenty new
    // records in twenty more.
    let records: Vec<Record> = (0..30).map(|o| rec(o, &format!("S{o}"))).collect();
    h.gate.hold(records.len());
    h.sink.cast(SinkMsg::Append(records)).unwrap();
    h.wait_until(|h| h.commits().last() == Some(&(30, false))).await;
    assert_eq!(h.store.keys().len(), 31, "every record in its own file, beside Z's");
    assert_eq!(
        h.store.list_attempts.load(Ordering::SeqCst) - planned,
        10,
        "only the replayed records' directories are listed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_replay_lists_the_directories_ahead_together() {
    let store = MemoryStore::default();
    store.insert(&super::testing::layout(10).key_in("symbol=Z", 0, 0), 0, 1);
    store.list_delay_ms.store(100, Ordering::SeqCst);
    let h = start_with(by_symbol(), 60_000, FakeSource::default(), store, Duration::ZERO).await;
    let records: Vec<Record> = (1..41).map(|o| rec(o, &format!("S{o}"))).collect();
    h.gate.hold(records.len());
    h.sink.cast(SinkMsg::Append(records)).unwrap();
    h.wait_until(|h| h.commits().last() == Some(&(41, false))).await;
    assert_eq!(h.store.keys().len(), 41);
    assert_eq!(
        h.store.most_lists_at_once.load(Ordering::SeqCst),
        16,
        "the first record's directory and the next fifteen records' at once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_topic_without_files_in_s3_lists_no_directory() {
    let h = start_with(
        by_symbol(),
        60_000,
        FakeSource::default(),
        MemoryStore::default(),
        Duration::ZERO,
    )
    .await;
    let planned = h.store.list_attempts.load(Ordering::SeqCst);
    let records: Vec<Record> = (0..20).map(|o| rec(o, &format!("S{o}"))).collect();
    h.gate.hold(records.len());
    h.sink.cast(SinkMsg::Append(records)).unwrap();
    h.wait_until(|h| h.commits().last() == Some(&(20, false))).await;
    assert_eq!(h.store.keys().len(), 20);
    assert_eq!(h.store.list_attempts.load(Ordering::SeqCst), planned, "nothing to list");
}
