//! Read-only SQL against the warehouse: `tickstream query`, `stats` and OHLC candles.

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::WarehouseError;

/// One value of a result set.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Cell {
    fn is_numeric(&self) -> bool {
        matches!(self, Cell::Null | Cell::Int(_) | Cell::Real(_))
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Real(v) => f.write_str(&format_real(*v)),
            Cell::Text(t) => f.write_str(t),
        }
    }
}

/// A result set: column names and rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Runs one statement on a read-only connection (a statement that writes fails).
pub fn run(db: &Connection, sql: &str) -> Result<Table, WarehouseError> {
    let mut stmt = db.prepare(sql)?;
    if !stmt.readonly() {
        return Err(WarehouseError::NotReadOnly);
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let n = columns.len();
    let mut rows = Vec::new();
    let mut it = stmt.query([])?;
    while let Some(row) = it.next()? {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(match row.get_ref(i)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Int(v),
                ValueRef::Real(v) => Cell::Real(v),
                ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Cell::Text(format!("<{} bytes>", b.len())),
            });
        }
        rows.push(out);
    }
    Ok(Table { columns, rows })
}

fn format_real(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').to_owned()
    }
}

/// The columns `stats` and `--ohlc` read; a table without them is refused by name.
pub const STATS_COLUMNS: [&str; 4] = ["symbol", "price", "volume", "timestamp"];

/// Why `table` cannot be summarised, if it lacks a column [`STATS_COLUMNS`] names.
pub fn check_stats_columns(db: &Connection, table: &str) -> Result<(), WarehouseError> {
    let cols = super::table::existing_columns(db, table)?;
    if cols.is_empty() {
        return Err(WarehouseError::NoTable {
            table: table.to_owned(),
        });
    }
    let missing: Vec<&str> = STATS_COLUMNS
        .iter()
        .copied()
        .filter(|c| !cols.iter().any(|x| x.eq_ignore_ascii_case(c)))
        .collect();
    match missing.is_empty() {
        true => Ok(()),
        false => Err(WarehouseError::NoStatsColumns {
            table: table.to_owned(),
            missing: missing.join(", "),
            needed: STATS_COLUMNS.join(", "),
        }),
    }
}

/// The seed's analyst query: per symbol COUNT, AVG(price), MIN, MAX, and the last price.
pub fn stats_sql(table: &str) -> String {
    let table = super::table::quoted(table);
    format!(
        "SELECT symbol, COUNT(*) AS ticks, ROUND(AVG(price), 4) AS avg_price, MIN(price) AS min_price,
                MAX(price) AS max_price,
                (SELECT t2.price FROM {table} t2 WHERE t2.symbol = t.symbol
                 ORDER BY t2.timestamp DESC, t2.partition DESC, t2.offset DESC LIMIT 1) AS last_price,
                SUM(volume) AS volume
         FROM {table} t WHERE symbol IS NOT NULL GROUP BY symbol ORDER BY symbol"
    )
}

/// OHLC candles of `bucket_secs` seconds with volume, per symbol, oldest first.
pub fn ohlc_sql(table: &str, bucket_secs: u64) -> String {
    let bucket = format!("(CAST(strftime('%s', timestamp) AS INTEGER) / {bucket_secs}) * {bucket_secs}");
    let table = super::table::quoted(table);
    format!(
        "WITH b AS (
            SELECT symbol, {bucket} AS bucket, price, volume, timestamp, partition, offset FROM {table}
            WHERE symbol IS NOT NULL AND price IS NOT NULL AND timestamp IS NOT NULL
         ), ranked AS (
            SELECT symbol, bucket, price, volume,
                   ROW_NUMBER() OVER (PARTITION BY symbol, bucket ORDER BY timestamp, partition, offset) AS first_rank,
                   ROW_NUMBER() OVER (PARTITION BY symbol, bucket ORDER BY timestamp DESC, partition DESC, offset DESC) AS last_rank
            FROM b
         )
         SELECT symbol, strftime('%Y-%m-%dT%H:%M:%SZ', bucket, 'unixepoch') AS start,
                MAX(CASE WHEN first_rank = 1 THEN price END) AS open,
                MAX(price) AS high, MIN(price) AS low,
                MAX(CASE WHEN last_rank = 1 THEN price END) AS close,
                SUM(volume) AS volume, COUNT(*) AS ticks
         FROM ranked GROUP BY symbol, bucket ORDER BY symbol, bucket"
    )
}

/// Parses `30s`, `1m`, `5m`, `1h`, `1d` into seconds.
pub fn parse_interval(s: &str) -> Result<u64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number and a unit, like 1m"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    if n == 0 {
        return Err(format!("{s:?}: must be more than zero"));
    }
    Ok(n * mult)
}

impl Table {
    /// An aligned text table; numbers right-aligned.
    pub fn render(&self) -> String {
        let cell = |v: &Cell| v.to_string();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for r in &self.rows {
            for (i, v) in r.iter().enumerate() {
                widths[i] = widths[i].max(cell(v).chars().count());
            }
        }
        let numeric: Vec<bool> = (0..self.columns.len())
            .map(|i| self.rows.iter().all(|r| r[i].is_numeric()))
            .collect();
        let mut out = String::new();
        let line = |vals: Vec<String>, out: &mut String| {
            let parts: Vec<String> = vals
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if numeric[i] {
                        format!("{v:>w$}", w = widths[i])
                    } else {
                        format!("{v:<w$}", w = widths[i])
                    }
                })
                .collect();
            out.push_str(parts.join("  ").trim_end());
            out.push('\n');
        };
        line(self.columns.clone(), &mut out);
        line(widths.iter().map(|w| "-".repeat(*w)).collect(), &mut out);
        for r in &self.rows {
            line(r.iter().map(cell).collect(), &mut out);
        }
        out.push_str(&format!("({} rows)\n", self.rows.len()));
        out
    }

    /// RFC 4180 CSV.
    pub fn csv(&self) -> String {
        let esc = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        let mut out = self.columns.iter().map(|c| esc(c)).collect::<Vec<_>>().join(",");
        out.push('\n');
        for r in &self.rows {
            let cells: Vec<String> = r
                .iter()
                .map(|v| match v {
                    Cell::Null => String::new(),
                    other => esc(&other.to_string()),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// One JSON object per row, typed as the database returned them.
    pub fn json(&self) -> String {
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = self
            .rows
            .iter()
            .map(|r| {
                self.columns
                    .iter()
                    .zip(r)
                    .map(|(c, v)| {
                        let value = match v {
                            Cell::Null => serde_json::Value::Null,
                            Cell::Int(i) => serde_json::Value::from(*i),
                            Cell::Real(f) => {
                                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
                            }
                            Cell::Text(t) => serde_json::Value::String(t.clone()),
                        };
                        (c.clone(), value)
                    })
                    .collect()
            })
            .collect();
        serde_json::to_string_pretty(&rows).unwrap_or_default()
    }
}
