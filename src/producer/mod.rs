//! Tick producers: one actor per symbol, paced by a rate limiter, all sharing one Kafka producer.
//!
//! - [`tick`]: the tick record and the seeded price walk.
//! - [`actor`]: [`ProducerActor`] and the child specs the producers supervisor runs.

pub mod actor;
pub mod tick;

pub use actor::{producer_specs, ProducerActor, ProducerArgs, ProducerCommon, ProducerMsg};
pub use tick::{PriceWalk, Tick};
