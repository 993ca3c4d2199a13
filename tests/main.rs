//! The integration tests, as one binary: each file beside this one is a module, named for what it
//! tests. One binary, not one per file, because each links the whole AWS SDK and librdkafka
//! (ten binaries took ~1 GB of disk and ten links). Run one file's tests by its module name:
//! `cargo test --test integration pipeline::`.
//!
//! Tiers: `cli`, `s3_store`, `metrics_endpoint` are small; `pipeline`, `faults`, `supervision`,
//! `rebalance`, `warehouse` run the real pipeline against the librdkafka mock cluster and s3s-fs on
//! 127.0.0.1 (`common` starts them, with fresh topic and bucket names per test); `msk_iam` and
//! `snowflake` play the far side (a SASL broker, the Snowflake SQL API) on 127.0.0.1; `s3_objects`
//! runs moto's S3 server as a process to see what S3 keeps beside the bytes.

mod common;
/// Ports below the kernel's ephemeral range (shared with the chaos suite and the bench).
#[path = "../chaos/src/ports.rs"]
mod ports;
mod process;
mod prometheus;
mod sasl_broker;

mod alerting;
mod any_records;
mod avro;
mod cli;
mod combinations;
mod companions;
mod compression;
mod csv_replay;
mod dashboard;
mod dead_letters;
mod faults;
mod independent_reader;
mod metrics_endpoint;
mod msk_iam;
mod parquet;
mod partitioners;
mod pipeline;
mod poison;
mod rebalance;
mod s3_objects;
mod s3_store;
mod scheduled_rotation;
mod snowflake;
mod startup;
mod supervision;
mod warehouse;
mod warehouse_announced;
mod warehouse_lease;
mod websocket_feed;
