//! The ingestion watcher against the real local S3 server (s3s-fs) and an SQLite warehouse:
//! exactly-once loads from a running pipeline, Snowpipe's skip-known-keys rule, a corrupt file
//! that fails alone, pending-file counts, restarts in the middle of loading, and files that
//! sinks announce (loaded at once, their partitions not listed at the next poll).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{all_committed, eventually, TestEnv};
use bytes::Bytes;
use ractor::{Actor, ActorRef};
use rusqlite::Connection;
use tickstream::config::OnError;
use tickstream::consumer::Topics;
use tickstream::pipeline::{Pipeline, RunOptions};
use tickstream::record::TopicPartition;
use tickstream::s3::client;
use tickstream::s3::keys::KeyLayout;
use tickstream::warehouse::load::{FileFormat, LoadRules};
use tickstream::warehouse::schema;
use tickstream::warehouse::status::{from_warehouse, pipe_status, PipeStatus};
use tickstream::warehouse::table::Tables;
use tickstream::warehouse::watcher::{IngestWatcher, WatcherArgs, WatcherMsg};

const TABLE: &str = "STOCK_MARKET_DATA";

/// The tables of this environment's topic (`STOCK_MARKET_DATA`, the tick's columns).
fn tables(env: &TestEnv) -> Arc<Tables> {
    Arc::new(Tables::new(&env.config(1, 1, 1, 1)))
}

fn rules() -> LoadRules {
    LoadRules {
        format: FileFormat::JsonLines,
        on_error: OnError::SkipFile,
        positional_offsets: true,
    }
}

fn topics(env: &TestEnv) -> Topics {
    Topics::List(vec![env.topic.clone()])
}

fn tick_line(symbol: &str, seq: u64) -> String {
    format!(
        r#"{{"symbol":"{symbol}","price":100.5,"volume":10,"change":0.5,"timestamp":"2026-11-22T10:00:00.000Z","exchange":"NASDAQ","run_id":"r1","seq":{seq}}}"#
    )
}

fn file(lines: &[String]) -> Bytes {
    Bytes::from(lines.iter().map(|l| format!("{l}\n")).collect::<String>())
}

/// Writes (or overwrites) an object, as an S3 re-upload would.
async fn put(env: &TestEnv, key: &str, body: Bytes) {
    client::build(&env.s3.endpoint())
        .await
        .put_object()
        .bucket(&env.bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .expect("put");
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

async fn start_watcher(env: &TestEnv, db: Arc<Mutex<Connection>>) -> ActorRef<WatcherMsg> {
    let args = WatcherArgs {
        source: Arc::new(env.store().await),
        db,
        tables: tables(env),
        rules: rules(),
        topics: topics(env),
        layout: env.layout(),
        poll_interval: Duration::from_millis(100),
        lookback: 5,
        handle: Arc::default(),
        partitions: 3,
        file_landed: None,
        reach: Default::default(),
    };
    Actor::spawn(None, IngestWatcher::default(), args).await.unwrap().0
}

/// Opens the warehouse as `tickstream query` does and checks it holds `n` rows, no tick twice.
fn assert_rows_exactly_once(env: &TestEnv, n: i64) -> Connection {
    let db = schema::open_read_only(&env.warehouse_path()).unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM STOCK_MARKET_DATA"), n);
    let distinct = "SELECT COUNT(*) FROM (SELECT DISTINCT run_id, symbol, seq FROM STOCK_MARKET_DATA)";
    assert_eq!(count(&db, distinct), n, "no tick twice");
    db
}

/// `tickstream status` of the tick table, as the command computes it.
async fn status_of(env: &TestEnv, db: &Connection, layout: &KeyLayout) -> PipeStatus {
    pipe_status(&env.store().await, db, &[TABLE.into()], std::slice::from_ref(layout))
        .await
        .expect("status")
}

async fn catch_up(w: &ActorRef<WatcherMsg>) {
    ractor::call_t!(w, WatcherMsg::CatchUp, 10_000).expect("catch-up poll");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acked_tick_is_loaded_exactly_once() {
    let env = TestEnv::start().await;
    let config = env.config(3, 300, 20, 200);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(31)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    all_committed(&stats, 900, Duration::from_secs(90)).await;
    pipeline.shutdown().await;

    let db = assert_rows_exactly_once(&env, 900);
    for symbol in ["SYM0", "SYM1", "SYM2"] {
        let (n, min, max): (i64, i64, i64) = db
            .query_row(
                "SELECT COUNT(*), MIN(seq), MAX(seq) FROM STOCK_MARKET_DATA WHERE symbol = ?1",
                [symbol],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((n, min, max), (300, 0, 299), "{symbol}: every seq once");
    }
    let files: usize = env.objects().await.values().map(|f| f.len()).sum();
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM LOAD_HISTORY WHERE status = 'LOADED'"),
        files as i64
    );
    let status = status_of(&env, &db, &env.layout()).await;
    assert_eq!(status.pending_file_count, 0);
    assert_eq!(status.execution_state, "STOPPED", "the watcher records its stop");
    assert_eq!(status.loaded_rows, 900);
    assert!(status
        .latency
        .is_some_and(|l| l.rows == 900 && l.p50 > 0.0 && l.p50 <= l.p99));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_keys_are_skipped_a_corrupt_file_fails_alone_and_pending_is_counted() {
    let env = TestEnv::start().await;
    env.store().await.ensure_bucket().await.unwrap();
    let layout = env.layout();
    let (a, b, c) = (
        layout.object_key(0, 0),
        layout.object_key(0, 2),
        layout.object_key(0, 3),
    );
    put(&env, &a, file(&[tick_line("AAA", 0), tick_line("AAA", 1)])).await;
    put(
        &env,
        &b,
        Bytes::from_static(b"{\"symbol\": \"AAA\", \"price\": \"not a number\"}\n"),
    )
    .await;
    put(&env, &c, file(&[tick_line("AAA", 3)])).await;
    let d = layout.object_key(1, 0);
    put(&env, &d, file(&[tick_line("BBB", 0)])).await;

    let db = Arc::new(Mutex::new(
        schema::open(&env.warehouse_path(), &tables(&env).listed()).unwrap(),
    ));
    {
        let conn = schema::open_read_only(&env.warehouse_path()).unwrap(); // as `tickstream status` opens it
        let before = status_of(&env, &conn, &layout).await;
        assert_eq!(before.pending_file_count, 4);
        assert_eq!(before.oldest_pending_file_path.as_deref(), Some(a.as_str()));
        assert_eq!(before.execution_state, "NOT_STARTED");
    }

    let watcher = start_watcher(&env, db.clone()).await;
    catch_up(&watcher).await;
    {
        let conn = schema::open_read_only(&env.warehouse_path()).unwrap();
        assert_eq!(
            count(&conn, "SELECT COUNT(*) FROM STOCK_MARKET_DATA"),
            4,
            "a, c and d loaded"
        );
        let (status, error): (String, String) = conn
            .query_row(
                "SELECT status, first_error FROM LOAD_HISTORY WHERE s3_key = ?1",
                [&b],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(status, "LOAD_FAILED");
        assert!(error.starts_with("line 1:"), "{error}");
        assert_eq!(
            count(
                &conn,
                "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE s3_key LIKE '%0000000002.json'"
            ),
            0
        );
        let after = status_of(&env, &conn, &layout).await;
        assert_eq!(after.pending_file_count, 0);
        assert_eq!((after.loaded_files, after.failed_files), (3, 1));
        assert_eq!(after.last_failed_file_path.as_deref(), Some(b.as_str()));
        assert_eq!(after.execution_state, "RUNNING");
    }

    // S3 re-uploads a loaded key with other content; a restarted watcher lists from scratch.
    put(
        &env,
        &a,
        file(&[tick_line("AAA", 0), tick_line("AAA", 1), tick_line("AAA", 99)]),
    )
    .await;
    watcher.stop(None);
    let watcher = start_watcher(&env, db.clone()).await;
    catch_up(&watcher).await;
    catch_up(&watcher).await;
    let conn = db.lock().unwrap();
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM STOCK_MARKET_DATA"),
        4,
        "a known key loads once"
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE seq = 99"), 0);
    drop(conn);
    watcher.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_failed_again_and_again_while_loading_loses_and_duplicates_nothing() {
    let env = TestEnv::start().await;
    let mut config = env.config(3, 600, 10, 100);
    config.producer.ticks_per_second = 300.0;
    config.warehouse.poll_interval_ms = 50;
    config.supervision.max_restarts = 50;
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(32)))
        .await
        .expect("start");
    let (stats, control) = (pipeline.stats().clone(), pipeline.admin());
    eventually(Duration::from_secs(30), "files flowing", || {
        stats.snapshot().files_uploaded >= 3
    })
    .await;
    // Each kill lands wherever the watcher is: listing, fetching, or inside a load whose
    // blocking SQLite transaction runs on while the next incarnation starts.
    for _ in 0..5 {
        // Between kills the supervisor's backoff may still be waiting to restart it.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while let Err(e) = control.fail_actor("ingest-watcher").await {
            assert!(std::time::Instant::now() < deadline, "the watcher never came back: {e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    all_committed(&stats, 1_800, Duration::from_secs(120)).await;
    pipeline.shutdown().await;
    let db = assert_rows_exactly_once(&env, 1_800);
    let files: usize = env.objects().await.values().map(|f| f.len()).sum();
    let status = from_warehouse(&db, &[TABLE.into()]).unwrap();
    assert_eq!(status.loaded_files as usize, files, "every file loaded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_notification_loads_the_file_long_before_the_next_poll() {
    let env = TestEnv::start().await;
    env.store().await.ensure_bucket().await.unwrap();
    let db = Arc::new(Mutex::new(
        schema::open(&env.warehouse_path(), &tables(&env).listed()).unwrap(),
    ));
    let (landed, landed_rx) = tickstream::landed::channel();
    let args = WatcherArgs {
        source: Arc::new(env.store().await),
        db,
        tables: tables(&env),
        rules: rules(),
        topics: topics(&env),
        layout: env.layout(),
        // The first poll runs at start (nothing there yet); the next would be in an hour.
        poll_interval: Duration::from_secs(3_600),
        lookback: 5,
        handle: Arc::default(),
        partitions: 3,
        file_landed: Some(landed_rx),
        reach: Default::default(),
    };
    let (watcher, _) = Actor::spawn(None, IngestWatcher::default(), args).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let key = env.layout().object_key(2, 0);
    put(&env, &key, file(&[tick_line("CCC", 0), tick_line("CCC", 1)])).await;
    landed.send(&TopicPartition::new(&env.topic, 2), &key);
    let path = env.warehouse_path();
    eventually(Duration::from_secs(20), "the notified file is loaded", || {
        let conn = schema::open_read_only(&path).unwrap();
        count(&conn, "SELECT COUNT(*) FROM STOCK_MARKET_DATA") == 2
    })
    .await;
    watcher.stop(None);
}

/// Counts the listings the watcher makes, per prefix, over the real S3 store; the first read
/// of `fail_once` fails as an unreachable S3 would.
struct CountingSource {
    inner: tickstream::s3::S3SegmentStore,
    listed: Mutex<Vec<String>>,
    fail_once: Mutex<Option<String>>,
}

impl tickstream::warehouse::source::ObjectSource for CountingSource {
    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, tickstream::s3::S3Error> {
        self.listed.lock().unwrap().push(prefix.to_owned());
        tickstream::warehouse::source::ObjectSource::list(&self.inner, prefix, start_after).await
    }

    async fn fetch(&self, key: &str) -> Result<(Bytes, Option<String>), tickstream::s3::S3Error> {
        let fail = {
            let mut once = self.fail_once.lock().unwrap();
            once.take_if(|k| k == key).is_some()
        };
        if fail {
            return Err(tickstream::s3::S3Error::Transport {
                op: "GetObject",
                bucket: "test".into(),
                key: key.into(),
                source: "connection refused".into(),
            });
        }
        tickstream::warehouse::source::ObjectSource::fetch(&self.inner, key).await
    }

    async fn folders(&self, prefix: &str) -> Result<Vec<String>, tickstream::s3::S3Error> {
        self.inner.folders(prefix).await
    }
}

/// A partition whose sink announces its files is not listed at the next poll; a file nobody
/// announced there is still found: at the first poll with no announcement, and at the full
/// listing every 10th poll even while announcements keep coming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_partitions_skip_the_next_listing_but_unannounced_files_are_still_found() {
    let env = TestEnv::start().await;
    env.store().await.ensure_bucket().await.unwrap();
    let db = Arc::new(Mutex::new(
        schema::open(&env.warehouse_path(), &tables(&env).listed()).unwrap(),
    ));
    let (landed, landed_rx) = tickstream::landed::channel();
    let source = Arc::new(CountingSource {
        inner: env.store().await,
        listed: Mutex::default(),
        fail_once: Mutex::default(),
    });
    let args = WatcherArgs {
        source: source.clone(),
        db,
        tables: tables(&env),
        rules: rules(),
        topics: topics(&env),
        layout: env.layout(),
        // Polls happen only when this test asks (catch-up); the first runs at start.
        poll_interval: Duration::from_secs(3_600),
        lookback: 5,
        handle: Arc::default(),
        partitions: 3,
        file_landed: Some(landed_rx),
        reach: Default::default(),
    };
    let (watcher, _) = Actor::spawn(None, IngestWatcher::default(), args).await.unwrap();
    let (layout, path) = (env.layout(), env.warehouse_path());
    let rows = || {
        count(
            &schema::open_read_only(&path).unwrap(),
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA",
        )
    };
    let p1 = layout.partition_prefix(1);
    let listings_of_p1 = || source.listed.lock().unwrap().iter().filter(|p| **p == p1).count();
    let mut offset = 0i64;
    let mut seq = 0u64;
    // One file on partition 1, announced as a sink does; returns once it is loaded.
    let mut announce = async || {
        let key = layout.object_key(1, offset);
        put(&env, &key, file(&[tick_line("BBB", seq)])).await;
        (offset, seq) = (offset + 1, seq + 1);
        let want = rows() + 1;
        landed.send(&TopicPartition::new(&env.topic, 1), &key);
        eventually(Duration::from_secs(20), "the announced file is loaded", || {
            rows() == want
        })
        .await;
    };
    catch_up(&watcher).await; // poll 2: the start-up poll has run

    announce().await;
    // A file on partition 1 that no sink of this process announced (another host's sink).
    put(&env, &layout.object_key(1, 1_000), file(&[tick_line("ZZZ", 0)])).await;
    let listed = listings_of_p1();
    catch_up(&watcher).await;
    assert_eq!(
        listings_of_p1(),
        listed,
        "an announced partition is not listed at the next poll"
    );
    assert_eq!(rows(), 1, "so the unannounced file waits");
    catch_up(&watcher).await;
    assert_eq!(listings_of_p1(), listed + 1, "a poll after no announcement lists it");
    assert_eq!(rows(), 2, "and finds the unannounced file");

    // Announcements before every poll: partition 1 is still listed at the 10th poll.
    put(&env, &layout.object_key(1, 2_000), file(&[tick_line("ZZZ", 1)])).await;
    let listed = listings_of_p1();
    for _ in 0..10 {
        announce().await;
        catch_up(&watcher).await;
    }
    assert_eq!(listings_of_p1(), listed + 1, "one full listing in 10 polls");
    assert_eq!(
        count(
            &schema::open_read_only(&path).unwrap(),
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE symbol = 'ZZZ'"
        ),
        2,
        "which found the second unannounced file"
    );

    // An announced file that cannot be read at once: an announcement on the same partition
    // that loads fine does not hide it, the next poll lists the partition and loads it.
    let key = layout.object_key(1, 3_000);
    *source.fail_once.lock().unwrap() = Some(key.clone());
    put(&env, &key, file(&[tick_line("YYY", 0)])).await;
    landed.send(&TopicPartition::new(&env.topic, 1), &key);
    eventually(Duration::from_secs(20), "the announced file was tried", || {
        source.fail_once.lock().unwrap().is_none()
    })
    .await;
    announce().await;
    let listed = listings_of_p1();
    catch_up(&watcher).await;
    assert_eq!(listings_of_p1(), listed + 1, "the unsettled partition is listed");
    assert_eq!(
        count(
            &schema::open_read_only(&path).unwrap(),
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE symbol = 'YYY'"
        ),
        1,
        "and its unread file loaded"
    );
    watcher.stop(None);
}
