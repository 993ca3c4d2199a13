//! Rebalances: assignments start sink actors (through the consumer actor); revocations drain the
//! partitions' sinks before the group takes them away.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ractor::ActorRef;

use super::actor::ConsumerMsg;
use super::commit_retry::CommitRetry;
use super::context::RebalanceListener;
use super::directory::Directory;
use crate::record::TopicPartition;
use crate::sink::SinkMsg;
use crate::telemetry::sink_events;

/// Turns rebalances into sink starts (by the consumer actor) and synchronous drains.
pub struct Listener {
    pub directory: Arc<Directory>,
    /// The consumer actor: it starts and stops the sinks.
    pub consumer: ActorRef<ConsumerMsg>,
    pub runtime: tokio::runtime::Handle,
    pub drain_timeout: Duration,
    /// Refused commits of before an assignment or a revocation are never made again.
    pub commits: Arc<CommitRetry>,
}

impl RebalanceListener for Listener {
    fn assigned(&self, partitions: &[TopicPartition]) {
        self.commits.forget(partitions);
        self.directory.mark_assigned();
        if let Err(e) = self.consumer.cast(ConsumerMsg::Assigned(partitions.to_vec())) {
            tracing::error!(
                ?partitions,
                "the consumer actor is gone; no sink starts for the assignment: {e}"
            );
        }
    }

    fn revoking(&self, partitions: &[TopicPartition], lost: bool) {
        let sinks: Vec<(TopicPartition, ActorRef<SinkMsg>)> = partitions
            .iter()
            .filter_map(|tp| self.directory.remove(tp).map(|s| (tp.clone(), s)))
            .collect();
        drain_all(&self.runtime, sinks, !lost, self.drain_timeout);
        self.commits.forget(partitions);
        let _ = self.consumer.cast(ConsumerMsg::Revoked(partitions.to_vec()));
    }
}

/// Each drained topic-partition's committed offset (`None`: nothing committed).
pub type Committed = BTreeMap<TopicPartition, Option<i64>>;

/// Drains sinks from a non-runtime thread (the consumer thread); returns committed offsets.
pub(super) fn drain_all(
    runtime: &tokio::runtime::Handle,
    sinks: Vec<(TopicPartition, ActorRef<SinkMsg>)>,
    commit: bool,
    timeout: Duration,
) -> Committed {
    if sinks.is_empty() {
        return BTreeMap::new();
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        tracing::error!("cannot drain sinks from an async context; their open batches are re-read at the next start");
        return BTreeMap::new();
    }
    runtime.block_on(drain_sinks(sinks, commit, timeout))
}

/// Drains sinks at once (each flushes, uploads and, if `commit`, commits) and stops them;
/// each partition's committed offset.
pub async fn drain_sinks(
    sinks: Vec<(TopicPartition, ActorRef<SinkMsg>)>,
    commit: bool,
    timeout: Duration,
) -> Committed {
    let drains = sinks.into_iter().map(|(p, sink)| async move {
        let committed = sink.call(|reply| SinkMsg::Drain { commit, reply }, Some(timeout)).await;
        let committed = match committed {
            Ok(ractor::rpc::CallResult::Success(c)) => c,
            other => {
                sink_events::drain_incomplete(&p, &format!("{other:?}"));
                None
            }
        };
        (p, committed)
    });
    futures::future::join_all(drains).await.into_iter().collect()
}
