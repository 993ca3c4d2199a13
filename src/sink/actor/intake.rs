//! How records enter a sink: where it resumes (the plan, retried with backoff until S3 and
//! Kafka answer), and each record pushed through the segmenter in offset order, a directory's
//! files in S3 listed when a replayed record first reaches it.

use std::collections::VecDeque;
use std::time::Duration;

use futures::StreamExt;

use ractor::{ActorProcessingErr, ActorRef};

use super::{SinkArgs, SinkMsg, SinkState, PLAN_ATTEMPTS, PLAN_RETRY_MAX, PLAN_RETRY_MIN};
use crate::error::chain;
use crate::s3::SegmentStore;
use crate::sink::resume::{self, PlanError};
use crate::sink::rotation::{rotate_delay, unix_ms};
use crate::sink::segmenter::{Pushed, Segmenter};
use crate::sink::source::Committed;
use crate::sink::source::PartitionSource;
use crate::sink::Record;
use crate::telemetry::sink_events;

impl<S: SegmentStore, P: PartitionSource> SinkState<S, P> {
    pub(super) async fn plan(&mut self, myself: &ActorRef<SinkMsg>) -> Result<(), ActorProcessingErr> {
        let a = &self.args;
        let (tp, partition) = (&a.tp, a.tp.partition);
        let attempt = async {
            // This process's own last commit of the partition (a restarted sink) is a checkpoint
            // even where the group's answer lags behind it.
            let in_kafka = a.source.committed(partition).await?;
            let committed = match a.gate.last_commit() {
                Some(ours) if in_kafka.is_none_or(|c| ours >= c.offset) => Some(Committed::checkpoint(ours)),
                _ => in_kafka,
            };
            let (low, high) = a.source.watermarks(partition).await?;
            let dead_in_s3 = a.dead_topic.is_none();
            let files = a.files();
            let (plan, list_below) = match a.rules.partitioner.is_default() {
                true => (
                    resume::plan(files, partition, committed, low, a.rules.flush_size, dead_in_s3).await?,
                    high,
                ),
                false => {
                    let plan = resume::plan_partitioned(files, partition, committed, low, dead_in_s3).await?;
                    let below = resume::list_below(files, plan.start, high).await?;
                    (plan, below)
                }
            };
            Ok::<_, PlanError>((committed, low, plan, list_below))
        };
        match attempt.await {
            Ok((committed, low, plan, list_below)) => {
                sink_events::sink_planned(
                    tp,
                    &sink_events::Resumed {
                        committed: committed.map(|c| c.offset),
                        checkpoint: committed.is_some_and(|c| c.checkpoint),
                        start: plan.start,
                        skip_files: plan.existing.len(),
                        committed_not_in_s3: plan.committed_not_in_s3,
                        foreign_commit: plan.foreign_commit,
                    },
                );
                let committed = committed.map(|c| c.offset);
                self.committed = committed;
                let mut seg = Segmenter::new(
                    a.layout.clone(),
                    partition,
                    a.rules.clone(),
                    plan.start,
                    plan.existing,
                    plan.existing_dead,
                );
                seg.set_list_below(list_below);
                self.seg = Some(seg);
                a.gate.reset();
                a.source
                    .attach(partition, myself.clone(), plan.start, committed.unwrap_or(low))?;
            }
            Err(e) => {
                self.plan_failures += 1;
                if self.plan_failures >= PLAN_ATTEMPTS {
                    // Past this, the sink fails: its supervisor restarts it within the restart
                    // budget, and the restart is counted and alerted on.
                    let e = chain(&e);
                    return Err(
                        format!("{tp}: cannot work out where to resume after {PLAN_ATTEMPTS} attempts: {e}").into(),
                    );
                }
                let delay = supervisors::backoff::delays(PLAN_RETRY_MIN, PLAN_RETRY_MAX)
                    .nth(self.plan_failures as usize - 1)
                    .unwrap_or(PLAN_RETRY_MAX);
                sink_events::sink_plan_failed(tp, &chain(&e), e.class(), delay);
                myself.send_after(delay, || SinkMsg::Plan);
            }
        }
        Ok(())
    }

    pub(super) async fn append(&mut self, myself: &ActorRef<SinkMsg>, records: Vec<Record>) {
        if !self.waiting.is_empty() {
            // Behind records still waiting for a listing: offset order is kept.
            self.waiting.extend(records);
            return;
        }
        self.push(myself, records.into()).await;
    }

    /// Pushes `records` in order, listing a directory's existing files or fetching a schema
    /// when the segmenter asks (then pushing the record again); if that fails, the rest waits
    /// for `Retry`.
    pub(super) async fn push(&mut self, myself: &ActorRef<SinkMsg>, mut records: VecDeque<Record>) {
        let Some(seg) = &mut self.seg else {
            // Not attached yet, so the router cannot have sent these; drop them all the same.
            self.args.gate.release(records.len() as u64);
            return;
        };
        let a = &self.args;
        let tp = &a.tp;
        let (mut taken, mut out) = (0, Vec::new());
        seg.set_clock(unix_ms());
        while let Some(rec) = records.front() {
            let (pushed, gap) = seg.push(rec, &mut out);
            // The segmenter asked for something first: the record is pushed again once it is
            // there, or waits (with the records behind it) for `Retry`.
            let asked = match &pushed {
                Pushed::NeedsListing(dir) => {
                    let ahead =
                        seg.unlisted_ahead(dir, records.iter().skip(1), LOOK_AHEAD_RECORDS, LISTINGS_AT_ONCE - 1);
                    Some(list(a, seg, dir, ahead, &mut self.list_failures).await)
                }
                Pushed::NeedsSchema(id) => Some(fetch_schema(a, *id, rec.offset, &mut self.schema_failures).await),
                _ => None,
            };
            match asked {
                Some(Ok(())) => continue,
                Some(Err(delay)) => {
                    myself.send_after(delay, || SinkMsg::Retry);
                    self.waiting = std::mem::take(&mut records);
                    break;
                }
                None => {}
            }
            match pushed {
                Pushed::NeedsListing(_) | Pushed::NeedsSchema(_) => {}
                Pushed::Stale | Pushed::Skipped | Pushed::Ignored => a.gate.release(1),
                Pushed::Buffered { opened: Some(id) } | Pushed::DeadLettered { opened: Some(id) } => {
                    let delay = rotate_delay(a.rotate_interval, rec.timestamp_ms, unix_ms());
                    if let Some(wake) = self.timers.add(id, delay, tokio::time::Instant::now()) {
                        myself.send_after(wake, || SinkMsg::RotateDue);
                    }
                }
                Pushed::Buffered { opened: None } | Pushed::DeadLettered { opened: None } => {}
                Pushed::Halted(reason) => {
                    if !a.gate.is_halted() {
                        a.gate.halt();
                        sink_events::sink_halted(tp, rec.offset, &reason);
                    }
                    a.gate.release(1);
                }
            }
            if let Some((from, to)) = gap {
                sink_events::offsets_missing(&a.stats, tp, from, to);
            }
            taken += 1;
            records.pop_front();
        }
        sink_events::records_consumed(&a.stats, tp, taken);
        sink_events::sink_buffer(tp, seg.buffered(), seg.buffered_bytes());
        a.stats.held(tp, a.gate.held());
        self.start_uploads(myself, out);
    }
}

/// The delay before the `failures`-th retry (counting from 0), 100 ms doubling to 30 s.
fn retry_delay(failures: &mut u32) -> Duration {
    let delay = supervisors::backoff::delays(PLAN_RETRY_MIN, PLAN_RETRY_MAX)
        .nth(*failures as usize)
        .unwrap_or(PLAN_RETRY_MAX);
    *failures += 1;
    delay
}

/// Directories listed at once when a replayed record asks for one: its own and those the
/// records behind it will ask for.
const LISTINGS_AT_ONCE: usize = 16;
/// How many records behind it are looked at for those directories.
const LOOK_AHEAD_RECORDS: usize = 4_096;

/// Lists `dir`'s files in S3 into the segmenter, and `ahead`'s, all at once; `Err`: S3 failed
/// for `dir`, try again after this long (what did list is kept; a directory of `ahead` that
/// failed is asked for again when its record comes).
async fn list<S: SegmentStore, P: PartitionSource>(
    a: &SinkArgs<S, P>,
    seg: &mut Segmenter,
    dir: &str,
    ahead: Vec<String>,
    failures: &mut u32,
) -> Result<(), Duration> {
    let tp = &a.tp;
    let (files, from, span) = (a.files(), seg.next_offset(), a.rules.span_limit());
    let dirs = std::iter::once(dir.to_owned()).chain(ahead);
    let listings: Vec<_> = futures::stream::iter(dirs)
        .map(|d| async move {
            let listed = resume::dir_spans(files, &d, tp.partition, from, span).await;
            (d, listed)
        })
        .buffer_unordered(LISTINGS_AT_ONCE)
        .collect()
        .await;
    let mut result = Ok(());
    for (d, listed) in listings {
        match listed {
            Ok(files) => {
                // Files an earlier run left (an upload cut off by a crash may have landed
                // unannounced): the watcher loads any it has not yet.
                if let Some(landed) = &a.landed {
                    files.iter().for_each(|(key, _)| landed.send(tp, key));
                }
                seg.add_listing(&d, files.into_iter().map(|(_, f)| f).collect());
            }
            Err(e) if d == dir => {
                let delay = retry_delay(failures);
                let why = format!("listing {dir}: {}", chain(&e));
                sink_events::sink_plan_failed(tp, &why, e.class(), delay);
                result = Err(delay);
            }
            Err(_) => {}
        }
    }
    if result.is_ok() {
        *failures = 0;
    }
    result
}

/// Fetches schema `id` (the record at `offset` needs it) into the converter's cache, found or
/// unusable; `Err`: the registry did not answer, try again after this long (the partition
/// waits: nothing is dead-lettered for a registry that is down).
async fn fetch_schema<S, P>(a: &SinkArgs<S, P>, id: u32, offset: i64, failures: &mut u32) -> Result<(), Duration> {
    let fetched = match &a.registry {
        Some(registry) => registry.fetch(id).await,
        None => Err(crate::registry::RegistryError::Config(
            "value.converter = avro needs value.converter.schema.registry.url".into(),
        )),
    };
    match fetched {
        Ok(()) => {
            *failures = 0;
            Ok(())
        }
        Err(e) => {
            let delay = retry_delay(failures);
            sink_events::schema_wait(&a.tp, offset, id, &chain(&e), e.class(), delay);
            Err(delay)
        }
    }
}
