//! What every sink of this process is built from ([`SinkSettings`]), joined with the Kafka side
//! of one consumer incarnation into a [`SinkFactory`], which makes a topic-partition's child spec.

use std::sync::Arc;
use std::time::Duration;

use ractor::Actor;
use supervisors::{ChildSpec, Restart};

use super::actor::{SinkActor, SinkArgs};
use super::dead_letter::DeadLetterTopic;
use super::gate::Gate;
use super::rotation::Schedule;
use super::segmenter::Rules;
use super::source::PartitionSource;
use crate::landed::LandedSender;
use crate::record::TopicPartition;
use crate::registry::Registry;
use crate::s3::keys::KeyLayout;
use crate::s3::SegmentStore;
use crate::telemetry::reachability::Reachability;
use crate::telemetry::PipelineStats;

/// The sink's configuration and the shared parts every sink of the process uses.
pub struct SinkSettings<S> {
    /// The key layout; each sink takes it for its own topic.
    pub layout: KeyLayout,
    /// `flush.size`, the converter, `errors.tolerance`.
    pub rules: Rules,
    pub rotate_interval: Duration,
    /// `rotate.schedule.interval.ms` in `timezone`, when set.
    pub rotate_schedule: Option<Schedule>,
    pub max_inflight_uploads: usize,
    pub commit_interval: Duration,
    pub max_buffered: u64,
    /// `max.buffered.bytes`.
    pub max_buffered_bytes: u64,
    /// Chosen where the supervision tree is declared (`pipeline::tree`).
    pub restart: Restart,
    pub store: Arc<S>,
    pub stats: Arc<PipelineStats>,
    pub reach: Arc<Reachability>,
    pub landed: Option<LandedSender>,
    /// `errors.deadletterqueue.topic.name`, when set.
    pub dead_topic: Option<Arc<dyn DeadLetterTopic>>,
    /// The Schema Registry Avro records' schemas are fetched from (it fills `rules`'
    /// converter's cache), when values are Avro.
    pub registry: Option<Arc<Registry>>,
    /// The sink reads one named topic: its sinks keep the ids `sink-<partition>`.
    pub single_topic: bool,
}

impl<S> Clone for SinkSettings<S> {
    fn clone(&self) -> Self {
        Self {
            layout: self.layout.clone(),
            rules: self.rules.clone(),
            rotate_interval: self.rotate_interval,
            rotate_schedule: self.rotate_schedule,
            max_inflight_uploads: self.max_inflight_uploads,
            commit_interval: self.commit_interval,
            max_buffered: self.max_buffered,
            max_buffered_bytes: self.max_buffered_bytes,
            restart: self.restart,
            store: self.store.clone(),
            stats: self.stats.clone(),
            reach: self.reach.clone(),
            landed: self.landed.clone(),
            dead_topic: self.dead_topic.clone(),
            registry: self.registry.clone(),
            single_topic: self.single_topic,
        }
    }
}

/// Makes the [`PartitionSource`] of a topic.
pub type SourceFor<P> = Box<dyn Fn(&str) -> Arc<P> + Send + Sync>;

/// [`SinkSettings`] and the Kafka side the sinks of one consumer incarnation read from: one
/// [`PartitionSource`] per topic, made on demand.
pub struct SinkFactory<S, P> {
    pub settings: SinkSettings<S>,
    pub source_for: SourceFor<P>,
}

impl<S> SinkSettings<S> {
    /// The supervisor child id of a topic-partition's sink: `sink-2` when the sink reads one
    /// named topic (as before topic lists), `sink-trades-2` otherwise.
    pub fn sink_id(&self, tp: &TopicPartition) -> String {
        match self.single_topic {
            true => format!("sink-{}", tp.partition),
            false => format!("sink-{}-{}", tp.topic, tp.partition),
        }
    }
}

impl<S: SegmentStore, P: PartitionSource> SinkFactory<S, P> {
    /// The child spec for a topic-partition's sink, and the gate it shares with the router.
    /// Every restart gets the same gate and re-plans from S3, so a restarted sink resumes
    /// exactly where the last durable file ends.
    pub fn spec(self: &Arc<Self>, tp: &TopicPartition) -> (ChildSpec, Arc<Gate>) {
        let gate = Arc::new(Gate::new(self.settings.max_buffered).with_byte_limit(self.settings.max_buffered_bytes));
        let (me, g) = (self.clone(), gate.clone());
        let (tp, source) = (tp.clone(), (self.source_for)(&tp.topic));
        let id = self.settings.sink_id(&tp);
        let spec = ChildSpec::new(id, "sink", self.settings.restart, move |sup| {
            let s = &me.settings;
            let args = SinkArgs {
                tp: tp.clone(),
                layout: s.layout.for_topic(&tp.topic),
                rules: s.rules.clone(),
                rotate_interval: s.rotate_interval,
                rotate_schedule: s.rotate_schedule,
                max_inflight_uploads: s.max_inflight_uploads,
                commit_interval: s.commit_interval,
                store: s.store.clone(),
                source: source.clone(),
                gate: g.clone(),
                stats: s.stats.clone(),
                reach: s.reach.clone(),
                landed: s.landed.clone(),
                dead_topic: s.dead_topic.clone(),
                registry: s.registry.clone(),
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
