//! The ingestion watcher's test helpers: its tables, rules and topics for a [`TestEnv`], tick
//! lines and files put into the bucket as a sink would, a watcher started over the real store.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ractor::{Actor, ActorRef};
use rusqlite::Connection;
use tickstream::config::OnError;
use tickstream::config::Topics;
use tickstream::landed::LandedReceiver;
use tickstream::s3::client;
use tickstream::s3::keys::KeyLayout;
use tickstream::warehouse::load::LoadRules;
use tickstream::warehouse::schema;
use tickstream::warehouse::status::{pipe_status, PipeStatus};
use tickstream::warehouse::table::Tables;
use tickstream::warehouse::watcher::{IngestWatcher, WarehouseDb, WatcherArgs, WatcherMsg};

use super::TestEnv;

pub(crate) const TABLE: &str = "STOCK_MARKET_DATA";

/// The tables of this environment's topic (`STOCK_MARKET_DATA`, the tick's columns).
/// The environment's warehouse file as the watcher keeps it, opened now (its tables made).
pub(crate) fn warehouse_db(env: &TestEnv) -> Arc<WarehouseDb> {
    let db = WarehouseDb::new(env.warehouse_path(), tables(env));
    db.with(|_| Ok(())).expect("the warehouse opens");
    Arc::new(db)
}

pub(crate) fn tables(env: &TestEnv) -> Arc<Tables> {
    Arc::new(Tables::new(&env.config(1, 1, 1, 1)))
}

pub(crate) fn rules() -> LoadRules {
    LoadRules {
        reader: tickstream::format::Reader::lines(),
        on_error: OnError::SkipFile,
        positional_offsets: true,
        companions: None,
    }
}

pub(crate) fn topics(env: &TestEnv) -> Topics {
    Topics::List(vec![env.topic.clone()])
}

pub(crate) fn tick_line(symbol: &str, seq: u64) -> String {
    format!(
        r#"{{"symbol":"{symbol}","price":100.5,"volume":10,"change":0.5,"timestamp":"2026-11-22T10:00:00.000Z","exchange":"NASDAQ","run_id":"r1","seq":{seq}}}"#
    )
}

pub(crate) fn file(lines: &[String]) -> Bytes {
    Bytes::from(lines.iter().map(|l| format!("{l}\n")).collect::<String>())
}

/// Writes (or overwrites) an object, as an S3 re-upload would.
pub(crate) async fn put(env: &TestEnv, key: &str, body: Bytes) {
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

pub(crate) fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A watcher's arguments over `source` for this environment's topic (3 partitions), polling
/// every `poll_interval`, with the sinks' announcements from `landed` if any.
pub(crate) fn watcher_args<S>(
    env: &TestEnv,
    source: Arc<S>,
    db: Arc<WarehouseDb>,
    poll_interval: Duration,
    landed: Option<LandedReceiver>,
) -> WatcherArgs<S> {
    WatcherArgs {
        source,
        lease: Some(Arc::new(tickstream::warehouse::watcher::lease::Lease::beside(
            db.path(),
        ))),
        db,
        tables: tables(env),
        rules: rules(),
        topics: topics(env),
        layout: env.layout(),
        poll_interval,
        lookback: 5,
        handle: Arc::default(),
        partitions: 3,
        file_landed: landed,
        reach: Default::default(),
    }
}

pub(crate) async fn start_watcher(env: &TestEnv, db: Arc<WarehouseDb>) -> ActorRef<WatcherMsg> {
    let source = Arc::new(env.store().await);
    let args = watcher_args(env, source, db, Duration::from_millis(100), None);
    Actor::spawn(None, IngestWatcher::default(), args).await.unwrap().0
}

/// Opens the warehouse as `tickstream query` does and checks it holds `n` rows, no tick twice.
pub(crate) fn assert_rows_exactly_once(env: &TestEnv, n: i64) -> Connection {
    let db = schema::open_read_only(&env.warehouse_path()).unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM STOCK_MARKET_DATA"), n);
    let distinct = "SELECT COUNT(*) FROM (SELECT DISTINCT run_id, symbol, seq FROM STOCK_MARKET_DATA)";
    assert_eq!(count(&db, distinct), n, "no tick twice");
    db
}

/// `tickstream status` of the tick table, as the command computes it.
pub(crate) async fn status_of(env: &TestEnv, db: &Connection, layout: &KeyLayout) -> PipeStatus {
    pipe_status(&env.store().await, db, &[TABLE.into()], std::slice::from_ref(layout))
        .await
        .expect("status")
}

pub(crate) async fn catch_up(w: &ActorRef<WatcherMsg>) {
    ractor::call_t!(w, WatcherMsg::CatchUp, 10_000).expect("catch-up poll");
}
