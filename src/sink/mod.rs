//! The S3 sink: per-partition actors that batch records into Confluent-named files (JSON lines,
//! Parquet, raw values; in the partitioner's directories), upload them, and commit offsets only
//! after the upload, with the pure rules they follow.
//!
//! - [`actor`]: [`SinkActor`], one per assigned partition: its open files, rotation timers,
//!   uploads in flight and in-order commits; how records enter it (its resume plan, directory
//!   listings) is `actor/intake.rs`.
//! - [`factory`]: what every sink of the process is built from; partition `p`'s child spec.
//! - [`dead_letter`]: records that cannot be written, batched into files (or a Kafka topic).
//! - [`segmenter`]: cutting records into files; the exactly-once rules (pure), under the
//!   [`rules`] `[sink]` gives (flush.size, converter, tolerance, file format); what a record
//!   and a file are is [`crate::format`].
//!   Its open data files (one per directory the partitioner names) are `open_files`, the
//!   files already in S3 a replay skips are `existing`, what it takes and gives [`segment`].
//! - [`rotation`]: when a batch's `rotate.interval.ms` is up (from its first record's timestamp).
//! - [`resume`]: where a partition resumes, from the committed offset and the S3 listing (per
//!   directory under the `field` and `time` partitioners).
//! - [`upload`]: one file's PUT, retried with backoff.
//! - `commit_pace`: at most one commit per `offset.flush.interval.ms`.
//! - [`gate`]: what the sink holds in memory, for the consumer's memory bound.
//! - [`source`]: what a sink needs from Kafka, as a trait the sink owns ([`crate::consumer`]
//!   implements it; the sink never imports the consumer side).

pub mod actor;
mod commit_pace;
mod dead_delivery;
pub mod dead_letter;
mod existing;
pub mod factory;
pub mod gate;
mod open_files;
pub mod resume;
pub mod rotation;
mod rotation_timers;
pub mod rules;
pub mod segment;
pub mod segmenter;
pub mod source;
pub mod upload;

#[cfg(test)]
mod actor_partition_tests;
#[cfg(test)]
mod actor_tests;
#[cfg(test)]
mod companions_tests;
#[cfg(test)]
pub(crate) mod testing;

pub use crate::record::Record;
pub use actor::{SinkActor, SinkArgs, SinkMsg, SinkStatus};
