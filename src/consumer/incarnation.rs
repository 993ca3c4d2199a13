//! One incarnation of the consumer actor's Kafka side (the group consumer, the router thread and
//! the directory of its sinks), and how the next incarnation retires it.

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use ractor::ActorRef;
use rdkafka::consumer::{BaseConsumer, Consumer};
use supervisors::SupervisorMsg;

use super::context::{close_when_unshared, SinkConsumerContext};
use super::directory::Directory;
use super::rebalance::drain_sinks;
use super::router::RouterCmd;

/// One incarnation's Kafka side.
pub(super) struct Incarnation {
    pub consumer: Arc<BaseConsumer<SinkConsumerContext>>,
    pub router: mpsc::Sender<RouterCmd>,
    pub thread: Option<std::thread::JoinHandle<()>>,
    pub directory: Arc<Directory>,
}

impl Incarnation {
    /// Ends this incarnation: its sinks drained (committing what they uploaded) and stopped, its
    /// consumer closed (it leaves the group, so the next one is assigned at once).
    pub async fn retire(self, sinks: &ActorRef<SupervisorMsg>, timeout: Duration) {
        let Incarnation {
            consumer,
            router,
            thread,
            directory,
        } = self;
        let alive = thread.as_ref().is_some_and(|t| !t.is_finished());
        if alive {
            let (done_tx, done_rx) = mpsc::channel();
            let deadline = Instant::now() + timeout;
            let _ = router.send(RouterCmd::Shutdown {
                deadline,
                done: done_tx,
            });
            let _ = tokio::task::spawn_blocking(move || {
                let _ = done_rx.recv_timeout(timeout + Duration::from_secs(5));
                if let Some(t) = thread {
                    let _ = t.join();
                }
            })
            .await;
        } else {
            drain_sinks(directory.take_sinks(), true, timeout).await;
        }
        // Sinks that never attached (still planning) read through the old consumer too: stop
        // them (nothing of theirs is committed past S3); the group's next assignment starts new
        // ones.
        for child in sinks.get_children() {
            if child.is_message_type_of::<crate::sink::SinkMsg>() == Some(true) {
                child.stop(Some("the consumer restarted".into()));
            }
        }
        consumer.unsubscribe();
        close_when_unshared(consumer).await;
    }
}
