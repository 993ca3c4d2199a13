//! Keys and headers files beside data files: line for line with their data file (a record
//! whose key cannot be written is in neither), and uploaded before it, so a data file in S3
//! always has them; a companion left alone by a crash is replaced, one beside another writer's
//! data file is a conflict.

use std::sync::Arc;

use bytes::Bytes;

use super::segmenter::{Rules, Segment, Segmenter};
use super::testing::{self, tick, MemoryStore};
use super::upload::put_with_retry;
use super::Record;
use crate::format::companions::Companions;
use crate::record::KeyHeaders;
use crate::s3::{PutOutcome, SegmentStore};

fn rules() -> Rules {
    let sink = crate::config::parse_str("[sink]\n\"store.kafka.keys\" = true\n\"store.kafka.headers\" = true")
        .unwrap()
        .sink;
    Rules {
        companions: Companions::from_config(&sink),
        ..Rules::json(3)
    }
}

fn keyed(offset: i64, key: Option<&str>) -> Record {
    Record {
        extra: Some(Box::new(KeyHeaders {
            key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
            headers: vec![("n".into(), Some(Bytes::from(offset.to_string())))],
            log_append_time: false,
        })),
        ..tick(offset)
    }
}

fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_data_file_and_its_keys_and_headers_files_hold_the_same_records_in_order() {
    let mut s = Segmenter::new(testing::layout(4), 0, rules(), 0, vec![], vec![]);
    let mut out: Vec<Segment> = Vec::new();
    for r in [
        keyed(0, Some("A")),
        keyed(1, None),
        keyed(2, Some("B")),
        keyed(3, Some("C")),
    ] {
        s.push(&r, &mut out);
    }
    s.close(&mut out);
    let data: Vec<&Segment> = out.iter().filter(|s| !s.dead_letter).collect();
    // Offset 1 has no key: a dead letter, in no data file; it cuts the data file as a bad
    // record does.
    assert_eq!(data.len(), 2);
    assert_eq!(data[0].key, "topics/t/partition=0/t+0+0000.json");
    let names: Vec<&str> = data[0].companions.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "topics/t/partition=0/t+0+0000.keys.json",
            "topics/t/partition=0/t+0+0000.headers.json"
        ]
    );
    assert_eq!(text(&data[1].companions[0].1), "\"B\"\n\"C\"\n");
    assert_eq!(
        text(&data[1].companions[1].1),
        "[{\"key\":\"n\",\"value\":\"2\"}]\n[{\"key\":\"n\",\"value\":\"3\"}]\n"
    );
    assert_eq!(text(&data[1].body).lines().count(), 2);
    let dead = out.iter().find(|s| s.dead_letter).expect("a dead letter");
    assert!(
        text(&dead.body).contains("store.kafka.keys: the record has no key"),
        "{}",
        text(&dead.body)
    );
    assert!(dead.companions.is_empty());
}

fn segment(keys_body: &str) -> Segment {
    let mut s = Segmenter::new(testing::layout(4), 0, rules(), 0, vec![], vec![]);
    let mut out = Vec::new();
    s.push(&keyed(0, Some(keys_body)), &mut out);
    s.close(&mut out);
    out.remove(0)
}

#[tokio::test]
async fn companions_land_before_their_data_file_and_an_orphan_is_replaced() {
    let store = MemoryStore::default();
    let (gate, reach) = (super::gate::Gate::new(10), Arc::new(Default::default()));
    let tp = crate::record::TopicPartition::new("t", 0);
    // A crash between the PUTs left a keys file of another cut, without its data file.
    let first = segment("OLD");
    let (keys_key, old_keys) = first.companions[0].clone();
    store.put_new(&keys_key, old_keys, first.meta.clone()).await.unwrap();

    let seg = segment("NEW");
    assert_eq!(
        put_with_retry(&store, &gate, &reach, &tp, &seg).await.unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        text(&store.get(&keys_key).await.unwrap()),
        "\"NEW\"\n",
        "the orphan is replaced"
    );
    assert!(store.exists(&seg.key).await.unwrap());

    // Now the data file is there: a different keys file beside it is another writer's.
    let other = segment("OTHER");
    let e = put_with_retry(&store, &gate, &reach, &tp, &other).await.unwrap_err();
    assert!(e.is_conflict(), "{e}");
    assert_eq!(
        text(&store.get(&keys_key).await.unwrap()),
        "\"NEW\"\n",
        "never overwritten beside its data"
    );
    // The same segment again (a retried upload) is identical: nothing to do.
    assert_eq!(
        put_with_retry(&store, &gate, &reach, &tp, &seg).await.unwrap(),
        PutOutcome::AlreadyIdentical
    );
}
