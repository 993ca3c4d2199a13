//! A one-pass check that a record value is a tick, for the common case.
//!
//! Checking every record with serde_json was the largest single cost of the sink (28% of its
//! CPU at flush.size 10,000 in `BENCH_PERF=dwarf benches/run`). This scanner accepts only the
//! plain shape producers write: one flat object on one line whose members are exactly the
//! tick's [`FIELDS`] (any order, spaces), printable ASCII without escapes, integers for the
//! integer fields and plain decimals for the others. Anything else (escapes, non-ASCII,
//! exponents, unknown or duplicate or missing fields, garbage) is *undecided* and goes to
//! serde, which gives the verdict and the error message. So the scanner may only ever say yes
//! to what serde also accepts; `tests` check that on mutated ticks. Ticks in the producer's own
//! field order are checked by literal key compares first; other orders take the general scan.

use std::sync::LazyLock;

use super::tick::{Kind, FIELDS};

/// A tick field's bit in the seen-mask, and its kind.
fn field(key: &[u8]) -> Option<(u8, Kind)> {
    FIELDS
        .iter()
        .position(|f| f.name.as_bytes() == key)
        .map(|i| (i as u8, FIELDS[i].kind))
}

/// Every field's bit set.
const ALL_SEEN: u8 = {
    assert!(FIELDS.len() <= 8, "the seen-mask is a u8");
    ((1u16 << FIELDS.len()) - 1) as u8
};

/// Longest number accepted here: far from f64's range, and 19 digits always fit a u64.
const MAX_FLOAT_LEN: usize = 40;
const MAX_UNSIGNED_DIGITS: usize = 19;

/// True only if `value` is certainly a valid tick written on one line; false means "ask
/// serde". A true value has no byte outside printable ASCII, so no newline either.
pub fn is_plain_tick(value: &[u8]) -> bool {
    // One branch-free pass the compiler vectorises (an OR over bytes: a sum of u32 was 10%
    // slower): printable ASCII, no backslash. What is left to check is structure, and
    // strings end at the next quote.
    let odd: u8 = value
        .iter()
        .fold(0u8, |acc, &c| acc | u8::from(!(0x20..0x7f).contains(&c) | (c == b'\\')));
    odd == 0 && (in_producer_order(value) || in_any_order(value))
}

/// The general scan of an escape-free printable-ASCII value: the eight fields once each, in
/// any order, spaces allowed.
fn in_any_order(value: &[u8]) -> bool {
    let mut s = Scan { b: value, i: 0 };
    s.spaces();
    if !s.eat(b'{') {
        return false;
    }
    let mut seen = 0u8;
    loop {
        s.spaces();
        let Some((bit, kind)) = s.string().and_then(field) else {
            return false;
        };
        if seen & (1 << bit) != 0 {
            return false;
        }
        seen |= 1 << bit;
        s.spaces();
        if !s.eat(b':') {
            return false;
        }
        s.spaces();
        if !s.value(kind) {
            return false;
        }
        s.spaces();
        if s.eat(b'}') {
            break;
        }
        if !s.eat(b',') {
            return false;
        }
    }
    s.spaces();
    seen == ALL_SEEN && s.i == value.len()
}

/// The fields in the order tickstream's producer writes them, without spaces, as the literal
/// bytes before each value (`{"symbol":`, `,"price":`, …): each key is one compare, with no
/// lookup and no seen-mask (53 against 142 ns a tick in a micro-benchmark). Any other order or
/// spacing takes the general scan.
static PRODUCER_ORDER: LazyLock<Vec<(Vec<u8>, Kind)>> = LazyLock::new(|| {
    FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                format!("{}\"{}\":", if i == 0 { '{' } else { ',' }, f.name).into_bytes(),
                f.kind,
            )
        })
        .collect()
});

/// True if `value` (already known to be escape-free printable ASCII) is a tick in
/// [`PRODUCER_ORDER`]: the common case, checked without looking keys up.
fn in_producer_order(value: &[u8]) -> bool {
    let mut s = Scan { b: value, i: 0 };
    for (key, kind) in PRODUCER_ORDER.iter() {
        if !value[s.i..].starts_with(key) {
            return false;
        }
        s.i += key.len();
        if !s.value(*kind) {
            return false;
        }
    }
    s.eat(b'}') && s.i == value.len()
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += hit as usize;
        hit
    }

    /// A value of `kind`.
    fn value(&mut self, kind: Kind) -> bool {
        match kind {
            Kind::Str => self.string().is_some(),
            Kind::Float => self.number(false),
            Kind::Unsigned => self.number(true),
        }
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// A string's contents (the whole value is already known to be escape-free ASCII).
    fn string(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.i;
        let len = self.b[start..].iter().position(|&c| c == b'"')?;
        self.i = start + len + 1;
        Some(&self.b[start..start + len])
    }

    /// A JSON number without an exponent: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, or for `unsigned`
    /// only `0|[1-9][0-9]*` of at most 19 digits.
    fn number(&mut self, unsigned: bool) -> bool {
        let start = self.i;
        if !unsigned {
            self.eat(b'-');
        }
        let int_start = self.i;
        let int_digits = self.digits();
        if int_digits == 0 || (int_digits > 1 && self.b[int_start] == b'0') {
            return false;
        }
        if unsigned {
            return int_digits <= MAX_UNSIGNED_DIGITS && !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        }
        if self.eat(b'.') && self.digits() == 0 {
            return false;
        }
        !matches!(self.peek(), Some(b'e' | b'E')) && self.i - start <= MAX_FLOAT_LEN
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: &str = r#"{"symbol":"AAPL","price":189.51,"volume":120,"change":-0.01,"timestamp":"2026-11-22T01:02:03.456Z","exchange":"NASDAQ","run_id":"0a1b","seq":0}"#;

    fn serde_accepts(v: &[u8]) -> bool {
        super::super::tick::check(v).is_ok()
    }

    #[test]
    fn what_producers_write_takes_the_fast_path() {
        assert!(is_plain_tick(TICK.as_bytes()));
        let spaced = TICK.replace(':', " : ").replace(',', " , ");
        assert!(is_plain_tick(spaced.as_bytes()));
        let reordered = r#"{"seq":18446744073709551,"run_id":"r","exchange":"X","timestamp":"t","change":0,"volume":0,"price":1.0,"symbol":"S"}"#;
        assert!(is_plain_tick(reordered.as_bytes()));
    }

    #[test]
    fn undecided_shapes_are_left_to_serde() {
        for v in [
            TICK.replace("\"seq\":0", "\"seq\":0,\"extra\":1"), // unknown field: serde accepts
            TICK.replace("AAPL", "A\\u0041PL"),                 // escape: serde accepts
            TICK.replace("NASDAQ", "NASDAQ\u{e9}"),             // non-ASCII: serde accepts
            TICK.replace("189.51", "1.8951e2"),                 // exponent: serde accepts
            TICK.replace("\"seq\":0", "\"seq\":0,\"seq\":1"),   // duplicate: serde rejects
            TICK.replace(",\"seq\":0", ""),                     // missing: serde rejects
            TICK.replace("120", "12.0"),                        // float for an integer: rejects
            TICK.replace("120", "-120"),
            TICK.replace("120", "0120"),
            TICK.replace("189.51", "189."),
            TICK.replace(',', ",\n"), // multi-line: serde accepts, and the line is re-folded
            format!("{TICK} x"),
            TICK[..TICK.len() - 1].to_owned(),
        ] {
            assert!(!is_plain_tick(v.as_bytes()), "{v}");
        }
    }

    /// The one rule that matters: the scanner never accepts what serde rejects. Checked on
    /// 200,000 random mutations of a tick (byte changes, deletions, insertions of JSON's
    /// structural characters), a deterministic xorshift so a failure reproduces.
    #[test]
    fn the_fast_path_never_accepts_what_serde_rejects() {
        const ALPHABET: &[u8] = b"{}[]:,\"\\ -+.0123456789eEabcnrstu\n\t\x01\xc3\xa9";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut fast, mut total) = (0, 0);
        for _ in 0..200_000 {
            let mut v = TICK.as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % v.len();
                let c = ALPHABET[(next() as usize) % ALPHABET.len()];
                match next() % 3 {
                    0 => v[at] = c,
                    1 => {
                        v.remove(at);
                    }
                    _ => v.insert(at, c),
                }
            }
            total += 1;
            if in_producer_order(&v) && !v.contains(&b'\\') && v.iter().all(|c| (0x20..0x7f).contains(c)) {
                assert!(
                    in_any_order(&v),
                    "the two scans disagree: {}",
                    String::from_utf8_lossy(&v)
                );
            }
            if is_plain_tick(&v) {
                fast += 1;
                assert!(serde_accepts(&v), "{}", String::from_utf8_lossy(&v));
            }
        }
        // Many mutations (inside string values, digits for digits) keep a valid tick, so a
        // scanner that said no to everything would be caught here too.
        assert!(fast > total / 50, "fast path taken for {fast} of {total}");
    }
}
