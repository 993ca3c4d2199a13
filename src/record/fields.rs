//! A record's top-level fields, read without building the whole JSON value: each key borrowed
//! where it has no escape, each value kept as its raw text until a column asks for it. A field
//! is found as [`crate::record::cell::field`] finds it in a parsed record (the last of duplicate
//! keys; else the first case-insensitive match in key order), so a Parquet row and a warehouse
//! row read the same values.

use std::borrow::Cow;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use smallvec::SmallVec;

use super::cell::{owned_cell, text_timestamp_ms, CellRef};
use super::column::{Column, ColumnType};
use super::decimal::plain_f64;
use super::tick::{Kind, FIELDS};
use super::tick_scan::{self, TickSpans};
use super::RecordError;

/// One field: its key, its value's raw JSON text, and what the value looked like when the
/// one-pass scan read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw<'a> {
    pub text: &'a str,
    pub kind: RawKind,
}

/// What a raw value is, as far as the one-pass scan knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawKind {
    /// A string without escapes.
    PlainString,
    /// `-?digits`.
    Integer,
    /// `-?digits.digits`, which f64's parse reads as serde_json does.
    Decimal,
    /// Anything else (read through serde_json).
    Other,
}

impl<'a> Raw<'a> {
    /// `text`, its kind found by looking at it.
    pub fn of(text: &'a str) -> Self {
        let plain = text.len() >= 2 && text.starts_with('"') && !text.as_bytes().contains(&b'\\');
        let kind = match () {
            _ if plain => RawKind::PlainString,
            _ if is_integer(text) => RawKind::Integer,
            _ if is_decimal(text) => RawKind::Decimal,
            _ => RawKind::Other,
        };
        Self { text, kind }
    }
}

/// The fields of one JSON object (empty for any other JSON value): each key and its value,
/// kept inline for up to 16 fields (a tick has 8), so a record's row allocates nothing.
/// The second is whether each key is known to be there once only (a plain tick's fields).
#[derive(Default)]
pub struct Fields<'a>(FieldList<'a>, bool);

/// Each key (borrowed unless it has escapes) and its value.
type FieldList<'a> = SmallVec<[(Cow<'a, str>, Raw<'a>); 16]>;

impl<'a> Fields<'a> {
    /// The fields of `line`, or why it is not JSON.
    pub fn parse(line: &'a [u8]) -> Result<Self, RecordError> {
        let text = std::str::from_utf8(line).map_err(RecordError::not_json)?;
        let mut fields = Self::default();
        fields.read(text)?;
        Ok(fields)
    }

    /// Reads the fields of `text` in place of the ones held (filled where it stands: the
    /// inline list is large to move), or says why it is not JSON.
    pub fn read(&mut self, text: &'a str) -> Result<(), RecordError> {
        self.0.clear();
        self.1 = self.plain_tick(text).is_some();
        if self.1 {
            return Ok(());
        }
        self.0.clear();
        if flat(text, &mut self.0).is_some() {
            return Ok(());
        }
        self.0.clear();
        if !text.trim_start().starts_with('{') {
            // Still checked to be JSON, as a parsed record would be.
            serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(RecordError::not_json)?;
            return Ok(());
        }
        let mut de = serde_json::Deserializer::from_str(text);
        de.deserialize_map(FieldsVisitor(&mut self.0))
            .map_err(RecordError::not_json)?;
        de.end().map_err(RecordError::not_json)
    }

    /// The fields of a plain tick in its producer's order, where the tick check found them
    /// ([`tick_scan::producer_order_values`]): the same fields [`flat`] reads, at a fifth of
    /// its cost. `None` (nothing read) for anything else.
    fn plain_tick(&mut self, text: &'a str) -> Option<()> {
        let spans = tick_scan::producer_order_values(text.as_bytes())?;
        self.tick_fields(text, &spans)
    }

    /// The fields of the tick `text`, at `spans` (what [`tick_scan::plain_tick`] found in it):
    /// the line is not scanned again. Spans that do not fit `text` read it as [`Self::read`]
    /// does (never a panic).
    pub fn read_tick(&mut self, text: &'a str, spans: &TickSpans) -> Result<(), RecordError> {
        self.0.clear();
        self.1 = self.tick_fields(text, spans).is_some();
        match self.1 {
            true => Ok(()),
            false => self.read(text),
        }
    }

    fn tick_fields(&mut self, text: &'a str, spans: &TickSpans) -> Option<()> {
        for (field, &(start, end)) in FIELDS.iter().zip(spans) {
            let text = text.get(start..end)?;
            let kind = match field.kind {
                Kind::Str => RawKind::PlainString,
                Kind::Float if text.contains('.') => RawKind::Decimal,
                Kind::Float | Kind::Unsigned => RawKind::Integer,
            };
            self.0.push((Cow::Borrowed(field.name), Raw { text, kind }));
        }
        Some(())
    }

    /// [`Self::get`], looking first at the field `at` when each key is known to be there once
    /// only: a tick's columns are its fields in order, so a row's column `at` is found at once.
    pub fn get_at(&self, want: &str, at: usize) -> Option<Raw<'a>> {
        match self.0.get(at) {
            Some((key, raw)) if self.1 && key == want => Some(*raw),
            _ => self.get(want),
        }
    }

    /// The raw value of the field named `want`.
    pub fn get(&self, want: &str) -> Option<Raw<'a>> {
        // Length and first byte before the bytes: most keys differ there; keys are short, so
        // compared inline rather than by a call.
        let first = want.as_bytes().first();
        let same = |k: &str| {
            k.len() == want.len() && k.as_bytes().first() == first && k.bytes().zip(want.bytes()).all(|(a, b)| a == b)
        };
        if let Some((_, v)) = self.0.iter().rev().find(|(k, _)| same(k)) {
            return Some(*v);
        }
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(want))
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, v)| *v)
    }
}

/// The cell of `column` from a raw field value: plain strings (borrowed) and numbers straight
/// to the cell, anything else through [`value`] and [`owned_cell`], which decide the same way
/// (a test compares the two on every kind of value).
pub fn cell<'a>(raw: Option<Raw<'a>>, column: &Column) -> Result<CellRef<'a>, RecordError> {
    let Some(Raw { text, kind }) = raw else {
        return Ok(CellRef::Null);
    };
    let inner = || &text[1..text.len() - 1];
    let fast = match (column.kind, kind) {
        (ColumnType::Text, RawKind::PlainString) => Some(CellRef::Text(Cow::Borrowed(inner()))),
        (ColumnType::Timestamp, RawKind::PlainString) => text_timestamp_ms(inner()).map(CellRef::Timestamp),
        (ColumnType::Integer, RawKind::Integer) => text.parse().ok().map(CellRef::Integer),
        (ColumnType::Real, RawKind::Integer | RawKind::Decimal) => {
            plain_f64(text).or_else(|| text.parse().ok()).map(CellRef::Real)
        }
        _ => None,
    };
    match fast {
        Some(cell) => Ok(cell),
        None => owned_cell(Some(value(text)?), column).map(CellRef::from),
    }
}

/// `-?digits` (with at least one digit).
fn is_integer(text: &str) -> bool {
    let t = text.strip_prefix('-').unwrap_or(text);
    !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit())
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
pub fn value(text: &str) -> Result<serde_json::Value, RecordError> {
    use serde_json::Value;
    let plain_string = text.len() >= 2 && text.starts_with('"') && !text.contains('\\');
    Ok(match text.as_bytes().first() {
        _ if plain_string => Value::String(text[1..text.len() - 1].to_owned()),
        Some(b'-' | b'0'..=b'9') => Value::Number(text.parse().map_err(RecordError::not_json)?),
        Some(b't') => Value::Bool(true),
        Some(b'f') => Value::Bool(false),
        Some(b'n') => Value::Null,
        _ => serde_json::from_str(text).map_err(RecordError::not_json)?,
    })
}

/// The fields of a flat object written plainly (no escapes, no nested values), in one pass;
/// `None` sends anything else to serde, which reads it or says why not (`out` then holds a
/// part of the fields).
fn flat<'a>(text: &'a str, out: &mut FieldList<'a>) -> Option<()> {
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
    let mut i = ws(0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(i + 1);
    if b.get(i) == Some(&b'}') {
        return (ws(i + 1) == b.len()).then_some(());
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
        let kind;
        (i, kind) = match b.get(i)? {
            b'"' => (string(i)?, RawKind::PlainString),
            b'-' | b'0'..=b'9' => {
                let len = b[i..]
                    .iter()
                    .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'));
                let end = len.map_or(b.len(), |l| i + l);
                (end, number_kind(&text[i..end])?)
            }
            _ => ["true", "false", "null"]
                .iter()
                .find(|lit| text[i..].starts_with(*lit))
                .map(|lit| (i + lit.len(), RawKind::Other))?,
        };
        out.push((
            Cow::Borrowed(key),
            Raw {
                text: &text[start..i],
                kind,
            },
        ));
        i = ws(i);
        match b.get(i)? {
            b',' => i = ws(i + 1),
            b'}' => return (ws(i + 1) == b.len()).then_some(()),
            _ => return None,
        }
    }
}

/// The kind of a number written in JSON's grammar, `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`;
/// `None` if it is not one.
fn number_kind(t: &str) -> Option<RawKind> {
    let t = t.strip_prefix('-').unwrap_or(t);
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let int = digits(t);
    if int == 0 || (int > 1 && t.starts_with('0')) {
        return None;
    }
    let mut kind = RawKind::Integer;
    let mut rest = &t[int..];
    if let Some(f) = rest.strip_prefix('.') {
        let n = digits(f);
        if n == 0 {
            return None;
        }
        rest = &f[n..];
        kind = RawKind::Decimal;
    }
    if let Some(e) = rest.strip_prefix(['e', 'E']) {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        let n = digits(e);
        if n == 0 {
            return None;
        }
        rest = &e[n..];
        kind = RawKind::Other;
    }
    rest.is_empty().then_some(kind)
}

struct FieldsVisitor<'o, 'de>(&'o mut FieldList<'de>);

impl<'de> Visitor<'de> for FieldsVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        while let Some((Key(k), v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
            self.0.push((k, Raw::of(v.get())));
        }
        Ok(())
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
#[path = "fields_tests.rs"]
mod tests;
