//! `partitioner.class = "field"` and `"time"` through the real pipeline (mock cluster, s3s-fs):
//! files under `symbol=…/` or `year=…/month=…/day=…/hour=…/`, several open per Kafka partition,
//! and still every record exactly once when sinks crash with files of other directories already
//! in S3 beyond the committed offset, and across a restart of the whole pipeline.

use std::time::Duration;

use tickstream::config::{Config, FormatClass, ParquetCodec, PartitionerClass, SinkConfig, TimestampExtractor};
use tickstream::pipeline::{Pipeline, RunOptions};
use tickstream::record::TopicPartition;
use tickstream::s3::SegmentStore;

use crate::common::{all_committed, assert_ticks_per_symbol, eventually, records_in_s3, run_until_acked, TestEnv};

/// Runs the pipeline until `ticks` are acknowledged, failing each sink once while files flow
/// (its open files are lost; it resumes from its committed offset).
async fn run_with_sink_crashes(env: &TestEnv, config: &Config, seed: u64, ticks: u64) {
    let pipeline = Pipeline::start(config, &env.infra(), RunOptions::new(Some(seed)))
        .await
        .expect("start");
    let (stats, admin) = (pipeline.stats().clone(), pipeline.admin());
    let files = |p: i32| {
        let tp = TopicPartition::new(&env.topic, p);
        stats.snapshot().partitions.get(&tp).map_or(0, |x| x.files)
    };
    eventually(Duration::from_secs(30), "files flowing on every partition", || {
        (0..3).all(|p| files(p) >= 3)
    })
    .await;
    // Production goes on for seconds more: each sink dies with files of other directories in
    // S3 past its commit, and is restarted into the stream.
    for p in 0..3 {
        admin.fail_actor(&format!("sink-{p}")).await.expect("fail the sink");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eventually(Duration::from_secs(90), "every tick acknowledged", || {
        stats.snapshot().ticks_acked == ticks
    })
    .await;
    // The last restarted sink may still be re-reading what its crash lost.
    all_committed(&stats, ticks as i64, Duration::from_secs(90)).await;
    pipeline.shutdown().await;
}

/// Hourly zstd Parquet files, by each record's `timestamp` field.
pub(crate) fn hourly_parquet_by_record_time(sink: &mut SinkConfig) {
    sink.partitioner_class = PartitionerClass::Hourly;
    sink.timestamp_extractor = TimestampExtractor::RecordField;
    sink.timestamp_field = Some("timestamp".into());
    sink.format_class = FormatClass::Parquet;
    sink.parquet_codec = ParquetCodec::Zstd;
}

/// Every data key, and the directory between the topic and the file name.
async fn dirs(env: &TestEnv) -> Vec<(String, String)> {
    let prefix = format!("topics/{}/", env.topic);
    let keys = env.store().await.list(&prefix, None).await.unwrap();
    keys.into_iter()
        .map(|k| {
            let dir = k.strip_prefix(&prefix).unwrap().rsplit_once('/').unwrap().0.to_owned();
            (k, dir)
        })
        .collect()
}

fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_partitioned_files_hold_every_record_once_across_sink_crashes_and_a_restart() {
    let env = TestEnv::start().await;
    let (symbols, ticks, flush_size) = (6, 400, 10);
    let mut config = env.config(symbols, ticks, flush_size, 300);
    config.producer.ticks_per_second = 80.0;
    config.sink.partitioner_class = PartitionerClass::Field;
    config.sink.partition_field_name = Some("symbol".into());
    run_with_sink_crashes(&env, &config, 1, symbols as u64 * ticks).await;
    run_until_acked(&env, &config, 2, symbols as u64 * ticks).await;
    let r = env.verified(&config, flush_size as usize).await;
    assert_eq!(
        records_in_s3(&r),
        2 * symbols as u64 * ticks,
        "every record of both runs, once"
    );
    assert_ticks_per_symbol(&r, 2 * symbols, ticks);

    let store = env.store().await;
    let keys = dirs(&env).await;
    for (key, dir) in &keys {
        let symbol = dir
            .strip_prefix("symbol=")
            .unwrap_or_else(|| panic!("{key} is not under symbol=…/"));
        let body = store.get(key).await.unwrap();
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            assert_eq!(v["symbol"], symbol, "{key} holds only its directory's records");
        }
    }
    let distinct: std::collections::BTreeSet<&str> = keys.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(distinct.len(), symbols, "{distinct:?}");

    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
    let total = 2 * symbols as i64 * ticks as i64;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM STOCK_MARKET_DATA"), total);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT run_id || symbol || seq) FROM STOCK_MARKET_DATA"
        ),
        total,
        "each record loaded once"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE offset IS NULL AND RECORD_METADATA ->> '$.row' >= 0"
        ),
        total,
        "a row's offset is not in its file: the metadata names its row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly_parquet_files_by_a_record_field_hold_every_record_once_across_sink_crashes() {
    let env = TestEnv::start().await;
    let (symbols, ticks, flush_size) = (4, 300, 12);
    let mut config = env.config(symbols, ticks, flush_size, 300);
    config.producer.ticks_per_second = 80.0;
    hourly_parquet_by_record_time(&mut config.sink);
    run_with_sink_crashes(&env, &config, 3, symbols as u64 * ticks).await;

    let r = env.verified(&config, flush_size as usize).await;
    assert_eq!(records_in_s3(&r), symbols as u64 * ticks);
    assert_ticks_per_symbol(&r, symbols, ticks);
    for (key, dir) in dirs(&env).await {
        let parts: Vec<&str> = dir.split('/').collect();
        let named: Vec<&str> = parts.iter().filter_map(|p| p.split_once('=').map(|(k, _)| k)).collect();
        assert_eq!(named, ["year", "month", "day", "hour"], "{key}");
        assert!(key.ends_with(".zstd.parquet"), "{key}");
    }
    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE typeof(price) = 'real' AND offset IS NULL"
        ),
        (symbols as u64 * ticks) as i64
    );
}
