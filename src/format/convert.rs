//! What a record becomes: the bytes written for it, or why it cannot be written (a dead
//! letter, or a halt under `errors.tolerance = none`), or nothing at all (an ignored tombstone).
//!
//! `value.converter` decides how a value is read (Connect's converters): `json` accepts any
//! valid JSON and writes it as produced, folded onto one line when it spans several (its line
//! breaks and indentation removed, nothing else changed); `string`
//! accepts UTF-8 text and writes it as a JSON string; `bytes` writes the value as it is.
//! `value.schema` may then ask more of a JSON value: the tick's fields, or a JSON Schema.
//! The verdict is a pure function of the value and the configuration: resuming and `verify`
//! rely on that.

use std::borrow::Cow;
use std::sync::Arc;

use crate::config::{NullValues, SinkConfig, ValueConverter, ValueSchema};
use crate::record::tick::check as check_tick;
use crate::record::tick_scan::is_plain_tick;
use crate::record::RecordError;

/// What to do with one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// Write these bytes (without the separator that follows them in the file).
    Write(Cow<'a, [u8]>),
    /// It cannot be written; why.
    Reject(RecordError),
    /// Skip it (a tombstone under `behavior.on.null.values = ignore`).
    Skip,
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
        }
    }

    /// Any JSON, 64 KiB at most: the defaults (tests).
    pub fn json() -> Self {
        Self {
            kind: ValueConverter::Json,
            schema: Schema::None,
            max_bytes: 64 * 1024,
            null_values: NullValues::Fail,
        }
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
                NullValues::Write if self.kind == ValueConverter::Bytes => Verdict::Write(Cow::Borrowed(b"")),
                NullValues::Write => Verdict::Write(Cow::Borrowed(b"null")),
            };
        };
        if value.len() > self.max_bytes {
            return Verdict::Reject(RecordError::TooLarge {
                bytes: value.len(),
                max: self.max_bytes,
            });
        }
        match self.kind {
            ValueConverter::Bytes => Verdict::Write(Cow::Borrowed(value)),
            ValueConverter::String => match std::str::from_utf8(value) {
                Ok(text) => Verdict::Write(Cow::Owned(serde_json::to_vec(text).unwrap_or_default())),
                Err(e) => Verdict::Reject(RecordError::NotUtf8(e.to_string())),
            },
            ValueConverter::Json => self.json_value(value),
        }
    }

    fn json_value<'a>(&self, value: &'a [u8]) -> Verdict<'a> {
        // A plainly written tick is valid one-line JSON: the common case needs no parse.
        let plain_tick = is_plain_tick(value);
        let checked = match &self.schema {
            Schema::None if plain_tick => return Verdict::Write(Cow::Borrowed(value)),
            Schema::Tick if plain_tick => return Verdict::Write(Cow::Borrowed(value)),
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
            return Verdict::Write(Cow::Owned(fold(value)));
        }
        Verdict::Write(Cow::Borrowed(value))
    }
}

/// Valid JSON on one line: its line breaks and the indentation after each removed, every other
/// byte kept. A raw line break is invalid inside a JSON string, so each one is whitespace
/// between tokens, and JSON's tokens need none between them.
fn fold(value: &[u8]) -> Vec<u8> {
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
mod tests {
    use super::*;

    const TICK: &str = r#"{"symbol":"AAPL","price":189.51,"volume":120,"change":0.01,"timestamp":"2026-11-22T01:02:03.456Z","exchange":"NASDAQ","run_id":"r","seq":0}"#;

    fn written(v: Verdict<'_>) -> Vec<u8> {
        match v {
            Verdict::Write(b) => b.into_owned(),
            other => panic!("not written: {other:?}"),
        }
    }

    fn reason(v: Verdict<'_>) -> String {
        match v {
            Verdict::Reject(r) => r.to_string(),
            other => panic!("not rejected: {other:?}"),
        }
    }

    #[test]
    fn any_json_is_written_as_produced_and_a_pretty_one_is_folded() {
        let c = Converter::json();
        assert_eq!(written(c.convert(Some(TICK.as_bytes()))), TICK.as_bytes());
        let seed = br#"{"symbol": "AAPL", "price": 150.25, "timestamp": "2026-12-01T10:00:00.123456"}"#;
        assert_eq!(written(c.convert(Some(seed))), seed, "the seed's own tick, as produced");
        for v in [
            &br#"{"stock":"AAPL","price":150.25}"#[..],
            b"[1,2,{\"a\":null}]",
            b"42",
            b"\"text\"",
        ] {
            assert_eq!(written(c.convert(Some(v))), v);
        }
        let pretty = "{\n  \"s\": \"AAPL\",\n  \"p\": [1, 2]\n}";
        assert_eq!(
            written(c.convert(Some(pretty.as_bytes()))),
            br#"{"s": "AAPL","p": [1, 2]}"#,
            "folded: line breaks and indentation go, every other byte stays"
        );
        let unicode = "{\"name\":\"Société Générale\",\"emoji\":\"📈\"}";
        assert_eq!(written(c.convert(Some(unicode.as_bytes()))), unicode.as_bytes());
    }

    #[test]
    fn what_cannot_be_written_says_why() {
        let c = Converter::json();
        assert!(reason(c.convert(Some(b"{not json"))).starts_with("not JSON"));
        assert!(reason(c.convert(Some(b""))).starts_with("not JSON"));
        assert!(reason(c.convert(None)).contains("tombstone"));
        let big = format!("\"{}\"", "x".repeat(70_000));
        assert!(reason(c.convert(Some(big.as_bytes()))).contains("exceeds max.record.bytes (65536)"));
    }

    #[test]
    fn the_tick_schema_is_todays_strict_check() {
        let c = Converter::ticks();
        assert_eq!(written(c.convert(Some(TICK.as_bytes()))), TICK.as_bytes());
        assert!(reason(c.convert(Some(br#"{"stock":"AAPL","price":150.25}"#))).starts_with("not a tick"));
    }

    #[test]
    fn a_json_schema_names_what_does_not_match() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trade.schema.json");
        std::fs::write(
            &path,
            r#"{"type":"object","required":["s","p"],"properties":{"s":{"type":"string"},"p":{"type":"number"}}}"#,
        )
        .unwrap();
        let sink = SinkConfig {
            value_schema: ValueSchema::Json(crate::config::JsonSchema::read(&path).unwrap()),
            ..SinkConfig::default()
        };
        let c = Converter::new(&sink);
        assert!(matches!(
            c.convert(Some(br#"{"s":"AAPL","p":189.12}"#)),
            Verdict::Write(_)
        ));
        let why = reason(c.convert(Some(br#"{"s":"AAPL","p":"high"}"#)));
        assert!(why.starts_with("does not match the schema: /p: "), "{why}");
        assert!(reason(c.convert(Some(br#"{"p":1}"#))).contains("\"s\" is a required property"));
    }

    #[test]
    fn strings_and_bytes_and_tombstones_follow_their_settings() {
        let strings = Converter {
            kind: ValueConverter::String,
            ..Converter::json()
        };
        assert_eq!(
            written(strings.convert(Some(b"plain \"text\""))),
            br#""plain \"text\"""#
        );
        assert!(reason(strings.convert(Some(b"\xff"))).starts_with("not UTF-8"));
        let bytes = Converter {
            kind: ValueConverter::Bytes,
            ..Converter::json()
        };
        assert_eq!(written(bytes.convert(Some(b"\x00\x01 raw"))), b"\x00\x01 raw");
        let ignore = Converter {
            null_values: NullValues::Ignore,
            ..Converter::json()
        };
        assert_eq!(ignore.convert(None), Verdict::Skip);
        let write = Converter {
            null_values: NullValues::Write,
            ..Converter::json()
        };
        assert_eq!(written(write.convert(None)), b"null");
    }
}
