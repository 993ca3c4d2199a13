//! What every sink of this process is built from ([`SinkSettings`]), joined with the Kafka side
//! of one consumer incarnation into a [`SinkFactory`], which makes partition `p`'s child spec.

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

/// The sink's configuration and the shared parts every sink of the process uses.
pub struct SinkSettings<S> {
    pub layout: KeyLayout,
    pub flush_size: u64,
    pub rotate_interval: Duration,
    pub max_inflight_uploads: usize,
    pub commit_interval: Duration,
    pub max_buffered: u64,
    /// Chosen where the supervision tree is declared (`pipeline::tree`).
    pub restart: Restart,
    pub store: Arc<S>,
    pub stats: Arc<PipelineStats>,
    pub reach: Arc<Reachability>,
    pub landed: Option<LandedSender>,
}

impl<S> Clone for SinkSettings<S> {
    fn clone(&self) -> Self {
        Self {
            layout: self.layout.clone(),
            flush_size: self.flush_size,
            rotate_interval: self.rotate_interval,
            max_inflight_uploads: self.max_inflight_uploads,
            commit_interval: self.commit_interval,
            max_buffered: self.max_buffered,
            restart: self.restart,
            store: self.store.clone(),
            stats: self.stats.clone(),
            reach: self.reach.clone(),
            landed: self.landed.clone(),
        }
    }
}

/// [`SinkSettings`] and the Kafka side the sinks of one consumer incarnation read from.
pub struct SinkFactory<S, P> {
    pub settings: SinkSettings<S>,
    pub source: Arc<P>,
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
        let gate = Arc::new(Gate::new(self.settings.max_buffered));
        let (me, g) = (self.clone(), gate.clone());
        let spec = ChildSpec::new(sink_id(partition), "sink", self.settings.restart, move |sup| {
            let s = &me.settings;
            let args = SinkArgs {
                partition,
                layout: s.layout.clone(),
                flush_size: s.flush_size,
                rotate_interval: s.rotate_interval,
                max_inflight_uploads: s.max_inflight_uploads,
                commit_interval: s.commit_interval,
                store: s.store.clone(),
                source: me.source.clone(),
                gate: g.clone(),
                stats: s.stats.clone(),
                reach: s.reach.clone(),
                landed: s.landed.clone(),
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
