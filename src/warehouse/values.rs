//! A record's typed columns as SQLite values (the rules are [`crate::record::cell`]'s): a
//! timestamp is RFC 3339 UTC text with milliseconds, a boolean 0 or 1.

use rusqlite::types::Value as Sql;
use serde_json::Value;

use crate::config::Column;
use crate::record::cell::{cell, Cell};
use crate::record::RecordError;

/// The SQL value of `column` for `record`, or why it cannot be stored; `by_name` as
/// [`crate::record::cell::field`] takes it.
pub fn column_value(record: &Value, column: &Column, by_name: bool) -> Result<Sql, RecordError> {
    Ok(match cell(record, column, by_name)? {
        Cell::Null => Sql::Null,
        Cell::Text(s) => Sql::Text(s),
        Cell::Real(f) => Sql::Real(f),
        Cell::Integer(i) => Sql::Integer(i),
        Cell::Boolean(b) => Sql::Integer(i64::from(b)),
        Cell::Timestamp(ms) => crate::record::cell::millis_text(ms).map_or(Sql::Null, Sql::Text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ColumnType;
    use serde_json::json;

    #[test]
    fn sqlite_values_store_timestamps_as_utc_text_and_booleans_as_integers() {
        let col = |name: &str, kind| Column {
            name: name.into(),
            kind,
            source: None,
        };
        let r = json!({"t": 1733050000123_i64, "ok": true, "p": "1.5"});
        assert_eq!(
            column_value(&r, &col("t", ColumnType::Timestamp), false).unwrap(),
            Sql::Text("2024-12-01T10:46:40.123Z".into())
        );
        assert_eq!(
            column_value(&r, &col("ok", ColumnType::Boolean), false).unwrap(),
            Sql::Integer(1)
        );
        assert_eq!(
            column_value(&r, &col("p", ColumnType::Real), false).unwrap(),
            Sql::Real(1.5)
        );
        assert_eq!(column_value(&r, &col("x", ColumnType::Real), false).unwrap(), Sql::Null);
    }
}
