//! Keys, headers and metadata files (`store.kafka.keys`, `.headers`, `.metadata`) from the
//! real pipeline: records produced by a plain client with keys, headers and timestamps land
//! beside their data files line for line, read back by a Python reader that shares nothing with
//! tickstream; a record without a key is a dead letter, in no file; the watcher puts each
//! record's key, headers and CreateTime into `RECORD_METADATA`, and the offset each metadata
//! line names is the one the watcher gives its row.

use std::path::Path;
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer};
use serde_json::Value;

use crate::any_records::{producer, run_until_committed, sink_only};
use crate::common::TestEnv;
use tickstream::s3::SegmentStore;

const PYTHON: &str = "target/test-venv/bin/python";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_headers_and_metadata_land_beside_each_data_file_line_for_line() {
    let env = TestEnv::start().await;
    let mut config = sink_only(&env, &env.topic);
    config.sink.store_keys = true;
    config.sink.store_headers = true;
    config.sink.store_metadata = true;
    config.sink.compression = tickstream::config::Compression::Gzip;
    env.create_topics(&config).await;

    let p = producer(env.kafka.bootstrap_servers());
    let total = 90;
    // Each record's create time, set by the producer: a day ago plus its seq, in ms.
    let created = |seq: i64| 1_733_050_000_000 + seq;
    for seq in 0..total {
        let symbol = format!("S{}", seq % 3);
        let value = serde_json::to_vec(&serde_json::json!({"symbol": symbol, "seq": seq})).unwrap();
        let seq_text = seq.to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "seq",
                value: Some(&seq_text),
            })
            .insert(Header {
                key: "trace",
                value: None::<&str>,
            });
        let mut record = BaseRecord::<str, [u8]>::to(&env.topic)
            .payload(&value)
            .headers(headers)
            .timestamp(created(seq));
        // Every 30th record has no key: it cannot be written under store.kafka.keys.
        if seq % 30 != 29 {
            record = record.key(&symbol);
        }
        p.send(record).map_err(|(e, _)| e).expect("queued");
    }
    p.flush(Duration::from_secs(30)).expect("flushed");
    run_until_committed(&env, &config, total).await;

    let topic_dir = env.object_path(&format!("topics/{}", env.topic));
    let out = std::process::Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(PYTHON))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/readers/companions_check.py"
        ))
        .arg(&topic_dir)
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["misaligned"], serde_json::json!([]), "{got}");
    assert_eq!(got["orphans"], serde_json::json!([]), "{got}");
    assert_eq!(got["rows"], total - 3, "every keyed record once: {got}");
    let mut offset_of_seq = std::collections::HashMap::new();
    for r in got["records"].as_array().unwrap() {
        let (key, headers, stamp, value) = (&r[0], &r[1], &r[2], &r[3]);
        assert_eq!(key, &value["symbol"], "{r}");
        let seq = value["seq"].as_i64().unwrap();
        assert_eq!(stamp["CreateTime"], created(seq), "{r}");
        offset_of_seq.insert(seq, stamp["offset"].as_i64().expect("an offset"));
        assert_eq!(
            headers,
            &serde_json::json!([{"key": "seq", "value": seq.to_string()}, {"key": "trace", "value": null}]),
            "{r}"
        );
    }
    let dead = env
        .store()
        .await
        .list(&format!("dlq/{}/", env.topic), None)
        .await
        .expect("list");
    assert!(!dead.is_empty(), "the three records without a key are dead letters");
    // The watcher puts each record's key, headers and timestamp into RECORD_METADATA, as the Snowflake
    // Kafka connector does.
    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).expect("warehouse");
    let table = config.warehouse.table_for(&env.topic, Some(&env.topic));
    let mut rows = db
        .prepare(&format!("SELECT RECORD_CONTENT, RECORD_METADATA FROM {table}"))
        .unwrap();
    let metadata: Vec<(Value, Value)> = rows
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|r| {
            let (content, meta) = r.unwrap();
            (
                serde_json::from_str(&content).unwrap(),
                serde_json::from_str(&meta).unwrap(),
            )
        })
        .collect();
    assert_eq!(metadata.len() as i64, total - 3);
    for (content, meta) in &metadata {
        assert_eq!(meta["key"], content["symbol"], "{meta}");
        let seq = content["seq"].as_i64().unwrap();
        assert_eq!(meta["CreateTime"], created(seq), "{meta}");
        assert_eq!(meta["offset"].as_i64(), offset_of_seq.get(&seq).copied(), "{meta}");
        let seq = content["seq"].as_i64().unwrap().to_string();
        assert_eq!(
            meta["headers"],
            serde_json::json!({"seq": seq, "trace": null}),
            "{meta}"
        );
    }
    // `verify` goes by data files and dead letters: the companions beside them change nothing.
    let report = env.audit(&config).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(crate::common::records_in_s3(&report), total as u64 - 3);
    assert_eq!(report.partitions.iter().map(|p| p.dead_lettered).sum::<u64>(), 3);
}
