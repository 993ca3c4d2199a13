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
    #[error("creating topic {topic}: {detail}")]
    Create { topic: String, detail: String },
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
    let fail = |detail: String| AdminError::Create {
        topic: topic.to_owned(),
        detail,
    };
    match admin {
        TopicAdmin::Mock(cluster) => cluster
            .create_topic(topic, partitions, replication)
            .map_err(|e| fail(e.to_string())),
        TopicAdmin::Broker(config) => {
            let client: AdminClient<DefaultClientContext> = config.create().map_err(|e| fail(e.to_string()))?;
            let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
            let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
            let results = client
                .create_topics([&new], &opts)
                .await
                .map_err(|e| fail(e.to_string()))?;
            for r in results {
                match r {
                    Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((_, code)) => return Err(fail(code.to_string())),
                }
            }
            Ok(())
        }
    }
}
