//! The ingestion-watcher actor: finds new files under the topic's prefix and loads each exactly
//! once (see [`super::load`]), then records the pipe's state for `tickstream status`.
//!
//! Discovery lists each partition's prefix after a cursor. Files of one partition are named in
//! offset order but may *land* out of order: a sink uploads up to `max.inflight.uploads` files at
//! once. So the cursor stays `lookback` files behind the newest key seen, and those last few are
//! listed again (they are in LOAD_HISTORY, so skipping them is a lookup). Partitions
//! `0..kafka.partitions` are listed from the start; every `REDISCOVER_EVERY` polls the next
//! partition number is probed, to find partitions added since.
//!
//! In one process with the sinks, each upload also hands the watcher its key (the embedded
//! stand-in for S3 event notifications): those files load at once, without a listing. A poll
//! lists only the partitions that announced nothing since the last poll (those of sinks in
//! other processes, or whose announced file could not be read), and every partition every
//! `FULL_LISTING_EVERY` polls, which finds whatever an announcement missed.
//!
//! This file discovers and reports; [`fetch`] reads the files found and loads them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use rusqlite::Connection;
use supervisors::{ChildSpec, Restart};

use super::load::known_keys;
use super::schema::NOW_MS;
use super::source::ObjectSource;
use super::WarehouseError;
use crate::error::chain;
use crate::landed::LandedReceiver;
use crate::s3::keys::KeyLayout;
use crate::task::TaskGuard;
use crate::telemetry::ingest_events as events;
use crate::telemetry::reachability::{Dependency, Reachability};

mod fetch;

const REDISCOVER_EVERY: u64 = 30;
/// Every this many polls, partitions whose files were all announced are listed too: the
/// safety net for what an announcement cannot cover.
const FULL_LISTING_EVERY: u64 = 10;

/// What the watcher starts with.
pub struct WatcherArgs<S> {
    pub source: Arc<S>,
    pub db: Arc<Mutex<Connection>>,
    pub table: String,
    pub layout: KeyLayout,
    pub poll_interval: Duration,
    /// Files re-listed behind the newest key of a partition (`max.inflight.uploads` + 1).
    pub lookback: usize,
    /// Partitions listed from the first poll (`kafka.partitions`); more are found by the
    /// periodic full listing.
    pub partitions: i32,
    /// Filled with the running incarnation, so shutdown can ask for a last catch-up.
    pub handle: WatcherHandle,
    /// The files this process's sinks uploaded: loaded at once, not at the next poll.
    pub file_landed: Option<LandedReceiver>,
    /// Where a failing S3 is reported (one WARN per interval, shared with the sinks).
    pub reach: Arc<Reachability>,
}

/// Where the running watcher can be reached.
pub type WatcherHandle = Arc<Mutex<Option<ActorRef<WatcherMsg>>>>;

impl<S> Clone for WatcherArgs<S> {
    fn clone(&self) -> Self {
        Self {
            source: self.source.clone(),
            db: self.db.clone(),
            table: self.table.clone(),
            layout: self.layout.clone(),
            poll_interval: self.poll_interval,
            lookback: self.lookback,
            handle: self.handle.clone(),
            partitions: self.partitions,
            file_landed: self.file_landed.clone(),
            reach: self.reach.clone(),
        }
    }
}

#[derive(Debug)]
pub enum WatcherMsg {
    /// The timer: poll, then schedule the next.
    Poll,
    /// Poll once now and answer (shutdown: load what the sinks' final drain uploaded).
    CatchUp(ractor::RpcReplyPort<()>),
    /// Sinks uploaded files: load them now (the periodic timer is not touched).
    Nudge,
}

/// Shortest gap between two nudged polls: under load files land hundreds of times a second.
const NUDGE_GAP: Duration = Duration::from_millis(50);
/// Listings and object reads in flight at once: as many as a load batch holds, so one
/// second's files of 64 partitions are read in one round trip, not four. A GET's latency
/// (S3's first byte, 20–50 ms) rather than its cost is what a file waits on.
const FETCH_CONCURRENCY: usize = 64;

pub struct WatcherState<S> {
    args: WatcherArgs<S>,
    /// Partition → list after this key.
    cursors: BTreeMap<i32, Option<String>>,
    polls: u64,
    /// Partitions whose new files were announced by their sinks (and loaded) since the last
    /// poll: the poll need not list them, except every [`FULL_LISTING_EVERY`] polls.
    announced: std::collections::BTreeSet<i32>,
    /// Partitions with an announced file that was not loaded since the last poll (unreadable,
    /// a failed load, or more files than were kept): the poll lists them whatever else was
    /// announced.
    unsettled: std::collections::BTreeSet<i32>,
    /// Set while a nudge waits in the mailbox, so at most one does.
    nudge_queued: Arc<std::sync::atomic::AtomicBool>,
    /// Turns upload notifications into nudges; aborted with the watcher.
    nudger: Option<TaskGuard>,
}

fn spawn_nudger(
    landed: LandedReceiver,
    watcher: ActorRef<WatcherMsg>,
    queued: Arc<std::sync::atomic::AtomicBool>,
) -> TaskGuard {
    use std::sync::atomic::Ordering;
    TaskGuard::spawn(async move {
        loop {
            landed.landed().await;
            if !queued.swap(true, Ordering::AcqRel) && watcher.send_message(WatcherMsg::Nudge).is_err() {
                return;
            }
            tokio::time::sleep(NUDGE_GAP).await;
        }
    })
}

/// The ingestion watcher.
pub struct IngestWatcher<S>(std::marker::PhantomData<fn() -> S>);

impl<S> Default for IngestWatcher<S> {
    fn default() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<S: ObjectSource> Actor for IngestWatcher<S> {
    type Msg = WatcherMsg;
    type State = WatcherState<S>;
    type Arguments = WatcherArgs<S>;

    async fn pre_start(
        &self,
        myself: ActorRef<WatcherMsg>,
        args: WatcherArgs<S>,
    ) -> Result<Self::State, ActorProcessingErr> {
        events::watcher_started();
        myself.send_message(WatcherMsg::Poll)?;
        if let Ok(mut h) = args.handle.lock() {
            *h = Some(myself.clone());
        }
        let nudge_queued = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let nudger = args
            .file_landed
            .clone()
            .map(|landed| spawn_nudger(landed, myself.clone(), nudge_queued.clone()));
        Ok(WatcherState {
            cursors: (0..args.partitions).map(|p| (p, None)).collect(),
            args,
            polls: 0,
            announced: Default::default(),
            unsettled: Default::default(),
            nudge_queued,
            nudger,
        })
    }

    async fn post_stop(&self, _: ActorRef<WatcherMsg>, st: &mut Self::State) -> Result<(), ActorProcessingErr> {
        st.record_state("STOPPED", None).await?;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<WatcherMsg>,
        msg: WatcherMsg,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // The forwarding task is watched: if it ended (it only ends by panicking while the
        // watcher lives), the watcher fails and its supervisor restarts both.
        if st.nudger.as_ref().is_some_and(TaskGuard::ended) {
            return Err("the task forwarding landed files to the ingestion watcher stopped".into());
        }
        let (result, reply, reschedule) = match msg {
            WatcherMsg::Poll => (st.poll().await, None, true),
            WatcherMsg::CatchUp(reply) => (st.poll().await, Some(reply), false),
            WatcherMsg::Nudge => {
                st.nudge_queued.store(false, std::sync::atomic::Ordering::Release);
                // The files the sinks said landed, by key: no listing (at 64 partitions the
                // listings were most of a poll). The periodic poll still lists everything.
                let landed = st
                    .args
                    .file_landed
                    .as_ref()
                    .map(LandedReceiver::take)
                    .unwrap_or_default();
                (st.load_landed(landed).await, None, false)
            }
        };
        let (state, error) = match &result {
            Ok(_) => ("RUNNING", None),
            Err(e) => ("STALLED_EXECUTION_ERROR", Some(chain(e))),
        };
        match &result {
            // S3 down is logged once per interval for the whole process, not once per poll.
            Err(WarehouseError::S3(e)) => {
                st.args.reach.failed(Dependency::S3, &chain(e));
                events::poll_failed_quietly();
            }
            Err(e) => events::poll_failed(&chain(e)),
            Ok(()) => st.args.reach.answered(Dependency::S3),
        }
        // A warehouse that cannot take the state either (locked, disk full) is the same stall:
        // counted and retried at the next poll, not a crash that spends the restart budget.
        if let Err(e) = st.record_state(state, error).await {
            events::poll_failed(&format!("recording the pipe state: {}", chain(&e)));
        }
        if let Some(reply) = reply {
            let _ = reply.send(());
        }
        if reschedule {
            myself.send_after(st.args.poll_interval, || WatcherMsg::Poll);
        }
        Ok(())
    }
}

impl<S: ObjectSource> WatcherState<S> {
    fn topic_prefix(&self) -> String {
        let l = &self.args.layout;
        format!("{}/{}/", l.topics_dir, l.topic)
    }

    fn partition_of(&self, key: &str) -> Option<i32> {
        let rest = key.strip_prefix(&self.topic_prefix())?.strip_prefix("partition=")?;
        let p: i32 = rest.split('/').next()?.parse().ok()?;
        self.args.layout.parse_start_offset(p, key).map(|_| p)
    }

    /// Lists the partitions after their cursors, loads what LOAD_HISTORY does not have, moves
    /// the cursors. Partitions whose sinks announced their files since the last poll are
    /// listed only every [`FULL_LISTING_EVERY`] polls: listing all 64 while files landed
    /// held their loads back (every file loaded > 400 ms after landing waited on a listing).
    async fn poll(&mut self) -> Result<(), WarehouseError> {
        self.polls += 1;
        let announced = std::mem::take(&mut self.announced);
        let unsettled = std::mem::take(&mut self.unsettled);
        let skip = if self.polls % FULL_LISTING_EVERY == 1 {
            Default::default()
        } else {
            &announced - &unsettled
        };
        if self.polls % REDISCOVER_EVERY == 1 {
            // Partitions are numbered 0..n: one added since is the next number.
            let next = self.cursors.keys().next_back().map_or(0, |p| p + 1);
            let prefix = self.args.layout.partition_prefix(next);
            if !self.args.source.list(&prefix, None).await?.is_empty() {
                tracing::info!(partition = next, "ingestion watcher: a new partition has files");
                self.cursors.insert(next, None);
            }
        }
        let listed = self.list_partitions(&skip).await?;
        tracing::trace!(poll = self.polls, listed = ?listed.iter().map(|(p, k)| (*p, k.len())).collect::<Vec<_>>(), cursors = ?self.cursors, "ingestion poll");
        let all: Vec<String> = listed.values().flatten().cloned().collect();
        let known = self.blocking(move |db, _| known_keys(db, &all)).await?;
        let pending: Vec<(i32, String)> = listed
            .iter()
            .flat_map(|(p, keys)| keys.iter().filter(|k| !known.contains(*k)).map(|k| (*p, k.clone())))
            .collect();
        events::pending(pending.len(), pending.first().map(|(_, k)| k.as_str()));

        let failed_fetch = self.load_pending(&pending).await?;

        for (p, keys) in listed {
            let resolved_until = match failed_fetch.get(&p) {
                Some(stuck) => keys.iter().position(|k| k == stuck).unwrap_or(0),
                None => keys.len(),
            };
            let keep = resolved_until.min(keys.len().saturating_sub(self.args.lookback));
            let cursor = self.cursors.entry(p).or_insert(None);
            if keep > 0 {
                *cursor = Some(keys[keep - 1].clone());
            }
        }
        Ok(())
    }

    /// Lists each partition but those in `skip` after its cursor, [`FETCH_CONCURRENCY`]
    /// listings at a time: at 64 partitions one after another took longer than the files took
    /// to land.
    async fn list_partitions(
        &self,
        skip: &std::collections::BTreeSet<i32>,
    ) -> Result<BTreeMap<i32, Vec<String>>, WarehouseError> {
        use futures::{StreamExt, TryStreamExt};
        let wanted: Vec<(i32, String, Option<String>)> = self
            .cursors
            .iter()
            .filter(|(p, _)| !skip.contains(p))
            .map(|(p, after)| (*p, self.args.layout.partition_prefix(*p), after.clone()))
            .collect();
        let lists: Vec<(i32, Vec<String>)> = futures::stream::iter(wanted)
            .map(|(p, prefix, after)| {
                let source = self.args.source.clone();
                async move { source.list(&prefix, after.as_deref()).await.map(|keys| (p, keys)) }
            })
            .buffered(FETCH_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(lists
            .into_iter()
            .map(|(p, keys)| {
                (
                    p,
                    keys.into_iter().filter(|k| self.partition_of(k) == Some(p)).collect(),
                )
            })
            .collect())
    }

    async fn record_state(&self, state: &'static str, error: Option<String>) -> Result<(), WarehouseError> {
        let interval = self.args.poll_interval.as_millis() as i64;
        self.blocking(move |db, _| {
            db.execute(
                &format!(
                    "INSERT INTO PIPE_STATE (id, state, last_poll, last_error, poll_interval_ms) VALUES (1, ?1, {NOW_MS}, ?2, ?3)
                     ON CONFLICT (id) DO UPDATE SET state = ?1, last_poll = {NOW_MS}, last_error = ?2, poll_interval_ms = ?3"
                ),
                rusqlite::params![state, error, interval],
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
        let (db, table) = (self.args.db.clone(), self.args.table.clone());
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

/// The watcher as a supervised child.
pub fn watcher_spec<S: ObjectSource>(args: WatcherArgs<S>, restart: Restart) -> ChildSpec {
    ChildSpec::new("ingest-watcher", "ingest_watcher", restart, move |sup| {
        let args = args.clone();
        async move {
            IngestWatcher::<S>::spawn_linked(None, IngestWatcher::default(), args, sup)
                .await
                .map(|(a, _)| a.get_cell())
        }
    })
}

/// The watcher over `config`'s bucket and SQLite warehouse (creating the file if needed).
pub async fn sqlite_watcher(
    config: &crate::config::Config,
    s3: &crate::s3::client::S3Endpoint,
    handle: WatcherHandle,
    file_landed: Option<LandedReceiver>,
    reach: Arc<Reachability>,
    restart: Restart,
) -> Result<ChildSpec, WarehouseError> {
    let wh = &config.warehouse;
    let path = wh.sqlite_path(&config.runtime.data_dir);
    let db = super::schema::open(&path, &wh.table)?;
    let store = crate::s3::S3SegmentStore::new(crate::s3::client::build(s3).await, config.sink.bucket.clone());
    tracing::info!(path = %path.display(), table = wh.table, "ingestion watcher: loading new S3 files into SQLite");
    Ok(watcher_spec(
        WatcherArgs {
            source: Arc::new(store),
            db: Arc::new(Mutex::new(db)),
            table: wh.table.clone(),
            layout: KeyLayout {
                topics_dir: config.sink.topics_dir.clone(),
                topic: config.sink.topics.clone(),
                pad_width: config.sink.offset_pad_width,
            },
            poll_interval: Duration::from_millis(wh.poll_interval_ms),
            lookback: config.sink.max_inflight_uploads + 1,
            handle,
            partitions: config.kafka.partitions,
            file_landed,
            reach,
        },
        restart,
    ))
}
