//! Kafka: client configuration, the shared tick producer, topic creation, the sink's consumer
//! context, and the embedded mock cluster.
//!
//! - [`client_config`]: librdkafka properties for each mode (embedded, plaintext, MSK IAM).
//! - [`producer`]: [`TickProducer`], one idempotent producer shared by every producer actor.
//! - [`admin`]: creating the topic when it is absent.
//! - [`error`]: [`KafkaError`] and the class of each librdkafka error code.
//! - [`dead_letters`]: the dead-letter topic (`errors.deadletterqueue.topic.name`).
//! - [`diagnostics`]: librdkafka's log lines and errors, routed; a metadata probe.
//! - [`mock`]: [`EmbeddedKafka`], librdkafka's mock cluster on its own thread.
//! - [`token`]: the MSK IAM token every client sends, and the cell it is read from.
//! - [`watermarks`]: a partition's watermarks, read again while its leader moves.

pub mod admin;
pub mod client_config;
pub mod dead_letters;
pub mod diagnostics;
pub mod error;
pub mod mock;
pub mod oauth;
pub mod producer;
pub mod token;
pub mod watermarks;

#[cfg(test)]
mod token_tests;

pub use error::KafkaError;
pub use mock::EmbeddedKafka;
pub use producer::TickProducer;
