//! Why a record cannot be written: caused by the record itself, so it fails the same way every
//! time ([`crate::error::ErrorClass::Record`]). Its text is what a dead letter says (the
//! `error` of its line, Connect's `__connect.errors.exception.message` header).

use crate::error::ErrorClass;

/// Why a record cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A null value under `behavior.on.null.values = fail`.
    #[error("a null value (tombstone); behavior.on.null.values = fail")]
    Tombstone,
    /// Over `max.record.bytes`.
    #[error("value of {bytes} bytes exceeds max.record.bytes ({max})")]
    TooLarge { bytes: usize, max: usize },
    /// `value.converter = "string"`: not UTF-8.
    #[error("not UTF-8 text: {0}")]
    NotUtf8(String),
    /// Not JSON where JSON is read (the parser's words).
    #[error("not JSON: {0}")]
    NotJson(String),
    /// `value.schema = "tick"`: not a tick (serde's words).
    #[error("not a tick: {0}")]
    NotTick(String),
    /// `value.schema = <file>`: up to three of the JSON Schema validator's reasons.
    #[error("does not match the schema: {0}")]
    Schema(String),
    /// A field that cannot take its typed column's type.
    #[error("column {column} ({sql}): {value} is not {expected}")]
    Column {
        column: String,
        sql: &'static str,
        /// The value as written (cut to 80 characters).
        value: String,
        expected: &'static str,
    },
    /// `value.converter = "avro"`: not in the Confluent wire format (magic byte 0, then a 4-byte
    /// schema id).
    #[error("not in the Schema Registry wire format: {0}")]
    NotWireFormat(String),
    /// The record names a schema id that cannot be read with (the registry has no such id, or
    /// it is not an Avro schema).
    #[error("schema id {id}: {reason}")]
    UnusableSchema { id: u32, reason: String },
    /// The bytes after the header do not decode with the schema they name.
    #[error("does not decode with schema id {id}: {reason}")]
    NotAvro { id: u32, reason: String },
    /// `value.converter.schemas.enable = true`: not a `{"schema", "payload"}` envelope, or a
    /// payload its schema does not describe.
    #[error("not a JsonConverter envelope: {0}")]
    NotEnvelope(String),
    /// `schema.compatibility` other than `NONE` compares versions, and the schema has none
    /// under the subject.
    #[error("schema.compatibility = {compatibility} needs the schema's version under subject {subject:?}, and schema {} has none there", id.map_or("of the envelope".to_owned(), |i| format!("id {i}")))]
    NoSchemaVersion {
        id: Option<u32>,
        subject: String,
        compatibility: String,
    },
    /// A record without a schema (JSON, or an envelope whose schema is `null`) for a file of a
    /// schema's columns (Avro, or Parquet of records with schemas).
    #[error("format.class = {0} needs a record with a schema; this one has none")]
    Schemaless(&'static str),
    /// A Parquet file's columns are a record's fields: a schema that is not a record, or whose
    /// types nest without end, has none.
    #[error("format.class = parquet cannot write it: {0}")]
    NoParquetColumns(String),
    /// `store.kafka.keys`: the record has no key, or its key does not convert.
    #[error("store.kafka.keys: {0}")]
    Key(String),
    /// The partitioner cannot name the record's directory (no such field, no timestamp, a value
    /// that cannot name a directory); the setting it reads is named first.
    #[error("{setting}: {reason}")]
    Unplaceable { setting: &'static str, reason: String },
    /// The directory the partitioner names for the record cannot be part of an S3 key (too
    /// long for S3, or for the embedded store's file system).
    #[error("directory {dir:?}: {reason}")]
    Unstorable { dir: String, reason: String },
}

impl RecordError {
    /// Always [`ErrorClass::Record`].
    pub fn class(&self) -> ErrorClass {
        ErrorClass::Record
    }

    /// Not JSON, in the parser's words.
    pub fn not_json(e: impl std::fmt::Display) -> Self {
        Self::NotJson(e.to_string())
    }
}
