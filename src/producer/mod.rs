//! Tick producers: one actor per symbol, paced by a rate limiter, all sharing one Kafka producer.
//!
//! - [`walk`]: the seeded price walk behind a symbol's quotes.
//! - [`csv`]: CSV archives replayed; [`websocket`]: a live trade feed; both deal to per-symbol
//!   actors of their own.
//! - [`actor`]: [`ProducerActor`] and the child specs the producers supervisor runs; it writes
//!   each quote as a [`crate::record::tick::Tick`] with the record's encoder.

pub mod actor;
pub mod csv;
pub mod walk;
pub mod websocket;

pub use actor::{producer_specs, ProducerActor, ProducerArgs, ProducerCommon, ProducerMsg};
pub use walk::PriceWalk;
