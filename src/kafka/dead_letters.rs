//! The dead-letter topic (`errors.deadletterqueue.topic.name`): each record that cannot be
//! written goes there with its value as produced (unkeyed: the sink does not read keys), with
//! Kafka Connect's error headers:
//! `__connect.errors.topic`, `__connect.errors.partition`, `__connect.errors.offset`,
//! `__connect.errors.stage`, `__connect.errors.exception.class.name` and
//! `__connect.errors.exception.message` (the reason).
//!
//! A batch counts as delivered once the broker acknowledged every record (acks=all, idempotent),
//! and only then may the sink commit past it. After a crash between the acknowledgement and the
//! commit the records are sent again: the dead-letter topic is at-least-once, as Connect's is.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

use crate::format::dead_letter::DeadLetter;
use crate::kafka::token::TokenCell;
use crate::telemetry::reachability::Reachability;

/// How long one batch may wait for its acknowledgements before it is retried.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// Produces dead letters to one topic.
pub struct DeadLetterProducer {
    producer: FutureProducer<super::diagnostics::ClientDiagnostics>,
    topic: String,
}

impl DeadLetterProducer {
    /// A producer of `topic` from the pipeline's producer settings.
    pub fn new(
        config: &ClientConfig,
        topic: &str,
        token: Option<TokenCell>,
        reach: Arc<Reachability>,
    ) -> Result<Self, rdkafka::error::KafkaError> {
        let context = super::diagnostics::ClientDiagnostics {
            reach,
            token,
            report: super::diagnostics::Report::Log,
        };
        Ok(Self {
            producer: config.create_with_context(context)?,
            topic: topic.to_owned(),
        })
    }
}

fn headers(topic: &str, partition: i32, d: &DeadLetter) -> OwnedHeaders {
    let (partition, offset) = (partition.to_string(), d.offset.to_string());
    let fields: [(&str, &str); 6] = [
        ("__connect.errors.topic", topic),
        ("__connect.errors.partition", &partition),
        ("__connect.errors.offset", &offset),
        ("__connect.errors.stage", "VALUE_CONVERTER"),
        ("__connect.errors.exception.class.name", "tickstream.RecordRejected"),
        ("__connect.errors.exception.message", &d.reason),
    ];
    fields.into_iter().fold(OwnedHeaders::new(), |h, (key, value)| {
        h.insert(Header {
            key,
            value: Some(value.as_bytes()),
        })
    })
}

impl DeadLetterProducer {
    /// Sends `letters` of `topic`'s `partition`; resolves once the broker answered each, with
    /// one outcome per letter, in order (a caller sends again only what was not acknowledged).
    pub async fn send(
        &self,
        topic: &str,
        partition: i32,
        letters: &[DeadLetter],
    ) -> Vec<Result<(), super::KafkaError>> {
        {
            let sends = letters.iter().map(|d| {
                let mut record: FutureRecord<'_, [u8], [u8]> =
                    FutureRecord::to(&self.topic).headers(headers(topic, partition, d));
                if let Some(v) = d.value.as_deref() {
                    record = record.payload(v);
                }
                if let Some(ts) = d.timestamp_ms {
                    record = record.timestamp(ts);
                }
                self.producer.send(record, ACK_TIMEOUT)
            });
            futures::future::join_all(sends)
                .await
                .into_iter()
                .map(|sent| {
                    sent.map(drop).map_err(|(source, _)| super::KafkaError::Produce {
                        topic: self.topic.clone(),
                        source,
                    })
                })
                .collect()
        }
    }
}
