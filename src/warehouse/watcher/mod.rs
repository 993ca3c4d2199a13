//! The ingestion-watcher actor: finds new files under each topic's prefix ([`discovery`]) and
//! loads each exactly once into its topic's table ([`loader`]), then records the pipe's state
//! for `tickstream status`.
//!
//! In one process with the sinks, each upload also hands the watcher its key (the file-landed
//! channel, the embedded stand-in for S3 event notifications): those files load at once,
//! without a listing; the periodic poll lists the rest.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub use db::WarehouseDb;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use supervisors::{ChildSpec, Restart};

use super::load::LoadRules;
use super::source::ObjectSource;
use super::table::Tables;
use super::WarehouseError;
use crate::config::Topics;
use crate::error::chain;
use crate::landed::LandedReceiver;
use crate::record::TopicPartition;
use crate::s3::keys::KeyLayout;
use crate::task::TaskGuard;
use crate::telemetry::ingest_events as events;
use crate::telemetry::reachability::{Dependency, Reachability};

mod db;
pub mod discovery;
pub mod lease;
pub mod loader;

use lease::Lease;

use discovery::Discovery;
use loader::Loader;

/// What the watcher starts with.
pub struct WatcherArgs<S> {
    pub source: Arc<S>,
    /// The warehouse file, opened at first use (a broken one stalls the watcher alone).
    pub db: Arc<WarehouseDb>,
    /// Each topic's table.
    pub tables: Arc<Tables>,
    /// How files are read, and `warehouse.on_error`.
    pub rules: LoadRules,
    /// The sink's topics (`sink.topics` or `sink.topics.regex`).
    pub topics: Topics,
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
    /// The SQLite file's lease: only its holder loads (`None`: no local file to share).
    pub lease: Option<Arc<Lease>>,
}

/// Where the running watcher can be reached.
pub type WatcherHandle = Arc<Mutex<Option<ActorRef<WatcherMsg>>>>;

impl<S> Clone for WatcherArgs<S> {
    fn clone(&self) -> Self {
        Self {
            source: self.source.clone(),
            db: self.db.clone(),
            tables: self.tables.clone(),
            rules: self.rules.clone(),
            topics: self.topics.clone(),
            layout: self.layout.clone(),
            poll_interval: self.poll_interval,
            lookback: self.lookback,
            handle: self.handle.clone(),
            partitions: self.partitions,
            file_landed: self.file_landed.clone(),
            reach: self.reach.clone(),
            lease: self.lease.clone(),
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
/// Listings in flight at once (as many as reads: [`loader::FETCH_CONCURRENCY`]).
const LIST_CONCURRENCY: usize = loader::FETCH_CONCURRENCY;

pub struct WatcherState<S> {
    args: WatcherArgs<S>,
    discovery: Discovery,
    loader: Loader<S>,
    /// Set while a nudge waits in the mailbox, so at most one does.
    nudge_queued: Arc<std::sync::atomic::AtomicBool>,
    /// Turns upload notifications into nudges; aborted with the watcher.
    nudger: Option<TaskGuard>,
    /// This incarnation has loaded (held the lease): its stop is recorded in the warehouse.
    loaded: bool,
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
            discovery: Discovery::new(args.layout.clone(), args.topics.clone(), args.lookback, args.partitions),
            loader: Loader {
                source: args.source.clone(),
                db: args.db.clone(),
                tables: args.tables.clone(),
                rules: args.rules.clone(),
            },
            args,
            nudge_queued,
            nudger,
            loaded: false,
        })
    }

    async fn post_stop(&self, _: ActorRef<WatcherMsg>, st: &mut Self::State) -> Result<(), ActorProcessingErr> {
        if st.loaded {
            st.record_state("STOPPED", None).await?;
        }
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
        if !st.may_load() {
            st.stand_by(&myself, msg);
            return Ok(());
        }
        st.loaded = true;
        let (result, reply, reschedule) = match msg {
            WatcherMsg::Poll => (st.poll().await, None, true),
            WatcherMsg::CatchUp(reply) => (st.catch_up().await, Some(reply), false),
            WatcherMsg::Nudge => {
                st.nudge_queued.store(false, std::sync::atomic::Ordering::Release);
                // The files the sinks said landed, by key: no listing (at 64 partitions the
                // listings were most of a poll). The periodic poll still lists everything.
                let landed = st.take_landed();
                (st.load_landed(landed).await, None, false)
            }
        };
        let (state, error) = match &result {
            Ok(_) => ("RUNNING", None),
            Err(e) => ("STALLED_EXECUTION_ERROR", Some(chain(e))),
        };
        let reach = &st.args.reach;
        match &result {
            // S3 or the warehouse file down is logged once per interval for the whole
            // process, not once per poll, and named by `/readyz`.
            Err(WarehouseError::S3(e)) => {
                reach.failed(Dependency::S3, &chain(e));
                events::poll_failed_quietly();
            }
            Err(e) if e.is_the_file() => {
                reach.failed(Dependency::Warehouse, &chain(e));
                events::warehouse_failed_quietly();
            }
            Err(e) => events::poll_failed(&chain(e)),
            Ok(()) => {
                reach.answered(Dependency::S3);
                reach.answered(Dependency::Warehouse);
            }
        }
        // A warehouse that cannot take the state either (locked, disk full) is the same stall:
        // counted and retried at the next poll, not a crash that spends the restart budget.
        if let Err(e) = st.record_state(state, error).await {
            match e.is_the_file() {
                true => reach.failed(Dependency::Warehouse, &chain(&e)),
                false => events::poll_failed(&format!("recording the pipe state: {}", chain(&e))),
            }
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
    /// Whether this watcher loads now (it holds the warehouse's lease); a lease that cannot be
    /// tried is reported as the warehouse failing.
    fn may_load(&self) -> bool {
        lease::may_load(self.args.lease.as_deref(), &self.args.reach).unwrap_or_else(|e| {
            self.args.reach.failed(Dependency::Warehouse, &e);
            events::warehouse_failed_quietly();
            false
        })
    }

    /// Another process loads: answer `msg` without touching the warehouse, and poll again later
    /// to take over when it stops.
    fn stand_by(&self, myself: &ActorRef<WatcherMsg>, msg: WatcherMsg) {
        match msg {
            WatcherMsg::Poll => {
                myself.send_after(self.args.poll_interval, || WatcherMsg::Poll);
            }
            WatcherMsg::CatchUp(reply) => {
                let _ = reply.send(());
            }
            WatcherMsg::Nudge => {
                self.nudge_queued.store(false, std::sync::atomic::Ordering::Release);
                drop(self.take_landed()); // the holder lists them; so does this one on taking over
            }
        }
    }

    /// Lists the partitions after their cursors, loads what LOAD_HISTORY does not have, moves
    /// the cursors.
    async fn poll(&mut self) -> Result<(), WarehouseError> {
        let listed = self.discovery.list(&*self.args.source).await?;
        let discovery = &self.discovery;
        let pending = self
            .loader
            .unknown(&listed, |k| discovery.identify(k).map(|(_, start)| start))
            .await?;
        let failed = self.loader.load(&pending).await?;
        self.discovery.advance(listed, &failed);
        Ok(())
    }

    /// Shutdown's last look: the files the sinks announced (their final drain's, whose nudge
    /// may still be on its way: under the `field` and `time` partitioners a poll lists nothing
    /// else), then a poll.
    async fn catch_up(&mut self) -> Result<(), WarehouseError> {
        let landed = self.take_landed();
        self.load_landed(landed).await?;
        self.poll().await
    }

    /// What the sinks announced since the last take (nothing without the channel).
    fn take_landed(&self) -> discovery::Listing {
        self.args
            .file_landed
            .as_ref()
            .map(LandedReceiver::take)
            .unwrap_or_default()
    }

    /// Loads the files a sink of this process uploaded, unless LOAD_HISTORY has them. A
    /// partition with a file that could not be loaded, or with more new files than the channel
    /// kept, is listed at the next poll.
    async fn load_landed(&mut self, landed: discovery::Listing) -> Result<(), WarehouseError> {
        let complete: BTreeMap<TopicPartition, bool> = landed
            .iter()
            .map(|(tp, keys)| (tp.clone(), keys.len() < crate::landed::KEPT_PER_PARTITION))
            .collect();
        let ours = self.discovery.sort_announced(landed);
        let loaded = async {
            let discovery = &self.discovery;
            let pending = self
                .loader
                .unknown(&ours, |k| discovery.identify(k).map(|(_, start)| start))
                .await?;
            self.loader.load(&pending).await
        }
        .await;
        self.discovery.announced(complete, loaded.as_ref().map_err(|_| ()));
        loaded.map(drop)
    }

    async fn record_state(&self, state: &'static str, error: Option<String>) -> Result<(), WarehouseError> {
        let interval = self.args.poll_interval.as_millis() as i64;
        self.loader.record_state(state, error, interval).await
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
    let tables = Arc::new(Tables::new(config));
    let listed = tables.listed();
    reach.register(Dependency::Warehouse, path.display().to_string());
    let store = crate::s3::S3SegmentStore::for_sink(crate::s3::client::build(s3).await, &config.sink);
    let names: Vec<&str> = listed.iter().map(|t| t.table.as_str()).collect();
    tracing::info!(path = %path.display(), tables = names.join(", "), "ingestion watcher: loading new S3 files into SQLite");
    Ok(watcher_spec(
        WatcherArgs {
            source: Arc::new(store),
            lease: Some(Arc::new(Lease::beside(&path))),
            db: Arc::new(WarehouseDb::new(path, tables.clone())),
            tables,
            rules: LoadRules {
                reader: crate::format::Reader::of(&config.sink),
                on_error: wh.on_error,
                positional_offsets: config.sink.partitioner().map_or(true, |p| p.consecutive()),
                companions: crate::format::companions::Companions::from_config(&config.sink),
            },
            topics: config.sink.topic_set(),
            layout: KeyLayout::of(&config.sink, ""),
            poll_interval: wh.poll_interval(),
            lookback: config.sink.max_inflight_uploads + 1,
            handle,
            partitions: config.kafka.partitions,
            file_landed,
            reach,
        },
        restart,
    ))
}
