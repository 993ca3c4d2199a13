//! A record's typed columns, read the same way by every writer: the ingestion watcher's SQL
//! rows and the sink's Parquet files. Each column takes the record's field of its name (or
//! `source`), matched case-insensitively as Snowpipe's `MATCH_BY_COLUMN_NAME` does, converted to
//! the column's type. A missing field (or a JSON `null`) is NULL; a value that cannot take the
//! type is an error that names the column, the field and the value.
//!
//! Timestamps are read from RFC 3339 with a zone, ISO 8601 without one (taken as UTC: the seed's
//! `datetime.now()`), a date alone, or a number of epoch seconds, milliseconds or microseconds,
//! and kept as UTC epoch milliseconds; as text they are `2026-12-01T10:00:00.123Z`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::borrow::Cow;

use serde_json::Value;

use super::column::{Column, ColumnType};
use super::RecordError;

/// One typed value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Real(f64),
    Integer(i64),
    Boolean(bool),
    /// UTC epoch milliseconds.
    Timestamp(i64),
}

impl Cell {
    /// The cell as JSON: a timestamp as its RFC 3339 text, a real that JSON cannot hold (NaN,
    /// infinity) as `null`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Text(s) => Value::String(s.clone()),
            Self::Real(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Self::Integer(i) => Value::from(*i),
            Self::Boolean(b) => Value::Bool(*b),
            Self::Timestamp(ms) => millis_text(*ms).map_or(Value::Null, Value::String),
        }
    }
}

/// The field `column` reads from `record` (a top-level member, case-insensitively); with
/// `by_name`, the column's own name whatever its `source` (a Parquet file's columns already
/// carry the names).
pub fn field<'a>(record: &'a Value, column: &Column, by_name: bool) -> Option<&'a Value> {
    let want = match (&column.source, by_name) {
        (Some(s), false) => s,
        _ => &column.name,
    };
    let obj = record.as_object()?;
    obj.get(want)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(want)).map(|(_, v)| v))
}

/// The value of `column` for `record`, or why it cannot take the column's type.
pub fn cell(record: &Value, column: &Column, by_name: bool) -> Result<Cell, RecordError> {
    cell_of(field(record, column, by_name), column)
}

/// The value of `column` for the field value `v` (`None`: the record has no such field).
pub fn cell_of(v: Option<&Value>, column: &Column) -> Result<Cell, RecordError> {
    match v {
        Some(v) if !v.is_null() => convert(v.clone(), column),
        _ => Ok(Cell::Null),
    }
}

/// [`cell_of`] of a value the caller owns: its text moves into the cell.
pub fn owned_cell(v: Option<Value>, column: &Column) -> Result<Cell, RecordError> {
    match v {
        Some(v) if !v.is_null() => convert(v, column),
        _ => Ok(Cell::Null),
    }
}

fn convert(v: Value, column: &Column) -> Result<Cell, RecordError> {
    let bad = |expected: &'static str| RecordError::Column {
        column: column.name.clone(),
        sql: column.kind.sql(),
        value: v.to_string().chars().take(80).collect(),
        expected,
    };
    Ok(match column.kind {
        ColumnType::Text => match v {
            Value::String(s) => Cell::Text(s),
            other => Cell::Text(other.to_string()),
        },
        ColumnType::Real => match &v {
            Value::Number(n) => Cell::Real(n.as_f64().ok_or_else(|| bad("a number"))?),
            Value::String(s) => Cell::Real(s.trim().parse().map_err(|_| bad("a number"))?),
            _ => return Err(bad("a number")),
        },
        ColumnType::Integer => match &v {
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Cell::Integer(i),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Cell::Integer(f as i64),
                _ => return Err(bad("an integer")),
            },
            Value::String(s) => Cell::Integer(s.trim().parse().map_err(|_| bad("an integer"))?),
            _ => return Err(bad("an integer")),
        },
        ColumnType::Boolean => match &v {
            Value::Bool(b) => Cell::Boolean(*b),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => Cell::Boolean(n.as_i64() == Some(1)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Cell::Boolean(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Cell::Boolean(false),
            _ => return Err(bad("a boolean")),
        },
        ColumnType::Timestamp => Cell::Timestamp(timestamp_ms(&v).ok_or_else(|| bad("a timestamp"))?),
    })
}

/// `v` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, if it reads as a point in time.
pub fn timestamp(v: &Value) -> Option<String> {
    millis_text(timestamp_ms(v)?)
}

/// `v` as UTC epoch milliseconds, if it reads as a point in time.
pub fn timestamp_ms(v: &Value) -> Option<i64> {
    let t = match v {
        Value::Number(n) => epoch(n.as_f64()?)?,
        Value::String(s) => parse_text(s.trim())?,
        _ => return None,
    };
    Some(t.timestamp_millis())
}

/// A timestamp written as text (what [`timestamp_ms`] does with a JSON string).
pub fn text_timestamp_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = utc_millis(s) {
        return Some(ms);
    }
    Some(parse_text(s)?.timestamp_millis())
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (what tickstream's producer and most others write) read
/// without chrono's general parser; `None` sends anything else, or anything out of range,
/// to it. Years 1970–9999 only, so that dropping digits past the millisecond is chrono's floor.
fn utc_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let digit = |i: usize| b[i].is_ascii_digit().then(|| i64::from(b[i] - b'0'));
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let year = two(0)? * 100 + two(2)?;
    let (month, day, hour, minute, second) = (two(5)?, two(8)?, two(11)?, two(14)?, two(17)?);
    let fraction = &b[19..b.len() - 1];
    let millis = match fraction.split_first() {
        None => 0,
        Some((b'.', digits)) if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            let mut ms = 0;
            for i in 0..3 {
                ms = ms * 10 + digits.get(i).map_or(0, |d| i64::from(d - b'0'));
            }
            ms
        }
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let valid = (1970..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month[(month - 1) as usize]
        && hour <= 23
        && minute <= 59
        && second <= 59;
    if !valid {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + millis)
}

/// Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn millis_text(ms: i64) -> Option<String> {
    let t = Utc.timestamp_millis_opt(ms).single()?;
    Some(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Epoch seconds, milliseconds or microseconds, told apart by size (seconds reach 1e11 only in
/// the year 5138; milliseconds 1e14 in 5138 too).
fn epoch(n: f64) -> Option<DateTime<Utc>> {
    let ms = match n.abs() {
        a if a < 1e11 => n * 1e3,
        a if a < 1e14 => n,
        a if a < 1e17 => n / 1e3,
        _ => return None,
    };
    Utc.timestamp_millis_opt(ms.round() as i64).single()
}

fn parse_text(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    // Digits only: an epoch number written as text.
    s.parse::<f64>().ok().and_then(epoch)
}

/// A [`Cell`] whose text may be borrowed from the record.
#[derive(Clone, Debug, PartialEq)]
pub enum CellRef<'a> {
    Null,
    Text(Cow<'a, str>),
    Real(f64),
    Integer(i64),
    Boolean(bool),
    /// UTC epoch milliseconds.
    Timestamp(i64),
}

impl CellRef<'_> {
    pub fn into_owned(self) -> Cell {
        match self {
            Self::Null => Cell::Null,
            Self::Text(s) => Cell::Text(s.into_owned()),
            Self::Real(f) => Cell::Real(f),
            Self::Integer(i) => Cell::Integer(i),
            Self::Boolean(b) => Cell::Boolean(b),
            Self::Timestamp(ms) => Cell::Timestamp(ms),
        }
    }
}

impl From<Cell> for CellRef<'_> {
    fn from(cell: Cell) -> Self {
        match cell {
            Cell::Null => Self::Null,
            Cell::Text(s) => Self::Text(Cow::Owned(s)),
            Cell::Real(f) => Self::Real(f),
            Cell::Integer(i) => Self::Integer(i),
            Cell::Boolean(b) => Self::Boolean(b),
            Cell::Timestamp(ms) => Self::Timestamp(ms),
        }
    }
}

#[cfg(test)]
#[path = "cell_tests.rs"]
mod tests;
