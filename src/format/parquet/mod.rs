//! Parquet data files (`format.class = "parquet"`): a topic's typed columns (`[warehouse]
//! columns`, the same rules as the warehouse's rows, [`crate::record::cell`]) with their types,
//! plus the record's JSON text as `RECORD_CONTENT` when `parquet.record.content` says.
//!
//! - [`ParquetSpec`]: one topic's columns and codec; [`ParquetSpec::row`] converts a record, or
//!   says why it cannot take a column's type (the record is then a dead letter).
//! - [`writer::RowBatch`]: an open file's rows, column by column, written out as one row group.
//! - [`reader::json_lines`]: a Parquet file read back as one JSON line per row, as `verify` and
//!   the ingestion watcher read every other format; [`ParquetSpec::expected`] is the line a
//!   record becomes, so `verify` compares like with like.
//!
//! Column types: TEXT → UTF8 string, REAL → DOUBLE, INTEGER → INT64, BOOLEAN → BOOLEAN,
//! TIMESTAMP → INT64 `TIMESTAMP(MILLIS, UTC)`; every column is nullable (a missing field).

pub mod avro;
pub mod reader;
pub mod writer;

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use smallvec::SmallVec;

use crate::config::{Column, ColumnType, ParquetCodec, RecordContent};
use crate::record::cell::{Cell, CellRef};
use crate::record::tick_scan::TickSpans;
use crate::record::{fields, RecordError};

/// The column that holds a record's JSON text.
pub const RECORD_CONTENT: &str = "RECORD_CONTENT";

/// One record as a row: its typed cells in column order, and its JSON text when kept, both
/// borrowed from the record's line where they can be (up to 16 columns inline: a tick's row
/// allocates nothing).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row<'a> {
    pub cells: SmallVec<[CellRef<'a>; 16]>,
    pub content: Option<&'a str>,
}

/// One topic's Parquet layout.
#[derive(Clone, Debug)]
pub struct ParquetSpec {
    pub columns: Arc<[Column]>,
    /// Whether `RECORD_CONTENT` is written.
    pub content: bool,
    pub codec: ParquetCodec,
    pub schema: SchemaRef,
}

impl ParquetSpec {
    pub fn new(columns: &[Column], content: RecordContent, codec: ParquetCodec) -> Self {
        let content = match content {
            RecordContent::Always => true,
            RecordContent::Never => false,
            RecordContent::Auto => columns.is_empty(),
        };
        let mut fields: Vec<Field> = columns
            .iter()
            .map(|c| Field::new(&c.name, arrow_type(c.kind), true))
            .collect();
        if content {
            fields.push(Field::new(RECORD_CONTENT, DataType::Utf8, true));
        }
        Self {
            columns: columns.into(),
            content,
            codec,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    /// The row `line` (a record as the converter wrote it: JSON) becomes, or why it cannot.
    pub fn row<'a>(&self, line: &'a [u8]) -> Result<Row<'a>, RecordError> {
        let mut row = Row::default();
        self.fill(&mut row, line, None)?;
        Ok(row)
    }

    /// [`Self::row`] written into `row` where it stands (the sink's per-record path: the inline
    /// lists are large to move); `tick`: where the value's check found a plain tick's fields.
    pub fn fill<'a>(&self, row: &mut Row<'a>, line: &'a [u8], tick: Option<&TickSpans>) -> Result<(), RecordError> {
        // Only the fields a column reads are parsed into values (a tick's are all of them, but
        // its keys are borrowed and no map is built).
        let text = std::str::from_utf8(line).map_err(RecordError::not_json)?;
        let mut fields = fields::Fields::default();
        match tick {
            Some(spans) => fields.read_tick(text, spans)?,
            None => fields.read(text)?,
        }
        row.cells.clear();
        for (at, c) in self.columns.iter().enumerate() {
            let field = fields.get_at(c.source.as_deref().unwrap_or(&c.name), at);
            row.cells.push(fields::cell(field, c)?);
        }
        row.content = self.content.then_some(text);
        Ok(())
    }

    /// The JSON line [`reader::json_lines`] gives back for the record `line`: the record's text
    /// when `RECORD_CONTENT` is kept, else an object of the typed columns by name.
    pub fn expected(&self, line: &[u8]) -> Result<Vec<u8>, RecordError> {
        let row = self.row(line)?;
        Ok(match row.content {
            Some(text) => text.as_bytes().to_vec(),
            None => {
                let cells: Vec<Cell> = row.cells.into_iter().map(CellRef::into_owned).collect();
                let names = self.columns.iter().map(|c| c.name.as_str());
                render(names.zip(cells.iter()))
            }
        })
    }
}

/// Every topic's Parquet layout: its typed columns (`[warehouse] columns`, or the topic's own
/// `topic_columns`), `parquet.record.content` and `parquet.codec`.
#[derive(Clone, Debug)]
pub struct ParquetLayouts {
    warehouse: crate::config::WarehouseConfig,
    content: RecordContent,
    codec: ParquetCodec,
}

impl ParquetLayouts {
    /// The layouts, when the sink writes Parquet files.
    pub fn from_config(config: &crate::config::Config) -> Option<Self> {
        (config.sink.format() == crate::config::FormatClass::Parquet).then(|| Self {
            warehouse: config.warehouse.clone(),
            content: config.sink.parquet_record_content,
            codec: config.sink.parquet_codec,
        })
    }

    /// `topic`'s layout.
    pub fn spec(&self, topic: &str) -> ParquetSpec {
        ParquetSpec::new(self.warehouse.columns_for(topic), self.content, self.codec)
    }
}

/// A row without `RECORD_CONTENT` as one JSON object of its columns by name.
pub fn render<'a>(cells: impl Iterator<Item = (&'a str, &'a Cell)>) -> Vec<u8> {
    let object: serde_json::Map<String, serde_json::Value> = cells.map(|(n, c)| (n.to_owned(), c.to_json())).collect();
    serde_json::to_vec(&object).unwrap_or_default()
}

fn arrow_type(kind: ColumnType) -> DataType {
    match kind {
        ColumnType::Text => DataType::Utf8,
        ColumnType::Real => DataType::Float64,
        ColumnType::Integer => DataType::Int64,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
