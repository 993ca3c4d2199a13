//! [`PartitionSource`] over the group consumer and the router thread: offsets through the
//! consumer (on blocking threads), attachments as commands to the router.

use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::Duration;

use ractor::ActorRef;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::commit_retry::CommitRetry;
use super::context::SinkConsumerContext;
use super::router::RouterCmd;
use crate::sink::source::{Committed, PartitionSource, SourceError, CHECKPOINT};
use crate::sink::SinkMsg;

/// [`PartitionSource`] over the shared consumer and the router thread, for one topic.
/// Holds the consumer weakly: the consumer actor owns it, and closing it (leaving the group)
/// must not wait for every sink's spec to let go.
#[derive(Clone)]
pub struct KafkaPartitionSource {
    pub consumer: Weak<BaseConsumer<SinkConsumerContext>>,
    pub topic: String,
    pub router: mpsc::Sender<RouterCmd>,
    /// Told of every commit asked for (a refused one is made again while owned).
    pub commits: Arc<CommitRetry>,
}

const KAFKA_TIMEOUT: Duration = Duration::from_secs(10);

impl KafkaPartitionSource {
    async fn blocking<T: Send + 'static>(
        &self,
        partition: i32,
        op: &'static str,
        f: impl FnOnce(&BaseConsumer<SinkConsumerContext>, &str) -> rdkafka::error::KafkaResult<T> + Send + 'static,
    ) -> Result<T, SourceError> {
        let consumer = self.consumer.upgrade().ok_or(SourceError::RouterGone)?;
        let topic = self.topic.clone();
        tokio::task::spawn_blocking(move || f(&consumer, &topic))
            .await
            .map_err(|_| SourceError::RouterGone)?
            .map_err(|source| SourceError::Kafka { partition, op, source })
    }
}

impl PartitionSource for KafkaPartitionSource {
    async fn committed(&self, partition: i32) -> Result<Option<Committed>, SourceError> {
        self.blocking(partition, "reading the committed offset", move |c, topic| {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition(topic, partition);
            let tpl = c.committed_offsets(tpl, KAFKA_TIMEOUT)?;
            let Some(elem) = tpl.find_partition(topic, partition) else {
                return Ok(None);
            };
            // A per-partition error (e.g. a commit still in flight) is not "never committed".
            elem.error()?;
            Ok(match elem.offset() {
                Offset::Offset(o) if o >= 0 => Some(Committed {
                    offset: o,
                    checkpoint: elem.metadata() == CHECKPOINT,
                }),
                _ => None,
            })
        })
        .await
    }

    async fn watermarks(&self, partition: i32) -> Result<(i64, i64), SourceError> {
        self.blocking(partition, "reading the watermarks", move |c, topic| {
            crate::kafka::watermarks::read(c, topic, partition, KAFKA_TIMEOUT)
        })
        .await
    }

    fn attach(&self, partition: i32, sink: ActorRef<SinkMsg>, start: i64, position: i64) -> Result<(), SourceError> {
        self.router
            .send(RouterCmd::Attach {
                tp: crate::record::TopicPartition::new(&self.topic, partition),
                sink,
                start,
                position,
            })
            .map_err(|_| SourceError::RouterGone)
    }

    async fn commit(&self, partition: i32, offset: i64, wait: bool) -> Result<(), SourceError> {
        let kafka = |source| SourceError::Kafka {
            partition,
            op: "commit",
            source,
        };
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, partition, Offset::Offset(offset))
            .map_err(kafka)?;
        if let Some(mut elem) = tpl.find_partition(&self.topic, partition) {
            elem.set_metadata(CHECKPOINT);
        }
        self.commits.requested(
            &crate::record::TopicPartition::new(&self.topic, partition),
            offset,
            std::time::Instant::now(),
        );
        if !wait {
            let consumer = self.consumer.upgrade().ok_or(SourceError::RouterGone)?;
            return consumer
                .commit(&tpl, CommitMode::Async)
                .map_err(|e| refused(&tpl, e))
                .map_err(kafka);
        }
        // librdkafka waits for the coordinator without a deadline; a drain must not.
        let commit = self.blocking(partition, "commit", move |c, _| {
            c.commit(&tpl, CommitMode::Sync).map_err(|e| refused(&tpl, e))
        });
        tokio::time::timeout(KAFKA_TIMEOUT, commit)
            .await
            .map_err(|_| SourceError::Timeout {
                partition,
                op: "commit to the group coordinator",
                waited: KAFKA_TIMEOUT,
            })?
    }
}

/// Counts a refused commit by its cause; hands the error on.
fn refused(tpl: &TopicPartitionList, e: rdkafka::error::KafkaError) -> rdkafka::error::KafkaError {
    crate::telemetry::group_events::commit_refused(&format!("{:?}", tpl.to_topic_map()), &e);
    e
}
