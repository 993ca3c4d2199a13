//! What records and files are, in one place: how a Kafka value is read (`value.converter`), how
//! records become a data file (`format.class`, `s3.compression.type`, `parquet.codec`), and how
//! a file is read back, split into records and counted. The sink writes with it; resuming,
//! `verify` and the ingestion watcher read with it. Nothing else knows a format.
//!
//! - [`convert`]: what a value becomes: its bytes as written, or why it cannot be (a
//!   [`Rejected`] record), or nothing (an ignored tombstone).
//! - [`FileFormat`] (here): one topic's data files: a record's encoding, an open file's body,
//!   the finished file (compressed, or a Parquet file of its rows).
//! - [`read`]: a file read back by its key, split into its records and counted.
//! - [`names`]: each format's extension, the offset in any data file's name, `Content-Type`.
//! - [`compression`]: gzip and zstd.
//! - [`parquet`]: Parquet files of a topic's typed columns, written and read back.
//! - [`dead_letter`]: the dead-letter file's lines.
//!
//! Adding a format means a file here (its body, its finishing, its reading back) and its arm in
//! [`FileFormat`] and [`read::Reader`].

pub mod avro;
pub mod compression;
pub mod convert;
pub mod dead_letter;
pub mod names;
pub mod parquet;
pub mod read;

use std::sync::Arc;

use crate::config::{Compression, Config, FormatClass};
use crate::record::RecordError;
pub use convert::{Converter, Verdict};
use parquet::writer::RowBatch;
pub use parquet::{ParquetLayouts, ParquetSpec, Row};
pub use read::{FileRecords, Reader};

/// A file that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The rows passed their columns' types but the Parquet writer refused them.
    #[error("writing the Parquet file")]
    Parquet(#[source] ::parquet::errors::ParquetError),
    /// A file that does not decompress, or is not the Parquet file its key says.
    #[error("{key}: not a valid {what} file")]
    Unreadable {
        key: String,
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// How one topic's data files are written.
#[derive(Clone, Debug)]
pub struct FileFormat {
    kind: Kind,
    /// `s3.compression.type` and `s3.compression.level` (JSON lines and raw values).
    compression: (Compression, i32),
}

#[derive(Clone, Debug)]
enum Kind {
    /// One record per line.
    JsonLines,
    /// Raw values, each followed by `format.bytearray.separator`.
    RawValues { separator: Arc<[u8]> },
    /// The topic's typed columns (and `RECORD_CONTENT`), one row per record.
    Parquet(ParquetSpec),
}

/// Every topic's [`FileFormat`], as `[sink]` (and `[warehouse]`'s typed columns) describe them.
#[derive(Clone, Debug)]
pub struct FileFormats {
    kind: FormatClass,
    separator: Arc<[u8]>,
    /// How these files (and any other format's) are read back.
    reader: Reader,
    compression: (Compression, i32),
    parquet: Option<Arc<ParquetLayouts>>,
}

impl FileFormats {
    pub fn from_config(config: &Config) -> Self {
        let sink = &config.sink;
        Self {
            kind: sink.format(),
            separator: sink.bytearray_separator.as_bytes().into(),
            reader: Reader::of(sink),
            compression: (sink.compression, sink.compression_level),
            parquet: ParquetLayouts::from_config(config).map(Arc::new),
        }
    }

    /// JSON lines, uncompressed (tests).
    pub fn json() -> Self {
        Self {
            kind: FormatClass::Json,
            separator: b"\n"[..].into(),
            reader: Reader::lines(),
            compression: (Compression::None, -1),
            parquet: None,
        }
    }

    /// How a file is read back and split into records (a raw-value file at
    /// `format.bytearray.separator`).
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    /// `topic`'s files.
    pub fn for_topic(&self, topic: &str) -> FileFormat {
        let kind = match (self.kind, &self.parquet) {
            (FormatClass::Parquet, Some(layouts)) => Kind::Parquet(layouts.spec(topic)),
            (FormatClass::ByteArray, _) => Kind::RawValues {
                separator: self.separator.clone(),
            },
            _ => Kind::JsonLines,
        };
        FileFormat {
            kind,
            compression: self.compression,
        }
    }
}

impl FileFormat {
    /// The Parquet layout, when files are Parquet.
    pub fn parquet(&self) -> Option<&ParquetSpec> {
        match &self.kind {
            Kind::Parquet(spec) => Some(spec),
            _ => None,
        }
    }

    /// Encodes a converted value (`line`) for this file: a Parquet file's row is filled in
    /// `row` where it stands (or says which column the value cannot take); lines need nothing.
    pub fn encode<'a>(&self, line: &'a [u8], row: &mut Row<'a>) -> Result<(), RecordError> {
        match &self.kind {
            Kind::Parquet(spec) => spec.fill(row, line),
            Kind::JsonLines | Kind::RawValues { .. } => Ok(()),
        }
    }

    /// A new file, opened by a record of `first_len` bytes: room for the whole file at that
    /// size (capped: a file that rotates early must not pin megabytes) instead of ~10
    /// doublings, and little when `many` files are open at once.
    pub fn open(&self, first_len: usize, flush_size: u64, many: bool) -> FileBody {
        let (rows_at_first, bytes_cap) = match many {
            false => (4_096, 256 * 1024),
            true => (64, 8 * 1024),
        };
        let flush = flush_size.min(u64::from(u32::MAX)) as usize;
        match &self.kind {
            Kind::Parquet(spec) => FileBody {
                bytes: Vec::new(),
                rows: Some(RowBatch::new(spec, flush.min(rows_at_first))),
            },
            Kind::JsonLines | Kind::RawValues { .. } => FileBody {
                bytes: Vec::with_capacity((first_len + 1).saturating_mul(flush).min(bytes_cap)),
                rows: None,
            },
        }
    }

    /// Appends a record: its line and separator, or its row ([`Self::encode`] filled it).
    pub fn append(&self, body: &mut FileBody, line: &[u8], row: &Row<'_>) {
        match (&self.kind, &mut body.rows) {
            (Kind::Parquet(_), Some(rows)) => rows.push(row),
            (Kind::RawValues { separator }, _) => {
                body.bytes.extend_from_slice(line);
                body.bytes.extend_from_slice(separator);
            }
            _ => {
                body.bytes.extend_from_slice(line);
                body.bytes.push(b'\n');
            }
        }
    }

    /// The finished file: its lines compressed as configured, or the Parquet file of its rows.
    /// Deterministic: the same records make the same bytes (a retried upload compares them).
    pub fn finish(&self, body: FileBody) -> Result<Vec<u8>, FormatError> {
        match (&self.kind, body.rows) {
            (Kind::Parquet(spec), Some(rows)) => rows.finish(spec).map_err(FormatError::Parquet),
            _ => Ok(compression::compress(
                body.bytes,
                self.compression.0,
                self.compression.1,
            )),
        }
    }
}

/// An open file's contents so far.
#[derive(Debug)]
pub struct FileBody {
    /// JSON lines or raw values (empty for Parquet).
    bytes: Vec<u8>,
    /// The rows of a Parquet file.
    rows: Option<RowBatch>,
}

impl FileBody {
    /// Bytes held: the lines, or the Parquet column buffers.
    pub fn bytes(&self) -> u64 {
        (self.bytes.len() + self.rows.as_ref().map_or(0, RowBatch::bytes)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(format: &FileFormat, lines: &[&[u8]]) -> Vec<u8> {
        let mut body = format.open(lines[0].len(), 100, false);
        for line in lines {
            let mut row = Row::default();
            format.encode(line, &mut row).unwrap();
            format.append(&mut body, line, &row);
        }
        format.finish(body).unwrap()
    }

    #[test]
    fn each_format_reads_back_the_records_it_wrote() {
        let config = |toml: &str| crate::config::parse_str(toml).unwrap();
        let lines: [&[u8]; 2] = [br#"{"symbol":"A","price":1.5}"#, br#"{"symbol":"B","price":2}"#];
        for (toml, key) in [
            ("", "t+0+0.json"),
            ("[sink]\n\"s3.compression.type\" = \"gzip\"", "t+0+0.json.gz"),
            ("[sink]\n\"s3.compression.type\" = \"zstd\"", "t+0+0.json.zst"),
            (
                "[sink]\n\"value.converter\" = \"bytes\"\n\"format.bytearray.separator\" = \"|\"",
                "t+0+0.bin",
            ),
        ] {
            let c = config(toml);
            let file = written(&FileFormats::from_config(&c).for_topic("t"), &lines);
            let read = Reader::of(&c.sink).read(key, file.into()).unwrap();
            assert_eq!(read.iter().collect::<Vec<_>>(), lines, "{toml}");
        }
        let parquet = config("[sink]\n\"format.class\" = \"parquet\"\n[warehouse]\ncolumns = []\n");
        let file = written(&FileFormats::from_config(&parquet).for_topic("t"), &lines);
        let read = Reader::default().read("t+0+0.snappy.parquet", file.into()).unwrap();
        assert_eq!(read.iter().collect::<Vec<_>>(), lines, "RECORD_CONTENT, as written");
    }

    #[test]
    fn a_parquet_row_names_the_column_a_value_cannot_take() {
        let c = crate::config::parse_str(
            "[sink]\n\"format.class\" = \"parquet\"\n[[warehouse.columns]]\nname = \"price\"\ntype = \"REAL\"\n",
        )
        .unwrap();
        let format = FileFormats::from_config(&c).for_topic("t");
        let mut row = Row::default();
        let why = format.encode(br#"{"price":"high"}"#, &mut row).unwrap_err().to_string();
        assert!(why.contains("price"), "{why}");
    }
}
