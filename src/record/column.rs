//! A record's typed columns as the configuration declares them (`[[warehouse.columns]]`): each
//! column's name, SQL type and source field. The warehouse's rows and the sink's Parquet files
//! read records through the same declaration ([`super::cell`]).

use serde::{Deserialize, Serialize};

use super::tick::{Kind, FIELDS};

/// One typed column.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// The column's name (an SQL identifier); also the field it reads, unless `source` says.
    pub name: String,
    /// `TEXT`, `REAL`, `INTEGER`, `BOOLEAN` or `TIMESTAMP` (Snowflake's VARCHAR, NUMBER, FLOAT,
    /// TIMESTAMP_NTZ … are accepted as their nearest).
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// The record's field, when it is not named as the column (Finnhub's `p` for `price`).
    #[serde(default)]
    pub source: Option<String>,
}

/// A typed column's SQL type.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum ColumnType {
    Text,
    Real,
    Integer,
    Boolean,
    /// Stored as RFC 3339 UTC text with milliseconds, whatever form the record gave.
    Timestamp,
}

impl From<ColumnType> for String {
    fn from(c: ColumnType) -> String {
        c.sql().into()
    }
}

impl ColumnType {
    /// Its SQL name.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Text => "TEXT",
            Self::Real => "REAL",
            Self::Integer => "INTEGER",
            Self::Boolean => "BOOLEAN",
            Self::Timestamp => "TIMESTAMP",
        }
    }
}

impl TryFrom<String> for ColumnType {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "TEXT" | "VARCHAR" | "STRING" | "CHAR" => Self::Text,
            "REAL" | "FLOAT" | "DOUBLE" | "NUMBER" | "DECIMAL" | "NUMERIC" => Self::Real,
            "INTEGER" | "INT" | "BIGINT" => Self::Integer,
            "BOOLEAN" | "BOOL" => Self::Boolean,
            "TIMESTAMP" | "TIMESTAMP_NTZ" | "TIMESTAMP_TZ" | "TIMESTAMP_LTZ" | "DATETIME" => Self::Timestamp,
            other => {
                return Err(format!(
                    "{other:?} is not a column type: TEXT, REAL, INTEGER, BOOLEAN or TIMESTAMP"
                ))
            }
        })
    }
}

/// The tick's fields as columns.
pub fn tick_columns() -> Vec<Column> {
    FIELDS
        .iter()
        .map(|f| Column {
            name: f.name.to_owned(),
            kind: match (f.name, f.kind) {
                ("timestamp", _) => ColumnType::Timestamp,
                (_, Kind::Str) => ColumnType::Text,
                (_, Kind::Float) => ColumnType::Real,
                (_, Kind::Unsigned) => ColumnType::Integer,
            },
            source: None,
        })
        .collect()
}
