//! Starts a sink actor under the sinks supervisor for each assigned partition, and stops it
//! when the partition is revoked.

use std::sync::Arc;

use ractor::ActorRef;
use supervisors::SupervisorMsg;
use tokio::sync::mpsc::UnboundedReceiver;

use super::directory::Directory;
use super::rebalance::Assignment;
use crate::s3::SegmentStore;
use crate::sink::factory::{sink_id, SinkFactory};
use crate::sink::source::PartitionSource;

/// Runs until the assignment channel closes.
pub async fn run<S: SegmentStore, P: PartitionSource>(
    factory: Arc<SinkFactory<S, P>>,
    directory: Arc<Directory>,
    supervisor: ActorRef<SupervisorMsg>,
    mut assignments: UnboundedReceiver<Assignment>,
) {
    while let Some(change) = assignments.recv().await {
        match change {
            Assignment::Assigned(partitions) => {
                for p in partitions {
                    let (spec, gate) = factory.spec(p);
                    directory.prepare(p, gate);
                    let started = ractor::call_t!(supervisor, SupervisorMsg::StartChild, 10_000, spec);
                    match started {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::error!(partition = p, "starting the sink failed: {e}")
                        }
                        Err(e) => tracing::error!(partition = p, "the sinks supervisor did not answer: {e}"),
                    }
                }
            }
            Assignment::Revoked(partitions) => {
                for p in partitions {
                    directory.remove(p);
                    let _ = ractor::call_t!(supervisor, SupervisorMsg::StopChild, 30_000, sink_id(p));
                }
            }
        }
    }
}
