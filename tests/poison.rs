//! No poison pill: a record that can never be stored is set aside with its reason at once, and
//! the rest of its partition keeps flowing and committing; a topic whose name is not an SQL
//! name loads, and one whose table cannot be made ready waits alone.

use std::time::Duration;

use rdkafka::consumer::Consumer;

use tickstream::config::{PartitionerClass, TopicPattern};
use tickstream::pipeline::{Pipeline, RunOptions};
use tickstream::s3::SegmentStore;

use crate::any_records::{producer, run_until_committed, send, sink_only};
use crate::common::{eventually, TestEnv};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_whose_names_are_not_sql_names_load_and_a_topic_whose_table_is_taken_waits_alone() {
    let env = TestEnv::start().await;
    let taken = format!("{}-taken", env.topic);
    let topics = ["order".to_owned(), "1m-bars".to_owned(), taken.clone()];
    let mut config = sink_only(&env, &topics.join(", "));
    env.create_topics(&config).await;
    // Found at run time, as topics.regex finds them.
    config.sink.topics = String::new();
    config.sink.topics_regex = Some(TopicPattern::try_from(format!("order|1m-bars|{taken}")).unwrap());
    // A table of another layout already has the name the third topic maps to.
    let taken_table = config.warehouse.table_for(&taken, None);
    let db = rusqlite::Connection::open(env.warehouse_path()).unwrap();
    db.execute_batch(&format!(
        "CREATE TABLE {taken_table} (note TEXT); INSERT INTO {taken_table} VALUES ('mine');"
    ))
    .unwrap();
    drop(db);
    let p = producer(env.kafka.bootstrap_servers());
    for topic in &topics {
        let values: Vec<Option<Vec<u8>>> = (0..5)
            .map(|i| Some(format!(r#"{{"symbol":"S","price":{i}}}"#).into_bytes()))
            .collect();
        send(&p, topic, Some(0), &values);
    }
    // The sinks commit every record, whatever the warehouse does.
    run_until_committed(&env, &config, 15).await;

    let count = |sql: &str| -> i64 {
        let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
        db.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    assert_eq!(count(r#"SELECT COUNT(*) FROM "ORDER""#), 5, "a keyword's table");
    assert_eq!(
        count(r#"SELECT COUNT(*) FROM "1M_BARS""#),
        5,
        "a table whose name starts with a digit"
    );
    assert_eq!(
        count(&format!(
            "SELECT COUNT(*) FROM LOAD_HISTORY WHERE s3_key LIKE '%/{taken}/%'"
        )),
        0,
        "the taken table's topic waits"
    );
    assert_eq!(
        count(&format!("SELECT COUNT(*) FROM {taken_table}")),
        1,
        "the other table untouched"
    );

    // Once the table is out of the way, its files load at the next start's first poll.
    let db = rusqlite::Connection::open(env.warehouse_path()).unwrap();
    db.execute_batch(&format!("ALTER TABLE {taken_table} RENAME TO SOMEONE_ELSES"))
        .unwrap();
    drop(db);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(7)))
        .await
        .expect("start");
    let sql = format!("SELECT COUNT(*) FROM LOAD_HISTORY WHERE s3_key LIKE '%/{taken}/%'");
    eventually(Duration::from_secs(30), "the waiting topic's files loaded", || {
        tickstream::warehouse::schema::open_read_only(&env.warehouse_path())
            .ok()
            .and_then(|db| db.query_row(&sql, [], |r| r.get::<_, i64>(0)).ok())
            .is_some_and(|n| n > 0)
    })
    .await;
    pipeline.shutdown().await;
    assert_eq!(count(&format!("SELECT COUNT(*) FROM {taken_table}")), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_warehouse_stalls_the_watcher_alone_and_loads_once_the_file_is_usable() {
    let env = TestEnv::start().await;
    let config = sink_only(&env, &env.topic);
    env.create_topics(&config).await;
    // Not a database: garbage where warehouse.db should be.
    std::fs::write(env.warehouse_path(), vec![0x55; 8192]).unwrap();
    let values: Vec<Option<Vec<u8>>> = (0..20)
        .map(|i| Some(format!(r#"{{"symbol":"S","price":{i}}}"#).into_bytes()))
        .collect();
    send(&producer(env.kafka.bootstrap_servers()), &env.topic, None, &values);
    // The process starts and the sinks write and commit: S3 needs no warehouse.
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(7)))
        .await
        .expect("starts with a corrupt warehouse");
    crate::common::all_committed(pipeline.stats(), 20, Duration::from_secs(60)).await;
    let admin = pipeline.admin();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let problems = admin.readiness().await.err().unwrap_or_default();
        if problems
            .iter()
            .any(|p| p.starts_with("warehouse at ") && p.contains("not a database"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "/readyz names the warehouse: {problems:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Once the file is usable again, the watcher loads every file.
    std::fs::remove_file(env.warehouse_path()).unwrap();
    let rows = || {
        tickstream::warehouse::schema::open_read_only(&env.warehouse_path())
            .ok()
            .and_then(|db| {
                db.query_row("SELECT COUNT(*) FROM STOCK_MARKET_DATA", [], |r| r.get::<_, i64>(0))
                    .ok()
            })
    };
    eventually(Duration::from_secs(30), "every row loaded", || rows() == Some(20)).await;
    pipeline.shutdown().await;
    assert_eq!(rows(), Some(20), "each once");
}

/// The messages in `topic` (every partition's high watermark, none deleted).
fn messages_in(env: &TestEnv, topic: &str) -> i64 {
    let c: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", env.kafka.bootstrap_servers())
        .create()
        .unwrap();
    let meta = c.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    meta.topics()[0]
        .partitions()
        .iter()
        .map(|p| c.fetch_watermarks(topic, p.id(), Duration::from_secs(10)).unwrap().1)
        .sum()
}

/// A sink-only configuration whose dead letters go to the topic `<topic>-dlq` (created with the
/// data topic), without a warehouse; and that topic's name.
async fn with_dead_letter_topic(env: &TestEnv) -> (tickstream::config::Config, String) {
    let dlq = format!("{}-dlq", env.topic);
    let mut config = sink_only(env, &env.topic);
    config.sink.dlq_topic = Some(dlq.clone());
    config.warehouse.enabled = false;
    env.create_topics(&config).await;
    (config, dlq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_at_the_checkpoint_when_the_last_records_went_to_the_dead_letter_topic() {
    let env = TestEnv::start().await;
    let (config, dlq) = with_dead_letter_topic(&env).await;
    // The partition ends with dead letters: no file in S3 ends at its committed offset.
    let mut values: Vec<Option<Vec<u8>>> = (0..5).map(|i| Some(format!(r#"{{"i":{i}}}"#).into_bytes())).collect();
    values.extend((0..3).map(|_| Some(b"{oops".to_vec())));
    send(&producer(env.kafka.bootstrap_servers()), &env.topic, Some(0), &values);
    run_until_committed(&env, &config, 8).await;
    assert_eq!(messages_in(&env, &dlq), 3);

    // The commit carries tickstream's checkpoint, as the group stores it.
    let group: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", env.kafka.bootstrap_servers())
        .set("group.id", &config.kafka.consumer_group)
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition(&env.topic, 0);
    let got = group.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    let elem = got.find_partition(&env.topic, 0).unwrap();
    assert_eq!(
        (elem.offset(), elem.metadata()),
        (rdkafka::Offset::Offset(8), tickstream::sink::source::CHECKPOINT)
    );
    drop(group);

    // A restart resumes at 8: two more records commit, and the dead letters are not sent again
    // (a replay from the earliest offset would send them before committing past them).
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(7)))
        .await
        .expect("start");
    let more: Vec<Option<Vec<u8>>> = (5..7).map(|i| Some(format!(r#"{{"i":{i}}}"#).into_bytes())).collect();
    send(&producer(env.kafka.bootstrap_servers()), &env.topic, Some(0), &more);
    crate::common::all_committed(pipeline.stats(), 10, Duration::from_secs(60)).await;
    pipeline.shutdown().await;
    assert_eq!(messages_in(&env, &dlq), 3, "no dead letter sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_too_large_for_the_dead_letter_topic_is_set_aside_in_s3_and_nothing_waits() {
    let env = TestEnv::start().await;
    let (mut config, dlq) = with_dead_letter_topic(&env).await;
    config.sink.max_record_bytes = 4 * 1024 * 1024;
    // Not JSON, and over the dead-letter producer's message.max.bytes (1,000,000).
    let huge = format!("{{{}", "x".repeat(1_200_000));
    let values = vec![
        Some(b"{oops".to_vec()),
        Some(br#"{"i":1}"#.to_vec()),
        Some(huge.clone().into_bytes()),
        Some(b"{oops".to_vec()),
        Some(br#"{"i":4}"#.to_vec()),
    ];
    send(&producer(env.kafka.bootstrap_servers()), &env.topic, Some(0), &values);
    run_until_committed(&env, &config, 5).await;
    assert_eq!(messages_in(&env, &dlq), 2, "the two small dead letters, each once");
    let store = env.store().await;
    let set_aside = store
        .list(&format!("dlq/{}/partition=0/", env.topic), None)
        .await
        .unwrap();
    assert_eq!(set_aside.len(), 1, "{set_aside:?}");
    let body = store.get(&set_aside[0]).await.unwrap();
    let letter: serde_json::Value = serde_json::from_slice(&body[..body.len() - 1]).unwrap();
    assert_eq!(letter["offset"], 2);
    assert_eq!(
        letter["value"].as_str().map(str::len),
        Some(huge.len()),
        "the value as produced"
    );
    let why = letter["error"].as_str().unwrap();
    assert!(
        why.starts_with("not JSON") && why.contains("the dead-letter topic refused it") && why.contains("too large"),
        "{why}"
    ); // `verify` accounts for every offset: files, the topic's dead letters, the one in S3.
    let report = env.audit(&config).await;
    assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
}
