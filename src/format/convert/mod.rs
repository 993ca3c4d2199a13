//! What a record becomes: what is written for it (its line, or its Avro value), or why it
//! cannot be written (a dead letter, or a halt under `errors.tolerance = none`), or nothing at
//! all (an ignored tombstone).
//!
//! `value.converter` decides how a value is read (Connect's converters): `json` accepts any
//! valid JSON and writes it as produced, folded onto one line when it spans several (its line
//! breaks and indentation removed, nothing else changed); `string`
//! accepts UTF-8 text and writes it as a JSON string; `bytes` writes the value as it is.
//! `value.schema` may then ask more of a JSON value: the tick's fields, or a JSON Schema.
//! `avro` and JSON envelopes (`value.converter.schemas.enable`) give records with a schema
//! ([`schemas`]).
//! The verdict is a pure function of the value, the configuration and the registry's
//! (immutable) schemas: resuming and `verify` rely on that.

mod schemas;

use std::borrow::Cow;
use std::sync::Arc;

use crate::config::{FormatClass, NullValues, SinkConfig, ValueConverter, ValueSchema};
use crate::record::avro::json::Style;
use crate::record::avro::{AvroRecord, SchemaCache};
use crate::record::tick::check as check_tick;
use crate::record::tick_scan::{is_plain_tick, plain_tick, Plain, TickSpans};
use crate::record::RecordError;
pub use schemas::Envelopes;

/// What to do with one record.
#[derive(Clone, Debug)]
pub enum Verdict<'a> {
    /// Write it.
    Write(Converted<'a>),
    /// It cannot be written; why.
    Reject(RecordError),
    /// Skip it (a tombstone under `behavior.on.null.values = ignore`).
    Skip,
    /// It names a schema id not fetched yet: fetch it into the cache, then convert it again.
    NeedsSchema(u32),
}

impl Verdict<'_> {
    pub fn is_skip(&self) -> bool {
        matches!(self, Self::Skip)
    }
}

/// A record as it is written.
#[derive(Clone, Debug)]
pub enum Converted<'a> {
    /// These bytes (without the separator that follows them in the file), and, when they are
    /// a plain tick in the producer's field order and the file is Parquet, where the value's
    /// check found each field (the row takes them from there instead of reading the line again).
    Line(Cow<'a, [u8]>, Option<TickSpans>),
    /// A value of its writer schema.
    Avro(AvroRecord<'a>),
}

impl Converted<'_> {
    /// Its bytes in a JSON-lines file: the line, or the Avro value rendered in `style`.
    pub fn line(&self, style: Style) -> Cow<'_, [u8]> {
        match self {
            Self::Line(l, _) => Cow::Borrowed(l),
            Self::Avro(r) => Cow::Owned(crate::record::avro::json::to_line(&r.value, &r.schema, style)),
        }
    }

    /// The line it is in a file: a JSON-lines file's line, a typed Parquet row's as
    /// `typed` reads it back, or an Avro value's rendering, projected onto the schema of its
    /// file (`file`) when the file's differs; `None` when it does not fit there.
    pub fn expected_in(
        &self,
        file: Option<&Arc<crate::record::avro::WriterSchema>>,
        typed: Option<&crate::format::ParquetSpec>,
        style: Style,
    ) -> Option<Vec<u8>> {
        match (self, typed) {
            (Self::Line(l, _), Some(spec)) => spec.expected(l).ok(),
            (Self::Line(l, _), None) => Some(l.to_vec()),
            (Self::Avro(r), _) => match file.filter(|f| !f.same_as(&r.schema)) {
                Some(f) => r.project(f).ok().map(|p| Converted::Avro(p).line(style).into_owned()),
                None => Some(self.line(style).into_owned()),
            },
        }
    }

    /// Its size as produced (the datum's, or the line's).
    pub fn len(&self) -> usize {
        match self {
            Self::Line(l, _) => l.len(),
            Self::Avro(r) => r.datum.map_or(64, <[u8]>::len),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value check `value.schema` asks for.
#[derive(Clone)]
enum Schema {
    None,
    Tick,
    Json(Arc<jsonschema::Validator>),
}

/// Reads values as `[sink]` says.
#[derive(Clone)]
pub struct Converter {
    kind: ValueConverter,
    schema: Schema,
    max_bytes: usize,
    null_values: NullValues,
    /// `value.converter.schemas.enable` (with `json`).
    envelopes: Option<Envelopes>,
    /// The registry's schemas fetched so far (with `avro`).
    schemas: SchemaCache,
    /// How an Avro value is rendered as a line (`json.decimal.format`).
    style: Style,
    /// Whether a plain tick's line carries where its fields are (for Parquet rows; JSON lines
    /// do not read them, so they need not be kept).
    tick_spans: bool,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter")
            .field("kind", &self.kind)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl Converter {
    /// The converter `[sink]` describes.
    pub fn new(sink: &SinkConfig) -> Self {
        let schema = match &sink.value_schema {
            ValueSchema::None => Schema::None,
            ValueSchema::Tick => Schema::Tick,
            ValueSchema::Json(s) => Schema::Json(s.validator.clone()),
        };
        Self {
            kind: sink.value_converter,
            schema,
            max_bytes: sink.max_record_bytes,
            null_values: sink.null_values,
            envelopes: (sink.value_converter == ValueConverter::Json && sink.schemas_enable).then(Envelopes::default),
            schemas: SchemaCache::default(),
            style: Style {
                decimals: sink.json_decimal_format,
                ..Style::default()
            },
            tick_spans: sink.format() == FormatClass::Parquet,
        }
    }

    /// Any JSON, 64 KiB at most: the defaults (tests).
    pub fn json() -> Self {
        Self {
            kind: ValueConverter::Json,
            schema: Schema::None,
            max_bytes: 64 * 1024,
            null_values: NullValues::Fail,
            envelopes: None,
            schemas: SchemaCache::default(),
            style: Style::default(),
            tick_spans: false,
        }
    }

    /// The registry's schemas this converter reads records with: the registry client fills it
    /// (every clone of a converter shares it).
    pub fn schemas(&self) -> &SchemaCache {
        &self.schemas
    }

    /// Whether records carry a schema (`avro`, or JSON envelopes).
    pub fn has_schemas(&self) -> bool {
        self.kind == ValueConverter::Avro || self.envelopes.is_some()
    }

    /// How Avro values are rendered as lines.
    pub fn style(&self) -> Style {
        self.style
    }

    /// Ticks only (`value.schema = "tick"`).
    pub fn ticks() -> Self {
        Self {
            schema: Schema::Tick,
            ..Self::json()
        }
    }

    /// The verdict on one value (`None`: a tombstone).
    pub fn convert<'a>(&self, value: Option<&'a [u8]>) -> Verdict<'a> {
        let Some(value) = value else {
            return match self.null_values {
                NullValues::Fail => Verdict::Reject(RecordError::Tombstone),
                NullValues::Ignore => Verdict::Skip,
                NullValues::Write if self.kind == ValueConverter::Bytes => line(Cow::Borrowed(b"")),
                NullValues::Write => line(Cow::Borrowed(b"null")),
            };
        };
        if value.len() > self.max_bytes {
            return Verdict::Reject(RecordError::TooLarge {
                bytes: value.len(),
                max: self.max_bytes,
            });
        }
        match self.kind {
            ValueConverter::Bytes => line(Cow::Borrowed(value)),
            ValueConverter::String => match std::str::from_utf8(value) {
                Ok(text) => line(Cow::Owned(serde_json::to_vec(text).unwrap_or_default())),
                Err(e) => Verdict::Reject(RecordError::NotUtf8(e.to_string())),
            },
            ValueConverter::Avro => schemas::avro(value, &self.schemas),
            ValueConverter::Json => match &self.envelopes {
                Some(envelopes) => envelopes.convert(value),
                None => self.json_value(value),
            },
        }
    }

    fn json_value<'a>(&self, value: &'a [u8]) -> Verdict<'a> {
        // A plainly written tick is valid one-line JSON: the common case needs no parse (and
        // a Parquet row takes its fields where the check found them).
        let plain: Option<Option<TickSpans>> = match (&self.schema, self.tick_spans) {
            (Schema::Json(_), _) => None,
            (_, false) => is_plain_tick(value).then_some(None),
            (_, true) => plain_tick(value).map(Plain::spans),
        };
        if let Some(spans) = plain {
            return Verdict::Write(Converted::Line(Cow::Borrowed(value), spans));
        }
        let checked = match &self.schema {
            Schema::Tick => check_tick(value),
            Schema::None => serde_json::from_slice::<serde::de::IgnoredAny>(value)
                .map(drop)
                .map_err(RecordError::not_json),
            Schema::Json(validator) => validate(validator, value),
        };
        if let Err(reason) = checked {
            return Verdict::Reject(reason);
        }
        if value.contains(&b'\n') || value.contains(&b'\r') {
            // Spans several lines: JSON-lines needs it on one.
            return line(Cow::Owned(fold(value)));
        }
        line(Cow::Borrowed(value))
    }
}

fn line(bytes: Cow<'_, [u8]>) -> Verdict<'_> {
    Verdict::Write(Converted::Line(bytes, None))
}

/// Valid JSON on one line: its line breaks and the indentation after each removed, every other
/// byte kept. A raw line break is invalid inside a JSON string, so each one is whitespace
/// between tokens, and JSON's tokens need none between them.
pub(crate) fn fold(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut after_break = false;
    for &b in value {
        match b {
            b'\n' | b'\r' => after_break = true,
            b' ' | b'\t' if after_break => {}
            _ => {
                after_break = false;
                out.push(b);
            }
        }
    }
    out
}

/// A JSON Schema's verdict, with up to three of its reasons.
fn validate(validator: &jsonschema::Validator, value: &[u8]) -> Result<(), RecordError> {
    let doc: serde_json::Value = serde_json::from_slice(value).map_err(RecordError::not_json)?;
    let reasons: Vec<String> = validator
        .iter_errors(&doc)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    match reasons.is_empty() {
        true => Ok(()),
        false => Err(RecordError::Schema(reasons.join("; "))),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
