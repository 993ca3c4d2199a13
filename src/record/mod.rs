//! The records tickstream carries, declared once for every reader and writer.
//!
//! - [`Record`]: one consumed Kafka record (offset, value as produced, timestamp): what the
//!   consumer hands a sink.
//! - [`tick`]: tickstream's own tick ([`tick::Tick`], its [`tick::FIELDS`], its timestamp
//!   format): the producer writes it, the sink checks it, the warehouse and `verify` read it.
//! - [`tick_json`]: a symbol's ticks encoded byte for byte as serde would, with the fixed
//!   strings encoded once.
//! - [`tick_scan`]: the one-pass check of a plainly written tick (serde decides the rest).

pub mod tick;
pub mod tick_json;
pub mod tick_scan;

use bytes::Bytes;

/// One consumed record: its offset, its value as produced, and its Kafka timestamp (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub offset: i64,
    pub value: Bytes,
    /// The record's timestamp (the producer's create time), when the broker gives one.
    pub timestamp_ms: Option<i64>,
}
