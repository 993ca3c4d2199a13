//! The ingestion watcher's loading half: fetch the files a poll or an announcement found
//! ([`FETCH_CONCURRENCY`] reads at a time) and load them [`LOAD_BATCH`] per transaction, each
//! exactly once (LOAD_HISTORY decides).

use std::collections::BTreeMap;
use std::time::Instant;

use super::{WatcherState, FETCH_CONCURRENCY};
use crate::telemetry::ingest_events as events;
use crate::warehouse::load::{known_keys, load_files, FetchedFile, LoadOutcome};
use crate::warehouse::source::ObjectSource;
use crate::warehouse::WarehouseError;

/// Files loaded per SQLite transaction.
const LOAD_BATCH: usize = 64;

impl<S: ObjectSource> WatcherState<S> {
    /// Loads the files a sink of this process uploaded, unless LOAD_HISTORY has them, and
    /// marks their partitions announced. A partition with a file that could not be loaded, or
    /// with more new files than were kept for the watcher, is unsettled: the next poll lists it.
    pub(super) async fn load_landed(&mut self, landed: BTreeMap<i32, Vec<String>>) -> Result<(), WarehouseError> {
        let complete: BTreeMap<i32, bool> = landed
            .iter()
            .map(|(p, keys)| (*p, keys.len() < crate::landed::KEPT_PER_PARTITION))
            .collect();
        match self.load_announced(landed).await {
            Ok(failed_fetch) => {
                for (p, complete) in complete {
                    if complete && !failed_fetch.contains_key(&p) {
                        self.announced.insert(p);
                    } else {
                        self.unsettled.insert(p);
                    }
                }
                Ok(())
            }
            Err(e) => {
                self.unsettled.extend(complete.into_keys());
                Err(e)
            }
        }
    }

    /// Loads the announced files LOAD_HISTORY does not have; returns each partition's first
    /// unreadable key.
    async fn load_announced(
        &self,
        landed: BTreeMap<i32, Vec<String>>,
    ) -> Result<BTreeMap<i32, String>, WarehouseError> {
        let mut keys: Vec<(i32, String)> = landed
            .into_iter()
            .flat_map(|(p, keys)| keys.into_iter().map(move |k| (p, k)))
            .filter(|(p, k)| self.partition_of(k) == Some(*p))
            .collect();
        keys.sort();
        let all: Vec<String> = keys.iter().map(|(_, k)| k.clone()).collect();
        let known = self.blocking(move |db, _| known_keys(db, &all)).await?;
        keys.retain(|(_, k)| !known.contains(k));
        events::pending(keys.len(), keys.first().map(|(_, k)| k.as_str()));
        self.load_pending(&keys).await
    }

    /// Fetches `pending` ([`FETCH_CONCURRENCY`] GETs at a time) and loads it [`LOAD_BATCH`]
    /// files per transaction. A file that cannot be read is not recorded (it may be readable
    /// at the next poll), and the files after it in its partition wait with it; returns each
    /// such partition's first unreadable key.
    pub(super) async fn load_pending(
        &self,
        pending: &[(i32, String)],
    ) -> Result<BTreeMap<i32, String>, WarehouseError> {
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
                    let source = self.args.source.clone();
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
                        events::fetch_failed(&key, &crate::error::chain(&e));
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
}
