//! Tick producers: one actor per symbol, paced by a rate limiter, all sharing one Kafka producer.
//!
//! - [`tick`]: the tick record and the seeded price walk.
//! - [`encode`]: [`TickEncoder`], a symbol's ticks as JSON with the shared strings encoded once.
//! - [`actor`]: [`ProducerActor`] and the child specs the producers supervisor runs.

pub mod actor;
pub mod encode;
pub mod tick;

pub use actor::{producer_specs, ProducerActor, ProducerArgs, ProducerCommon, ProducerMsg};
pub use encode::TickEncoder;
pub use tick::{PriceWalk, Tick};
