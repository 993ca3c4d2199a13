//! The consumer loop: one thread polls the group consumer and routes each partition's records
//! to its sink actor. The records come a batch at a time from a [`FetchQueue`] that each
//! partition is forwarded to when its sink attaches; the consumer's own queue, polled every
//! round too, brings the group's events.
//!
//! It is the only place that moves the consumer: a sink *attaches* with the offset it wants to
//! start from, and the router seeks there if the consumer is elsewhere (after a sink restart,
//! or when S3 did not back the committed offset). A partition is paused from assignment until
//! its sink attaches. When a sink holds `max.buffered.records`, the router first stops polling
//! (for up to [`PAUSE_AFTER`]: uploads usually free room within milliseconds) and only then
//! pauses the partition; while a sink's upload is failing, its partition is paused at once
//! (S3 is down: the records wait in Kafka, and memory stays flat). Pausing is the slow path:
//! librdkafka drops the partition's prefetched records and fetches them again on resume, and a
//! broker that answers a fetch from the middle of a record batch wrongly (tansu 0.6
//! `memory://`) can skip records there. Either way memory stays bounded while S3 is slow or
//! down.
//!
//! `super::intake` takes each round of records and hands each partition's share to its sink.

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use ractor::ActorRef;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Offset;

use super::context::{GroupWatch, SinkConsumerContext};
use super::directory::Directory;
use super::end_targets::{self, EndTargets};
use super::fetch_queue::FetchQueue;
use super::intake::Intake;
use super::partition_list;
use super::rebalance::{drain_all, Committed};
use super::Topics;
use crate::kafka::KafkaError;
use crate::record::TopicPartition;
use crate::sink::gate::Gate;
use crate::sink::SinkMsg;
use crate::telemetry::{events, sink_events};
use supervisors::SupervisorMsg;

/// How long a full sink holds the whole router before its partition is paused instead.
pub const PAUSE_AFTER: Duration = Duration::from_secs(1);
/// How often a holding router looks again for room.
const HOLD_TICK: Duration = Duration::from_millis(1);

/// Commands to the router thread.
pub enum RouterCmd {
    /// A sink is ready for `partition` from `start`; the consumer is at `position` unless the
    /// router knows better.
    Attach {
        tp: TopicPartition,
        sink: ActorRef<SinkMsg>,
        start: i64,
        position: i64,
    },
    /// Keep consuming until every attached partition reaches its high watermark (or the
    /// deadline), drain every sink, leave the group, answer each partition's committed offset.
    Shutdown {
        deadline: Instant,
        done: mpsc::Sender<Committed>,
    },
    /// The partition's sink is gone with its supervisor and a new one starts with `gate`: stop
    /// routing to the old one, pause the partition, and seek when the new one attaches.
    Renew { tp: TopicPartition, gate: Arc<Gate> },
    /// Fault injection: panic, as a bug in this thread would (its actor then fails).
    Panic,
}

/// The router thread's state.
pub struct Router {
    pub consumer: Arc<BaseConsumer<SinkConsumerContext>>,
    /// The topics the sink reads (what it subscribed to).
    pub wanted: Topics,
    pub commands: mpsc::Receiver<RouterCmd>,
    pub directory: Arc<Directory>,
    pub runtime: tokio::runtime::Handle,
    pub drain_timeout: Duration,
    /// The consumer's group membership, from librdkafka's statistics.
    pub group: Arc<GroupWatch>,
    /// The sinks supervisor, told to escalate when a rejoin did not unstick the group
    /// membership: the root gives up, the process exits non-zero, and systemd starts a fresh one.
    pub escalate: Option<ActorRef<SupervisorMsg>>,
    /// What of each message besides its value the sinks need (keys, headers).
    pub carry: super::carry::Carry,
}

/// A member joining its group this long (since its last assign or revoke) is stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(60);

/// A shutdown in progress: what the router must reach before it drains.
struct Stopping {
    deadline: Instant,
    done: mpsc::Sender<Committed>,
    /// Each assigned partition's watermarks once the group had assigned them; `None` until
    /// the first assignment arrives (a consumer still joining its group).
    targets: Option<EndTargets>,
}

struct PendingAttach {
    tp: TopicPartition,
    sink: ActorRef<SinkMsg>,
    start: i64,
    position: i64,
    tries: u32,
}

impl Router {
    /// Runs until a [`RouterCmd::Shutdown`] (or until every sender is gone).
    pub fn run(self) {
        let mut fetched = FetchQueue::new(self.consumer.clone(), self.carry);
        let mut pending: Vec<PendingAttach> = Vec::new();
        let mut stopping: Option<Stopping> = None;
        let mut poll_errors = 0u64;
        let mut rejoined: Option<Instant> = None;
        loop {
            self.unstick(&mut rejoined);
            loop {
                match self.commands.try_recv() {
                    Ok(RouterCmd::Attach {
                        tp,
                        sink,
                        start,
                        position,
                    }) => {
                        pending.push(PendingAttach {
                            tp,
                            sink,
                            start,
                            position,
                            tries: 0,
                        });
                    }
                    Ok(RouterCmd::Renew { tp, gate }) => self.renew(&tp, gate),
                    Ok(RouterCmd::Panic) => panic!("fault injection: the consumer thread panics"),
                    Ok(RouterCmd::Shutdown { deadline, done }) => {
                        stopping = Some(Stopping {
                            deadline,
                            done,
                            targets: None,
                        });
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        if stopping.is_none() {
                            let (done, _) = mpsc::channel();
                            stopping = Some(Stopping {
                                deadline: Instant::now(),
                                done,
                                targets: None,
                            });
                        }
                        break;
                    }
                }
            }
            pending.retain_mut(|a| !self.try_attach(a, &fetched));
            self.resume_partitions_with_room();
            if self.holding() {
                std::thread::sleep(HOLD_TICK);
            } else {
                let intake = self.intake();
                let round = intake.take_round(&mut fetched, &mut poll_errors);
                intake.deliver(round);
            }
            if let Some(stop) = &mut stopping {
                match &mut stop.targets {
                    None if self.directory.assigned_once() => stop.targets = Some(self.end_targets()),
                    None => {}
                    Some(targets) => targets.read_unknown(&mut |tp| self.watermarks(tp)),
                }
                if Instant::now() >= stop.deadline {
                    tracing::warn!("shutdown deadline reached before every partition was consumed to its end");
                    break;
                }
                if stop.targets.as_ref().is_some_and(|t| self.reached(t)) {
                    break;
                }
            }
        }
        let sinks = self.directory.take_sinks();
        let committed = drain_all(&self.runtime, sinks, true, self.drain_timeout);
        self.consumer.unsubscribe();
        if let Some(stop) = stopping {
            let _ = stop.done.send(committed);
        }
    }

    /// A member stuck joining its group for [`STUCK_AFTER`] re-subscribes (a fresh JoinGroup);
    /// stuck that long again, it escalates. Never seen against MSK; seen once in a chaos soak
    /// against tansu after two broker kills within seconds and a session timeout: the member
    /// stayed in the join state without an error while records piled up.
    fn unstick(&self, rejoined: &mut Option<Instant>) {
        let Some(state) = self.group.stuck(STUCK_AFTER) else {
            if self.group.settled() {
                *rejoined = None;
            }
            return;
        };
        match rejoined {
            None => {
                events::consumer_group_stuck(&state.join_state, state.rebalance_age_ms, "re-subscribing");
                self.consumer.unsubscribe();
                let topics = self.wanted.subscription();
                let names: Vec<&str> = topics.iter().map(String::as_str).collect();
                if let Err(e) = self.consumer.subscribe(&names) {
                    tracing::error!("re-subscribing to {}: {e}", topics.join(", "));
                }
                self.group.clear();
                *rejoined = Some(Instant::now());
            }
            Some(at) if at.elapsed() >= STUCK_AFTER => {
                events::consumer_group_stuck(&state.join_state, state.rebalance_age_ms, "failing the sinks");
                if let Some(sinks) = &self.escalate {
                    let _ = sinks.cast(SupervisorMsg::Escalate(format!(
                        "the sink consumer stayed stuck joining its group ({}) after a rejoin",
                        state.join_state
                    )));
                }
                self.group.clear();
                *rejoined = Some(Instant::now());
            }
            Some(_) => {}
        }
    }

    fn intake(&self) -> Intake<'_> {
        Intake {
            consumer: &self.consumer,
            wanted: &self.wanted,
            directory: &self.directory,
            carry: self.carry,
        }
    }

    /// A new sink (with `gate`) replaces the partition's: nothing is routed until it attaches,
    /// and then from where it starts.
    fn renew(&self, tp: &TopicPartition, gate: Arc<Gate>) {
        if let Some(slot) = self.directory.lock().get_mut(tp) {
            slot.gate = gate;
            slot.sink = None;
            slot.needs_seek = true;
            slot.paused_for_room = false;
            slot.full_since = None;
            let _ = self.consumer.pause(&partition_list(tp));
        }
    }

    fn try_attach(&self, a: &mut PendingAttach, fetched: &FetchQueue<SinkConsumerContext>) -> bool {
        let mut slots = self.directory.lock();
        let Some(slot) = slots.get_mut(&a.tp) else {
            return true;
        };
        let (topic, partition) = (&*a.tp.topic, a.tp.partition);
        // The partition is still paused (since its assignment, or since its last sink died).
        if let Err(e) = fetched.take(topic, partition) {
            a.tries += 1;
            if a.tries % 50 == 1 {
                tracing::warn!(topic, partition, tries = a.tries, "{e}; retrying");
            }
            return false;
        }
        let at = slot.position.unwrap_or(a.position);
        if slot.needs_seek || at != a.start {
            if let Err(e) = self
                .consumer
                .seek(topic, partition, Offset::Offset(a.start), Duration::from_secs(5))
            {
                a.tries += 1;
                if a.tries % 50 == 1 {
                    tracing::warn!(
                        topic,
                        partition,
                        start = a.start,
                        tries = a.tries,
                        "seek failed, retrying: {e}"
                    );
                }
                return false;
            }
        }
        slot.sink = Some(a.sink.clone());
        slot.position = Some(a.start);
        slot.needs_seek = false;
        slot.paused_for_room = false;
        slot.full_since = None;
        if let Err(e) = self.consumer.resume(&partition_list(&a.tp)) {
            tracing::warn!(topic, partition, "resuming after attach: {e}");
        }
        tracing::info!(topic, partition, start = a.start, "sink attached");
        true
    }

    /// True while a sink is full but has been for less than [`PAUSE_AFTER`]: do not poll now.
    /// A sink full for longer gets its partition paused, so the others flow.
    fn holding(&self) -> bool {
        let mut slots = self.directory.lock();
        let mut hold = false;
        for (p, slot) in slots.iter_mut() {
            let Some(since) = slot.full_since else { continue };
            if slot.sink.is_none() || !slot.gate.is_full() {
                slot.full_since = None;
            } else if since.elapsed() < PAUSE_AFTER && !slot.gate.is_failing() {
                hold = true;
            } else if !slot.paused_for_room {
                slot.paused_for_room = true;
                slot.full_since = None;
                let _ = self.consumer.pause(&partition_list(p));
                sink_events::partition_paused(p, slot.gate.held(), slot.gate.is_failing());
            }
        }
        hold
    }

    fn resume_partitions_with_room(&self) {
        let mut slots = self.directory.lock();
        for (p, slot) in slots.iter_mut() {
            if slot.paused_for_room && slot.gate.has_room() && slot.sink.is_some() {
                slot.paused_for_room = false;
                let _ = self.consumer.resume(&partition_list(p));
            }
        }
    }

    /// The end of every partition the group assigned to this consumer. An assignment that
    /// cannot be read (the consumer is closing) gives no targets: the sinks drain where they
    /// are, and what they did not reach stays uncommitted for the next start.
    fn end_targets(&self) -> EndTargets {
        let assigned: Vec<TopicPartition> = match self.consumer.assignment() {
            Ok(tpl) => tpl
                .elements()
                .iter()
                .filter(|e| self.wanted.contains(e.topic()))
                .map(|e| TopicPartition::new(e.topic(), e.partition()))
                .collect(),
            Err(e) => {
                tracing::warn!("reading the assignment for shutdown: {e}");
                Vec::new()
            }
        };
        EndTargets::read(assigned, &mut |tp| self.watermarks(tp))
    }

    fn watermarks(&self, tp: &TopicPartition) -> Result<(i64, i64), KafkaError> {
        crate::kafka::watermarks::read(&*self.consumer, &tp.topic, tp.partition, end_targets::READ_TIMEOUT).map_err(
            |source| KafkaError::Partition {
                topic: tp.topic.to_string(),
                partition: tp.partition,
                op: "reading the watermarks",
                source,
            },
        )
    }

    /// Every target partition's end is known, and each is empty, halted (it takes nothing
    /// more), or attached and routed up to its high watermark.
    fn reached(&self, targets: &EndTargets) -> bool {
        let slots = self.directory.lock();
        targets.reached(|p, high| {
            slots
                .get(p)
                .is_some_and(|s| s.gate.is_halted() || (s.sink.is_some() && s.position.is_some_and(|pos| pos >= high)))
        })
    }
}
