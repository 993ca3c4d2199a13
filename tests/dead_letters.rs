//! Dead letters of records from any producer: schema failures batched under `dlq/` (a burst in
//! few files, `verify` accounting for each offset), a dead-letter topic with Connect's
//! `__connect.errors.*` headers, and a partition halted under `errors.tolerance = "none"`.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use tickstream::pipeline::{Pipeline, RunOptions};
use tickstream::s3::SegmentStore;

use crate::any_records::{producer, run_until_committed, send, sink_only, some, FINNHUB, SEED_002};
use crate::common::{eventually, TestEnv};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_failures_go_to_dead_letters_a_burst_in_few_files_and_verify_accounts_for_each() {
    let env = TestEnv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("trade.schema.json");
    std::fs::write(
        &schema,
        r#"{"type":"object","required":["s","p"],"properties":{"s":{"type":"string"},"p":{"type":"number","exclusiveMinimum":0}}}"#,
    )
    .unwrap();
    let mut config = sink_only(&env, &env.topic);
    config.sink.flush_size = 100;
    config.sink.value_schema =
        tickstream::config::ValueSchema::Json(tickstream::config::JsonSchema::read(&schema).unwrap());
    config.warehouse.enabled = false;
    env.create_topics(&config).await;
    let p = producer(env.kafka.bootstrap_servers());
    let mut values: Vec<Option<Vec<u8>>> = (0..3_000).map(|_| some(r#"{"s":"AAPL","p":-1}"#)).collect();
    values.extend((0..30).map(|_| some(FINNHUB)));
    send(&p, &env.topic, Some(0), &values);
    run_until_committed(&env, &config, values.len() as i64).await;

    let report = env.verified(&config, 100).await;
    let p0 = report.partitions.iter().find(|p| p.partition == 0).unwrap();
    assert_eq!((p0.dead_lettered, p0.records_in_s3), (3_000, 30));
    let store = env.store().await;
    let dlq = tickstream::s3::SegmentStore::list(&store, &format!("dlq/{}/partition=0/", env.topic), None)
        .await
        .unwrap();
    assert!(
        (30..=40).contains(&dlq.len()),
        "3,000 dead letters at flush.size 100 make about 30 files, got {}",
        dlq.len()
    );
    let body = store.get(&dlq[0]).await.unwrap();
    let first: serde_json::Value = serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["offset"], 0);
    assert!(
        first["error"].as_str().unwrap().contains("does not match the schema"),
        "the validator's reason: {first}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_go_to_a_kafka_topic_with_connects_headers() {
    let env = TestEnv::start().await;
    let dlq_topic = format!("{}-dlq", env.topic);
    let mut config = sink_only(&env, &env.topic);
    config.sink.dlq_topic = Some(dlq_topic.clone());
    config.warehouse.enabled = false;
    env.create_topics(&config).await;
    let p = producer(env.kafka.bootstrap_servers());
    send(
        &p,
        &env.topic,
        Some(1),
        &[some(SEED_002), some("{oops"), some(SEED_002), some("not json")],
    );
    run_until_committed(&env, &config, 4).await;
    let report = env.verified(&config, 4).await;
    assert_eq!(report.partitions.iter().map(|p| p.dead_lettered).sum::<u64>(), 2);
    assert!(
        tickstream::s3::SegmentStore::list(&env.store().await, "dlq/", None)
            .await
            .unwrap()
            .is_empty(),
        "nothing under dlq/ in S3"
    );
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", env.kafka.bootstrap_servers())
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&dlq_topic]).unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while got.len() < 2 && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let headers = m.headers().expect("headers");
            let h = |name: &str| {
                headers
                    .iter()
                    .find(|x| x.key == name)
                    .and_then(|x| x.value)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            };
            got.push((
                m.payload().map(|v| v.to_vec()),
                h("__connect.errors.topic"),
                h("__connect.errors.partition"),
                h("__connect.errors.offset"),
                h("__connect.errors.exception.message"),
            ));
        }
    }
    assert_eq!(got.len(), 2);
    // Dead letters keep their keys, so they may sit on different partitions of the topic.
    got.sort_by_key(|g| g.3.as_deref().and_then(|o| o.parse::<i64>().ok()));
    assert_eq!(got[1].0.as_deref(), Some(&b"not json"[..]));
    assert_eq!(got[0].0.as_deref(), Some(&b"{oops"[..]), "the value as produced");
    assert_eq!(got[0].1.as_deref(), Some(env.topic.as_str()));
    assert_eq!((got[0].2.as_deref(), got[0].3.as_deref()), (Some("1"), Some("1")));
    assert!(
        got[0].4.as_deref().unwrap_or_default().starts_with("not JSON"),
        "{:?}",
        got[0].4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_errors_tolerance_none_a_bad_record_halts_its_partition_and_nothing_past_it_commits() {
    let env = TestEnv::start().await;
    let mut config = sink_only(&env, &env.topic);
    config.sink.errors_tolerance = tickstream::config::ErrorsTolerance::None;
    config.warehouse.enabled = false;
    env.create_topics(&config).await;
    let p = producer(env.kafka.bootstrap_servers());
    send(
        &p,
        &env.topic,
        Some(2),
        &[some(SEED_002), some(SEED_002), some("{oops"), some(SEED_002)],
    );
    send(&p, &env.topic, Some(0), &[some(SEED_002), some(SEED_002)]);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(7)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    let committed = |p: i32| {
        stats
            .snapshot()
            .partitions
            .get(&tickstream::record::TopicPartition::new(&env.topic, p))
            .and_then(|x| x.committed)
    };
    eventually(Duration::from_secs(60), "both partitions commit what they may", || {
        committed(0) == Some(2) && committed(2) == Some(2)
    })
    .await;
    // Every record reached its sink, the good one after the bad one too (a halted partition
    // takes records and writes none of them).
    eventually(Duration::from_secs(30), "all six records taken", || {
        stats.snapshot().records_consumed == 6
    })
    .await;
    // The stop drains every sink: each uploads and commits all it may.
    pipeline.shutdown().await;
    assert_eq!(
        committed(2),
        Some(2),
        "nothing at or past the bad record is committed, even by the final drain"
    );
    let report = env.audit(&config).await;
    let p2 = report.partitions.iter().find(|p| p.partition == 2).unwrap();
    assert_eq!(
        p2.missing,
        vec![(2, 4)],
        "the bad record and what follows it wait in Kafka"
    );
    assert_eq!((p2.records_in_s3, p2.dead_lettered), (2, 0));
}
