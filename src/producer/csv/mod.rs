//! Replaying CSV archives through per-symbol producer actors (`[producer] source = "csv"`).
//!
//! - [`rows`]: a row as a tick's fields (column mapping, timestamp forms);
//! - [`files`]: the files a path or glob names; [`reader`]: their rows in order, bad rows
//!   counted and logged with file:line, and [`dead_letters`] if configured;
//! - [`pacing`]: when each row is due; [`acks`]: which rows Kafka acknowledged;
//!   [`checkpoint`]: where a restart goes on;
//! - [`feed`]: the feed actor that deals rows to the per-symbol actors of [`symbol`].

pub mod acks;
pub mod checkpoint;
pub mod dead_letters;
pub mod feed;
pub mod files;
pub mod pacing;
pub mod reader;
pub mod rows;
pub mod symbol;

pub use feed::{FeedActor, FeedArgs, FeedMsg};
