//! Records with a schema: Avro records in the Confluent wire format (their writer schema
//! fetched from Schema Registry by id), and JsonConverter envelopes (their Connect schema
//! made an Avro schema). Both become an Avro value of a known [`WriterSchema`], written as JSON,
//! as Avro or as typed Parquet columns.
//!
//! - [`WriterSchema`]: a schema parsed once, its datum reader built once; [`SchemaCache`]: the
//!   schemas fetched so far, by id.
//! - [`wire`]: the wire format's header (magic byte, schema id).
//! - [`json`]: a value rendered as Connect's `JsonConverter` writes it.
//! - [`encode`]: a value written back as a binary datum (deterministically).
//! - [`fields`]: a top-level field as the partitioners read it.
//! - [`envelope`]: a JsonConverter envelope's schema and payload.
//! - [`compat`]: `schema.compatibility`: which records share a file, and as what schema;
//!   [`project`](AvroRecord::project): a record made a value of another schema.

pub mod compat;
pub mod encode;
pub mod envelope;
pub mod fields;
pub mod json;
mod project;
mod schema;
pub mod wire;

use std::sync::Arc;

use apache_avro::types::Value;

pub use schema::{BadSchema, Known, SchemaCache, WriterSchema};

impl AvroRecord<'_> {
    /// The record as a value of schema `to` ([`project::project`]), or why it does not fit.
    pub fn project(&self, to: &Arc<WriterSchema>) -> Result<AvroRecord<'static>, String> {
        project::project(self, to)
    }
}

/// A record decoded by its writer schema.
#[derive(Clone, Debug)]
pub struct AvroRecord<'a> {
    pub schema: Arc<WriterSchema>,
    /// The binary datum as produced (`None`: an envelope's payload, which has none).
    pub datum: Option<&'a [u8]>,
    pub value: Value,
}
