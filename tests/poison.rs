//! No poison pill: a record that can never be stored is set aside with its reason at once, and
//! the rest of its partition keeps flowing and committing.

use tickstream::config::PartitionerClass;
use tickstream::s3::SegmentStore;

use crate::any_records::{producer, run_until_committed, send, sink_only};
use crate::common::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_value_too_long_for_an_s3_key_is_a_dead_letter_and_its_partition_commits_to_the_end() {
    let env = TestEnv::start().await;
    let mut config = sink_only(&env, &env.topic);
    config.sink.partitioner_class = PartitionerClass::Field;
    config.sink.partition_field_name = Some("symbol".into());
    config.sink.flush_size = 10;
    env.create_topics(&config).await;
    let long = "X".repeat(2_000);
    let mut values: Vec<Option<Vec<u8>>> = (0..30)
        .map(|i| Some(format!(r#"{{"symbol":"S{}","seq":{i}}}"#, i % 3).into_bytes()))
        .collect();
    values.insert(15, Some(format!(r#"{{"symbol":"{long}","seq":-1}}"#).into_bytes()));
    send(&producer(env.kafka.bootstrap_servers()), &env.topic, Some(0), &values);
    // Every offset of the partition committed: the long symbol stalls nothing.
    run_until_committed(&env, &config, values.len() as i64).await;

    let store = env.store().await;
    let data = store.list(&format!("topics/{}/", env.topic), None).await.expect("list");
    assert!(
        data.iter().all(|k| k.len() < 200),
        "no key holds the long symbol: {data:?}"
    );
    let mut lines = 0;
    for key in &data {
        let body = store.get(key).await.expect("get");
        lines += body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    }
    assert_eq!(lines, 30, "the 30 normal records are in their directories' files");
    let dead = store
        .list(&format!("dlq/{}/partition=0/", env.topic), None)
        .await
        .expect("list");
    assert_eq!(dead.len(), 1, "{dead:?}");
    let body = store.get(&dead[0]).await.expect("get");
    let letter: serde_json::Value = serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(letter["offset"], 15, "{letter}");
    let why = letter["error"].as_str().unwrap();
    assert!(
        why.contains("over the store's 1024 (S3's KeyTooLongError)"),
        "the reason names S3's rule: {why}"
    );
    let report = env.audit(&config).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.partitions.iter().map(|p| p.dead_lettered).sum::<u64>(), 1);
}
