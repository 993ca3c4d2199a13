//! The records tickstream carries, declared once for every reader and writer.
//!
//! - [`Record`]: one consumed Kafka record (offset, value as produced, timestamp): what the
//!   consumer hands a sink; [`TopicPartition`]: where it comes from.
//! - [`RecordError`]: why a record cannot be written (it is the record's fault, every time).
//! - [`tick`]: tickstream's own tick ([`tick::Tick`], its [`tick::FIELDS`], its timestamp
//!   format): the producer writes it, the sink checks it, the warehouse and `verify` read it.
//! - [`tick_json`]: a symbol's ticks encoded byte for byte as serde would, with the fixed
//!   strings encoded once.
//! - [`tick_scan`]: the one-pass check of a plainly written tick (serde decides the rest).
//! - [`column`]: a typed column as the configuration declares it (name, SQL type, source).
//! - [`fields`]: a JSON record's top-level fields read in one pass, without building the value
//!   (the Parquet rows and the field partitioner read them); `decimal`: a plain decimal's
//!   `f64` without the general parser.
//! - [`cell`]: a record's typed columns (name, type, source field) read as typed values, the same
//!   for the warehouse's rows and the sink's Parquet files.

pub mod avro;
pub mod cell;
pub mod column;
mod decimal;
mod error;
pub mod fields;
pub mod tick;
pub mod tick_json;
pub mod tick_scan;
pub mod view;

#[cfg(test)]
mod testing;

use std::sync::Arc;

use bytes::Bytes;

pub use error::RecordError;

/// One consumed record: its offset, its value as produced, and its Kafka timestamp (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub offset: i64,
    /// The value as produced; `None` for a tombstone (a null value).
    pub value: Option<Bytes>,
    /// The record's timestamp (the producer's create time), when the broker gives one.
    pub timestamp_ms: Option<i64>,
    /// Its key, headers and timestamp type, carried only when the sink writes them
    /// (`store.kafka.keys`, `store.kafka.headers`, `store.kafka.metadata`): one pointer
    /// otherwise.
    pub extra: Option<Box<KeyHeaders>>,
}

/// A record's key and headers, as produced, and what its timestamp is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyHeaders {
    /// `None` for a record without a key.
    pub key: Option<Bytes>,
    /// Each header's name and value (`None`: a null value), in order.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Whether the record's timestamp is the broker's append time (the topic's
    /// `message.timestamp.type = LogAppendTime`) rather than the producer's create time.
    pub log_append_time: bool,
}

/// A topic's partition: where records come from, and what one sink actor owns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: Arc<str>,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: &str, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}
