//! Writing a symbol's ticks as JSON, byte for byte what serde_json makes of a [`Tick`].
//!
//! Serialising each tick through serde re-escaped the symbol, exchange and run id every time
//! (`serialize_str` alone was 7% of the producer's CPU at 1,000 symbols). Those strings are
//! the same for every tick of a symbol, so [`TickEncoder`] encodes them once, with serde_json,
//! into the fixed parts of the record; each tick then appends its numbers (through serde_json,
//! so they are formatted exactly as before) and its timestamp.
//!
//! [`Tick`]: super::Tick

use super::tick::Quote;

/// One symbol's fixed JSON around the per-tick values.
#[derive(Clone, Debug)]
pub struct TickEncoder {
    /// `{"symbol":"AAPL","price":`
    head: Vec<u8>,
    /// `","exchange":"NASDAQ","run_id":"…","seq":` (after the timestamp's characters)
    identity: Vec<u8>,
}

impl TickEncoder {
    pub fn new(symbol: &str, exchange: &str, run_id: &str) -> Self {
        let mut head = br#"{"symbol":"#.to_vec();
        json_string(&mut head, symbol);
        head.extend_from_slice(br#","price":"#);
        let mut identity = br#"","exchange":"#.to_vec();
        json_string(&mut identity, exchange);
        identity.extend_from_slice(br#","run_id":"#);
        json_string(&mut identity, run_id);
        identity.extend_from_slice(br#","seq":"#);
        Self { head, identity }
    }

    /// Replaces `out` with the tick `q` stamped `timestamp`.
    pub fn encode(&self, out: &mut Vec<u8>, q: &Quote, timestamp: &str) {
        out.clear();
        out.extend_from_slice(&self.head);
        json_number(out, &q.price);
        out.extend_from_slice(br#","volume":"#);
        json_number(out, &q.volume);
        out.extend_from_slice(br#","change":"#);
        json_number(out, &q.change);
        out.extend_from_slice(br#","timestamp":"#);
        if needs_no_escape(timestamp) {
            out.push(b'"');
            out.extend_from_slice(timestamp.as_bytes());
        } else {
            json_string(out, timestamp);
            out.pop(); // the closing quote: `identity` starts with it
        }
        out.extend_from_slice(&self.identity);
        json_number(out, &q.seq);
        out.push(b'}');
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
    use crate::producer::tick::{timestamp_now, PriceWalk, Tick};

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
            let mut walk = PriceWalk::new(11, symbol);
            for _ in 0..5_000 {
                let q = walk.step();
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
