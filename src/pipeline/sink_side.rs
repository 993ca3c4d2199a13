//! The sink side's start: the bucket, the store, and what the consumer actor (which owns the
//! group consumer and the router thread, and starts the sinks) is built from.

use std::sync::Arc;

use super::{tree, Infra, StartError};
use crate::config::Config;
use crate::consumer::actor::{ConsumerArgs, ConsumerShared};
use crate::kafka::client_config;
use crate::kafka::dead_letters::DeadLetterProducer;
use crate::landed::LandedSender;
use crate::registry::Registry;
use crate::s3::keys::KeyLayout;
use crate::s3::{client, S3SegmentStore};
use crate::sink::dead_letter::DeadLetterTopic;
use crate::sink::factory::SinkSettings;
use crate::sink::segmenter::Rules;
use crate::telemetry::PipelineStats;

/// The bucket (created when we may) and the consumer actor's arguments.
pub(super) async fn prepare(
    config: &Config,
    infra: &Infra,
    stats: Arc<PipelineStats>,
    landed: Option<LandedSender>,
) -> Result<(Arc<S3SegmentStore>, ConsumerArgs), StartError> {
    let s = &config.sink;
    let store = Arc::new(S3SegmentStore::for_sink(client::build(&infra.s3).await, s));
    if config.s3.create_bucket && config.s3.mode != crate::config::S3Mode::Aws {
        store.ensure_bucket().await.map_err(|source| StartError::Bucket {
            bucket: s.bucket.clone(),
            source,
        })?;
    }
    let topics = s.topic_set();
    let token = infra.kafka_auth.as_ref().map(|a| a.token.clone());
    let dead_topic = match &s.dlq_topic {
        Some(topic) => {
            let producer = DeadLetterProducer::new(
                &client_config::producer(&config.kafka, &infra.bootstrap_servers),
                topic,
                token.clone(),
                infra.reachability.clone(),
            )
            .map_err(|source| StartError::DeadLetterProducer {
                topic: topic.clone(),
                source,
            })?;
            Some(Arc::new(producer) as Arc<dyn DeadLetterTopic>)
        }
        None => None,
    };
    let rules = Rules::from_config(config)?;
    let registry = Registry::from_config(s, rules.converter.schemas().clone(), infra.reachability.clone())?;
    let sinks = SinkSettings {
        layout: KeyLayout::of(s, s.topic_list().first().map_or("", String::as_str)),
        rules,
        dead_topic,
        registry: registry.map(Arc::new),
        single_topic: topics.single(),
        rotate_interval: s.rotate_interval(),
        rotate_schedule: s
            .rotate_schedule_interval()
            .map(|interval| crate::sink::rotation::Schedule {
                interval,
                zone: s.timezone.0,
            }),
        max_inflight_uploads: s.max_inflight_uploads,
        commit_interval: s.commit_interval(),
        max_buffered: s.max_buffered(),
        max_buffered_bytes: s.max_buffered_bytes,
        restart: tree::SINK,
        store: store.clone(),
        stats,
        reach: infra.reachability.clone(),
        landed,
    };
    let args = ConsumerArgs {
        kafka: config.kafka.clone(),
        bootstrap_servers: infra.bootstrap_servers.clone(),
        topics,
        token,
        reach: infra.reachability.clone(),
        sinks,
        drain_timeout: config.runtime.shutdown_timeout(),
        shared: Arc::new(ConsumerShared::default()),
    };
    Ok((store, args))
}
