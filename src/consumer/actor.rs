//! The consumer side as one supervised actor, `consumer`, first child of the rest-for-one
//! `sinks` supervisor. It owns the group consumer and the router thread, and starts and stops
//! sink actors under its sibling `partitions` supervisor as the group assigns and revokes
//! partitions (see [`crate::pipeline::tree`]).
//!
//! The router thread is watched: whenever it ends other than by a drain (a panic), a notice
//! comes back and fails this actor. Its supervisor then stops `partitions` (and with it every
//! sink, which read through this incarnation), restarts this actor under its intensity like any
//! actor (`tickstream_actor_restarts_total{actor="consumer"}`), and starts `partitions` again.
//! The new incarnation first retires what the old one left: a live router is told to drain and
//! leave; then the old consumer is closed (it leaves the group), and a new one joins. It starts
//! sinks once `partitions` has started. When `partitions` restarts on its own (its sinks failed
//! past its intensity), this actor starts a new sink for each partition it holds, under the
//! new `partitions`. Nothing is committed that is not in S3, so nothing is lost or doubled.

use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use rdkafka::consumer::BaseConsumer;
use supervisors::SupervisorMsg;

use super::context::{close_when_unshared, SinkConsumerContext};
use super::incarnation::Incarnation;
use super::join::Joined;
use super::rebalance::Committed;
use super::router::RouterCmd;
use super::Topics;
use crate::config::KafkaConfig;
use crate::kafka::token::TokenCell;
use crate::record::TopicPartition;
use crate::s3::S3SegmentStore;
use crate::sink::factory::SinkSettings;
use crate::telemetry::reachability::Reachability;

type GroupConsumer = BaseConsumer<SinkConsumerContext>;

/// What every incarnation is built from.
#[derive(Clone)]
pub struct ConsumerArgs {
    pub kafka: KafkaConfig,
    pub bootstrap_servers: String,
    /// The topics the sink reads.
    pub topics: Topics,
    /// The MSK IAM token (`msk_iam` mode).
    pub token: Option<TokenCell>,
    pub reach: Arc<Reachability>,
    pub sinks: SinkSettings<S3SegmentStore>,
    /// How long a drain (revocation, shutdown, retirement) may take.
    pub drain_timeout: Duration,
    /// What outlives an incarnation; shared with the pipeline.
    pub shared: Arc<ConsumerShared>,
}

/// What outlives an incarnation: the running one (for the next to retire, and for readiness
/// probes and shutdown), and the actor to ask.
#[derive(Default)]
pub struct ConsumerShared {
    pub(super) running: Mutex<Option<Incarnation>>,
    actor: Mutex<Option<ActorRef<ConsumerMsg>>>,
}

impl ConsumerShared {
    /// The `partitions` supervisor (re)started: the consumer starts its sinks there.
    pub fn partitions_started(&self, partitions: ActorRef<SupervisorMsg>) {
        if let Some(actor) = self.actor() {
            let _ = actor.cast(ConsumerMsg::PartitionsStarted(partitions));
        }
    }

    /// The current group consumer, for a readiness probe.
    pub fn consumer(&self) -> Option<Arc<GroupConsumer>> {
        let running = self.running.lock().ok()?;
        running.as_ref().map(|i| i.consumer.clone())
    }

    fn actor(&self) -> Option<ActorRef<ConsumerMsg>> {
        self.actor.lock().ok()?.clone()
    }

    /// Shutdown: consume up to the high watermarks (until `deadline`), drain every sink, leave
    /// the group and close the consumer; each drained partition's committed offset.
    pub async fn drain(&self, deadline: Instant) -> Committed {
        let Some(actor) = self.actor() else {
            return Committed::new();
        };
        let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(10);
        match actor
            .call(|reply| ConsumerMsg::Drain { deadline, reply }, Some(wait))
            .await
        {
            Ok(ractor::rpc::CallResult::Success(committed)) => committed,
            other => {
                tracing::error!("the consumer did not drain: {other:?}");
                Committed::new()
            }
        }
    }

    /// Fault injection: the router thread panics (the consumer actor then fails and is
    /// restarted, as for a real panic). False when no consumer runs.
    pub fn inject_router_panic(&self) -> bool {
        self.actor()
            .is_some_and(|a| a.send_message(ConsumerMsg::InjectPanic).is_ok())
    }
}

/// Messages of the consumer actor.
pub enum ConsumerMsg {
    /// The group assigned these partitions (paused until their sinks attach).
    Assigned(Vec<TopicPartition>),
    /// These partitions were revoked (their sinks already drained).
    Revoked(Vec<TopicPartition>),
    /// The router thread ended.
    RouterExited,
    /// Shutdown: drain, leave, close; answers the committed offsets, then stops.
    Drain {
        deadline: Instant,
        reply: RpcReplyPort<Committed>,
    },
    /// The `partitions` supervisor started (after this actor, as the tree orders them).
    PartitionsStarted(ActorRef<SupervisorMsg>),
    /// Fault injection: make the router thread panic.
    InjectPanic,
    /// Internal: the drain is over; stop.
    Drained,
}

/// The actor; see the module docs.
pub struct ConsumerActor;

pub struct ConsumerState {
    args: ConsumerArgs,
    /// The `sinks` supervisor this actor runs under (the router escalates to it).
    parent: ActorRef<SupervisorMsg>,
    /// Where this incarnation starts its sinks, once it has started.
    partitions: Option<ActorRef<SupervisorMsg>>,
    /// Partitions assigned before `partitions` started: their sinks start when it does.
    waiting: Vec<TopicPartition>,
    /// Set once this incarnation has joined the group (in `post_start`).
    joined: Option<Joined>,
    /// Set by a drain: the router's end is expected.
    draining: bool,
}

impl Actor for ConsumerActor {
    type Msg = ConsumerMsg;
    type State = ConsumerState;
    /// Its arguments, and the `sinks` supervisor it runs under.
    type Arguments = (ConsumerArgs, ActorRef<SupervisorMsg>);

    async fn pre_start(
        &self,
        myself: ActorRef<ConsumerMsg>,
        (args, parent): Self::Arguments,
    ) -> Result<ConsumerState, ActorProcessingErr> {
        // Set at once: a drain asked for while this incarnation joins waits in its mailbox, and
        // so does `partitions`' start.
        if let Ok(mut actor) = args.shared.actor.lock() {
            *actor = Some(myself);
        }
        Ok(ConsumerState {
            args,
            parent,
            partitions: None,
            waiting: Vec::new(),
            joined: None,
            draining: false,
        })
    }

    /// Retiring the last incarnation may take a drain: it runs here, after the spawn has
    /// returned, so that the sinks supervisor keeps answering meanwhile.
    async fn post_start(
        &self,
        myself: ActorRef<ConsumerMsg>,
        st: &mut ConsumerState,
    ) -> Result<(), ActorProcessingErr> {
        st.joined = Some(super::join::join(myself, &st.args, &st.parent).await?);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ConsumerMsg>,
        msg: ConsumerMsg,
        st: &mut ConsumerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ConsumerMsg::Assigned(partitions) => st.start_sinks(partitions).await,
            ConsumerMsg::PartitionsStarted(sup) => st.partitions_started(sup).await,
            ConsumerMsg::Revoked(partitions) => st.stop_sinks(&partitions).await,
            ConsumerMsg::RouterExited if st.draining => {}
            ConsumerMsg::RouterExited => return Err(st.router_ended().into()),
            ConsumerMsg::InjectPanic => st.send(RouterCmd::Panic),
            // The drain runs beside the mailbox: the router may still be waiting for its first
            // assignment, whose sinks this actor must start for the drain to finish.
            ConsumerMsg::Drain { deadline, reply } => {
                st.draining = true;
                st.drain(myself, deadline, reply);
            }
            ConsumerMsg::Drained => myself.stop(Some("drained".into())),
        }
        Ok(())
    }
}

impl ConsumerState {
    fn send(&self, cmd: RouterCmd) {
        let router = self
            .args
            .shared
            .running
            .lock()
            .ok()
            .and_then(|r| r.as_ref().map(|i| i.router.clone()));
        if let Some(router) = router {
            let _ = router.send(cmd);
        }
    }

    /// `partitions` started. The first time, the sinks of partitions assigned meanwhile start
    /// there. A later start means it restarted on its own (its sinks failed past its
    /// intensity) and its sinks are gone: each partition this consumer holds gets a new one,
    /// which resumes from S3 and the committed offset; the group membership is kept.
    async fn partitions_started(&mut self, sup: ActorRef<SupervisorMsg>) {
        let restarted = self.partitions.replace(sup).is_some();
        match (restarted, &self.joined) {
            (true, Some(joined)) => {
                let held = joined.directory.partitions();
                tracing::warn!(partitions = held.len(), "the sinks restart with their supervisor");
                self.start_sinks_with(held, true).await;
            }
            _ => {
                let waiting = std::mem::take(&mut self.waiting);
                self.start_sinks(waiting).await;
            }
        }
    }

    /// Each newly assigned partition gets a sink under `partitions` (once it has started).
    async fn start_sinks(&mut self, partitions: Vec<TopicPartition>) {
        self.start_sinks_with(partitions, false).await;
    }

    /// A sink for each of `partitions`; `renew`: each already has a slot the router routes by
    /// (its old sink is gone), kept with its position until the new sink attaches.
    async fn start_sinks_with(&mut self, partitions: Vec<TopicPartition>, renew: bool) {
        let (Some(Joined { factory, directory }), Some(sup)) = (&self.joined, &self.partitions) else {
            self.waiting.extend(partitions);
            return;
        };
        for tp in &partitions {
            let (spec, gate) = factory.spec(tp);
            match renew {
                true => self.send(RouterCmd::Renew { tp: tp.clone(), gate }),
                false => directory.prepare(tp.clone(), gate),
            }
            let id = factory.settings.sink_id(tp);
            let _ = ractor::call_t!(sup, SupervisorMsg::StopChild, 30_000, id);
            match ractor::call_t!(sup, SupervisorMsg::StartChild, 10_000, spec) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(%tp, "starting the sink failed: {e}"),
                Err(e) => tracing::error!(%tp, "the partitions supervisor did not answer: {e}"),
            }
        }
    }

    async fn stop_sinks(&mut self, partitions: &[TopicPartition]) {
        self.waiting.retain(|tp| !partitions.contains(tp));
        let (Some(Joined { factory, directory }), Some(sup)) = (&self.joined, &self.partitions) else {
            return;
        };
        for tp in partitions {
            directory.remove(tp);
            let id = factory.settings.sink_id(tp);
            let _ = ractor::call_t!(sup, SupervisorMsg::StopChild, 30_000, id);
        }
    }

    /// Why the router thread ended on its own (its panic's message, when it panicked).
    fn router_ended(&self) -> String {
        let thread = self
            .args
            .shared
            .running
            .lock()
            .ok()
            .and_then(|mut r| r.as_mut()?.thread.take());
        let why = match thread.map(std::thread::JoinHandle::join) {
            Some(Err(panic)) => panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into()),
            _ => "it returned without being asked to".into(),
        };
        format!("the consumer thread stopped: {why}")
    }

    /// Tells the router to read to the end and drain; a task waits for it, closes the consumer,
    /// answers `reply` and tells this actor to stop.
    fn drain(&self, myself: ActorRef<ConsumerMsg>, deadline: Instant, reply: RpcReplyPort<Committed>) {
        let Some(incarnation) = self.args.shared.running.lock().ok().and_then(|mut r| r.take()) else {
            let _ = reply.send(Committed::new());
            let _ = myself.cast(ConsumerMsg::Drained);
            return;
        };
        let grace = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(5);
        let Incarnation {
            consumer,
            router,
            thread,
            ..
        } = incarnation;
        let (done_tx, done_rx) = mpsc::channel();
        let _ = router.send(RouterCmd::Shutdown {
            deadline,
            done: done_tx,
        });
        tokio::spawn(async move {
            let committed = tokio::task::spawn_blocking(move || {
                let c = done_rx.recv_timeout(grace).unwrap_or_default();
                if let Some(t) = thread {
                    let _ = t.join();
                }
                c
            })
            .await
            .unwrap_or_default();
            close_when_unshared(consumer).await;
            let _ = reply.send(committed);
            let _ = myself.cast(ConsumerMsg::Drained);
        });
    }
}

/// The consumer as the first child of the `sinks` supervisor.
pub fn consumer_spec(args: ConsumerArgs, restart: supervisors::Restart) -> supervisors::ChildSpec {
    supervisors::ChildSpec::new("consumer", "consumer", restart, move |sup| {
        let args = (args.clone(), ActorRef::from(sup.clone()));
        async move {
            ConsumerActor::spawn_linked(None, ConsumerActor, args, sup)
                .await
                .map(|(a, _)| a.get_cell())
        }
    })
}
