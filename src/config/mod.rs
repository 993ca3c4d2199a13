//! Configuration: one TOML file, serde types whose `///` lines are the user reference.
//!
//! The `[sink]` table uses the Confluent S3 Sink Connector's property names (`flush.size`,
//! `rotate.interval.ms`, `topics.dir`, ...) so a Kafka Connect user recognises them.
//! [`load`] reads a file, applies [`env`] overrides and runs [`validate`]; every problem names
//! the file and the key.

mod env;
mod load;
mod sections;
mod validate;

pub use env::ENV_OVERRIDES;
pub use load::{load, parse_str, ConfigError, Problem};
pub use sections::*;

use serde::Deserialize;

/// The whole configuration file.
#[derive(Clone, Debug, Default, Deserialize)]
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
    /// Restart budgets and backoff of the supervision tree.
    #[serde(default)]
    pub supervision: SupervisionConfig,
    /// Process-wide settings: state directory, progress, shutdown.
    #[serde(default)]
    pub runtime: RuntimeConfig,
}
