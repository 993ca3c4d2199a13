//! Configuration: one TOML file, serde types whose `///` lines are the user reference.
//!
//! The `[sink]` table uses the Confluent S3 Sink Connector's property names (`flush.size`,
//! `rotate.interval.ms`, `topics.dir`, ...) so a Kafka Connect user recognises them.
//! [`load`] reads a file, applies [`env`] overrides and runs [`validate`]; every problem names
//! the file and the key.

/// `Default` from serde: an empty table takes every field's serde default (one source of truth).
macro_rules! default_from_serde {
    ($($t:ty),*) => {$(
        impl Default for $t {
            fn default() -> Self {
                serde::Deserialize::deserialize(serde::de::value::MapDeserializer::<
                    std::iter::Empty<(String, String)>,
                    serde::de::value::Error,
                >::new(std::iter::empty()))
                .expect("every field has a serde default")
            }
        }
    )*};
}

mod env;
mod format;
mod load;
mod objects;
mod partitioner;
mod path_format;
mod registry;
mod sections;
mod sink;
pub mod source;
mod topics;
mod validate;
mod validate_producer;
mod validate_records;
mod validate_schemas;
mod value_schema;
mod values;
mod warehouse;
pub mod websocket;

pub use env::ENV_OVERRIDES;
pub use format::*;
pub use load::{load, parse_str, ConfigError, Problem};
pub use objects::{CannedAcl, ServerSideEncryption, StorageClass, TagPairs};
pub use partitioner::*;
pub use registry::{AuthSource, RegistryUrl, RegistryUrls, Secret};
pub use sections::*;
pub use sink::*;
pub use topics::{TopicPattern, Topics};
pub use validate::validate;
pub use value_schema::{JsonSchema, ValueSchema};
pub use values::*;
pub use warehouse::*;

use serde::{Deserialize, Serialize};

/// The whole configuration file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the broker is and how to reach it; the topic's shape.
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// The simulated NASDAQ tick producers.
    #[serde(default)]
    pub producer: ProducerConfig,
    /// The S3 sink: Confluent S3 Sink Connector names and semantics.
    #[serde(default)]
    pub sink: SinkConfig,
    /// The object store the sink writes to.
    #[serde(default)]
    pub s3: S3Config,
    /// The Prometheus endpoint (and the optional admin endpoint).
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Restart intensity and backoff of the supervision tree.
    #[serde(default)]
    pub supervision: SupervisionConfig,
    /// Process-wide settings: state directory, progress, shutdown.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// The ingestion watcher and the warehouse it loads (embedded SQLite, or Snowflake).
    #[serde(default)]
    pub warehouse: WarehouseConfig,
}

#[cfg(test)]
#[path = "reference_tests.rs"]
mod reference;
