//! What the watcher does with the files it found: skip those LOAD_HISTORY has, fetch the rest
//! ([`FETCH_CONCURRENCY`] reads at a time) and load them `LOAD_BATCH` per transaction, each
//! exactly once (see [`crate::warehouse::load`]); and record the pipe's state.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rusqlite::Connection;
use serde_json::Value;

use super::db::WarehouseDb;
use super::discovery::Listing;
use crate::error::chain;
use crate::format::companions::Beside;
use crate::record::TopicPartition;
use crate::telemetry::ingest_events as events;
use crate::warehouse::load::{known_keys, load_files, FetchedFile, LoadOutcome, LoadRules, Loaded};
use crate::warehouse::schema::NOW_MS;
use crate::warehouse::source::ObjectSource;
use crate::warehouse::table::Tables;
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
    pub db: Arc<WarehouseDb>,
    /// Each topic's table.
    pub tables: Arc<Tables>,
    pub rules: LoadRules,
}

/// A file to load: its topic-partition, start offset and key.
pub type Pending = (TopicPartition, i64, String);

/// A data file's body and ETag, with its companion files' lines where they are written.
type WithCompanions = ((bytes::Bytes, Option<String>), Beside<Option<Vec<Value>>>);

/// Reads the data file at `key` and, under `store.kafka.keys` / `.headers` / `.metadata`,
/// the files beside it. A companion file that is not there (a data file written before the
/// setting was on) or not JSON lines loads the data file without it; one that cannot be read
/// now fails the fetch like the data file's own read.
async fn fetch_with_companions<S: ObjectSource>(
    source: &S,
    key: &str,
    companions: Option<&crate::format::companions::Companions>,
) -> Result<WithCompanions, crate::s3::S3Error> {
    let data = source.fetch(key).await?;
    let names = companions.map_or_else(Beside::default, |c| c.names_beside(key));
    let mut lines = Beside::default();
    for (slot, name) in [
        (&mut lines.keys, names.keys),
        (&mut lines.headers, names.headers),
        (&mut lines.metadata, names.metadata),
    ] {
        let Some(name) = name else { continue };
        match source.fetch(&name).await {
            Ok((body, _)) => match crate::format::companions::read_lines(&name, body) {
                Ok(values) => *slot = Some(values),
                Err(e) => events::fetch_failed(&name, &chain(&e)),
            },
            Err(e) if e.is_missing() => {}
            Err(e) => return Err(e),
        }
    }
    Ok((data, lines))
}

impl<S: ObjectSource> Loader<S> {
    /// The files of `found` that LOAD_HISTORY does not have, in order; `start_of` gives each
    /// file's start offset.
    pub async fn unknown(
        &self,
        found: &Listing,
        start_of: impl Fn(&str) -> Option<i64>,
    ) -> Result<Vec<Pending>, WarehouseError> {
        let all: Vec<String> = found.values().flatten().cloned().collect();
        let known = self.blocking(move |db| known_keys(db, &all)).await?;
        let pending: Vec<Pending> = found
            .iter()
            .flat_map(|(tp, keys)| {
                let start_of = &start_of;
                keys.iter()
                    .filter(|k| !known.contains(*k))
                    .filter_map(move |k| Some((tp.clone(), start_of(k)?, k.clone())))
            })
            .collect();
        events::pending(pending.len(), pending.first().map(|(_, _, k)| k.as_str()));
        Ok(pending)
    }

    /// Fetches `pending` ([`FETCH_CONCURRENCY`] GETs at a time) and loads it `LOAD_BATCH`
    /// files per transaction. A file that cannot be read, or whose topic's table cannot be
    /// made ready, is not recorded (it may load at the next poll), and the files after it in
    /// its partition wait with it; returns each such partition's first waiting key.
    pub async fn load(&self, pending: &[Pending]) -> Result<BTreeMap<TopicPartition, String>, WarehouseError> {
        use futures::StreamExt;
        let mut failed_fetch: BTreeMap<TopicPartition, String> = BTreeMap::new();
        let mut left = pending.len();
        for chunk in pending.chunks(LOAD_BATCH) {
            // Owned keys and sources: the futures must be `Send` for any lifetime.
            let wanted: Vec<Pending> = chunk
                .iter()
                .filter(|(tp, _, _)| !failed_fetch.contains_key(tp))
                .cloned()
                .collect();
            let fetch_started = Instant::now();
            let fetched: Vec<_> = futures::stream::iter(wanted)
                .map(|(tp, start, key)| {
                    let (source, companions) = (self.source.clone(), self.rules.companions.clone());
                    async move {
                        let got = fetch_with_companions(&*source, &key, companions.as_ref()).await;
                        (tp, start, key, got)
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
            for (tp, start, key, got) in fetched {
                if failed_fetch.contains_key(&tp) {
                    continue;
                }
                match got {
                    Ok(((body, etag), companions)) => files.push(FetchedFile {
                        key,
                        etag,
                        tp,
                        start,
                        body,
                        companions,
                    }),
                    Err(e) => {
                        events::fetch_failed(&key, &chain(&e));
                        failed_fetch.insert(tp, key);
                    }
                }
            }
            let started = Instant::now();
            let (tables, rules) = (self.tables.clone(), self.rules.clone());
            let (loaded, unready) = self.blocking(move |db| load_ready(db, &tables, &rules, files)).await?;
            loaded.into_iter().for_each(|l| report(l, started));
            for (why, tp, key) in unready {
                if let std::collections::btree_map::Entry::Vacant(slot) = failed_fetch.entry(tp) {
                    events::table_unready(&slot.key().topic, Some(&key), &why);
                    slot.insert(key);
                }
            }
            left -= chunk.len();
            events::pending(left, pending.get(pending.len() - left).map(|(_, _, k)| k.as_str()));
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
        self.blocking(move |db| {
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
        f: impl FnOnce(&mut Connection) -> Result<T, WarehouseError> + Send + 'static,
    ) -> Result<T, WarehouseError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.with(f))
            .await
            .map_err(WarehouseError::Task)?
    }
}

/// A file whose topic's table is not ready: why, its partition, its key.
type Unready = (String, TopicPartition, String);

/// Loads `files` in one transaction, each topic's table made ready first. A topic whose table
/// cannot be made ready (a table of another layout in its place) waits alone: its files are
/// returned with why, and the other topics' files load.
fn load_ready(
    db: &mut Connection,
    tables: &Tables,
    rules: &LoadRules,
    files: Vec<FetchedFile>,
) -> Result<(Vec<Loaded>, Vec<Unready>), WarehouseError> {
    let (mut layouts, mut unready) = (BTreeMap::new(), BTreeMap::new());
    for f in &files {
        let topic = &*f.tp.topic;
        if !layouts.contains_key(topic) && !unready.contains_key(topic) {
            match tables.ready(db, topic) {
                Ok(layout) => layouts.insert(topic.to_owned(), layout).map(drop),
                Err(e) => unready.insert(topic.to_owned(), chain(&e)).map(drop),
            };
        }
    }
    let (ready, waiting): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| layouts.contains_key(&*f.tp.topic));
    let loaded = load_files(db, &|topic| layouts[topic].clone(), rules, &ready)?;
    let waiting = waiting
        .into_iter()
        .map(|f| (unready[&*f.tp.topic].clone(), f.tp, f.key))
        .collect();
    Ok((loaded, waiting))
}

/// Says what loading one file did (started at `started`).
fn report(l: Loaded, started: Instant) {
    match l.outcome {
        LoadOutcome::Loaded {
            rows,
            rejected,
            first_error,
        } => {
            events::file_loaded(&l.key, rows, started.elapsed(), &l.latencies_s);
            if let Some(e) = first_error.filter(|_| rejected > 0) {
                events::rows_rejected(&l.key, rejected, &e);
            }
        }
        LoadOutcome::AlreadyLoaded => {}
        LoadOutcome::Failed { first_error } => events::file_failed(&l.key, &first_error),
    }
}
