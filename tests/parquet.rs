//! `format.class = "parquet"` through the real pipeline (mock cluster, s3s-fs): files named
//! `….snappy.parquet` (`….zstd.parquet`) of the topic's typed columns with their types, exactly
//! once in S3 and in the warehouse across a restart and across changes of format and codec;
//! records of any producer, a field that cannot take its column's type dead-lettered, and a
//! topic without typed columns keeping each record's text.

use crate::any_records::{producer, run_until_committed, send, sink_only, some, FINNHUB, SEED_002};
use crate::common::{assert_ticks_per_symbol, records_in_s3, run_until_acked, TestEnv};
use tickstream::config::{Config, FormatClass, ParquetCodec};
use tickstream::s3::SegmentStore;

fn parquet(config: &Config, codec: ParquetCodec) -> Config {
    let mut c = config.clone();
    c.sink.format_class = FormatClass::Parquet;
    c.sink.parquet_codec = codec;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_files_hold_every_record_once_across_a_restart_and_changes_of_format_and_codec() {
    let env = TestEnv::start().await;
    let (symbols, ticks, flush_size) = (3, 40, 8);
    let json = env.config(symbols, ticks, flush_size, 400);
    run_until_acked(&env, &json, 1, 120).await;
    let snappy = parquet(&json, ParquetCodec::Snappy);
    run_until_acked(&env, &snappy, 2, 120).await;
    run_until_acked(&env, &snappy, 3, 120).await;
    let zstd = parquet(&json, ParquetCodec::Zstd);
    run_until_acked(&env, &zstd, 4, 120).await;

    let keys = tickstream::s3::SegmentStore::list(&env.store().await, "topics/", None)
        .await
        .unwrap();
    let count = |ext: &str| keys.iter().filter(|k| k.ends_with(ext)).count();
    let (plain, sn, zs) = (count(".json"), count(".snappy.parquet"), count(".zstd.parquet"));
    assert!(
        plain > 0 && sn > 0 && zs > 0,
        "JSON first, then snappy and zstd Parquet: {keys:?}"
    );
    assert_eq!(plain + sn + zs, keys.len(), "no other keys: {keys:?}");
    let first = keys.iter().find(|k| k.ends_with(".snappy.parquet")).unwrap();
    let file = std::fs::read(env.object_path(first)).unwrap();
    assert_eq!(
        (&file[..4], &file[file.len() - 4..]),
        (&b"PAR1"[..], &b"PAR1"[..]),
        "{first}"
    );

    let r = env.verified(&zstd, flush_size as usize).await;
    assert_eq!(records_in_s3(&r), 480, "every record of the four runs, once");
    assert_ticks_per_symbol(&r, 4 * symbols, ticks);

    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
    let (rows, distinct, typed): (i64, i64, i64) = db
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT run_id || symbol || seq),
                    SUM(typeof(price) = 'real' AND typeof(seq) = 'integer' AND timestamp LIKE '20%Z')
             FROM STOCK_MARKET_DATA",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (rows, distinct, typed),
        (480, 480, 480),
        "JSON and Parquet files loaded, each record once"
    );
    let parquet_rows: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE s3_key LIKE '%.parquet'
               AND json_extract(RECORD_CONTENT, '$.seq') = seq",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        parquet_rows, 360,
        "a Parquet row's RECORD_CONTENT is its columns by name"
    );
    let failed: i64 = db
        .query_row("SELECT COUNT(*) FROM LOAD_HISTORY WHERE status <> 'LOADED'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(failed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_producers_records_in_parquet_a_wrong_type_is_a_dead_letter_and_untyped_topics_keep_their_text() {
    let env = TestEnv::start().await;
    let raw = format!("{}-raw", env.topic);
    let mut config = parquet(&sink_only(&env, &format!("{}, {raw}", env.topic)), ParquetCodec::Snappy);
    config.warehouse.topic_columns.insert(raw.clone(), Vec::new());
    env.create_topics(&config).await;
    let p = producer(env.kafka.bootstrap_servers());
    let ticks: Vec<Option<Vec<u8>>> = (0..6)
        .map(|i| some(&format!(r#"{{"symbol":"AAPL","price":{}.5,"volume":{i},"timestamp":"2026-12-01T10:00:0{i}","exchange":"NASDAQ"}}"#, 180 + i)))
        .chain([some(r#"{"symbol":"AAPL","price":"high"}"#)])
        .collect();
    send(&p, &env.topic, Some(0), &ticks);
    let untyped: Vec<Option<Vec<u8>>> = [SEED_002, FINNHUB, "[1,2]"].iter().map(|s| some(s)).collect();
    send(&p, &raw, Some(1), &untyped);
    run_until_committed(&env, &config, 10).await;

    let report = env.audit(&config).await;
    assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
    assert_eq!(records_in_s3(&report), 9);
    let dead: u64 = report.partitions.iter().map(|p| p.dead_lettered).sum();
    assert_eq!(dead, 1, "the price that is not a number");
    let store = env.store().await;
    let dlq = tickstream::s3::SegmentStore::list(&store, &format!("dlq/{}/", env.topic), None)
        .await
        .unwrap();
    let letter = store.get(&dlq[0]).await.unwrap();
    assert!(
        String::from_utf8_lossy(&letter).contains("column price (REAL)"),
        "the reason names the column: {letter:?}"
    );

    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
    let (rows, with_ts): (i64, i64) = db
        .query_row(
            "SELECT COUNT(*), SUM(timestamp = '2026-12-01T10:00:03.000Z') FROM STOCK_MARKET_DATA",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, with_ts), (6, 1), "timestamps without a zone are read as UTC");
    let table = format!("{}_RAW", env.topic.to_uppercase().replace('-', "_"));
    let texts: Vec<String> = db
        .prepare(&format!(
            "SELECT RECORD_CONTENT FROM {table} ORDER BY json_extract(RECORD_METADATA, '$.offset')"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        texts,
        [SEED_002, FINNHUB, "[1,2]"],
        "RECORD_CONTENT is each record as produced"
    );
}
