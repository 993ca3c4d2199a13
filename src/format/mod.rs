//! What records and files are, in one place: how a Kafka value is read (`value.converter`), how
//! records become a data file (`format.class`, `s3.compression.type`, `parquet.codec`), and how
//! a file is read back, split into records and counted. The sink writes with it; resuming,
//! `verify` and the ingestion watcher read with it. Nothing else knows a format.
//!
//! - [`convert`]: what a value becomes: its bytes as written, or why it cannot be (a
//!   [`Rejected`] record), or nothing (an ignored tombstone).
//! - [`FileFormat`] ([`file`](mod@file)): one topic's data files: a record's encoding, an
//!   open file's body, the finished file (compressed lines, a Parquet file of its rows, an
//!   Avro container).
//! - [`read`]: a file read back by its key, split into its records and counted.
//! - [`names`]: each format's extension, the offset in any data file's name, `Content-Type`.
//! - [`compression`]: gzip and zstd.
//! - [`parquet`]: Parquet files of a topic's typed columns, or of an Avro schema's, written
//!   and read back.
//! - [`avro`]: Avro container files, written and read back.
//! - [`dead_letter`]: the dead-letter file's lines.
//! - [`companions`]: keys and headers files beside a data file (`store.kafka.keys`,
//!   `store.kafka.headers`).
//!
//! Adding a format means a file here (its body, its finishing, its reading back) and its arm in
//! [`FileFormat`] and [`read::Reader`].

pub mod avro;
pub mod companions;
pub mod compression;
pub mod convert;
pub mod dead_letter;
mod file;
pub mod names;
pub mod parquet;
pub mod read;

pub use convert::{Converted, Converter, Verdict};
pub use file::{FileBody, FileFormat, FileFormats};
pub use parquet::{ParquetLayouts, ParquetSpec, Row};
pub use read::{FileRecords, Reader};

/// A file that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The rows passed their columns' types but the Parquet writer refused them.
    #[error("writing the Parquet file")]
    Parquet(#[source] ::parquet::errors::ParquetError),
    /// Compressing a file of lines failed: only when memory runs out.
    #[error("compressing the file")]
    Compress(#[source] std::io::Error),
    /// A file that does not decompress, or is not the Parquet file its key says.
    #[error("{key}: not a valid {what} file")]
    Unreadable {
        key: String,
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
