//! How a consumer incarnation joins its group: the previous incarnation retired, a group
//! consumer with its context made and subscribed, the router thread started and watched (its
//! end, by return or by panic, comes back to the actor as [`ConsumerMsg::RouterExited`]).

use std::sync::{mpsc, Arc};

use ractor::{ActorProcessingErr, ActorRef};
use rdkafka::consumer::{BaseConsumer, Consumer};
use supervisors::SupervisorMsg;

use super::actor::{ConsumerArgs, ConsumerMsg};
use super::commit_retry::CommitRetry;
use super::context::{GroupWatch, SinkConsumerContext};
use super::directory::Directory;
use super::incarnation::Incarnation;
use super::partition_source::KafkaPartitionSource;
use super::rebalance::Listener;
use super::router::Router;
use crate::kafka::client_config;
use crate::s3::S3SegmentStore;
use crate::sink::factory::SinkFactory;

type GroupConsumer = BaseConsumer<SinkConsumerContext>;
type Factory = SinkFactory<S3SegmentStore, KafkaPartitionSource>;

/// What a joined incarnation starts its sinks with.
pub(super) struct Joined {
    pub factory: Arc<Factory>,
    pub directory: Arc<Directory>,
}

/// Casts [`ConsumerMsg::RouterExited`] when the router thread ends, by return or by panic.
struct ExitNotice(ActorRef<ConsumerMsg>);

impl Drop for ExitNotice {
    fn drop(&mut self) {
        let _ = self.0.cast(ConsumerMsg::RouterExited);
    }
}

/// Retires the previous incarnation, if any, then joins the group: the consumer, its
/// subscription and the router thread (which escalates to `parent` when the join is stuck).
pub(super) async fn join(
    myself: ActorRef<ConsumerMsg>,
    args: &ConsumerArgs,
    parent: &ActorRef<SupervisorMsg>,
) -> Result<Joined, ActorProcessingErr> {
    let previous = args.shared.running.lock().ok().and_then(|mut r| r.take());
    if let Some(old) = previous {
        tracing::warn!("the consumer restarts: draining what the last one left, then joining the group anew");
        old.retire(args.drain_timeout).await;
    }
    let directory = Arc::new(Directory::default());
    let commits = Arc::new(CommitRetry::default());
    let listener = Listener {
        directory: directory.clone(),
        consumer: myself.clone(),
        runtime: tokio::runtime::Handle::current(),
        drain_timeout: args.drain_timeout,
        commits: commits.clone(),
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
    let (weak, tx, source_commits) = (Arc::downgrade(&consumer), router_tx.clone(), commits.clone());
    let factory = Arc::new(SinkFactory {
        settings: args.sinks.clone(),
        source_for: Box::new(move |topic: &str| {
            Arc::new(KafkaPartitionSource {
                consumer: weak.clone(),
                topic: topic.to_owned(),
                router: tx.clone(),
                commits: source_commits.clone(),
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
        escalate: Some(parent.clone()),
        carry: super::carry::Carry::of(&args.sinks.rules),
    };
    super::commit_retry::spawn_checker(Arc::downgrade(&consumer), commits, directory.clone())
        .map_err(|e| format!("starting the commit checker thread: {e}"))?;
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
