//! Rebalances: assignments start sink actors (through the manager task); revocations drain the
//! partitions' sinks before the group takes them away.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ractor::ActorRef;

use super::context::RebalanceListener;
use super::directory::Directory;
use crate::sink::SinkMsg;
use crate::telemetry::events;

/// Assignment changes, for the task that starts and stops sink actors.
#[derive(Debug)]
pub enum Assignment {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
}

/// Turns rebalances into sink starts (via the manager task) and synchronous drains.
pub struct Listener {
    pub directory: Arc<Directory>,
    pub assignments: tokio::sync::mpsc::UnboundedSender<Assignment>,
    pub runtime: tokio::runtime::Handle,
    pub drain_timeout: Duration,
}

impl RebalanceListener for Listener {
    fn assigned(&self, partitions: &[i32]) {
        self.directory.mark_assigned();
        let _ = self.assignments.send(Assignment::Assigned(partitions.to_vec()));
    }

    fn revoking(&self, partitions: &[i32], lost: bool) {
        let sinks: Vec<(i32, ActorRef<SinkMsg>)> = partitions
            .iter()
            .filter_map(|p| self.directory.remove(*p).map(|s| (*p, s)))
            .collect();
        drain_all(&self.runtime, sinks, !lost, self.drain_timeout);
        let _ = self.assignments.send(Assignment::Revoked(partitions.to_vec()));
    }
}

/// Drains sinks from a non-runtime thread (the consumer thread); returns committed offsets.
pub(super) fn drain_all(
    runtime: &tokio::runtime::Handle,
    sinks: Vec<(i32, ActorRef<SinkMsg>)>,
    commit: bool,
    timeout: Duration,
) -> BTreeMap<i32, Option<i64>> {
    if sinks.is_empty() {
        return BTreeMap::new();
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        tracing::error!("cannot drain sinks from an async context; their open batches are re-read at the next start");
        return BTreeMap::new();
    }
    runtime.block_on(async {
        let drains = sinks.into_iter().map(|(p, sink)| async move {
            let committed = sink.call(|reply| SinkMsg::Drain { commit, reply }, Some(timeout)).await;
            let committed = match committed {
                Ok(ractor::rpc::CallResult::Success(c)) => c,
                other => {
                    events::drain_incomplete(p, &format!("{other:?}"));
                    None
                }
            };
            (p, committed)
        });
        futures::future::join_all(drains).await.into_iter().collect()
    })
}
