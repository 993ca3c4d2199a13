//! The warehouse file locked by another writer (`BEGIN EXCLUSIVE`, as a long `sqlite3` session
//! would): files keep landing in S3, none loads, so TickstreamIngestionStalled fires; the lock
//! released, the backlog loads and the alert clears. The watcher survives the lock (it counts
//! the failed polls), it does not crash into its restart budget.

use std::time::{Duration, Instant};

use super::Fired;
use crate::process::Tickstream;
use crate::prometheus::Prometheus;

pub async fn run(prom: &Prometheus, t: &Tickstream) -> Vec<Fired> {
    prom.until(
        r#"increase(tickstream_ingest_files_loaded_total{scenario="ingest"}[1m])"#,
        Duration::from_secs(120),
        |v| v > 0.0,
    )
    .await;
    let db = t.data_dir().join("warehouse.db");
    let lock = tokio::task::spawn_blocking(move || {
        let c = rusqlite::Connection::open(&db).expect("open the warehouse");
        c.busy_timeout(Duration::from_secs(30)).expect("busy timeout");
        c.execute_batch("BEGIN EXCLUSIVE").expect("lock the warehouse");
        c
    })
    .await
    .expect("locked");
    let locked = Instant::now();
    prom.until_firing("TickstreamIngestionStalled", "ingest", Duration::from_secs(540))
        .await;
    let fired = locked.elapsed();
    tokio::task::spawn_blocking(move || lock.execute_batch("ROLLBACK").expect("unlock"))
        .await
        .expect("unlocked");
    let cleared = prom
        .until_clear("TickstreamIngestionStalled", "ingest", Duration::from_secs(120))
        .await;
    let restarts = prom
        .query(r#"tickstream_actor_restarts_total{scenario="ingest", actor="ingest-watcher"}"#)
        .await
        .expect("query");
    assert!(
        restarts.iter().all(|(_, v)| *v == 0.0),
        "a locked warehouse is a stall, not a crash: {restarts:?}"
    );
    vec![Fired {
        alert: "TickstreamIngestionStalled",
        provoked_by: "warehouse.db held by another writer (BEGIN EXCLUSIVE), then released",
        fired_after: fired,
        cleared_after: Some(cleared),
    }]
}
