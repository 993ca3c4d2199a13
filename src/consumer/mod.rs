//! The Kafka consumer side of the sink: the group consumer, the router thread that routes each
//! partition's records to its sink actor, rebalances, and the memory bound.
//!
//! - [`actor`]: [`actor::ConsumerActor`], the supervised owner of the group consumer and the
//!   router thread (watched: its panic fails the actor); it starts and stops the sink actors.
//! - `join`: an incarnation joining its group (the consumer, its subscription, the watched
//!   router thread).
//! - [`context`]: the consumer's librdkafka context (rebalance hooks, lag, commits, the group
//!   watchdog's view).
//! - [`router`]: the consumer thread: commands (attach, shut down), seeks, holding and pausing a
//!   partition whose sink is full (the memory bound; each sink counts what it holds in its
//!   [`crate::sink::gate::Gate`]).
//! - `intake`: one round: records taken a batch at a time within each sink's room, then
//!   delivered.
//! - `round`: a round's records, per partition, in one buffer.
//! - [`fetch_queue`]: each attached partition's records, read from librdkafka a batch at a time.
//! - `end_targets`: what a shutdown consumes to (each partition's high watermark, read again
//!   until it is known).
//! - [`directory`]: partition → its sink and gate, shared by the router and the rebalance listener.
//! - [`rebalance`]: assignments start sinks; revocations drain them first.
//! - [`commit_retry`]: commits the broker refused mid-rebalance, made again while the partition
//!   stays owned.
//! - [`partition_source`]: the sink's [`crate::sink::source::PartitionSource`] over this side.
//!
//! The sink never imports this module: it talks to Kafka through the trait it owns.

pub mod actor;
pub mod carry;
pub mod commit_retry;
pub mod context;
pub mod directory;
mod end_targets;
pub mod fetch_queue;
mod incarnation;
mod intake;
mod join;
pub mod partition_source;
pub mod rebalance;
mod round;
pub mod router;

use rdkafka::TopicPartitionList;

pub use crate::config::Topics;
use crate::record::TopicPartition;

/// A list of one topic-partition.
fn partition_list(tp: &TopicPartition) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&tp.topic, tp.partition);
    tpl
}
