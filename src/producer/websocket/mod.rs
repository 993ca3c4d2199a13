//! A live trade feed over WebSocket (`[producer] source = "websocket"`): Finnhub's protocol by
//! default, any JSON trade feed through a mapping.
//!
//! - [`mapping`]: a message's trades (which messages, where, which fields);
//! - [`connection`]: one connection: token, subscribe, ping, dead-connection timeout, why it
//!   ended;
//! - [`buffer`]: trades waiting for Kafka, bounded in bytes, oldest dropped first;
//! - [`feed`]: the feed actor, its connection task and reconnects; [`symbol`]: the per-symbol
//!   producer actors.

pub mod buffer;
pub mod connection;
pub mod feed;
pub mod mapping;
pub mod symbol;

pub use feed::{WsFeedActor, WsFeedArgs, WsFeedMsg};
