//! The consumer side as one supervised actor, `consumer`, under the sinks supervisor. It owns
//! the group consumer and the router thread, and starts and stops sink actors as the group
//! assigns and revokes partitions.
//!
//! The router thread is watched: whenever it ends other than by a drain (a panic), a notice
//! comes back and fails this actor, so the sinks supervisor restarts it under its restart budget
//! like any actor (`tickstream_actor_restarts_total{actor="consumer"}`). The new incarnation
//! first retires what the old one left: a live router is told to drain and leave; otherwise the
//! old sinks are drained here (each commits what it uploaded, through the old consumer) and the
//! rest of the old sinks are stopped; then the old consumer is closed (it leaves the group),
//! and a new one joins. Nothing is committed that is not in S3, so nothing is lost or doubled.

use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use rdkafka::consumer::{BaseConsumer, Consumer};
use supervisors::SupervisorMsg;

use super::context::{close_when_unshared, GroupWatch, SinkConsumerContext};
use super::directory::Directory;
use super::incarnation::Incarnation;
use super::partition_source::KafkaPartitionSource;
use super::rebalance::{Committed, Listener};
use super::router::{Router, RouterCmd};
use super::Topics;
use crate::config::KafkaConfig;
use crate::kafka::client_config;
use crate::kafka::token::TokenCell;
use crate::record::TopicPartition;
use crate::s3::S3SegmentStore;
use crate::sink::factory::{SinkFactory, SinkSettings};
use crate::telemetry::reachability::Reachability;

type GroupConsumer = BaseConsumer<SinkConsumerContext>;
type Factory = SinkFactory<S3SegmentStore, KafkaPartitionSource>;

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
    running: Mutex<Option<Incarnation>>,
    actor: Mutex<Option<ActorRef<ConsumerMsg>>>,
}

impl ConsumerShared {
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
    /// Fault injection: make the router thread panic.
    InjectPanic,
    /// Internal: the drain is over; stop.
    Drained,
}

/// Casts [`ConsumerMsg::RouterExited`] when the router thread ends, by return or by panic.
struct ExitNotice(ActorRef<ConsumerMsg>);

impl Drop for ExitNotice {
    fn drop(&mut self) {
        let _ = self.0.cast(ConsumerMsg::RouterExited);
    }
}

/// The actor; see the module docs.
pub struct ConsumerActor;

pub struct ConsumerState {
    args: ConsumerArgs,
    sinks: ActorRef<SupervisorMsg>,
    /// Set once this incarnation has joined the group (in `post_start`).
    joined: Option<Joined>,
    /// Set by a drain: the router's end is expected.
    draining: bool,
}

/// What a joined incarnation starts its sinks with.
struct Joined {
    factory: Arc<Factory>,
    directory: Arc<Directory>,
}

impl Actor for ConsumerActor {
    type Msg = ConsumerMsg;
    type State = ConsumerState;
    /// Its arguments, and the sinks supervisor it runs under (where it starts the sinks).
    type Arguments = (ConsumerArgs, ActorRef<SupervisorMsg>);

    async fn pre_start(
        &self,
        myself: ActorRef<ConsumerMsg>,
        (args, sinks): Self::Arguments,
    ) -> Result<ConsumerState, ActorProcessingErr> {
        // Set at once: a drain asked for while this incarnation joins waits in its mailbox.
        if let Ok(mut actor) = args.shared.actor.lock() {
            *actor = Some(myself);
        }
        Ok(ConsumerState {
            args,
            sinks,
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
        st.joined = Some(join(myself, &st.args, &st.sinks).await?);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ConsumerMsg>,
        msg: ConsumerMsg,
        st: &mut ConsumerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ConsumerMsg::Assigned(partitions) => st.start_sinks(&partitions).await,
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

/// Retires the previous incarnation, if any, then joins the group: the consumer, its
/// subscription and the router thread.
async fn join(
    myself: ActorRef<ConsumerMsg>,
    args: &ConsumerArgs,
    sinks: &ActorRef<SupervisorMsg>,
) -> Result<Joined, ActorProcessingErr> {
    let previous = args.shared.running.lock().ok().and_then(|mut r| r.take());
    if let Some(old) = previous {
        tracing::warn!("the consumer restarts: draining what the last one left, then joining the group anew");
        old.retire(sinks, args.drain_timeout).await;
    }
    let directory = Arc::new(Directory::default());
    let listener = Listener {
        directory: directory.clone(),
        consumer: myself.clone(),
        runtime: tokio::runtime::Handle::current(),
        drain_timeout: args.drain_timeout,
    };
    let group = Arc::new(GroupWatch::default());
    let context = SinkConsumerContext {
        wanted: args.topics.clone(),
        listener: Arc::new(listener),
        token: args.token.clone(),
        group: group.clone(),
        reach: args.reach.clone(),
    };
    let consumer: GroupConsumer = client_config::consumer(&args.kafka, &args.bootstrap_servers)
        .create_with_context(context)
        .map_err(|e| format!("creating the sink consumer: {e}"))?;
    let topics = args.topics.subscription();
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&names)
        .map_err(|e| format!("subscribing to {}: {e}", topics.join(", ")))?;
    let consumer = Arc::new(consumer);
    let (router_tx, router_rx) = mpsc::channel();
    let (weak, tx) = (Arc::downgrade(&consumer), router_tx.clone());
    let factory = Arc::new(SinkFactory {
        settings: args.sinks.clone(),
        source_for: Box::new(move |topic: &str| {
            Arc::new(KafkaPartitionSource {
                consumer: weak.clone(),
                topic: topic.to_owned(),
                router: tx.clone(),
            })
        }),
    });
    let router = Router {
        consumer: consumer.clone(),
        wanted: args.topics.clone(),
        commands: router_rx,
        directory: directory.clone(),
        runtime: tokio::runtime::Handle::current(),
        drain_timeout: args.drain_timeout,
        group,
        escalate: Some(sinks.clone()),
    };
    let notice = ExitNotice(myself.clone());
    let thread = std::thread::Builder::new()
        .name("sink-consumer".into())
        .spawn(move || {
            let _notice = notice;
            router.run();
        })
        .map_err(|e| format!("starting the consumer thread: {e}"))?;
    if let Ok(mut running) = args.shared.running.lock() {
        *running = Some(Incarnation {
            consumer,
            router: router_tx,
            thread: Some(thread),
            directory: directory.clone(),
        });
    }
    Ok(Joined { factory, directory })
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

    /// Each assigned partition gets a sink, replacing one a previous incarnation left.
    async fn start_sinks(&self, partitions: &[TopicPartition]) {
        let Some(Joined { factory, directory }) = &self.joined else {
            return;
        };
        for tp in partitions {
            let (spec, gate) = factory.spec(tp);
            directory.prepare(tp.clone(), gate);
            let id = factory.settings.sink_id(tp);
            let _ = ractor::call_t!(self.sinks, SupervisorMsg::StopChild, 30_000, id);
            match ractor::call_t!(self.sinks, SupervisorMsg::StartChild, 10_000, spec) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(%tp, "starting the sink failed: {e}"),
                Err(e) => tracing::error!(%tp, "the sinks supervisor did not answer: {e}"),
            }
        }
    }

    async fn stop_sinks(&self, partitions: &[TopicPartition]) {
        let Some(Joined { factory, directory }) = &self.joined else {
            return;
        };
        for tp in partitions {
            directory.remove(tp);
            let id = factory.settings.sink_id(tp);
            let _ = ractor::call_t!(self.sinks, SupervisorMsg::StopChild, 30_000, id);
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

/// The consumer as a child of the sinks supervisor.
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
