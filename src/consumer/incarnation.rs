//! One incarnation of the consumer actor's Kafka side (the group consumer, the router thread and
//! the directory of its sinks), and how the next incarnation retires it.

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};

use super::context::{close_when_unshared, SinkConsumerContext};
use super::directory::Directory;
use super::router::RouterCmd;

/// One incarnation's Kafka side.
pub(super) struct Incarnation {
    pub consumer: Arc<BaseConsumer<SinkConsumerContext>>,
    pub router: mpsc::Sender<RouterCmd>,
    pub thread: Option<std::thread::JoinHandle<()>>,
    pub directory: Arc<Directory>,
}

impl Incarnation {
    /// Ends this incarnation: its router stopped at once and its consumer closed (it leaves the
    /// group, so the next one is assigned at once). Its sinks were stopped by their supervisor
    /// before this incarnation's successor started (see [`crate::pipeline::tree`]): nothing is
    /// left to drain, and what they uploaded but did not commit is skipped by the next sinks'
    /// resume plans.
    pub async fn retire(self, timeout: Duration) {
        let Incarnation {
            consumer,
            router,
            thread,
            directory,
        } = self;
        drop(directory.take_sinks());
        if thread.as_ref().is_some_and(|t| !t.is_finished()) {
            let (done_tx, done_rx) = mpsc::channel();
            let _ = router.send(RouterCmd::Shutdown {
                deadline: Instant::now(),
                done: done_tx,
            });
            let _ = tokio::task::spawn_blocking(move || {
                let _ = done_rx.recv_timeout(timeout);
                if let Some(t) = thread {
                    let _ = t.join();
                }
            })
            .await;
        }
        consumer.unsubscribe();
        close_when_unshared(consumer).await;
    }
}
