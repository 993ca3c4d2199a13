//! Telemetry: what the pipeline tells operators.
//!
//! - [`stats`]: [`PipelineStats`], counters the progress line and tests read.
//! - [`events`]: every metric and log line, one function per event (no metric names elsewhere).
//! - [`sink_events`]: the sinks' metrics and log lines.
//! - [`group_events`]: the consumer group's rebalances and refused commits.
//! - [`feed_events`]: the live trade feed's metrics (per symbol, the connection, the buffer).
//! - [`ingest_events`]: the ingestion watcher's metrics and log lines.
//! - [`http`]: the Prometheus recorder and the `/metrics`, `/healthz` endpoint.
//! - [`progress`]: the periodic progress line.
//! - [`alerts`]: the alert rules, with their runbook links under the operator's base URL.
//! - [`registry_events`]: the Schema Registry client's metrics and log lines.
//! - [`reachability`]: whether Kafka, S3, Snowflake and the Schema Registry answer, and why not (one WARN per interval).

pub mod alerts;
pub mod events;
pub mod feed_events;
pub mod group_events;
pub mod http;
pub mod ingest_events;
pub mod progress;
pub mod reachability;
pub mod refusals;
pub mod registry_events;
pub mod sink_events;
pub mod stats;

pub use stats::{PipelineStats, StatsSnapshot};
