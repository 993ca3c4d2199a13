//! Parquet files of Avro records: one column per field of the writer schema, typed as
//! parquet-avro types them (what Confluent's `ParquetFormat` writes), and the schema itself in
//! the file's `parquet.avro.schema` metadata so readers (and tickstream) can read the rows
//! back as the records they were.
//!
//! | Avro | Arrow / Parquet |
//! |---|---|
//! | boolean, int, long, float, double | Boolean, Int32, Int64, Float32, Float64 |
//! | bytes / fixed(n) | Binary / FixedSizeBinary(n) |
//! | string, enum, uuid | Utf8 |
//! | date, time-millis, time-micros | Date32, Time32(ms), Time64(µs) |
//! | timestamp-millis/-micros/-nanos | Timestamp(unit, UTC) (`local-timestamp-*`: no zone) |
//! | decimal(p, s) | Decimal128(p, s) (Decimal256 above 38 digits) |
//! | array, map | List (`element`), Map (`key_value`: string key, value) |
//! | record | Struct |
//! | union with null | the other branch, nullable |
//! | any other union | Struct of `member0`, `member1`, … (one per non-null branch) |
//!
//! Columns are filled as records arrive (no record is kept as a value).
//!
//! - [`types`]: the Arrow types of a schema; [`columns`]: one column's values;
//!   [`values`]: a file's rows read back as the records they were.

mod columns;
mod types;
pub mod values;

use std::sync::Arc;

use apache_avro::schema::Schema;
use apache_avro::types::Value;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::record::avro::WriterSchema;
use columns::Col;
pub use types::{arrow_schema, AVRO_SCHEMA_KEY};

/// The rows of an open Parquet file of Avro records, column by column.
pub struct AvroRows {
    pub schema: Arc<WriterSchema>,
    arrow: SchemaRef,
    columns: Vec<Col>,
    rows: usize,
    bytes: usize,
}

impl std::fmt::Debug for AvroRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroRows")
            .field("schema", &self.schema.id)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl AvroRows {
    /// An empty file of records of `schema` (whose columns [`arrow_schema`] made).
    pub fn new(schema: Arc<WriterSchema>, arrow: SchemaRef) -> Self {
        let columns = match schema.deref(schema.schema()) {
            Schema::Record(r) => arrow
                .fields()
                .iter()
                .zip(&r.fields)
                .map(|(f, rf)| Col::new(f.data_type(), &rf.schema, &schema))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            schema,
            arrow,
            columns,
            rows: 0,
            bytes: 0,
        }
    }

    /// Appends a record (a value of the file's schema) of about `size` bytes.
    pub fn push(&mut self, record: &Value, size: usize) {
        if let Value::Record(fields) = record {
            for (c, (_, v)) in self.columns.iter_mut().zip(fields) {
                c.push(v);
            }
        } else {
            self.columns.iter_mut().for_each(Col::push_null);
        }
        self.rows += 1;
        self.bytes += size;
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The columns as one record batch.
    pub fn batch(mut self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let arrays = self
            .columns
            .iter_mut()
            .map(Col::finish)
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new(self.arrow.clone(), arrays)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
