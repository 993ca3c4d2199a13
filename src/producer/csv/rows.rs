//! A CSV archive's rows as ticks. The header names the columns; the configured mapping (or the
//! usual names: `symbol`/`Name`/`ticker`, `price`/`Close`, `volume`/`Volume`,
//! `timestamp`/`Date`/`time`) says which column is which, and each row becomes a [`CsvRow`] or
//! an error saying which column is wrong and why (the caller adds file:line).

use chrono::{DateTime, NaiveDate, NaiveDateTime};

pub use crate::config::source::ColumnNames;

const SYMBOL: &[&str] = &["symbol", "name", "ticker", "s"];
const PRICE: &[&str] = &["price", "close", "last", "p"];
const VOLUME: &[&str] = &["volume", "size", "qty", "v"];
const TIMESTAMP: &[&str] = &["timestamp", "datetime", "date", "time", "t"];

/// Where each field is in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    symbol: usize,
    price: usize,
    volume: Option<usize>,
    timestamp: usize,
}

/// One row, as a tick's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvRow {
    pub symbol: String,
    pub price: f64,
    pub volume: u64,
    /// Epoch milliseconds, UTC.
    pub timestamp_ms: i64,
}

impl Columns {
    /// Finds each field's column in `header` (names compared without case); `Err` names the
    /// field and the columns there are.
    pub fn find(header: &csv::StringRecord, names: &ColumnNames) -> Result<Self, String> {
        let find = |field: &str, named: &Option<String>, usual: &[&str]| -> Result<Option<usize>, String> {
            let at = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
            match named {
                Some(name) => at(name).map(Some).ok_or_else(|| {
                    format!(
                        "columns.{field} = {name:?} is not a column of the header ({})",
                        list(header)
                    )
                }),
                None => Ok(usual.iter().find_map(|n| at(n))),
            }
        };
        let required = |field: &str, found: Option<usize>, usual: &[&str]| {
            found.ok_or_else(|| {
                format!(
                    "no column for {field}: none of {} in the header ({}); name it under [producer.csv.columns]",
                    usual.join(", "),
                    list(header)
                )
            })
        };
        Ok(Self {
            symbol: required("symbol", find("symbol", &names.symbol, SYMBOL)?, SYMBOL)?,
            price: required("price", find("price", &names.price, PRICE)?, PRICE)?,
            volume: find("volume", &names.volume, VOLUME)?,
            timestamp: required("timestamp", find("timestamp", &names.timestamp, TIMESTAMP)?, TIMESTAMP)?,
        })
    }

    /// The row's tick fields; `Err` names the column and what is wrong with its value.
    pub fn parse(&self, row: &csv::StringRecord) -> Result<CsvRow, String> {
        let cell = |i: usize, field: &str| {
            row.get(i)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{field}: empty or missing"))
        };
        let symbol = cell(self.symbol, "symbol")?;
        let price_text = cell(self.price, "price")?;
        let price: f64 = price_text
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| format!("price: {price_text:?} is not a price"))?;
        let volume = match self.volume {
            None => 0,
            Some(i) => {
                let text = cell(i, "volume")?;
                volume(text).ok_or_else(|| format!("volume: {text:?} is not a whole number of shares"))?
            }
        };
        let ts = cell(self.timestamp, "timestamp")?;
        let timestamp_ms =
            timestamp_ms(ts).ok_or_else(|| format!("timestamp: {ts:?} is not a time tickstream reads"))?;
        Ok(CsvRow {
            symbol: symbol.to_owned(),
            price,
            volume,
            timestamp_ms,
        })
    }
}

fn list(header: &csv::StringRecord) -> String {
    header.iter().collect::<Vec<_>>().join(", ")
}

/// A volume: a whole number, also written as a float (`300.0`, as pandas writes it).
fn volume(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().or_else(|| {
        let f: f64 = text.parse().ok()?;
        (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1e18).then_some(f as u64)
    })
}

/// Epoch milliseconds of a timestamp in one of the usual forms: RFC 3339 (`…Z`, `…+02:00`),
/// a date and time without a zone (UTC; `T` or a space, fractions of a second), a date alone
/// (midnight UTC), or epoch seconds or milliseconds (a number past 10^11 is milliseconds).
pub fn timestamp_ms(text: &str) -> Option<i64> {
    // By shape first, so that a row costs one parse, not a failed one per form before it.
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if digits && text.len() != 8 {
        return epoch_ms(text);
    }
    if text.contains(['T', ' ']) {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(t.timestamp_millis());
        }
        for form in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(text, form) {
                return Some(t.and_utc().timestamp_millis());
            }
        }
        return None;
    }
    for form in ["%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(text, form) {
            return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
        }
    }
    digits.then(|| epoch_ms(text)).flatten()
}

/// Epoch seconds or milliseconds (a number past 10^11 is milliseconds).
fn epoch_ms(text: &str) -> Option<i64> {
    let n: f64 = text.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    match n >= 1e11 {
        true => Some(n as i64),
        false => Some((n * 1000.0).round() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cells: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(cells.to_vec())
    }

    #[test]
    fn the_seeds_shapes_map_by_their_usual_names() {
        let daily = record(&["Date", "Open", "High", "Low", "Close", "Volume", "Name"]);
        let c = Columns::find(&daily, &ColumnNames::default()).unwrap();
        let row = c
            .parse(&record(&[
                "2013-02-08",
                "15.07",
                "15.12",
                "14.63",
                "14.75",
                "8407500",
                "AAL",
            ]))
            .unwrap();
        let want = CsvRow {
            symbol: "AAL".into(),
            price: 14.75,
            volume: 8_407_500,
            timestamp_ms: 1_360_281_600_000,
        };
        assert_eq!(row, want);
        let trades = record(&["symbol", "price", "volume", "timestamp"]);
        let c = Columns::find(&trades, &ColumnNames::default()).unwrap();
        let row = c
            .parse(&record(&["MSFT", "411.5", "300.0", "2026-12-01 10:00:00.250"]))
            .unwrap();
        assert_eq!((row.volume, row.timestamp_ms), (300, 1_796_119_200_250));
    }

    #[test]
    fn a_mapping_names_columns_and_a_wrong_one_is_named() {
        let header = record(&["ts", "px", "ticker"]);
        let names = ColumnNames {
            timestamp: Some("TS".into()),
            price: Some("px".into()),
            ..ColumnNames::default()
        };
        let c = Columns::find(&header, &names).unwrap();
        let row = c.parse(&record(&["1796119200", "1.5", "X"])).unwrap();
        assert_eq!(
            (row.symbol.as_str(), row.volume, row.timestamp_ms),
            ("X", 0, 1_796_119_200_000)
        );
        let wrong = ColumnNames {
            price: Some("close".into()),
            ..names
        };
        let e = Columns::find(&header, &wrong).unwrap_err();
        assert_eq!(
            e,
            "columns.price = \"close\" is not a column of the header (ts, px, ticker)"
        );
        let e = Columns::find(&record(&["a", "b"]), &ColumnNames::default()).unwrap_err();
        assert!(
            e.starts_with("no column for symbol: none of symbol, name, ticker, s in the header (a, b)"),
            "{e}"
        );
    }

    #[test]
    fn timestamps_in_the_usual_forms() {
        let ms = 1_796_119_200_000; // 2026-12-01T10:00:00Z
        for text in [
            "2026-12-01T10:00:00Z",
            "2026-12-01T11:00:00+01:00",
            "2026-12-01T10:00:00",
            "2026-12-01 10:00:00.000",
            "2026-12-01 10:00",
            "1796119200",
            "1796119200000",
        ] {
            assert_eq!(timestamp_ms(text), Some(ms), "{text}");
        }
        assert_eq!(timestamp_ms("12/01/2026"), Some(1_796_083_200_000));
        for bad in ["yesterday", "2026-13-01", "-5", "NaN", ""] {
            assert_eq!(timestamp_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_bad_value_is_named_with_its_column() {
        let c = Columns::find(
            &record(&["symbol", "price", "volume", "timestamp"]),
            &ColumnNames::default(),
        )
        .unwrap();
        let cases = [
            (["A", "x", "1", "2026-12-01"], "price: \"x\" is not a price"),
            (["A", "-1", "1", "2026-12-01"], "price: \"-1\" is not a price"),
            (
                ["A", "1", "1.5", "2026-12-01"],
                "volume: \"1.5\" is not a whole number of shares",
            ),
            (
                ["A", "1", "1", "soon"],
                "timestamp: \"soon\" is not a time tickstream reads",
            ),
            (["", "1", "1", "2026-12-01"], "symbol: empty or missing"),
        ];
        for (cells, why) in cases {
            assert_eq!(c.parse(&record(&cells)).unwrap_err(), why);
        }
        assert_eq!(c.parse(&record(&["A", "1"])).unwrap_err(), "volume: empty or missing");
    }
}
