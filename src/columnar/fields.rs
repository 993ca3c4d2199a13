//! A record's top-level fields, read without building the whole JSON value: each key borrowed
//! where it has no escape, each value kept as its raw text until a column asks for it. A field
//! is found as [`crate::record::cell::field`] finds it in a parsed record (the last of duplicate
//! keys; else the first case-insensitive match in key order), so a Parquet row and a warehouse
//! row read the same values.

use std::borrow::Cow;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::config::{Column, ColumnType};
use crate::record::cell::{owned_cell, text_timestamp_ms, Cell};

/// The fields of one JSON object (empty for any other JSON value): each key and its value's
/// raw JSON text.
pub struct Fields<'a>(Vec<(Cow<'a, str>, &'a str)>);

impl<'a> Fields<'a> {
    /// The fields of `line`, or why it is not JSON.
    pub fn parse(line: &'a [u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(line).map_err(|e| format!("not JSON: {e}"))?;
        if let Some(fields) = flat(text) {
            return Ok(Self(fields));
        }
        if !text.trim_start().starts_with('{') {
            // Still checked to be JSON, as a parsed record would be.
            serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| format!("not JSON: {e}"))?;
            return Ok(Self(Vec::new()));
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let fields = de
            .deserialize_map(FieldsVisitor)
            .map_err(|e| format!("not JSON: {e}"))?;
        de.end().map_err(|e| format!("not JSON: {e}"))?;
        Ok(fields)
    }

    /// The raw value of the field named `want`.
    pub fn get(&self, want: &str) -> Option<&'a str> {
        // Length and first byte before the bytes: most keys differ there, with no call.
        let first = want.as_bytes().first();
        let same = |k: &str| k.len() == want.len() && k.as_bytes().first() == first && k == want;
        if let Some((_, v)) = self.0.iter().rev().find(|(k, _)| same(k)) {
            return Some(v);
        }
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(want))
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, v)| *v)
    }
}

/// The cell of `column` from a raw field value: plain strings and numbers straight to the
/// cell, anything else through [`value`] and [`owned_cell`], which decide the same way (a test
/// compares the two on every kind of value).
pub fn cell(raw: Option<&str>, column: &Column) -> Result<Cell, String> {
    let Some(text) = raw else {
        return Ok(Cell::Null);
    };
    let plain = text.len() >= 2 && text.starts_with('"') && !text.contains('\\');
    let number = text.bytes().all(|b| b.is_ascii_digit() || b == b'-') && !text.is_empty();
    let fast = match column.kind {
        ColumnType::Text if plain => Some(Cell::Text(text[1..text.len() - 1].to_owned())),
        ColumnType::Timestamp if plain => text_timestamp_ms(&text[1..text.len() - 1]).map(Cell::Timestamp),
        ColumnType::Integer if number => text.parse().ok().map(Cell::Integer),
        ColumnType::Real if number || is_decimal(text) => text.parse().ok().map(Cell::Real),
        _ => None,
    };
    match fast {
        Some(cell) => Ok(cell),
        None => owned_cell(Some(value(text)?), column),
    }
}

/// `-?digits.digits`: a plain decimal, which f64's parse reads as serde_json does.
fn is_decimal(text: &str) -> bool {
    let t = text.strip_prefix('-').unwrap_or(text);
    match t.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// A raw field value as a JSON value: plain strings, numbers and literals directly, anything
/// else (escapes, objects, arrays) through serde_json.
pub fn value(text: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let plain_string = text.len() >= 2 && text.starts_with('"') && !text.contains('\\');
    Ok(match text.as_bytes().first() {
        _ if plain_string => Value::String(text[1..text.len() - 1].to_owned()),
        Some(b'-' | b'0'..=b'9') => Value::Number(text.parse().map_err(|e| format!("not JSON: {e}"))?),
        Some(b't') => Value::Bool(true),
        Some(b'f') => Value::Bool(false),
        Some(b'n') => Value::Null,
        _ => serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?,
    })
}

/// The fields of a flat object written plainly (no escapes, no nested values), in one pass;
/// `None` sends anything else to serde, which reads it or says why not.
fn flat(text: &str) -> Option<Vec<(Cow<'_, str>, &str)>> {
    let b = text.as_bytes();
    let ws = |mut i: usize| {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    };
    // A string without escapes or control characters starting at the quote at `i`: its end.
    let string = |i: usize| {
        let len = b[i + 1..].iter().position(|c| *c == b'"' || *c == b'\\' || *c < 0x20)?;
        (b[i + 1 + len] == b'"').then_some(i + len + 2)
    };
    let mut out = Vec::with_capacity(8);
    let mut i = ws(0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(i + 1);
    if b.get(i) == Some(&b'}') {
        return (ws(i + 1) == b.len()).then_some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string(i)?;
        let key = &text[i + 1..key_end - 1];
        i = ws(key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(i + 1);
        let start = i;
        i = match b.get(i)? {
            b'"' => string(i)?,
            b'-' | b'0'..=b'9' => {
                let len = b[i..]
                    .iter()
                    .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'));
                let end = len.map_or(b.len(), |l| i + l);
                is_number(&text[i..end]).then_some(end)?
            }
            _ => ["true", "false", "null"]
                .iter()
                .find(|lit| text[i..].starts_with(*lit))
                .map(|lit| i + lit.len())?,
        };
        out.push((Cow::Borrowed(key), &text[start..i]));
        i = ws(i);
        match b.get(i)? {
            b',' => i = ws(i + 1),
            b'}' => return (ws(i + 1) == b.len()).then_some(out),
            _ => return None,
        }
    }
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_number(t: &str) -> bool {
    let t = t.strip_prefix('-').unwrap_or(t);
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let int = digits(t);
    if int == 0 || (int > 1 && t.starts_with('0')) {
        return false;
    }
    let mut rest = &t[int..];
    if let Some(f) = rest.strip_prefix('.') {
        let n = digits(f);
        if n == 0 {
            return false;
        }
        rest = &f[n..];
    }
    if let Some(e) = rest.strip_prefix(['e', 'E']) {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        let n = digits(e);
        if n == 0 {
            return false;
        }
        rest = &e[n..];
    }
    rest.is_empty()
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some((Key(k), v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
            out.push((k, v.get()));
        }
        Ok(Fields(out))
    }
}

/// A key, borrowed from the line unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_gives_what_the_parsed_record_gives() {
        let kinds = [
            ColumnType::Text,
            ColumnType::Real,
            ColumnType::Integer,
            ColumnType::Boolean,
            ColumnType::Timestamp,
        ];
        let values = [
            r#""AAPL""#,
            r#""a\"b""#,
            r#""ü""#,
            "189.12",
            "-0.25",
            "300",
            "-7",
            "1e3",
            "1.5E-2",
            "12345678901234567890",
            "-0",
            "0.0",
            "true",
            "null",
            r#""2026-12-01T10:00:00.123Z""#,
            r#""2026-12-01T10:00:00.123456""#,
            "1733050000123",
            r#""1733050000""#,
            r#""12.5""#,
            r#"" 42 ""#,
            "[1,2]",
            r#"{"a":1}"#,
            r#""""#,
            r#""soon""#,
        ];
        for kind in kinds {
            let column = Column {
                name: "f".into(),
                kind,
                source: None,
            };
            for v in values {
                let line = format!(r#"{{"f":{v}}}"#);
                let fields = Fields::parse(line.as_bytes()).unwrap();
                let record: serde_json::Value = serde_json::from_str(&line).unwrap();
                assert_eq!(
                    cell(fields.get("f"), &column),
                    crate::record::cell::cell(&record, &column, false),
                    "{v} as {kind:?}"
                );
            }
        }
    }

    #[test]
    fn the_one_pass_scan_reads_what_serde_reads_and_leaves_the_rest_to_it() {
        let serde_fields = |line: &str| -> Vec<(String, String)> {
            let mut de = serde_json::Deserializer::from_str(line);
            let f = de.deserialize_map(FieldsVisitor).unwrap();
            f.0.into_iter().map(|(k, v)| (k.into_owned(), v.to_owned())).collect()
        };
        for line in [
            r#"{"symbol":"AAPL","price":189.12,"volume":300,"change":-0.25,"ok":true,"x":null}"#,
            r#" { "a" : 1e5 , "b":-0.5E-3, "c":"ü 📈", "d":0 } "#,
            "{}",
            r#"{"a":"","b":false}"#,
        ] {
            let fast: Vec<(String, String)> = flat(line)
                .expect(line)
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.to_owned()))
                .collect();
            assert_eq!(fast, serde_fields(line), "{line}");
        }
        for line in [
            r#"{"a":"x\"y"}"#,
            r#"{"a\n":1}"#,
            r#"{"a":[1]}"#,
            r#"{"a":{"b":1}}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a":tru}"#,
            "{\"a\":\"\n\"}",
            r#"{"a" 1}"#,
            "[1]",
        ] {
            assert!(flat(line).is_none(), "left to serde: {line}");
        }
    }

    #[test]
    fn fields_are_found_as_in_a_parsed_record() {
        let line = br#"{"Price":1,"price":2,"PRICE":3,"x":1,"x":2}"#;
        let f = Fields::parse(line).unwrap();
        let record: serde_json::Value = serde_json::from_slice(line).unwrap();
        for want in ["price", "PRICE", "Price", "pRiCe", "x", "y"] {
            assert_eq!(
                f.get(want).map(str::to_owned),
                record.get(want).map(|v| v.to_string()).or_else(|| record
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(want))
                    .map(|(_, v)| v.to_string())),
                "{want}"
            );
        }
        assert!(Fields::parse(b"[1,2]").unwrap().get("a").is_none());
        assert!(Fields::parse(b"{\"a\":").is_err());
    }
}
