//! A record's typed columns: each column takes the record's field of its name (or `source`),
//! matched case-insensitively as Snowpipe's `MATCH_BY_COLUMN_NAME` does, converted to the
//! column's type. A missing field (or a JSON `null`) is SQL NULL; a value that cannot take the
//! type is an error that names the column, the field and the value.
//!
//! Timestamps are normalised to RFC 3339 UTC with milliseconds (`2026-12-01T10:00:00.123Z`) from
//! RFC 3339 with a zone, ISO 8601 without one (taken as UTC: the seed's `datetime.now()`), a
//! date alone, or a number of epoch seconds, milliseconds or microseconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rusqlite::types::Value as Sql;
use serde_json::Value;

use crate::config::{Column, ColumnType};

/// The field `column` reads from `record` (a top-level member, case-insensitively).
pub fn field<'a>(record: &'a Value, column: &Column) -> Option<&'a Value> {
    let want = column.source.as_deref().unwrap_or(&column.name);
    let obj = record.as_object()?;
    obj.get(want)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(want)).map(|(_, v)| v))
}

/// The SQL value of `column` for `record`, or why it cannot be stored.
pub fn column_value(record: &Value, column: &Column) -> Result<Sql, String> {
    let Some(v) = field(record, column).filter(|v| !v.is_null()) else {
        return Ok(Sql::Null);
    };
    let bad = |what: &str| {
        let shown: String = v.to_string().chars().take(80).collect();
        format!("column {} ({}): {shown} is not {what}", column.name, column.kind.sql())
    };
    Ok(match column.kind {
        ColumnType::Text => match v {
            Value::String(s) => Sql::Text(s.clone()),
            other => Sql::Text(other.to_string()),
        },
        ColumnType::Real => match v {
            Value::Number(n) => Sql::Real(n.as_f64().ok_or_else(|| bad("a number"))?),
            Value::String(s) => Sql::Real(s.trim().parse().map_err(|_| bad("a number"))?),
            _ => return Err(bad("a number")),
        },
        ColumnType::Integer => match v {
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Sql::Integer(i),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Sql::Integer(f as i64),
                _ => return Err(bad("an integer")),
            },
            Value::String(s) => Sql::Integer(s.trim().parse().map_err(|_| bad("an integer"))?),
            _ => return Err(bad("an integer")),
        },
        ColumnType::Boolean => match v {
            Value::Bool(b) => Sql::Integer(i64::from(*b)),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => Sql::Integer(n.as_i64().unwrap_or(0)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Sql::Integer(1),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Sql::Integer(0),
            _ => return Err(bad("a boolean")),
        },
        ColumnType::Timestamp => Sql::Text(timestamp(v).ok_or_else(|| bad("a timestamp"))?),
    })
}

/// `v` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, if it reads as a point in time.
pub fn timestamp(v: &Value) -> Option<String> {
    let t = match v {
        Value::Number(n) => epoch(n.as_f64()?)?,
        Value::String(s) => parse_text(s.trim())?,
        _ => return None,
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn col(name: &str, kind: ColumnType, source: Option<&str>) -> Column {
        Column {
            name: name.into(),
            kind,
            source: source.map(str::to_owned),
        }
    }

    #[test]
    fn timestamps_of_every_shape_are_normalised_to_utc_millis() {
        for (given, want) in [
            (json!("2026-12-01T10:00:00.123Z"), "2026-12-01T10:00:00.123Z"),
            (json!("2026-12-01T11:00:00.123+01:00"), "2026-12-01T10:00:00.123Z"),
            (json!("2026-12-01T10:00:00.123456"), "2026-12-01T10:00:00.123Z"),
            (json!("2026-12-01 10:00:00"), "2026-12-01T10:00:00.000Z"),
            (json!("2013-02-08"), "2013-02-08T00:00:00.000Z"),
            (json!(1733050000), "2024-12-01T10:46:40.000Z"),
            (json!(1733050000123_i64), "2024-12-01T10:46:40.123Z"),
            (json!(1733050000123456_i64), "2024-12-01T10:46:40.123Z"),
            (json!("1733050000123"), "2024-12-01T10:46:40.123Z"),
        ] {
            assert_eq!(timestamp(&given).as_deref(), Some(want), "{given}");
        }
        assert_eq!(timestamp(&json!("yesterday")), None);
        assert_eq!(timestamp(&json!(true)), None);
    }

    #[test]
    fn fields_match_by_name_case_insensitively_or_by_source() {
        let trade = json!({"s": "AAPL", "p": 189.12, "v": 100, "t": 1733050000000_i64, "c": ["1"]});
        assert_eq!(
            column_value(&trade, &col("symbol", ColumnType::Text, Some("s"))).unwrap(),
            Sql::Text("AAPL".into())
        );
        assert_eq!(
            column_value(&trade, &col("timestamp", ColumnType::Timestamp, Some("t"))).unwrap(),
            Sql::Text("2024-12-01T10:46:40.000Z".into())
        );
        let row = json!({"Date": "2013-02-08", "Close": 14.75, "Volume": 8407500, "Name": "AAL"});
        assert_eq!(
            column_value(&row, &col("close", ColumnType::Real, None)).unwrap(),
            Sql::Real(14.75)
        );
        assert_eq!(
            column_value(&row, &col("volume", ColumnType::Integer, None)).unwrap(),
            Sql::Integer(8407500)
        );
        assert_eq!(
            column_value(&row, &col("price", ColumnType::Real, None)).unwrap(),
            Sql::Null,
            "missing"
        );
        assert_eq!(
            column_value(&json!({"c": ["1"]}), &col("c", ColumnType::Text, None)).unwrap(),
            Sql::Text("[\"1\"]".into()),
            "an array in a TEXT column is its JSON"
        );
    }

    #[test]
    fn a_value_that_cannot_take_the_type_names_the_column_and_the_value() {
        let e = column_value(&json!({"price": "high"}), &col("price", ColumnType::Real, None)).unwrap_err();
        assert_eq!(e, "column price (REAL): \"high\" is not a number");
        assert!(column_value(&json!({"volume": 1.5}), &col("volume", ColumnType::Integer, None)).is_err());
        assert!(column_value(&json!({"t": "soon"}), &col("t", ColumnType::Timestamp, None)).is_err());
        assert_eq!(
            column_value(&json!({"volume": 100.0}), &col("volume", ColumnType::Integer, None)).unwrap(),
            Sql::Integer(100)
        );
    }
}
