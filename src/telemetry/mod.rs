//! Telemetry: what the pipeline tells operators.
//!
//! - [`stats`]: [`PipelineStats`], counters the progress line and tests read.
//! - [`events`]: every metric and log line, one function per event (no metric names elsewhere).
//! - [`http`]: the Prometheus recorder and the `/metrics`, `/healthz` endpoint.
//! - [`progress`]: the periodic progress line.

pub mod events;
pub mod http;
pub mod progress;
pub mod stats;

pub use stats::{PipelineStats, StatsSnapshot};
