//! A written record's top-level fields, whatever the record is (a JSON line, or an Avro value
//! of its schema), as the partitioners read them.

use apache_avro::types::Value;

use super::avro::{fields as avro_fields, WriterSchema};
use super::fields::{value, Fields};
use super::RecordError;

/// A record as written.
#[derive(Clone, Copy, Debug)]
pub enum RecordView<'a> {
    /// A JSON line (or raw bytes, which have no fields).
    Json(&'a [u8]),
    /// An Avro value of its schema.
    Avro(&'a Value, &'a WriterSchema),
}

/// A record's fields, read once for several lookups.
#[allow(clippy::large_enum_variant)] // on the stack for one record's lookups: inline, no allocation
pub enum FieldSource<'a> {
    Json(Fields<'a>),
    Avro(&'a Value, &'a WriterSchema),
}

impl<'a> RecordView<'a> {
    /// Its fields, or why a JSON line has none (it is not JSON).
    pub fn fields(&self) -> Result<FieldSource<'a>, RecordError> {
        Ok(match *self {
            Self::Json(line) => FieldSource::Json(Fields::parse(line)?),
            Self::Avro(v, s) => FieldSource::Avro(v, s),
        })
    }
}

impl FieldSource<'_> {
    /// The field `name` as a JSON value, and as written (for messages); `None` if it has none.
    pub fn get(&self, name: &str) -> Result<Option<(serde_json::Value, String)>, RecordError> {
        Ok(match self {
            Self::Json(fields) => match fields.get(name) {
                Some(raw) => Some((value(raw.text)?, raw.text.to_owned())),
                None => None,
            },
            Self::Avro(v, s) => avro_fields::field(v, s, name).map(|j| {
                let text = j.to_string();
                (j, text)
            }),
        })
    }
}
