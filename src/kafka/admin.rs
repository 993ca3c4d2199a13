//! Creating the topic when it is absent.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;

use super::EmbeddedKafka;

/// Errors creating a topic.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request failed (no broker answered, a client that could not be made).
    #[error("creating topic {topic}")]
    Create {
        topic: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The broker answered, with an error for this topic.
    #[error("creating topic {topic}: the broker answered {code}")]
    Refused { topic: String, code: RDKafkaErrorCode },
    /// The embedded cluster refused it.
    #[error("creating topic {topic} in the embedded cluster")]
    Embedded {
        topic: String,
        #[source]
        source: super::mock::MockError,
    },
}

/// Creates the topics the configuration uses (the producer's, the sink's listed topics and its
/// dead-letter topic) unless `kafka.create_topics` is off. A `topics.regex` sink creates none:
/// its topics are whatever matches.
pub async fn create_configured_topics(
    admin: &TopicAdmin<'_>,
    config: &crate::config::Config,
) -> Result<(), AdminError> {
    if !config.kafka.create_topics {
        return Ok(());
    }
    let mut topics = Vec::new();
    if config.producer.enabled {
        topics.push(config.producer.topic.clone());
    }
    if config.sink.enabled {
        let sink = config
            .sink
            .topic_list()
            .into_iter()
            .chain(config.sink.dlq_topic.clone());
        for t in sink {
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
    }
    for t in topics {
        ensure_topic(admin, &t, config.kafka.partitions, config.kafka.replication_factor).await?;
    }
    Ok(())
}

/// How topics get created: the mock cluster has no CreateTopics API for clients.
pub enum TopicAdmin<'a> {
    Mock(&'a EmbeddedKafka),
    Broker(ClientConfig),
}

/// Creates `topic` unless it exists.
pub async fn ensure_topic(
    admin: &TopicAdmin<'_>,
    topic: &str,
    partitions: i32,
    replication: i32,
) -> Result<(), AdminError> {
    let fail = |source| AdminError::Create {
        topic: topic.to_owned(),
        source,
    };
    match admin {
        TopicAdmin::Mock(cluster) => {
            cluster
                .create_topic(topic, partitions, replication)
                .map_err(|source| AdminError::Embedded {
                    topic: topic.to_owned(),
                    source,
                })
        }
        TopicAdmin::Broker(config) => {
            let client: AdminClient<DefaultClientContext> = config.create().map_err(fail)?;
            let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
            let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
            let results = client.create_topics([&new], &opts).await.map_err(fail)?;
            for r in results {
                match r {
                    Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((_, code)) => {
                        return Err(AdminError::Refused {
                            topic: topic.to_owned(),
                            code,
                        })
                    }
                }
            }
            Ok(())
        }
    }
}
