//! What the watcher does with the files it found: skip those LOAD_HISTORY has, fetch the rest
//! ([`FETCH_CONCURRENCY`] reads at a time) and load them [`LOAD_BATCH`] per transaction, each
//! exactly once (see [`crate::warehouse::load`]); and record the pipe's state.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rusqlite::Connection;

use crate::error::chain;
use crate::telemetry::ingest_events as events;
use crate::warehouse::load::{known_keys, load_files, FetchedFile, LoadOutcome};
use crate::warehouse::schema::NOW_MS;
use crate::warehouse::source::ObjectSource;
use crate::warehouse::WarehouseError;

/// Object reads in flight at once: as many as a load batch holds, so one second's files of 64
/// partitions are read in one round trip, not four. A GET's latency (S3's first byte, 20–50 ms)
/// rather than its cost is what a file waits on.
pub const FETCH_CONCURRENCY: usize = 64;
/// Files loaded per SQLite transaction.
const LOAD_BATCH: usize = 64;

/// The bucket and the SQLite warehouse.
pub struct Loader<S> {
    pub source: Arc<S>,
    pub db: Arc<Mutex<Connection>>,
    pub table: String,
}

impl<S: ObjectSource> Loader<S> {
    /// The files of `found` (partition → keys) that LOAD_HISTORY does not have, in order.
    pub async fn unknown(&self, found: &BTreeMap<i32, Vec<String>>) -> Result<Vec<(i32, String)>, WarehouseError> {
        let all: Vec<String> = found.values().flatten().cloned().collect();
        let known = self.blocking(move |db, _| known_keys(db, &all)).await?;
        let pending: Vec<(i32, String)> = found
            .iter()
            .flat_map(|(p, keys)| keys.iter().filter(|k| !known.contains(*k)).map(|k| (*p, k.clone())))
            .collect();
        events::pending(pending.len(), pending.first().map(|(_, k)| k.as_str()));
        Ok(pending)
    }

    /// Fetches `pending` ([`FETCH_CONCURRENCY`] GETs at a time) and loads it [`LOAD_BATCH`]
    /// files per transaction. A file that cannot be read is not recorded (it may be readable
    /// at the next poll), and the files after it in its partition wait with it; returns each
    /// such partition's first unreadable key.
    pub async fn load(&self, pending: &[(i32, String)]) -> Result<BTreeMap<i32, String>, WarehouseError> {
        use futures::StreamExt;
        let mut failed_fetch: BTreeMap<i32, String> = BTreeMap::new();
        let mut left = pending.len();
        for chunk in pending.chunks(LOAD_BATCH) {
            // Owned keys and sources: the futures must be `Send` for any lifetime.
            let wanted: Vec<(i32, String)> = chunk
                .iter()
                .filter(|(p, _)| !failed_fetch.contains_key(p))
                .cloned()
                .collect();
            let fetch_started = Instant::now();
            let fetched: Vec<_> = futures::stream::iter(wanted)
                .map(|(p, key)| {
                    let source = self.source.clone();
                    async move {
                        let got = source.fetch(&key).await;
                        (p, key, got)
                    }
                })
                .buffered(FETCH_CONCURRENCY)
                .collect()
                .await;
            tracing::debug!(
                files = fetched.len(),
                took_ms = fetch_started.elapsed().as_millis() as u64,
                "ingestion watcher: fetched"
            );
            let mut files = Vec::with_capacity(fetched.len());
            for (partition, key, got) in fetched {
                if failed_fetch.contains_key(&partition) {
                    continue;
                }
                match got {
                    Ok((body, etag)) => files.push(FetchedFile {
                        key,
                        etag,
                        partition,
                        body,
                    }),
                    Err(e) => {
                        events::fetch_failed(&key, &chain(&e));
                        failed_fetch.insert(partition, key);
                    }
                }
            }
            let started = Instant::now();
            let loaded = self.blocking(move |db, table| load_files(db, table, &files)).await?;
            for l in loaded {
                match l.outcome {
                    LoadOutcome::Loaded { rows } => {
                        events::file_loaded(&l.key, rows, started.elapsed(), &l.latencies_s)
                    }
                    LoadOutcome::AlreadyLoaded => {}
                    LoadOutcome::Failed { first_error } => events::file_failed(&l.key, &first_error),
                }
            }
            left -= chunk.len();
            events::pending(left, pending.get(pending.len() - left).map(|(_, k)| k.as_str()));
        }
        Ok(failed_fetch)
    }

    /// Records the pipe's state (for `tickstream status`).
    pub async fn record_state(
        &self,
        state: &'static str,
        error: Option<String>,
        poll_interval_ms: i64,
    ) -> Result<(), WarehouseError> {
        self.blocking(move |db, _| {
            db.execute(
                &format!(
                    "INSERT INTO PIPE_STATE (id, state, last_poll, last_error, poll_interval_ms) VALUES (1, ?1, {NOW_MS}, ?2, ?3)
                     ON CONFLICT (id) DO UPDATE SET state = ?1, last_poll = {NOW_MS}, last_error = ?2, poll_interval_ms = ?3"
                ),
                rusqlite::params![state, error, poll_interval_ms],
            )?;
            Ok(())
        })
        .await
    }

    /// Runs `f` on the connection on a blocking thread (SQLite calls block).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, &str) -> Result<T, WarehouseError> + Send + 'static,
    ) -> Result<T, WarehouseError> {
        let (db, table) = (self.db.clone(), self.table.clone());
        tokio::task::spawn_blocking(move || {
            let mut conn = db
                .lock()
                .map_err(|_| WarehouseError::Other("warehouse lock poisoned".into()))?;
            f(&mut conn, &table)
        })
        .await
        .map_err(|e| WarehouseError::Other(e.to_string()))?
    }
}
