//! Records from any producer: written by a separate Kafka client (not tickstream's producer),
//! in the shapes the seeds and users produce, through the real pipeline (librdkafka's mock
//! cluster, s3s-fs) into S3 and the SQLite warehouse, each exactly once, `verify` passing.
//! Their dead letters are tested in `dead_letters`.

use std::time::Duration;

use rdkafka::producer::DefaultProducerContext;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rusqlite::Connection;
use tickstream::config::{Column, ColumnType, Config};
use tickstream::pipeline::{Pipeline, RunOptions};

use crate::common::{all_committed, eventually, records_in_s3, TestEnv};
use crate::process::Tickstream;

/// The seed's own Python producer's tick: no run_id, no seq, `datetime.now().isoformat()`.
const SEED_000_TICK: &str = r#"{"symbol": "AAPL", "price": 189.51, "volume": 4200, "change": -0.42, "timestamp": "2026-12-01T10:00:00.123456", "exchange": "NASDAQ"}"#;
/// Seed 002's record.
pub(crate) const SEED_002: &str = r#"{"stock": "AAPL", "price": 150.25}"#;
/// A Finnhub trade (seed 003).
pub(crate) const FINNHUB: &str = r#"{"s":"AAPL","p":189.12,"v":100,"t":1733050000000,"c":["1"]}"#;
/// A seed-004 CSV row as JSON.
const CSV_ROW: &str =
    r#"{"Date":"2013-02-08","Open":15.07,"High":15.12,"Low":14.63,"Close":14.75,"Volume":8407500,"Name":"AAL"}"#;
const NESTED: &str = r#"{"symbol":"MSFT","book":{"bids":[[420.1,5],[420.0,7]],"asks":[]},"tags":["a","ü","📈"],"venue":"Société Générale"}"#;
const PRETTY: &str = "{\n  \"symbol\": \"NVDA\",\n  \"price\": 950.5,\n  \"timestamp\": \"2026-12-01T10:00:01Z\"\n}";

/// A plain client of the broker, as a user's producer is.
pub(crate) fn producer(bootstrap: &str) -> ThreadedProducer<DefaultProducerContext> {
    rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("message.max.bytes", "2000000")
        .set("linger.ms", "5")
        .create()
        .expect("a producer")
}

/// Sends each value (`None`: a tombstone) to `topic`, on `partition` when given.
pub(crate) fn send(
    p: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    partition: Option<i32>,
    values: &[Option<Vec<u8>>],
) {
    for (i, v) in values.iter().enumerate() {
        let key = format!("k{i}");
        let mut r: BaseRecord<'_, str, [u8]> = BaseRecord::to(topic).key(&key);
        if let Some(v) = v {
            r = r.payload(v);
        }
        if let Some(p) = partition {
            r = r.partition(p);
        }
        p.send(r).map_err(|(e, _)| e).expect("queued");
    }
    p.flush(Duration::from_secs(30)).expect("flushed");
}

pub(crate) fn some(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

/// A configuration without tickstream's producer: the sink carries what others write.
pub(crate) fn sink_only(env: &TestEnv, topics: &str) -> Config {
    let mut c = env.config(1, 1, 4, 300);
    c.producer.enabled = false;
    c.sink.topics = topics.into();
    c
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub(crate) async fn run_until_committed(env: &TestEnv, config: &Config, records: i64) {
    let pipeline = Pipeline::start(config, &env.infra(), RunOptions::new(Some(7)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    all_committed(&stats, records, Duration::from_secs(90)).await;
    // The watcher loads the sinks' last files at shutdown.
    pipeline.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_producers_records_and_two_topics_land_in_s3_and_the_warehouse_exactly_once() {
    let env = TestEnv::start().await;
    let trades = format!("{}-trades", env.topic);
    let mut config = sink_only(&env, &format!("{}, {trades}", env.topic));
    config.sink.max_record_bytes = 256 * 1024;
    config.warehouse.topic_columns.insert(
        trades.clone(),
        [
            ("symbol", "TEXT", "s"),
            ("price", "REAL", "p"),
            ("volume", "INTEGER", "v"),
            ("timestamp", "TIMESTAMP", "t"),
        ]
        .iter()
        .map(|(name, kind, source)| Column {
            name: (*name).into(),
            kind: ColumnType::try_from((*kind).to_owned()).unwrap(),
            source: Some((*source).into()),
        })
        .collect(),
    );
    // Topics exist before the producer writes (the pipeline creates them as the user's would be).
    env.create_topics(&config).await;
    let big = format!("{{\"symbol\":\"BIG\",\"blob\":\"{}\"}}", "x".repeat(100 * 1024));
    let good: Vec<Option<Vec<u8>>> = [SEED_000_TICK, SEED_002, CSV_ROW, NESTED, PRETTY, &big]
        .iter()
        .map(|s| some(s))
        .collect();
    let bad: Vec<Option<Vec<u8>>> = vec![some("{oops"), None, some("")];
    let p = producer(env.kafka.bootstrap_servers());
    // Every shape on every partition, so each partition has files and dead letters.
    for partition in 0..crate::common::PARTITIONS {
        send(&p, &env.topic, Some(partition), &good);
        send(&p, &env.topic, Some(partition), &bad);
    }
    let finnhub: Vec<Option<Vec<u8>>> = (0..10).map(|_| some(FINNHUB)).collect();
    send(&p, &trades, None, &finnhub);
    let partitions = i64::from(crate::common::PARTITIONS);
    let total = partitions * (good.len() + bad.len()) as i64 + 10;
    run_until_committed(&env, &config, total).await;

    let report = env.audit(&config).await;
    assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
    assert_eq!(records_in_s3(&report), partitions as u64 * good.len() as u64 + 10);
    let dead: u64 = report.partitions.iter().map(|p| p.dead_lettered).sum();
    assert_eq!(
        dead,
        partitions as u64 * bad.len() as u64,
        "invalid JSON, a tombstone, an empty value"
    );
    assert_eq!(
        report.records_without_seq,
        records_in_s3(&report),
        "no record carries a seq"
    );
    let topics: std::collections::BTreeSet<&str> = report.partitions.iter().map(|p| p.topic.as_str()).collect();
    assert_eq!(topics.len(), 2, "both topics audited: {topics:?}");

    // Dead letters are batched per partition: one file each here, not one per record.
    let store = env.store().await;
    let dlq = tickstream::s3::SegmentStore::list(&store, &format!("dlq/{}/", env.topic), None)
        .await
        .unwrap();
    assert!(dlq.len() <= crate::common::PARTITIONS as usize * 2, "{dlq:?}");

    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
    let rows = count(&db, "SELECT COUNT(*) FROM STOCK_MARKET_DATA");
    assert_eq!(rows, partitions * good.len() as i64, "one row per record");
    let unique = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT DISTINCT topic, partition, offset FROM STOCK_MARKET_DATA)",
    );
    assert_eq!(unique, rows);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE RECORD_CONTENT ->> '$.stock' = 'AAPL'"
        ),
        partitions,
        "seed 002's record, queried in RECORD_CONTENT"
    );
    let ts: String = db
        .query_row(
            "SELECT timestamp FROM STOCK_MARKET_DATA WHERE symbol = 'AAPL' AND volume = 4200 LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ts, "2026-12-01T10:00:00.123Z", "the seed's naive ISO time, normalised");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE RECORD_CONTENT ->> '$.Name' = 'AAL'"
        ),
        partitions
    );
    let nested: String = db
        .query_row(
            "SELECT RECORD_CONTENT ->> '$.tags[2]' FROM STOCK_MARKET_DATA WHERE symbol = 'MSFT' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(nested, "📈");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE symbol = 'NVDA' AND price = 950.5"
        ),
        partitions,
        "a pretty-printed record, folded and typed"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE length(RECORD_CONTENT ->> '$.blob') = 102400"
        ),
        partitions,
        "a record over 64 KiB under a raised max.record.bytes"
    );
    let trades_table = trades.to_ascii_uppercase().replace('-', "_");
    let (n, symbol, price, when): (i64, String, f64, String) = db
        .query_row(
            &format!("SELECT COUNT(*), MIN(symbol), MIN(price), MIN(timestamp) FROM {trades_table}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (n, symbol.as_str(), price, when.as_str()),
        (10, "AAPL", 189.12, "2024-12-01T10:46:40.000Z")
    );
}

/// `config/local.toml` as shipped (its Kafka, producer, sink, S3 and warehouse sections), run as
/// the binary: a user's own producer pointed at the embedded broker sees its records in S3 and in
/// the warehouse, whatever their shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_default_carries_a_users_own_records() {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/local.toml")).unwrap();
    let mut sections: toml::Table = shipped.parse().unwrap();
    sections.remove("metrics");
    sections.remove("runtime");
    if let Some(toml::Value::Table(p)) = sections.get_mut("producer") {
        p.insert("enabled".into(), toml::Value::Boolean(false));
    }
    let ts = Tickstream::start("local", &toml::to_string(&sections).unwrap(), &[]);
    ts.until_logged(
        "embedded Kafka (librdkafka mock cluster) is up",
        Duration::from_secs(60),
    )
    .await;
    let log = ts.log();
    let bootstrap = log
        .split("bootstrap=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the log names the embedded broker")
        .trim_matches('"')
        .to_owned();
    ts.until_logged("sink attached", Duration::from_secs(60)).await;
    let p = producer(&bootstrap);
    send(
        &p,
        "stock-market-data",
        None,
        &[some(SEED_000_TICK), some(SEED_002), some(CSV_ROW)],
    );
    let db_path = ts.data_dir().join("warehouse.db");
    eventually(Duration::from_secs(60), "the user's three records queryable", || {
        tickstream::warehouse::schema::open_read_only(&db_path)
            .ok()
            .and_then(|db| {
                db.query_row("SELECT COUNT(*) FROM STOCK_MARKET_DATA", [], |r| r.get::<_, i64>(0))
                    .ok()
            })
            == Some(3)
    })
    .await;
    let files = walk(&ts.data_dir().join("s3"));
    assert!(
        files.iter().any(|f| f.contains("/topics/stock-market-data/partition=")),
        "the records are in S3: {files:?}"
    );
    assert!(
        !files.iter().any(|f| f.contains("/dlq/")),
        "nothing dead-lettered: {files:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}
