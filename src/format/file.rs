//! One topic's data files: how a converted record is encoded, what an open file holds, and the
//! finished file (compressed lines, a Parquet file of its rows, an Avro container).
//!
//! A file of records with a schema (Avro, envelopes) has one schema: the first record's, onto
//! which later ones are projected or which they close (`schema.compatibility`, decided by the
//! segmenter), whatever the format: JSON files rotate at a schema change as Confluent's do.

use std::sync::Arc;

use super::avro::{sync_marker, Codec, ContainerWriter};
use super::convert::Converted;
use super::parquet::avro::{self as avro_columns, AvroRows};
use super::parquet::writer::{self, RowBatch};
use super::{compression, FormatError, ParquetLayouts, ParquetSpec, Reader, Row};
use crate::config::{AvroCodec, Compression, Config, FormatClass, ParquetCodec};
use crate::record::avro::json::Style;
use crate::record::avro::{encode, WriterSchema};
use crate::record::RecordError;

/// How one topic's data files are written.
#[derive(Clone, Debug)]
pub struct FileFormat {
    kind: Kind,
    /// `s3.compression.type` and `s3.compression.level` (JSON lines and raw values).
    compression: (Compression, i32),
    /// How an Avro value is rendered in a JSON-lines file.
    style: Style,
    /// The topic: with the file's first offset, it makes an Avro file's sync marker.
    topic: Arc<str>,
}

#[derive(Clone, Debug)]
enum Kind {
    /// One record per line.
    JsonLines,
    /// Raw values, each followed by `format.bytearray.separator`.
    RawValues { separator: Arc<[u8]> },
    /// The topic's typed columns (and `RECORD_CONTENT`), one row per JSON record.
    Parquet(ParquetSpec),
    /// The writer schema's columns, one row per record with a schema.
    AvroParquet(ParquetCodec),
    /// An Avro container of the writer schema.
    Avro(Codec),
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
    /// Records carry a schema (Avro, envelopes): Parquet files take its columns.
    schemas: bool,
    parquet_codec: ParquetCodec,
    avro_codec: AvroCodec,
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
            schemas: sink.value_converter == crate::config::ValueConverter::Avro || sink.schemas_enable,
            parquet_codec: sink.parquet_codec,
            avro_codec: sink.avro_codec,
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
            schemas: false,
            parquet_codec: ParquetCodec::Snappy,
            avro_codec: AvroCodec::Null,
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
            (FormatClass::Parquet, _) if self.schemas => Kind::AvroParquet(self.parquet_codec),
            (FormatClass::Parquet, Some(layouts)) => Kind::Parquet(layouts.spec(topic)),
            (FormatClass::ByteArray, _) => Kind::RawValues {
                separator: self.separator.clone(),
            },
            (FormatClass::Avro, _) => Kind::Avro(match self.avro_codec {
                AvroCodec::Null => Codec::Null,
                AvroCodec::Deflate => Codec::Deflate,
                AvroCodec::Snappy => Codec::Snappy,
                AvroCodec::Zstandard => Codec::Zstandard,
            }),
            _ => Kind::JsonLines,
        };
        FileFormat {
            kind,
            compression: self.compression,
            style: self.reader.style(),
            topic: topic.into(),
        }
    }
}

impl FileFormat {
    /// The typed-column Parquet layout, when files are Parquet of JSON records.
    pub fn parquet(&self) -> Option<&ParquetSpec> {
        match &self.kind {
            Kind::Parquet(spec) => Some(spec),
            _ => None,
        }
    }

    /// How an Avro value is rendered as a line.
    pub fn style(&self) -> Style {
        self.style
    }

    /// Encodes a converted record for this file: a typed Parquet row is filled in `row` where
    /// it stands (or says which column the value cannot take); a record without a schema
    /// cannot go into a file of a schema's columns.
    pub fn encode<'a>(&self, record: &'a Converted<'a>, row: &mut Row<'a>) -> Result<(), RecordError> {
        match (&self.kind, record) {
            (Kind::Parquet(spec), Converted::Line(line, tick)) => spec.fill(row, line, tick.as_ref()),
            // Configuration keeps these apart (records with schemas take their own columns).
            (Kind::Parquet(_), Converted::Avro(_)) => Err(RecordError::Schemaless("parquet of typed columns")),
            (Kind::AvroParquet(_), Converted::Line(..)) => Err(RecordError::Schemaless("parquet")),
            (Kind::Avro(_), Converted::Line(..)) => Err(RecordError::Schemaless("avro")),
            _ => Ok(()),
        }
    }

    /// A new file, opened by `first` (its record at offset `start`): room for the whole file
    /// at its size (capped: a file that rotates early must not pin megabytes) instead of ~10
    /// doublings, and little when `many` files are open at once. A file of a schema's columns
    /// takes the record's schema, or says why it cannot.
    pub fn open(
        &self,
        first: &Converted<'_>,
        start: i64,
        flush_size: u64,
        many: bool,
    ) -> Result<FileBody, RecordError> {
        let (rows_at_first, bytes_cap) = match many {
            false => (4_096, 256 * 1024),
            true => (64, 8 * 1024),
        };
        let flush = flush_size.min(u64::from(u32::MAX)) as usize;
        let schema = match first {
            Converted::Avro(r) => Some(r.schema.clone()),
            Converted::Line(..) => None,
        };
        let body = match (&self.kind, &schema) {
            (Kind::Parquet(spec), _) => Body::Rows(RowBatch::new(spec, flush.min(rows_at_first))),
            (Kind::AvroParquet(_), Some(s)) => Body::AvroRows(AvroRows::new(s.clone(), avro_columns::arrow_schema(s)?)),
            (Kind::Avro(codec), Some(s)) => {
                let mut seed = self.topic.as_bytes().to_vec();
                seed.extend_from_slice(&start.to_be_bytes());
                Body::Container(ContainerWriter::new(&s.text, *codec, sync_marker(&seed)))
            }
            (Kind::AvroParquet(_), None) => return Err(RecordError::Schemaless("parquet")),
            (Kind::Avro(_), None) => return Err(RecordError::Schemaless("avro")),
            (Kind::JsonLines | Kind::RawValues { .. }, _) => Body::Bytes(Vec::with_capacity(
                (first.len() + 1).saturating_mul(flush).min(bytes_cap),
            )),
        };
        Ok(FileBody { body, schema })
    }

    /// Appends a record: its line and separator, its row ([`Self::encode`] filled it), or its
    /// datum. An Avro record is of the file's schema (the segmenter projects it first): its
    /// datum is copied as produced, or, projected, encoded again.
    pub fn append(&self, file: &mut FileBody, record: &Converted<'_>, row: &Row<'_>) {
        match (&self.kind, &mut file.body, record) {
            (_, Body::Rows(rows), _) => rows.push(row),
            (_, Body::AvroRows(rows), Converted::Avro(r)) => rows.push(&r.value, record.len()),
            (_, Body::Container(c), Converted::Avro(r)) => match r.datum {
                Some(datum) => c.append(datum),
                // Values of the file's schema always encode (the segmenter projected them).
                None => c.append_with(|out| {
                    let _ = encode::encode(&r.value, &r.schema, out);
                }),
            },
            (Kind::RawValues { separator }, Body::Bytes(bytes), Converted::Line(line, _)) => {
                bytes.extend_from_slice(line);
                bytes.extend_from_slice(separator);
            }
            (_, Body::Bytes(bytes), Converted::Avro(r)) => {
                crate::record::avro::json::render(&r.value, &r.schema, self.style, bytes);
                bytes.push(b'\n');
            }
            (_, Body::Bytes(bytes), Converted::Line(line, _)) => {
                bytes.extend_from_slice(line);
                bytes.push(b'\n');
            }
            // A line in a file of a schema: `encode` refused it before it got here.
            (_, Body::AvroRows(_) | Body::Container(_), Converted::Line(..)) => {}
        }
    }

    /// The finished file: its lines compressed as configured, the Parquet file of its rows, or
    /// the Avro container. Deterministic: the same records make the same bytes (a retried
    /// upload compares them).
    pub fn finish(&self, file: FileBody) -> Result<Vec<u8>, FormatError> {
        match (&self.kind, file.body) {
            (Kind::Parquet(spec), Body::Rows(rows)) => rows.finish(spec).map_err(FormatError::Parquet),
            (Kind::AvroParquet(codec), Body::AvroRows(rows)) => {
                writer::finish_avro(rows, *codec).map_err(FormatError::Parquet)
            }
            (_, Body::Container(c)) => Ok(c.finish()),
            (_, Body::Bytes(bytes)) => {
                compression::compress(bytes, self.compression.0, self.compression.1).map_err(FormatError::Compress)
            }
            (_, Body::Rows(_) | Body::AvroRows(_)) => Ok(Vec::new()),
        }
    }
}

/// An open file's contents so far.
#[derive(Debug)]
pub struct FileBody {
    body: Body,
    /// The schema of its records, when they have one.
    schema: Option<Arc<WriterSchema>>,
}

#[derive(Debug)]
enum Body {
    /// JSON lines or raw values.
    Bytes(Vec<u8>),
    /// The typed rows of a Parquet file.
    Rows(RowBatch),
    /// The columns of a Parquet file of a schema.
    AvroRows(AvroRows),
    /// An Avro container.
    Container(ContainerWriter),
}

impl FileBody {
    /// Bytes held: the lines, the Parquet column buffers, the Avro blocks.
    pub fn bytes(&self) -> u64 {
        (match &self.body {
            Body::Bytes(b) => b.len(),
            Body::Rows(r) => r.bytes(),
            Body::AvroRows(r) => r.bytes(),
            Body::Container(c) => c.bytes(),
        }) as u64
    }

    /// The schema of its records, when they have one.
    pub fn schema(&self) -> Option<&Arc<WriterSchema>> {
        self.schema.as_ref()
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
