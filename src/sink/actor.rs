//! The per-partition sink actor: owns its partition's open batch and rotation timer, uploads
//! closed files, and commits offsets in order, each only after its file is in S3.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::time::Instant;

use super::commit_pace::{CommitPace, Next};
use super::gate::Gate;
use super::resume;
use super::rotation::{rotate_delay, unix_ms};
use super::segmenter::{Pushed, Segment, Segmenter};
use super::source::PartitionSource;
use super::upload::{put_with_retry, Upload};
use super::Record;
use crate::error::chain;
use crate::landed::LandedSender;
use crate::s3::keys::KeyLayout;
use crate::s3::{PutOutcome, S3Error, SegmentStore};
use crate::task::TaskGuard;
use crate::telemetry::reachability::Reachability;
use crate::telemetry::{sink_events, PipelineStats};

/// The sink actor's behaviour, generic over its store and its Kafka side.
pub struct SinkActor<S, P>(PhantomData<fn() -> (S, P)>);

impl<S, P> Default for SinkActor<S, P> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

/// What a sink starts with.
pub struct SinkArgs<S, P> {
    pub partition: i32,
    pub layout: KeyLayout,
    /// `flush.size`
    pub flush_size: u64,
    /// `rotate.interval.ms`
    pub rotate_interval: Duration,
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
}

/// Messages a sink handles.
pub enum SinkMsg {
    /// Internal: work out where to resume (retried with backoff until S3 and Kafka answer).
    Plan,
    /// Records from the router, in offset order.
    Append(Vec<Record>),
    /// Internal: batch `id`'s rotation interval has passed.
    Rotate(u64),
    /// Internal: the commit interval is up; commit the pending offset.
    CommitDue,
    /// Internal: an upload finished.
    Uploaded {
        ticket: u64,
        result: Result<PutOutcome, S3Error>,
    },
    /// Close the open batch, wait for every upload, commit synchronously (unless `commit` is
    /// false: the group already took the partition away), answer the committed offset, and stop.
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
    seg: Option<Segmenter>,
    /// Uploads started, in offset order, until their commit.
    uploads: VecDeque<Upload>,
    /// Closed segments waiting for an upload slot.
    queued: VecDeque<Segment>,
    next_ticket: u64,
    /// The end of the in-order run of uploaded files: committed, or pending in `pace`.
    committed: Option<i64>,
    pace: CommitPace,
    draining: Option<RpcReplyPort<Option<i64>>>,
    /// False once the group has taken the partition away (assignment lost): files still go to
    /// S3, but this member's commits would be refused, and a synchronous one would stall.
    may_commit: bool,
    plan_failures: u32,
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
        sink_events::sink_started(args.partition);
        myself.send_message(SinkMsg::Plan)?;
        Ok(SinkState {
            seg: None,
            uploads: VecDeque::new(),
            queued: VecDeque::new(),
            next_ticket: 0,
            committed: None,
            pace: CommitPace::new(args.commit_interval),
            draining: None,
            may_commit: true,
            plan_failures: 0,
            args,
        })
    }

    async fn post_stop(&self, _: ActorRef<SinkMsg>, st: &mut Self::State) -> Result<(), ActorProcessingErr> {
        st.uploads.clear();
        sink_events::sink_buffer(st.args.partition, 0);
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
            SinkMsg::Append(records) => st.append(&myself, records),
            SinkMsg::Rotate(id) => {
                let mut out = Vec::new();
                if let Some(seg) = &mut st.seg {
                    seg.rotate(id, &mut out);
                }
                st.start_uploads(&myself, out);
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
                st.start_uploads(&myself, out);
                st.draining = Some(reply);
                st.finish_drain_if_idle(&myself).await;
            }
            SinkMsg::GetStatus(reply) => {
                let _ = reply.send(SinkStatus {
                    partition: st.args.partition,
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
    async fn plan(&mut self, myself: &ActorRef<SinkMsg>) -> Result<(), ActorProcessingErr> {
        let a = &self.args;
        let attempt = async {
            let in_kafka = a.source.committed(a.partition).await.map_err(|e| chain(&e))?;
            let committed = in_kafka.max(a.gate.last_commit());
            let low = a.source.low_watermark(a.partition).await.map_err(|e| chain(&e))?;
            let plan = resume::plan(&*a.store, &a.layout, a.partition, committed, low, a.flush_size)
                .await
                .map_err(|e| chain(&e))?;
            Ok::<_, String>((committed, low, plan))
        };
        match attempt.await {
            Ok((committed, low, plan)) => {
                sink_events::sink_planned(a.partition, committed, &plan);
                self.committed = committed;
                self.seg = Some(Segmenter::new(
                    a.layout.clone(),
                    a.partition,
                    a.flush_size,
                    plan.start,
                    plan.existing,
                ));
                a.gate.reset();
                a.source
                    .attach(a.partition, myself.clone(), plan.start, committed.unwrap_or(low))?;
            }
            Err(e) => {
                self.plan_failures += 1;
                if self.plan_failures >= PLAN_ATTEMPTS {
                    // Past this, the sink fails: its supervisor restarts it within the restart
                    // budget, and the restart is counted and alerted on.
                    return Err(format!(
                        "partition {}: cannot work out where to resume after {PLAN_ATTEMPTS} attempts: {e}",
                        a.partition
                    )
                    .into());
                }
                let delay = supervisors::backoff::delays(PLAN_RETRY_MIN, PLAN_RETRY_MAX)
                    .nth(self.plan_failures as usize - 1)
                    .unwrap_or(PLAN_RETRY_MAX);
                sink_events::sink_plan_failed(a.partition, &e, delay);
                myself.send_after(delay, || SinkMsg::Plan);
            }
        }
        Ok(())
    }

    fn append(&mut self, myself: &ActorRef<SinkMsg>, records: Vec<Record>) {
        let Some(seg) = &mut self.seg else {
            // Not attached yet, so the router cannot have sent these; drop them all the same.
            self.args.gate.release(records.len() as u64);
            return;
        };
        let (partition, n) = (self.args.partition, records.len() as u64);
        let mut out = Vec::new();
        for rec in &records {
            let (pushed, gap) = seg.push(rec, &mut out);
            match pushed {
                Pushed::Stale | Pushed::Skipped => self.args.gate.release(1),
                Pushed::Buffered { opened: Some(id) } => {
                    let delay = rotate_delay(self.args.rotate_interval, rec.timestamp_ms, unix_ms());
                    myself.send_after(delay, move || SinkMsg::Rotate(id));
                }
                Pushed::Buffered { opened: None } | Pushed::DeadLettered => {}
            }
            if let Some((from, to)) = gap {
                sink_events::offsets_missing(&self.args.stats, partition, from, to);
            }
        }
        sink_events::records_consumed(&self.args.stats, partition, n);
        sink_events::sink_buffer(partition, seg.buffered());
        self.start_uploads(myself, out);
    }

    /// Queues closed segments and starts as many uploads as `max.inflight.uploads` allows.
    fn start_uploads(&mut self, myself: &ActorRef<SinkMsg>, segments: Vec<Segment>) {
        self.queued.extend(segments);
        let in_flight = self.uploads.iter().filter(|u| !u.done).count();
        let free = self.args.max_inflight_uploads.saturating_sub(in_flight);
        for seg in self.queued.drain(..free.min(self.queued.len())).collect::<Vec<_>>() {
            let ticket = self.next_ticket;
            self.next_ticket += 1;
            let (store, me, partition) = (self.args.store.clone(), myself.clone(), self.args.partition);
            let (gate, reach) = (self.args.gate.clone(), self.args.reach.clone());
            let (key, end, records, bytes, dead_letter, first_timestamp_ms) = (
                seg.key.clone(),
                seg.meta.end_offset,
                seg.meta.records,
                seg.body.len(),
                seg.dead_letter,
                seg.first_timestamp_ms,
            );
            let task = TaskGuard::spawn(async move {
                let result = put_with_retry(&*store, &gate, &reach, partition, &seg).await;
                let _ = me.send_message(SinkMsg::Uploaded { ticket, result });
            });
            self.uploads.push_back(Upload {
                ticket,
                key,
                end,
                records,
                bytes,
                dead_letter,
                first_timestamp_ms,
                started: Instant::now(),
                done: false,
                _task: task,
            });
        }
        if let Some(seg) = &self.seg {
            sink_events::sink_buffer(self.args.partition, seg.buffered());
        }
    }

    async fn uploaded(
        &mut self,
        myself: &ActorRef<SinkMsg>,
        ticket: u64,
        result: Result<PutOutcome, S3Error>,
    ) -> Result<(), ActorProcessingErr> {
        // Only a conflict comes back as an error: the plan was wrong, so start over from S3.
        result?;
        let partition = self.args.partition;
        if let Some(u) = self.uploads.iter_mut().find(|u| u.ticket == ticket) {
            u.done = true;
            sink_events::file_uploaded(
                &self.args.stats,
                partition,
                &sink_events::UploadedFile {
                    key: &u.key,
                    bytes: u.bytes,
                    dead_letter: u.dead_letter,
                    took: u.started.elapsed(),
                    waited: u.first_timestamp_ms.and_then(|ts| {
                        let age = unix_ms() - ts;
                        (age >= 0).then(|| Duration::from_millis(age as u64))
                    }),
                },
            );
            if let (Some(landed), false) = (&self.args.landed, u.dead_letter) {
                landed.send(partition, &u.key);
            }
        }
        let (mut end, mut records) = (None, 0);
        while self.uploads.front().is_some_and(|u| u.done) {
            if let Some(u) = self.uploads.pop_front() {
                end = Some(u.end);
                records += u.records;
            }
        }
        if let Some(end) = end {
            self.committed = Some(end);
            self.args.gate.release(records);
            self.args.gate.note_commit(end);
            let more_coming = !self.uploads.is_empty() || !self.queued.is_empty();
            let next = self.pace.offer(end, more_coming, Instant::now());
            self.commit(myself, next).await;
        }
        self.start_uploads(myself, Vec::new());
        self.finish_drain_if_idle(myself).await;
        Ok(())
    }

    /// Does what the commit pacing says: an asynchronous commit (unless the group took the
    /// partition away), or a wake-up later.
    async fn commit(&mut self, myself: &ActorRef<SinkMsg>, next: Next) {
        match next {
            Next::Commit(end) if self.may_commit => {
                let partition = self.args.partition;
                match self.args.source.commit(partition, end, false).await {
                    Ok(()) => sink_events::committed(&self.args.stats, partition, end),
                    Err(e) => sink_events::commit_error(partition, end, &chain(&e)),
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
            if let Err(e) = self.args.source.commit(self.args.partition, c, true).await {
                sink_events::commit_error(self.args.partition, c, &chain(&e));
            }
        }
        if let Some(reply) = self.draining.take() {
            let _ = reply.send(self.committed);
        }
        myself.stop(Some("drained".into()));
    }
}
