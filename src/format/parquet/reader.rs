//! A Parquet file read back as JSON lines, one per row in file order: the row's
//! `RECORD_CONTENT` when the file has that column, else an object of its columns by name (as
//! [`super::render`] makes it). Files of any writer are read, as long as their columns are of the
//! types tickstream writes (strings, doubles and floats, integers, booleans, timestamps).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::avro::AVRO_SCHEMA_KEY;
use super::RECORD_CONTENT;
use crate::format::compression::MAX_DECODED_BYTES;
use crate::record::avro::json::{self, Style};
use crate::record::avro::{BadSchema, WriterSchema};
use crate::record::cell::Cell;

/// Why a Parquet file cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum ParquetReadError {
    #[error("not a Parquet file")]
    NotParquet(#[source] parquet::errors::ParquetError),
    #[error("reading its rows")]
    Rows(#[source] arrow_schema::ArrowError),
    /// `parquet.avro.schema` is not an Avro schema.
    #[error("its parquet.avro.schema")]
    AvroSchema(#[source] BadSchema),
    /// Its rows take more than this many bytes, by its metadata or as read.
    #[error("its rows take more than {0} bytes: not read")]
    TooLarge(usize),
    /// A column of a type tickstream does not read (or `RECORD_CONTENT` not a string).
    #[error("column {column}: type {data_type} is not one tickstream reads")]
    Column { column: String, data_type: String },
}

/// A Parquet file's rows as JSON lines.
#[derive(Debug)]
pub struct JsonLines {
    /// One line per row, each ending in a newline.
    pub lines: Vec<u8>,
    /// The lines are objects of the file's columns (false: each is a record's own text, from
    /// `RECORD_CONTENT`, or an Avro record rendered).
    pub by_column_name: bool,
    /// The file's `parquet.avro.schema`, when it was written from Avro records.
    pub avro_schema: Option<Arc<str>>,
}

/// The file's rows as JSON lines; Avro records are rendered in `style`. A file whose rows take
/// more than [`MAX_DECODED_BYTES`] (uncompressed, by its metadata, or as JSON lines) is not read:
/// a foreign object in the prefix, or a decompression bomb, does not take the process's memory.
pub fn json_lines(body: Bytes, style: Style) -> Result<JsonLines, ParquetReadError> {
    json_lines_within(body, style, MAX_DECODED_BYTES)
}

/// [`json_lines`] with a cap of `max` bytes.
pub(super) fn json_lines_within(body: Bytes, style: Style, max: usize) -> Result<JsonLines, ParquetReadError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(body).map_err(ParquetReadError::NotParquet)?;
    let stated: i64 = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.total_byte_size().max(0))
        .sum();
    if usize::try_from(stated).map_or(true, |n| n > max) {
        return Err(ParquetReadError::TooLarge(max));
    }
    let avro = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|kv| kv.key == AVRO_SCHEMA_KEY))
        .and_then(|kv| kv.value.clone());
    let text: Option<Arc<str>> = avro.map(Arc::from);
    let avro = text
        .as_deref()
        .map(|text| WriterSchema::parse(None, text, &[]).map_err(ParquetReadError::AvroSchema))
        .transpose()?;
    let reader = builder.build().map_err(ParquetReadError::NotParquet)?;
    let mut out = Vec::new();
    let mut by_name = true;
    for batch in reader {
        let batch = batch.map_err(ParquetReadError::Rows)?;
        by_name = match &avro {
            Some(schema) => {
                for row in 0..batch.num_rows() {
                    let record = super::avro::values::record(&batch, row, schema)?;
                    json::render(&record, schema, style, &mut out);
                    out.push(b'\n');
                }
                false
            }
            None => lines(&batch, &mut out)?,
        };
        if out.len() > max {
            return Err(ParquetReadError::TooLarge(max));
        }
    }
    Ok(JsonLines {
        lines: out,
        by_column_name: by_name,
        avro_schema: text,
    })
}

fn lines(batch: &RecordBatch, out: &mut Vec<u8>) -> Result<bool, ParquetReadError> {
    let schema = batch.schema();
    if let Some((i, field)) = schema.column_with_name(RECORD_CONTENT) {
        let texts = batch
            .column(i)
            .as_string_opt::<i32>()
            .ok_or_else(|| ParquetReadError::Column {
                column: RECORD_CONTENT.into(),
                data_type: field.data_type().to_string(),
            })?;
        for row in 0..batch.num_rows() {
            out.extend_from_slice(if texts.is_null(row) { "null" } else { texts.value(row) }.as_bytes());
            out.push(b'\n');
        }
        return Ok(false);
    }
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut row_cells = Vec::with_capacity(names.len());
    for row in 0..batch.num_rows() {
        row_cells.clear();
        for (i, column) in batch.columns().iter().enumerate() {
            let cell = cell(column.as_ref(), row).ok_or_else(|| ParquetReadError::Column {
                column: names[i].to_owned(),
                data_type: column.data_type().to_string(),
            })?;
            row_cells.push(cell);
        }
        out.extend(super::render(names.iter().copied().zip(row_cells.iter())));
        out.push(b'\n');
    }
    Ok(true)
}

/// The value at `row` of `column`; `None` when its type is not one tickstream reads.
fn cell(column: &dyn Array, row: usize) -> Option<Cell> {
    if column.is_null(row) {
        return Some(Cell::Null);
    }
    Some(match column.data_type() {
        DataType::Utf8 => Cell::Text(column.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Cell::Text(column.as_string::<i64>().value(row).to_owned()),
        DataType::Float64 => Cell::Real(column.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => Cell::Real(f64::from(column.as_primitive::<Float32Type>().value(row))),
        DataType::Int64 => Cell::Integer(column.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Cell::Integer(i64::from(column.as_primitive::<Int32Type>().value(row))),
        DataType::Boolean => Cell::Boolean(column.as_boolean().value(row)),
        DataType::Timestamp(unit, _) => {
            use arrow_array::types::{
                TimestampMicrosecondType as Us, TimestampMillisecondType as Ms, TimestampNanosecondType as Ns,
                TimestampSecondType as S,
            };
            Cell::Timestamp(match unit {
                TimeUnit::Second => column.as_primitive::<S>().value(row) * 1_000,
                TimeUnit::Millisecond => column.as_primitive::<Ms>().value(row),
                TimeUnit::Microsecond => column.as_primitive::<Us>().value(row) / 1_000,
                TimeUnit::Nanosecond => column.as_primitive::<Ns>().value(row) / 1_000_000,
            })
        }
        _ => return None,
    })
}
