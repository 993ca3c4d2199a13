//! What a sink actor needs from the Kafka side, as a trait the sink owns: the consumer side
//! ([`crate::consumer::partition_source`]) implements it, and actor tests use a fake.

use std::future::Future;

use ractor::ActorRef;

use super::actor::SinkMsg;
use crate::error::ErrorClass;

/// What a sink's commits carry as metadata: every record below the offset is durable (in S3,
/// acknowledged by the dead-letter topic, or skipped by rule, such as an ignored tombstone). A
/// resume trusts such a commit whatever the last record was; one without it (an external reset
/// of the group, `enable.auto.commit`) is checked against S3, or reported.
pub const CHECKPOINT: &str = "tickstream:durable";

/// A group's committed offset for a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    pub offset: i64,
    /// It carries [`CHECKPOINT`]: a sink of tickstream made it.
    pub checkpoint: bool,
}

impl Committed {
    /// An offset committed by a sink of tickstream.
    pub fn checkpoint(offset: i64) -> Self {
        Self {
            offset,
            checkpoint: true,
        }
    }

    /// An offset committed by anything else.
    pub fn foreign(offset: i64) -> Self {
        Self {
            offset,
            checkpoint: false,
        }
    }
}

/// Errors from the Kafka side of a sink.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The broker or librdkafka refused or failed the request.
    #[error("partition {partition}: {op}")]
    Kafka {
        partition: i32,
        op: &'static str,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// No answer within the time a sink may wait.
    #[error("partition {partition}: {op}: no answer within {waited:?}")]
    Timeout {
        partition: i32,
        op: &'static str,
        waited: std::time::Duration,
    },
    /// The consumer incarnation this sink was started for has stopped (a new one starts its
    /// own sinks).
    #[error("the consumer loop has stopped")]
    RouterGone,
}

impl SourceError {
    /// What the error means for the data path: a timeout, a consumer that is being replaced,
    /// and what librdkafka says passes are transient; see [`crate::kafka::error::class`].
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Kafka { source, .. } => crate::kafka::error::class(source),
            Self::Timeout { .. } | Self::RouterGone => ErrorClass::Transient,
        }
    }
}

/// Offsets and routing for one sink's partition.
pub trait PartitionSource: Send + Sync + 'static {
    /// The group's committed offset, `None` if it never committed.
    fn committed(&self, partition: i32) -> impl Future<Output = Result<Option<Committed>, SourceError>> + Send;
    /// The partition's watermarks `(low, high)`: the earliest offset the broker still has, and
    /// the offset its next record will get (no reader so far has read a record at or past it).
    fn watermarks(&self, partition: i32) -> impl Future<Output = Result<(i64, i64), SourceError>> + Send;
    /// Routes the partition's records to `sink` from `start` on (the consumer is at
    /// `position` now; it seeks when they differ).
    fn attach(&self, partition: i32, sink: ActorRef<SinkMsg>, start: i64, position: i64) -> Result<(), SourceError>;
    /// Commits `offset` (the next offset to read) with [`CHECKPOINT`]. `wait` blocks until the
    /// broker confirms.
    fn commit(&self, partition: i32, offset: i64, wait: bool) -> impl Future<Output = Result<(), SourceError>> + Send;
}
