//! What every sink of this process is built from, and the child spec of partition `p`'s sink.

use std::sync::Arc;
use std::time::Duration;

use ractor::Actor;
use supervisors::{ChildSpec, Restart};

use super::actor::{SinkActor, SinkArgs};
use super::gate::Gate;
use super::source::PartitionSource;
use crate::landed::LandedSender;
use crate::s3::keys::KeyLayout;
use crate::s3::SegmentStore;
use crate::telemetry::reachability::Reachability;
use crate::telemetry::PipelineStats;

/// Everything a sink of this process is built from.
pub struct SinkFactory<S, P> {
    pub layout: KeyLayout,
    pub flush_size: u64,
    pub rotate_interval: Duration,
    pub max_inflight_uploads: usize,
    pub commit_interval: Duration,
    pub max_buffered: u64,
    pub store: Arc<S>,
    pub source: Arc<P>,
    pub stats: Arc<PipelineStats>,
    pub reach: Arc<Reachability>,
    pub landed: Option<LandedSender>,
}

/// The supervisor child id of partition `p`'s sink, e.g. `sink-2`.
pub fn sink_id(partition: i32) -> String {
    format!("sink-{partition}")
}

impl<S: SegmentStore, P: PartitionSource> SinkFactory<S, P> {
    /// The child spec for partition `p`'s sink, and the gate it shares with the router. Every
    /// restart gets the same gate and re-plans from S3, so a restarted sink resumes exactly
    /// where the last durable file ends.
    pub fn spec(self: &Arc<Self>, partition: i32) -> (ChildSpec, Arc<Gate>) {
        let gate = Arc::new(Gate::new(self.max_buffered));
        let (me, g) = (self.clone(), gate.clone());
        let spec = ChildSpec::new(sink_id(partition), "sink", Restart::Transient, move |sup| {
            let args = SinkArgs {
                partition,
                layout: me.layout.clone(),
                flush_size: me.flush_size,
                rotate_interval: me.rotate_interval,
                max_inflight_uploads: me.max_inflight_uploads,
                commit_interval: me.commit_interval,
                store: me.store.clone(),
                source: me.source.clone(),
                gate: g.clone(),
                stats: me.stats.clone(),
                reach: me.reach.clone(),
                landed: me.landed.clone(),
            };
            async move {
                SinkActor::<S, P>::spawn_linked(None, SinkActor::default(), args, sup)
                    .await
                    .map(|(a, _)| a.get_cell())
            }
        });
        (spec, gate)
    }
}
