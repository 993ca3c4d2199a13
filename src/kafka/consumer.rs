//! The sink consumer's context: librdkafka calls it on the consumer's polling thread.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::client::OAuthToken;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};

use crate::auth::cell::TokenCell;
use crate::telemetry::events;

/// What the sink side does when the group gives or takes partitions.
pub trait RebalanceListener: Send + Sync + 'static {
    /// Partitions were assigned; the consumer has them paused until their sinks attach.
    fn assigned(&self, partitions: &[i32]);
    /// Partitions are about to be taken away: flush, upload and commit them now (this blocks the
    /// rebalance, so another member starts exactly where the last file ended). `lost`: the group
    /// already gave them away (session expired, coordinator gone): upload, but do not commit.
    fn revoking(&self, partitions: &[i32], lost: bool);
}

/// The consumer context: rebalance hooks, lag metrics, commit results.
pub struct SinkConsumerContext {
    /// The one topic the sink reads.
    pub topic: String,
    pub listener: Arc<dyn RebalanceListener>,
    /// The MSK IAM token cell (`msk_iam` mode).
    pub token: Option<TokenCell>,
}

impl SinkConsumerContext {
    fn partitions_of(&self, tpl: &TopicPartitionList) -> Vec<i32> {
        tpl.elements()
            .iter()
            .filter(|e| e.topic() == self.topic)
            .map(|e| e.partition())
            .collect()
    }
}

impl ClientContext for SinkConsumerContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        super::oauth::answer(self.token.as_ref())
    }

    fn stats(&self, stats: Statistics) {
        if let Some(topic) = stats.topics.get(&self.topic) {
            for (partition, p) in &topic.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    events::consumer_lag(*partition, p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for SinkConsumerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let partitions = self.partitions_of(tpl);
            let lost = rdkafka::consumer::Consumer::assignment_lost(consumer);
            if lost {
                tracing::warn!(
                    ?partitions,
                    "partitions lost (the group moved on without this member): draining their sinks without committing"
                );
            } else {
                tracing::info!(?partitions, "partitions revoked: draining their sinks");
            }
            self.listener.revoking(&partitions, lost);
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                // Nothing is fetched until the partition's sink has decided where to resume.
                if let Err(e) = rdkafka::consumer::Consumer::pause(consumer, tpl) {
                    tracing::warn!("pausing newly assigned partitions: {e}");
                }
                let partitions = self.partitions_of(tpl);
                tracing::info!(?partitions, "partitions assigned");
                self.listener.assigned(&partitions);
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::error!("consumer group rebalance failed: {e}"),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        if let Err(e) = result {
            events::commit_failed(&format!("{:?}", offsets.to_topic_map()), &e);
        }
    }
}

/// Waits (5 s at most) until `consumer` is the last reference, then closes it on a blocking thread
/// and waits for the close: it has left the group and closed its connections before the caller
/// stops the broker.
pub async fn close_when_unshared(consumer: Arc<BaseConsumer<SinkConsumerContext>>) {
    for _ in 0..100 {
        if Arc::strong_count(&consumer) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if Arc::strong_count(&consumer) > 1 {
        tracing::warn!(
            references = Arc::strong_count(&consumer),
            "the sink consumer is still referenced after shutdown"
        );
    }
    let _ = tokio::task::spawn_blocking(move || drop(consumer)).await;
}
