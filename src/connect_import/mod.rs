//! `tickstream connect import`: a Confluent S3 sink connector's configuration (the JSON MSK
//! Connect takes, Connect's REST body, or a `.properties` file) turned into tickstream's TOML.
//!
//! Each setting is honoured (mapped to its tickstream key, mostly under the same name), ignored
//! with a reason (it has no meaning here: `tasks.max`, the key converter), or **unsupported**:
//! tickstream cannot do it (transforms, a proxy, files of a format it does not write), and
//! the import says so and fails rather than write a configuration that would behave differently.
//!
//! The consumer group becomes Connect's own, `connect-<name>`: tickstream resumes where the
//! connector's committed offsets and files end (it reads the end of a Connect file from its
//! lines), so a migration neither re-writes nor skips a record.
//!
//! - `source`: the connector's settings read from its file (JSON or properties).
//! - `translate`: each setting honoured, ignored or refused, and the TOML written; the value
//!   converter, the file format and the partitioner.
//! - `objects`: S3 object settings (encryption, ACL, tags) and the store's layout.
//! - `framework`: Kafka Connect's own settings (tasks, transforms, error handling, consumer
//!   overrides).
//! - `keys`: keys and headers files, their formats and converters.

use std::collections::BTreeMap;

mod framework;
mod keys;
mod objects;
mod source;
mod translate;

pub use source::{properties, read};
pub use translate::convert;

/// What the import made of a connector configuration.
#[derive(Debug, Default)]
pub struct Imported {
    /// The TOML, with a comment per mapped setting.
    pub toml: String,
    /// Settings read but meaningless here, each with why.
    pub ignored: Vec<String>,
    /// Settings tickstream cannot honour yet, each with why: the import fails when any.
    pub unsupported: Vec<String>,
}

/// Why the file could not be read as a connector configuration.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: not JSON: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {reason}")]
    Shape { path: String, reason: String },
}

/// A connector's settings, and what MSK Connect's request says besides.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub name: Option<String>,
    pub settings: BTreeMap<String, String>,
    /// `kafkaCluster.apacheKafkaCluster.bootstrapServers` (MSK Connect).
    pub bootstrap_servers: Option<String>,
    /// `kafkaClusterClientAuthentication.authenticationType` is `IAM` (MSK Connect).
    pub msk_iam: bool,
}

#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod tests;
