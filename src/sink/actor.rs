//! The per-partition sink actor: owns its partition's open batches (data and dead letters) and
//! their rotation timers, uploads closed files, and commits the offset below which every record
//! is durable (in S3, or acknowledged by the dead-letter topic), never past one that is not.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::time::Instant;

use super::commit_pace::{CommitPace, Next};
use super::dead_letter::DeadLetterTopic;
use super::gate::Gate;
use super::segmenter::{Rules, Segment, Segmenter};
use super::source::PartitionSource;
use super::upload::{Delivery, DeliveryError, Upload};
use super::Record;
use crate::error::chain;
use crate::landed::LandedSender;
use crate::record::TopicPartition;
use crate::s3::keys::KeyLayout;
use crate::s3::{PutOutcome, SegmentStore};
use crate::telemetry::reachability::Reachability;
use crate::telemetry::{sink_events, PipelineStats};

mod intake;

/// The sink actor's behaviour, generic over its store and its Kafka side.
pub struct SinkActor<S, P>(PhantomData<fn() -> (S, P)>);

impl<S, P> Default for SinkActor<S, P> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

/// What a sink starts with.
pub struct SinkArgs<S, P> {
    /// The topic-partition this sink owns.
    pub tp: TopicPartition,
    /// The keys of its topic.
    pub layout: KeyLayout,
    /// `flush.size`, the converter, the separator, `errors.tolerance`.
    pub rules: Rules,
    /// `rotate.interval.ms`
    pub rotate_interval: Duration,
    /// `rotate.schedule.interval.ms`: every open file closes at each boundary.
    pub rotate_schedule: Option<super::rotation::Schedule>,
    /// `max.inflight.uploads`: uploads of consecutive files that may overlap.
    pub max_inflight_uploads: usize,
    /// `offset.flush.interval.ms`: at most one commit per this interval (see `commit_pace`).
    pub commit_interval: Duration,
    pub store: Arc<S>,
    pub source: Arc<P>,
    /// Shared with the router: records held in memory for this partition.
    pub gate: Arc<Gate>,
    pub stats: Arc<PipelineStats>,
    /// Where a failing S3 is reported (one WARN per interval for all partitions).
    pub reach: Arc<Reachability>,
    /// Told of every data file in S3, when an ingestion watcher runs in this process.
    pub landed: Option<LandedSender>,
    /// `errors.deadletterqueue.topic.name`: dead letters go there instead of to S3.
    pub dead_topic: Option<Arc<dyn DeadLetterTopic>>,
    /// Where the schemas of Avro records come from (it fills `rules`' converter's cache).
    pub registry: Option<Arc<crate::registry::Registry>>,
}

impl<S, P> SinkArgs<S, P> {
    /// The partition's files in S3, as a resume reads them.
    fn files(&self) -> super::resume::Files<'_, S> {
        super::resume::Files {
            store: &self.store,
            layout: &self.layout,
            reader: self.rules.files.reader(),
        }
    }
}

/// Messages a sink handles.
pub enum SinkMsg {
    /// Internal: work out where to resume (retried with backoff until S3 and Kafka answer).
    Plan,
    /// Records from the router, in offset order.
    Append(Vec<Record>),
    /// Internal: retry the records held back while a directory's listing or a schema's fetch
    /// failed.
    Retry,
    /// Internal: the earliest rotation deadline has passed: close the batches that are due.
    RotateDue,
    /// Internal: a boundary of `rotate.schedule.interval.ms`: close every open file.
    Scheduled,
    /// Internal: the commit interval is up; commit the pending offset.
    CommitDue,
    /// Internal: an upload finished.
    Uploaded {
        ticket: u64,
        result: Result<PutOutcome, DeliveryError>,
    },
    /// Close the open batch, wait for every upload, commit synchronously, answer the committed
    /// offset, and stop. With `commit` false (the group already took the partition away) the
    /// open batch and the files not yet sent are dropped instead (the new owner re-reads them),
    /// and nothing is committed.
    Drain {
        commit: bool,
        reply: RpcReplyPort<Option<i64>>,
    },
    GetStatus(RpcReplyPort<SinkStatus>),
}

/// A sink's progress, for status and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkStatus {
    pub partition: i32,
    /// `None` until the resume plan is made.
    pub next_offset: Option<i64>,
    pub buffered: u64,
    pub uploading: usize,
    pub committed: Option<i64>,
}

/// Resume-planning attempts (100 ms doubling to 30 s apart, ~1 minute in all) before the sink
/// fails and leaves the retry to its supervisor.
const PLAN_ATTEMPTS: u32 = 8;
const PLAN_RETRY_MIN: Duration = Duration::from_millis(100);
const PLAN_RETRY_MAX: Duration = Duration::from_secs(30);

pub struct SinkState<S, P> {
    args: SinkArgs<S, P>,
    /// Where closed segments go (built from `args`).
    delivery: Delivery<S>,
    seg: Option<Segmenter>,
    /// Uploads under way (they land in any order).
    uploads: VecDeque<Upload>,
    /// Closed segments waiting for an upload slot.
    queued: VecDeque<Segment>,
    next_ticket: u64,
    /// Every record below it is durable: committed, or pending in `pace`.
    committed: Option<i64>,
    pace: CommitPace,
    draining: Option<RpcReplyPort<Option<i64>>>,
    /// False once the group has taken the partition away (assignment lost): files still go to
    /// S3, but this member's commits would be refused, and a synchronous one would stall.
    may_commit: bool,
    plan_failures: u32,
    /// Records not taken yet: a directory they route to could not be listed (S3 failing), or
    /// the schema of the first could not be fetched (the registry failing); retried by
    /// `Retry`, and new records queue behind them.
    waiting: VecDeque<Record>,
    list_failures: u32,
    schema_failures: u32,
    /// The open batches' rotation deadlines, with one wake-up armed.
    timers: super::rotation_timers::RotationTimers,
}

impl<S: SegmentStore, P: PartitionSource> Actor for SinkActor<S, P> {
    type Msg = SinkMsg;
    type State = SinkState<S, P>;
    type Arguments = SinkArgs<S, P>;

    async fn pre_start(
        &self,
        myself: ActorRef<SinkMsg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        sink_events::sink_started(&args.tp);
        myself.send_message(SinkMsg::Plan)?;
        if let Some(schedule) = args.rotate_schedule {
            myself.send_after(schedule.delay(super::rotation::unix_ms()), || SinkMsg::Scheduled);
        }
        let delivery = Delivery {
            tp: args.tp.clone(),
            layout: args.layout.clone(),
            store: args.store.clone(),
            dead_topic: args.dead_topic.clone(),
            gate: args.gate.clone(),
            reach: args.reach.clone(),
        };
        Ok(SinkState {
            delivery,
            seg: None,
            uploads: VecDeque::new(),
            queued: VecDeque::new(),
            next_ticket: 0,
            committed: None,
            pace: CommitPace::new(args.commit_interval),
            draining: None,
            may_commit: true,
            plan_failures: 0,
            waiting: VecDeque::new(),
            list_failures: 0,
            schema_failures: 0,
            timers: Default::default(),
            args,
        })
    }

    async fn post_stop(&self, _: ActorRef<SinkMsg>, st: &mut Self::State) -> Result<(), ActorProcessingErr> {
        st.uploads.clear();
        sink_events::sink_buffer(&st.args.tp, 0, 0);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<SinkMsg>,
        msg: SinkMsg,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SinkMsg::Plan => st.plan(&myself).await?,
            SinkMsg::Append(records) => st.append(&myself, records).await,
            SinkMsg::Retry => {
                let waiting = std::mem::take(&mut st.waiting);
                st.push(&myself, waiting).await;
            }
            SinkMsg::RotateDue => {
                let (ids, next) = st.timers.fired(Instant::now());
                if let Some(delay) = next {
                    myself.send_after(delay, || SinkMsg::RotateDue);
                }
                let mut out = Vec::new();
                if let Some(seg) = &mut st.seg {
                    ids.into_iter().for_each(|id| seg.rotate(id, &mut out));
                }
                st.start_uploads(&myself, out);
            }
            SinkMsg::Scheduled => {
                let mut out = Vec::new();
                if let (Some(seg), None) = (&mut st.seg, &st.draining) {
                    seg.close(&mut out);
                }
                st.start_uploads(&myself, out);
                if let Some(schedule) = st.args.rotate_schedule {
                    myself.send_after(schedule.delay(super::rotation::unix_ms()), || SinkMsg::Scheduled);
                }
            }
            SinkMsg::CommitDue => {
                let next = st.pace.woke(Instant::now());
                st.commit(&myself, next).await;
            }
            SinkMsg::Uploaded { ticket, result } => st.uploaded(&myself, ticket, result).await?,
            SinkMsg::Drain { commit, reply } => {
                st.may_commit &= commit;
                let mut out = Vec::new();
                if let Some(seg) = &mut st.seg {
                    seg.close(&mut out);
                }
                if commit {
                    st.start_uploads(&myself, out);
                } else {
                    // Lost: another member owns the partition and re-reads it from the last
                    // commit. A file of ours starting past that commit would overlap the
                    // owner's (a conditional PUT refuses only the owner's own key), so nothing
                    // new goes to S3: the open batch and the files waiting for a slot are
                    // dropped; uploads already sent finish.
                    let dropped = out.len() + st.queued.len();
                    st.queued.clear();
                    sink_events::lost_files_dropped(&st.args.tp, dropped);
                }
                st.draining = Some(reply);
                st.finish_drain_if_idle(&myself).await;
            }
            SinkMsg::GetStatus(reply) => {
                let _ = reply.send(SinkStatus {
                    partition: st.args.tp.partition,
                    next_offset: st.seg.as_ref().map(Segmenter::next_offset),
                    buffered: st.seg.as_ref().map_or(0, Segmenter::buffered),
                    uploading: st.uploads.len() + st.queued.len(),
                    committed: st.committed,
                });
            }
        }
        Ok(())
    }
}

impl<S: SegmentStore, P: PartitionSource> SinkState<S, P> {
    /// Queues closed segments and starts as many uploads as `max.inflight.uploads` allows.
    fn start_uploads(&mut self, myself: &ActorRef<SinkMsg>, segments: Vec<Segment>) {
        self.queued.extend(segments);
        let free = self.args.max_inflight_uploads.saturating_sub(self.uploads.len());
        for seg in self.queued.drain(..free.min(self.queued.len())).collect::<Vec<_>>() {
            let (ticket, me) = (self.next_ticket, myself.clone());
            self.next_ticket += 1;
            let upload = self.delivery.start(ticket, seg, move |result| {
                let _ = me.send_message(SinkMsg::Uploaded { ticket, result });
            });
            self.uploads.push_back(upload);
        }
        if let Some(seg) = &self.seg {
            sink_events::sink_buffer(&self.args.tp, seg.buffered(), seg.buffered_bytes());
            let uploading: usize = self.uploads.iter().map(|u| u.bytes).sum::<usize>()
                + self.queued.iter().map(|q| q.body.len()).sum::<usize>();
            self.args.gate.set_bytes(seg.buffered_bytes() + uploading as u64);
        }
    }

    async fn uploaded(
        &mut self,
        myself: &ActorRef<SinkMsg>,
        ticket: u64,
        result: Result<PutOutcome, DeliveryError>,
    ) -> Result<(), ActorProcessingErr> {
        // Only a conflict comes back as an error: the plan was wrong, so start over from S3.
        result?;
        // A landed file's records leave memory at once; the commit waits for everything below.
        if let Some(u) = self
            .uploads
            .iter()
            .position(|u| u.ticket == ticket)
            .and_then(|i| self.uploads.remove(i))
        {
            u.report(&self.args.stats, &self.args.tp);
            if let (Some(landed), false) = (&self.args.landed, u.dead_letter) {
                landed.send(&self.args.tp, &u.key);
            }
            self.args.gate.release(u.records);
            self.args.stats.held(&self.args.tp, self.args.gate.held());
        }
        let durable = self.durable_until();
        if durable.is_some_and(|d| self.committed.is_none_or(|c| d > c)) {
            let end = durable.unwrap_or_default();
            self.committed = Some(end);
            self.args.gate.note_commit(end);
            let more_coming = !self.uploads.is_empty() || !self.queued.is_empty();
            let next = self.pace.offer(end, more_coming, Instant::now());
            self.commit(myself, next).await;
        }
        self.start_uploads(myself, Vec::new());
        self.finish_drain_if_idle(myself).await;
        Ok(())
    }

    /// Every record below this offset is durable: nothing below it is in an open batch, a
    /// queued segment or an upload still under way. `None` before the plan.
    fn durable_until(&self) -> Option<i64> {
        let seg = self.seg.as_ref()?;
        let uploading = self.uploads.iter().map(|u| u.first);
        let queued = self.queued.iter().map(|q| q.meta.start_offset);
        Some(uploading.chain(queued).fold(seg.pending_from(), i64::min))
    }

    /// Does what the commit pacing says: an asynchronous commit (unless the group took the
    /// partition away), or a wake-up later.
    async fn commit(&mut self, myself: &ActorRef<SinkMsg>, next: Next) {
        match next {
            Next::Commit(end) if self.may_commit => {
                let tp = &self.args.tp;
                match self.args.source.commit(tp.partition, end, false).await {
                    Ok(()) => sink_events::committed(&self.args.stats, tp, end),
                    Err(e) => sink_events::commit_error(tp, end, &chain(&e)),
                }
            }
            Next::Commit(_) | Next::Wait => {}
            Next::WakeIn(delay) => {
                myself.send_after(delay, || SinkMsg::CommitDue);
            }
        }
    }

    async fn finish_drain_if_idle(&mut self, myself: &ActorRef<SinkMsg>) {
        if self.draining.is_none() || !self.uploads.is_empty() || !self.queued.is_empty() {
            return;
        }
        if let Some(c) = self.committed.filter(|_| self.may_commit) {
            if let Err(e) = self.args.source.commit(self.args.tp.partition, c, true).await {
                sink_events::commit_error(&self.args.tp, c, &chain(&e));
            }
        }
        if let Some(reply) = self.draining.take() {
            let _ = reply.send(self.committed);
        }
        myself.stop(Some("drained".into()));
    }
}
