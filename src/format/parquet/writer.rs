//! An open Parquet file: its rows kept column by column in Arrow builders (a tick's typed
//! columns are ~60 bytes a row), written out at close as one row group.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use parquet::file::metadata::KeyValue;

use super::avro::{AvroRows, AVRO_SCHEMA_KEY};
use super::{CellRef, ParquetSpec, Row};
use crate::config::{ColumnType, ParquetCodec};

/// One column's values so far.
enum Builder {
    Text(StringBuilder),
    Real(Float64Builder),
    Integer(Int64Builder),
    Boolean(BooleanBuilder),
    Timestamp(TimestampMillisecondBuilder),
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Builder")
    }
}

impl Builder {
    fn new(kind: ColumnType, rows: usize) -> Self {
        match kind {
            ColumnType::Text => Self::Text(StringBuilder::with_capacity(rows, rows * 8)),
            ColumnType::Real => Self::Real(Float64Builder::with_capacity(rows)),
            ColumnType::Integer => Self::Integer(Int64Builder::with_capacity(rows)),
            ColumnType::Boolean => Self::Boolean(BooleanBuilder::with_capacity(rows)),
            ColumnType::Timestamp => Self::Timestamp(TimestampMillisecondBuilder::with_capacity(rows)),
        }
    }

    /// Appends `cell`, which [`ParquetSpec::row`] made for this column's type; returns its
    /// bytes in memory.
    fn push(&mut self, cell: &CellRef) -> usize {
        match (self, cell) {
            (Self::Text(b), CellRef::Text(s)) => {
                b.append_value(s);
                s.len() + 4
            }
            (Self::Real(b), CellRef::Real(f)) => {
                b.append_value(*f);
                8
            }
            (Self::Integer(b), CellRef::Integer(i)) => {
                b.append_value(*i);
                8
            }
            (Self::Boolean(b), CellRef::Boolean(v)) => {
                b.append_value(*v);
                1
            }
            (Self::Timestamp(b), CellRef::Timestamp(ms)) => {
                b.append_value(*ms);
                8
            }
            (b, _) => {
                b.append_null();
                1
            }
        }
    }

    fn append_null(&mut self) {
        match self {
            Self::Text(b) => b.append_null(),
            Self::Real(b) => b.append_null(),
            Self::Integer(b) => b.append_null(),
            Self::Boolean(b) => b.append_null(),
            Self::Timestamp(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Text(b) => Arc::new(b.finish()),
            Self::Real(b) => Arc::new(b.finish()),
            Self::Integer(b) => Arc::new(b.finish()),
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish().with_timezone("UTC")),
        }
    }
}

/// The rows of one open file.
#[derive(Debug)]
pub struct RowBatch {
    columns: Vec<Builder>,
    content: Option<StringBuilder>,
    rows: usize,
    bytes: usize,
}

impl RowBatch {
    /// An empty batch with room for `rows` rows.
    pub fn new(spec: &ParquetSpec, rows: usize) -> Self {
        Self {
            columns: spec.columns.iter().map(|c| Builder::new(c.kind, rows)).collect(),
            content: spec.content.then(|| StringBuilder::with_capacity(rows, rows * 160)),
            rows: 0,
            bytes: 0,
        }
    }

    pub fn push(&mut self, row: &Row) {
        for (b, c) in self.columns.iter_mut().zip(&row.cells) {
            self.bytes += b.push(c);
        }
        if let Some(b) = &mut self.content {
            match row.content {
                Some(text) => {
                    b.append_value(text);
                    self.bytes += text.len() + 4;
                }
                None => b.append_null(),
            }
        }
        self.rows += 1;
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The values held so far, in bytes (what `max.buffered.records` bounds, in rows).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The Parquet file of these rows: one row group (up to a million rows), `spec.codec`.
    pub fn finish(mut self, spec: &ParquetSpec) -> Result<Vec<u8>, parquet::errors::ParquetError> {
        let mut arrays: Vec<ArrayRef> = self.columns.iter_mut().map(Builder::finish).collect();
        if let Some(b) = &mut self.content {
            arrays.push(Arc::new(b.finish()));
        }
        let batch = RecordBatch::try_new(spec.schema.clone(), arrays)?;
        let mut props = WriterProperties::builder()
            .set_compression(compression(spec.codec))
            .set_created_by(format!("tickstream {}", env!("CARGO_PKG_VERSION")));
        // Text (a few symbols, exchanges, runs) keeps parquet-rs's dictionary; numbers take
        // none: a price walk has nearly as many values as rows, so a dictionary added a page and
        // an index per value and hashed every one. Integers and timestamps go delta-encoded,
        // reals plain, which zstd packs smaller than the dictionary was (benches/RESULTS.md).
        for c in spec.columns.iter() {
            let path = ColumnPath::from(c.name.as_str());
            let encoding = match c.kind {
                ColumnType::Integer | ColumnType::Timestamp => Encoding::DELTA_BINARY_PACKED,
                ColumnType::Real => Encoding::PLAIN,
                ColumnType::Text | ColumnType::Boolean => continue,
            };
            props = props
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, encoding);
        }
        write(&batch, props.build(), self.bytes / 4 + 1024)
    }
}

/// The Parquet file of Avro records (`rows`): one row group, `codec`, the writer schema under
/// `parquet.avro.schema`.
pub fn finish_avro(rows: AvroRows, codec: ParquetCodec) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let guess = rows.bytes() / 4 + 1024;
    let schema = rows.schema.text.to_string();
    let batch = rows.batch()?;
    let props = WriterProperties::builder()
        .set_compression(compression(codec))
        .set_created_by(format!("tickstream {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![KeyValue::new(AVRO_SCHEMA_KEY.to_owned(), schema)]))
        .build();
    write(&batch, props, guess)
}

fn write(batch: &RecordBatch, props: WriterProperties, guess: usize) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let mut out = Vec::with_capacity(guess);
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(out)
}

fn compression(codec: ParquetCodec) -> Compression {
    match codec {
        ParquetCodec::Snappy => Compression::SNAPPY,
        ParquetCodec::Zstd => Compression::ZSTD(ZstdLevel::default()),
        ParquetCodec::Gzip => Compression::GZIP(GzipLevel::default()),
        ParquetCodec::None => Compression::UNCOMPRESSED,
    }
}
