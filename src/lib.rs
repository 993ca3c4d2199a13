//! # tickstream: the map
//!
//! A supervised actor runtime (ractor on tokio) for a real-time market-data pipeline:
//!
//! ```text
//!  producer(AAPL) ─┐                                   ┌─ sink(p0) ─┐
//!  producer(MSFT) ─┼─► Kafka "stock-market-data" ─► router ─ sink(p1) ─┼─► S3 topics/<topic>/partition=<p>/…json
//!  producer(…)    ─┘   (keyed by symbol)          (consumer thread) └─ sink(p2) ─┘   then commit offset
//! ```
//!
//! Where things are:
//! - [`config`]: the TOML file, its documented fields (Confluent S3 sink names), validation.
//! - [`producer`]: the tick model and the per-symbol producer actors.
//! - [`auth`]: MSK IAM: SigV4-signed OAUTHBEARER tokens and the token-refresh actor.
//! - [`kafka`]: librdkafka clients: the shared producer, the sink consumer's context, topic
//!   creation, and the embedded mock cluster.
//! - [`s3`]: key layout, the S3 client, the segment store (conditional writes), embedded s3s-fs.
//! - [`sink`]: the per-partition sink actors, the exactly-once file rules, the consumer router.
//! - [`telemetry`]: metrics events, the `/metrics` endpoint, the progress line.
//! - [`warehouse`]: the ingestion watcher (Snowpipe's job) and the SQLite warehouse it loads;
//!   `status`, `query`, `stats`; in Snowflake mode the DDL and the Snowpipe monitor (SQL API).
//! - [`verify`]: the exactly-once audit of topic vs bucket (`tickstream verify`).
//! - [`runtime`]: wiring the supervision tree and the start/stop order.
//! - [`control`]: health (systemd watchdog), readiness (`/readyz`), fault injection (admin endpoint).
//! - [`embedded`]: the zero-set-up mode (Kafka and S3 in-process).
//! - [`app`] and [`cli`]: what `tickstream run` does, and the command line; [`systemd`]: READY/watchdog.
//!
//! The restart policy itself lives in the `supervisors` crate.

pub mod auth;
pub mod config;
pub mod consumer;
pub mod embedded;
pub mod error;
pub mod kafka;
pub mod landed;
pub mod pipeline;
pub mod producer;
pub mod record;
pub mod s3;
pub mod sink;
pub mod systemd;
pub mod task;
pub mod telemetry;
pub mod verify;
pub mod warehouse;
