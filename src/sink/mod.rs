//! The S3 sink: per-partition actors that batch records into Confluent-named JSON-lines files,
//! upload them, and commit offsets only after the upload.
//!
//! - [`encode`]: record value → JSON line, or why it is dead-lettered.
//! - [`segmenter`]: cutting records into files; the exactly-once rules (pure).
//! - [`resume`]: where a partition resumes, from the committed offset and the S3 listing.
//! - [`upload`]: one file's PUT, retried with backoff.
//! - [`actor`]: [`SinkActor`], one per assigned partition.
//! - [`commit_pace`]: at most one commit per `offset.flush.interval.ms`.
//! - [`gate`]: the per-partition memory bound.
//! - [`source`]: what a sink needs from Kafka, as a trait.
//! - [`router`]: the consumer thread that routes records, seeks and pauses.
//! - [`round`]: one routing round's records, per partition, bounded by each sink's room.
//! - [`directory`]: partition → sink and gate, shared by the router and the rebalance listener.
//! - [`rebalance`]: assignments start sinks; revocations drain them first.
//! - [`manager`]: starts and stops sink actors under the sinks supervisor as partitions come and go.

pub mod actor;
mod commit_pace;
pub mod directory;
pub mod encode;
pub mod gate;
pub mod manager;
pub mod rebalance;
pub mod resume;
mod round;
pub mod router;
pub mod segmenter;
pub mod source;
pub mod upload;

#[cfg(test)]
mod actor_tests;
#[cfg(test)]
pub(crate) mod testing;

pub use crate::record::Record;
pub use actor::{SinkActor, SinkArgs, SinkMsg, SinkStatus};
