//! The feed's messages, read through `[producer.websocket.mapping]`: which are trade messages,
//! where their trades are, and each trade's symbol, price, volume and time. Pure: a text frame in,
//! trades out.

use serde_json::Value;

use crate::config::websocket::{FeedMapping, TimeUnit};

/// One trade as the feed sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedTrade {
    pub symbol: String,
    pub price: f64,
    pub volume: u64,
    /// Epoch milliseconds, UTC.
    pub timestamp_ms: i64,
}

/// What one message held.
#[derive(Debug, Default, PartialEq)]
pub struct Read {
    pub trades: Vec<FeedTrade>,
    /// Trades the message held that are not trades (a field missing or of the wrong type).
    pub malformed: u64,
    /// Why the first of them was, for the log.
    pub first_problem: Option<String>,
}

/// The mapping with its paths split once.
pub struct Mapping {
    config: FeedMapping,
    type_path: Vec<String>,
    trades_path: Vec<String>,
    symbol: Vec<String>,
    price: Vec<String>,
    volume: Vec<String>,
    timestamp: Vec<String>,
}

fn split(path: &str) -> Vec<String> {
    path.split('.').filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

fn at<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, key| v.get(key.as_str()))
}

impl Mapping {
    pub fn new(config: &FeedMapping) -> Self {
        Self {
            type_path: split(&config.type_field),
            trades_path: split(&config.trades),
            symbol: split(&config.symbol),
            price: split(&config.price),
            volume: split(&config.volume),
            timestamp: split(&config.timestamp),
            config: config.clone(),
        }
    }

    /// The subscribe message for `symbol` (the symbol JSON-escaped into the template).
    pub fn subscribe(&self, symbol: &str) -> String {
        let quoted = serde_json::to_string(symbol).unwrap_or_default();
        let escaped = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default();
        self.config.subscribe.replace("{symbol}", escaped)
    }

    /// The trades of one text message; `Err` when it is not JSON. A message of another type
    /// (Finnhub's `ping`) holds none.
    pub fn read(&self, text: &str) -> Result<Read, String> {
        let msg: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let mut read = Read::default();
        if !self.type_path.is_empty() {
            let kind = at(&msg, &self.type_path).and_then(Value::as_str);
            if kind != Some(self.config.trade_type.as_str()) {
                return Ok(read);
            }
        }
        let one;
        let trades: &[Value] = if self.trades_path.is_empty() {
            one = [msg];
            &one
        } else {
            match at(&msg, &self.trades_path) {
                Some(Value::Array(trades)) => trades,
                _ => {
                    read.malformed = 1;
                    read.first_problem = Some(format!("no array of trades at `{}`", self.config.trades));
                    return Ok(read);
                }
            }
        };
        for t in trades {
            match self.trade(t) {
                Ok(trade) => read.trades.push(trade),
                Err(why) => {
                    read.malformed += 1;
                    read.first_problem.get_or_insert(why);
                }
            }
        }
        Ok(read)
    }

    fn trade(&self, t: &Value) -> Result<FeedTrade, String> {
        let field = |path: &[String], name: &str| at(t, path).ok_or_else(|| format!("no `{name}`"));
        let symbol = field(&self.symbol, &self.config.symbol)?
            .as_str()
            .filter(|s| !s.is_empty() && s.len() <= 64)
            .ok_or_else(|| format!("`{}` is not a symbol", self.config.symbol))?;
        let price = field(&self.price, &self.config.price)?
            .as_f64()
            .filter(|p| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| format!("`{}` is not a price", self.config.price))?;
        let volume = match at(t, &self.volume) {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_f64()
                .filter(|v| v.is_finite() && *v >= 0.0 && *v < 1.8e19)
                .map(|v| v.round() as u64)
                .ok_or_else(|| format!("`{}` is not a volume", self.config.volume))?,
        };
        let ts = field(&self.timestamp, &self.config.timestamp)?;
        let timestamp_ms = timestamp_ms(ts, self.config.timestamp_unit)
            .ok_or_else(|| format!("`{}` is not a time", self.config.timestamp))?;
        Ok(FeedTrade {
            symbol: symbol.to_owned(),
            price,
            volume,
            timestamp_ms,
        })
    }
}

/// A number in `unit`, or an RFC 3339 string, as epoch milliseconds (years 1970–9999).
fn timestamp_ms(v: &Value, unit: TimeUnit) -> Option<i64> {
    let ms = match v {
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s).ok()?.timestamp_millis(),
        v => {
            let n = v.as_f64()?;
            let per_ms = match unit {
                TimeUnit::S => 1e-3,
                TimeUnit::Ms => 1.0,
                TimeUnit::Us => 1e3,
                TimeUnit::Ns => 1e6,
            };
            let ms = n / per_ms;
            if !ms.is_finite() {
                return None;
            }
            ms as i64
        }
    };
    (0..=253_402_300_799_999).contains(&ms).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finnhub() -> Mapping {
        Mapping::new(&FeedMapping::default())
    }

    #[test]
    fn finnhub_trades_are_read_and_pings_hold_none() {
        let m = finnhub();
        let read = m
            .read(r#"{"type":"trade","data":[{"s":"AAPL","p":189.5,"v":100,"t":1700000000123,"c":["1"]},{"s":"BINANCE:BTCUSDT","p":43000.1,"v":0.6,"t":1700000000124}]}"#)
            .unwrap();
        assert_eq!(
            read.trades,
            vec![
                FeedTrade {
                    symbol: "AAPL".into(),
                    price: 189.5,
                    volume: 100,
                    timestamp_ms: 1_700_000_000_123
                },
                FeedTrade {
                    symbol: "BINANCE:BTCUSDT".into(),
                    price: 43000.1,
                    volume: 1,
                    timestamp_ms: 1_700_000_000_124
                },
            ]
        );
        assert_eq!(read.malformed, 0);
        assert_eq!(m.read(r#"{"type":"ping"}"#).unwrap(), Read::default());
        assert!(m.read("{not json").unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn a_bad_trade_is_counted_and_its_neighbours_kept() {
        let read = finnhub()
            .read(r#"{"type":"trade","data":[{"s":"AAPL","p":"high","t":1},{"s":"AAPL","p":1.5,"t":2},{"p":1,"t":3},{"s":"AAPL","p":1,"t":-5},{"s":"AAPL","p":1,"v":-1,"t":4}]}"#)
            .unwrap();
        assert_eq!(read.trades.len(), 1);
        assert_eq!(read.trades[0].timestamp_ms, 2);
        assert_eq!(read.malformed, 4);
        assert_eq!(read.first_problem.as_deref(), Some("`p` is not a price"));
        let no_array = finnhub().read(r#"{"type":"trade","data":{"s":"AAPL"}}"#).unwrap();
        assert_eq!((no_array.trades.len(), no_array.malformed), (0, 1));
    }

    #[test]
    fn a_generic_feed_maps_nested_paths_units_and_strings() {
        let m = Mapping::new(&FeedMapping {
            subscribe: r#"{"op":"sub","args":["trades.{symbol}"]}"#.into(),
            type_field: "".into(),
            trades: "".into(),
            symbol: "instrument.code".into(),
            price: "px".into(),
            volume: "qty".into(),
            timestamp: "ts".into(),
            timestamp_unit: TimeUnit::Ns,
            ..FeedMapping::default()
        });
        assert_eq!(m.subscribe("X\"Y"), r#"{"op":"sub","args":["trades.X\"Y"]}"#);
        let read = m
            .read(r#"{"instrument":{"code":"MSFT"},"px":410.25,"ts":1700000000123456789}"#)
            .unwrap();
        assert_eq!(read.trades[0].symbol, "MSFT");
        assert_eq!(read.trades[0].volume, 0);
        assert_eq!(read.trades[0].timestamp_ms, 1_700_000_000_123);
        let rfc = m
            .read(r#"{"instrument":{"code":"MSFT"},"px":1,"ts":"2023-11-14T22:13:20.5Z"}"#)
            .unwrap();
        assert_eq!(rfc.trades[0].timestamp_ms, 1_700_000_000_500);
    }
}
