//! Writing a symbol's ticks as JSON, byte for byte what serde_json makes of a [`Tick`].
//!
//! Serialising each tick through serde re-escaped the symbol, exchange and run id every time
//! (`serialize_str` alone was 7% of the producer's CPU at 1,000 symbols). Those strings are
//! the same for every tick of a symbol, so [`TickEncoder`] lays out the tick's [`FIELDS`] once,
//! with the fixed strings encoded by serde_json into runs of literal bytes; each tick then
//! appends its numbers (through serde_json, so they are formatted exactly as before) and its
//! timestamp between those runs.
//!
//! [`Tick`]: super::tick::Tick

use super::tick::{Quote, FIELDS};

/// One piece of a symbol's tick layout.
#[derive(Clone, Debug)]
enum Part {
    /// Bytes the same for every tick of the symbol (keys, the symbol, exchange and run id).
    Fixed(Vec<u8>),
    Price,
    Volume,
    Change,
    Seq,
    /// The timestamp's string value.
    Timestamp,
}

/// One symbol's tick layout.
#[derive(Clone, Debug)]
pub struct TickEncoder {
    parts: Vec<Part>,
}

impl TickEncoder {
    pub fn new(symbol: &str, exchange: &str, run_id: &str) -> Self {
        let mut parts = Vec::new();
        let mut fixed = b"{".to_vec();
        for (i, f) in FIELDS.iter().enumerate() {
            if i > 0 {
                fixed.push(b',');
            }
            json_string(&mut fixed, f.name);
            fixed.push(b':');
            let per_tick = match f.name {
                "price" => Some(Part::Price),
                "volume" => Some(Part::Volume),
                "change" => Some(Part::Change),
                "seq" => Some(Part::Seq),
                "timestamp" => Some(Part::Timestamp),
                fixed_field => {
                    let value = match fixed_field {
                        "symbol" => symbol,
                        "exchange" => exchange,
                        "run_id" => run_id,
                        // A field added to the record but not here; the byte-for-byte tests
                        // against serde fail until it is.
                        _ => "",
                    };
                    json_string(&mut fixed, value);
                    None
                }
            };
            if let Some(part) = per_tick {
                parts.push(Part::Fixed(std::mem::take(&mut fixed)));
                parts.push(part);
            }
        }
        fixed.push(b'}');
        parts.push(Part::Fixed(fixed));
        Self { parts }
    }

    /// Replaces `out` with the tick `q` stamped `timestamp`.
    pub fn encode(&self, out: &mut Vec<u8>, q: &Quote, timestamp: &str) {
        out.clear();
        for part in &self.parts {
            match part {
                Part::Fixed(bytes) => out.extend_from_slice(bytes),
                Part::Price => json_number(out, &q.price),
                Part::Volume => json_number(out, &q.volume),
                Part::Change => json_number(out, &q.change),
                Part::Seq => json_number(out, &q.seq),
                Part::Timestamp if needs_no_escape(timestamp) => {
                    out.push(b'"');
                    out.extend_from_slice(timestamp.as_bytes());
                    out.push(b'"');
                }
                Part::Timestamp => {
                    json_string(out, timestamp);
                }
            }
        }
    }
}

/// True if serde_json would write `s` between quotes unchanged: it escapes only `"`, `\` and
/// control characters.
fn needs_no_escape(s: &str) -> bool {
    s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn json_number<N: serde::Serialize>(out: &mut Vec<u8>, n: &N) {
    // Writing a number into a Vec cannot fail (a non-finite float is written as `null`).
    let _ = serde_json::to_writer(&mut *out, n);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testing::{Quotes, Rng};
    use crate::record::tick::{timestamp_now, Tick};

    fn serde_bytes(symbol: &str, exchange: &str, run_id: &str, q: &Quote, ts: &str) -> Vec<u8> {
        serde_json::to_vec(&Tick {
            symbol: symbol.into(),
            price: q.price,
            volume: q.volume,
            change: q.change,
            timestamp: ts.into(),
            exchange: exchange.into(),
            run_id: run_id.into(),
            seq: q.seq,
        })
        .unwrap()
    }

    #[test]
    fn ticks_encode_byte_for_byte_like_serde() {
        let mut out = Vec::new();
        for symbol in ["AAPL", "S0999", "BRK.B"] {
            let enc = TickEncoder::new(symbol, "NASDAQ", "0a1b2c");
            let mut rng = Rng(11);
            for seq in 0..5_000 {
                let q = rng.quote(seq);
                let ts = timestamp_now();
                enc.encode(&mut out, &q, &ts);
                assert_eq!(out, serde_bytes(symbol, "NASDAQ", "0a1b2c", &q, &ts));
            }
        }
    }

    #[test]
    fn strings_that_need_escaping_are_escaped_as_serde_does() {
        let mut out = Vec::new();
        let q = Quote {
            seq: u64::MAX,
            price: -0.0,
            volume: 0,
            change: f64::NAN,
        };
        for (symbol, exchange, run_id, ts) in [
            ("A\"B", "X\\Y", "tab\there", "2026-11-22T01:02:03.456Z"),
            ("é", "控制\u{1}", "\u{7f}", "quote\"in\\ts\n"),
            ("", "", "", ""),
        ] {
            TickEncoder::new(symbol, exchange, run_id).encode(&mut out, &q, ts);
            assert_eq!(out, serde_bytes(symbol, exchange, run_id, &q, ts), "{symbol:?} {ts:?}");
        }
    }

    #[test]
    fn numbers_at_their_edges_match_serde() {
        let mut out = Vec::new();
        let enc = TickEncoder::new("S", "X", "r");
        for (price, change) in [
            (1e21, -1e-7),
            (0.1 + 0.2, 123456.78),
            (f64::INFINITY, f64::MIN_POSITIVE),
        ] {
            let q = Quote {
                seq: 0,
                price,
                volume: u64::MAX,
                change,
            };
            enc.encode(&mut out, &q, "t");
            assert_eq!(out, serde_bytes("S", "X", "r", &q, "t"));
        }
    }
}
