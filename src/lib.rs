//! # tickstream: the map
//!
//! A supervised actor runtime (ractor on tokio) for a real-time market-data pipeline. Records
//! flow left to right; every box with a name in brackets is an actor under a supervisor.
//!
//! ```text
//!  [producer-AAPL] ─┐  ticks (record::tick)                         ┌─► [sink-0] ─┐
//!  [producer-MSFT] ─┼─► one idempotent ─► Kafka ─► group consumer ─┼─► [sink-1] ─┼─► S3 topics/<topic>/partition=<p>/…json
//!  [producer-…]   ─┘   rdkafka producer  (MSK)    + router thread  └─► [sink-2] ─┘     then commit(offset) per partition
//!  (or any producer:   any topics: one sink per (topic, partition), any JSON, dead letters to dlq/ or a topic)
//!                       ▲                          owned by [consumer]          │
//!                       │ SASL/OAUTHBEARER token                                │ file-landed channel (landed)
//!                 [token-refresher]                                             ▼
//!                                                       [ingest-watcher] ─► SQLite warehouse (or [snowpipe-monitor])
//!
//!  root ─┬─ auth ─ token-refresher          (pipeline::tree declares the tree and its restart kinds;
//!        ├─ producers ─ producer-<SYMBOL>…   the policy itself is the `supervisors` crate)
//!        ├─ sinks ─ consumer, sink-<p>…
//!        └─ warehouse ─ ingest-watcher | snowpipe-monitor
//! ```
//!
//! Where things are:
//! - [`config`]: the TOML file, its documented fields (Confluent S3 sink names), validation.
//! - [`record`]: the records carried, declared once: the consumed [`record::Record`], the tick,
//!   and records with a schema (Avro values of a writer schema, JsonConverter envelopes).
//! - [`producer`]: the per-symbol producer actors and their price walks.
//! - [`kafka`]: librdkafka clients: the shared producer, topic creation, client settings per
//!   mode, what librdkafka reports about the brokers, the embedded mock cluster.
//! - [`auth`]: MSK IAM: SigV4-signed OAUTHBEARER tokens and the token-refresh actor.
//! - [`consumer`]: the group consumer side: the consumer actor, its router thread, rebalances,
//!   the memory bound; it implements the sink's [`sink::source::PartitionSource`].
//! - [`sink`]: the per-(topic, partition) sink actors and their exactly-once rules (converting
//!   and validating records, segmenting, dead letters, resuming, uploading, commit pacing);
//!   never imports [`consumer`].
//! - [`format`]: what records and files are: the value converters, the data files of every
//!   `format.class` (JSON lines, raw values, Parquet, Avro) and compression, written and read
//!   back.
//! - [`partitioner`]: which directory a record's file goes to (`partitioner.class`: default,
//!   field, time), a pure function of the record.
//! - [`s3`]: key layout, the S3 client, the segment store (conditional writes), file compression
//!   (gzip, zstd), embedded s3s-fs.
//! - [`registry`]: the Schema Registry client: writer schemas fetched by id into the cache the
//!   converters read Avro records with.
//! - [`landed`]: the typed channel from the sinks to the ingestion watcher.
//! - [`warehouse`]: the ingestion watcher (Snowpipe's job) and the SQLite warehouse it loads;
//!   `status`, `query`, `stats`; in Snowflake mode the DDL and the Snowpipe monitor (SQL API).
//! - [`verify`]: the exactly-once audit of topic vs bucket (`tickstream verify`).
//! - [`connect_import`]: a Confluent S3 sink connector's configuration → tickstream's TOML;
//!   [`athena`]: the Athena tables that query the files in place.
//! - [`pipeline`]: start (after waiting for Kafka and S3), the supervision tree, stop in an
//!   order that loses nothing, and [`pipeline::Admin`]: health, readiness, fault injection.
//! - [`telemetry`]: metric events (names live only there), `/metrics` and `/readyz`, the
//!   progress line, and what each dependency's reachability is.
//! - [`service`]: `run(config, options, shutdown)`: one `tickstream run` from the metrics endpoint
//!   to the last line, every part stopped once, in order.
//! - [`embedded`]: the zero-set-up mode (Kafka and S3 in this process); [`systemd`]: READY and
//!   the watchdog.
//! - [`rng`]: a seeded generator whose output for a seed never changes (price walks, chaos
//!   schedules).
//! - [`error`]: one rendering of an error and its causes; [`task`]: a task that dies with its
//!   owner; [`tls`]: the settings of every TLS client; [`test_support`]: waiting helpers for the tests.
//!
//! The binary (`src/main.rs`, `src/commands/`) parses the command line and runs one subcommand.

pub mod athena;
pub mod auth;
pub mod config;
pub mod connect_import;
pub mod consumer;
pub mod embedded;
pub mod error;
pub mod format;
pub mod kafka;
pub mod landed;
pub mod partitioner;
pub mod pipeline;
pub mod producer;
pub mod record;
pub mod registry;
pub mod rng;
pub mod s3;
pub mod service;
pub mod sink;
pub mod systemd;
pub mod task;
pub mod telemetry;
pub mod test_support;
pub mod tls;
pub mod verify;
pub mod warehouse;
