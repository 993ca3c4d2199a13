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
    // The producer's order has nothing but its literal keys, numbers and strings, each string
    // checked as it is read. Any other order is checked to be printable ASCII without a
    // backslash first: what is left to check is structure, and strings end at the next quote.
    in_producer_order(value) || (plain_ascii(value) && in_any_order(value))
}

/// Every byte printable ASCII (0x20 to 0x7e) and none a backslash, checked eight bytes at a
/// time in a `u64` (each test below is exact for "any byte of the word", which is all that is
/// asked). At ~1.5 instructions a byte against ~3.2 for a byte-wise fold, which the compiler did
/// not vectorise for this target.
fn plain_ascii(value: &[u8]) -> bool {
    let (words, tail) = value.as_chunks::<8>();
    let odd = words.iter().fold(0, |odd, w| odd | odd_bytes(u64::from_le_bytes(*w)));
    odd == 0 && tail.iter().all(|&c| plain(c))
}

/// A byte a plain string may hold: printable ASCII, not a backslash.
fn plain(c: u8) -> bool {
    (0x20..0x7f).contains(&c) && c != b'\\'
}

/// The high bit of each byte of `w` that is not [`plain`], or of a byte above one that is not
/// (a borrow or carry runs upwards): exact for "is any", and for "is any below the lowest".
#[inline(always)]
fn odd_bytes(w: u64) -> u64 {
    // A byte below 0x20: subtracting 0x20 borrows into its high bit, which it had clear.
    let below = w.wrapping_sub(ONES * 0x20) & !w;
    // A byte above 0x7e: adding 1 sets the high bit of 0x7f, and the others have it.
    let above = w.wrapping_add(ONES) | w;
    // A backslash: a zero byte once every byte is XORed with it.
    let x = w ^ (ONES * u64::from(b'\\'));
    let backslash = x.wrapping_sub(ONES) & !x;
    (below | above | backslash) & HIGH
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
/// lookup and no seen-mask. Any other order or spacing takes the general scan. Literals, not
/// made from [`FIELDS`] at run time (a test checks they agree), so that each compare is of a
/// length known when compiling: a few word compares, where a run-time length called `memcmp`
/// (eight calls a tick were 7% of the sink's instructions).
const PRODUCER_ORDER: [(&[u8], Kind); 8] = [
    (b"{\"symbol\":", Kind::Str),
    (b",\"price\":", Kind::Float),
    (b",\"volume\":", Kind::Unsigned),
    (b",\"change\":", Kind::Float),
    (b",\"timestamp\":", Kind::Str),
    (b",\"exchange\":", Kind::Str),
    (b",\"run_id\":", Kind::Str),
    (b",\"seq\":", Kind::Unsigned),
];

/// True if `value` is a tick in [`PRODUCER_ORDER`]: the common case, checked without looking
/// keys up.
fn in_producer_order(value: &[u8]) -> bool {
    producer_order(value, |_, _| {})
}

/// Where each field's value lies in a tick (`start..end`; a string's with its quotes), in
/// [`FIELDS`] order.
pub type TickSpans = [(usize, usize); PRODUCER_ORDER.len()];

/// A plain tick's shape, as [`plain_tick`] found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plain {
    /// In [`PRODUCER_ORDER`], its fields where they lie.
    ProducerOrder(TickSpans),
    /// In another order or spacing.
    AnyOrder,
}

impl Plain {
    /// Where the fields are, when known.
    pub fn spans(self) -> Option<TickSpans> {
        match self {
            Self::ProducerOrder(spans) => Some(spans),
            Self::AnyOrder => None,
        }
    }
}

/// [`is_plain_tick`], also saying where a tick in the producer's order has its fields: for a
/// reader of the fields (a Parquet row), which then need not scan the value again.
pub fn plain_tick(value: &[u8]) -> Option<Plain> {
    match producer_order_values(value) {
        Some(spans) => Some(Plain::ProducerOrder(spans)),
        None => (plain_ascii(value) && in_any_order(value)).then_some(Plain::AnyOrder),
    }
}

/// The fields' spans if `value` is a plain tick in [`PRODUCER_ORDER`]: as [`is_plain_tick`]
/// takes it first.
pub fn producer_order_values(value: &[u8]) -> Option<TickSpans> {
    let mut spans = [(0, 0); PRODUCER_ORDER.len()];
    producer_order(value, |i, span| spans[i] = span).then_some(spans)
}

/// The scan of a tick in [`PRODUCER_ORDER`], handing each field's index and value span to
/// `found` (the check alone passes a closure that does nothing, which compiles away).
#[inline(always)]
fn producer_order(value: &[u8], mut found: impl FnMut(usize, (usize, usize))) -> bool {
    // The field `i` of the order at `at`: where its value ends. Called with each `i` written
    // out, so that each key's length is known when compiling.
    let mut field = |at: usize, i: usize| -> Option<usize> {
        let (key, kind) = PRODUCER_ORDER[i];
        let start = at + key.len();
        (value.get(at..start)? == key).then_some(())?;
        let end = value_end(value, start, kind)?;
        found(i, (start, end));
        Some(end)
    };
    let end = (|| {
        let at = field(0, 0)?;
        let at = field(at, 1)?;
        let at = field(at, 2)?;
        let at = field(at, 3)?;
        let at = field(at, 4)?;
        let at = field(at, 5)?;
        let at = field(at, 6)?;
        field(at, 7)
    })();
    end.is_some_and(|at| value.get(at) == Some(&b'}') && at + 1 == value.len())
}

/// Eight bytes in a word, for the checks below that look at a word at a time.
const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH: u64 = ONES * 0x80;

/// The eight bytes at `at` as a little-endian word (the first byte lowest), if that many remain.
#[inline(always)]
fn word(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// The first byte of a word whose flag (its high bit in `flags`) is set, if any.
#[inline(always)]
fn first_flagged(flags: u64) -> Option<usize> {
    (flags != 0).then(|| (flags.trailing_zeros() / 8) as usize)
}

/// Where the value of `kind` that starts at `at` ends, if one does.
fn value_end(b: &[u8], at: usize, kind: Kind) -> Option<usize> {
    match kind {
        Kind::Str => string_end(b, at),
        Kind::Float => number_end(b, at, false),
        Kind::Unsigned => number_end(b, at, true),
    }
}

/// Where the plain string that starts at `at` ends (after its closing quote): one of
/// [`plain`] bytes only, so it ends at the next quote and needs no unescaping.
fn string_end(b: &[u8], at: usize) -> Option<usize> {
    if b.get(at) != Some(&b'"') {
        return None;
    }
    plain_quote_from(b, at + 1).map(|quote| quote + 1)
}

/// Where the first quote at or after `at` is, if every byte before it is [`plain`]. A word at
/// a time: XORed with quotes, a quote is a zero byte, and subtracting one from each byte
/// borrows into the high bit of a zero byte first (no byte below the first zero borrows, so
/// the lowest flag is exact); [`odd_bytes`] flags the others.
fn plain_quote_from(b: &[u8], mut at: usize) -> Option<usize> {
    while let Some(w) = word(b, at) {
        let x = w ^ (ONES * u64::from(b'"'));
        let odd = odd_bytes(w);
        match first_flagged(x.wrapping_sub(ONES) & !x & HIGH) {
            Some(i) => {
                let before_quote = (1u64 << (8 * i)) - 1;
                return (odd & before_quote == 0).then_some(at + i);
            }
            None if odd != 0 => return None,
            None => at += 8,
        }
    }
    for (i, &c) in b.get(at..)?.iter().enumerate() {
        if c == b'"' {
            return Some(at + i);
        }
        if !plain(c) {
            return None;
        }
    }
    None
}

/// Where the JSON number without an exponent that starts at `at` ends:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, or for `unsigned` only `0|[1-9][0-9]*` of at most 19 digits.
fn number_end(b: &[u8], at: usize, unsigned: bool) -> Option<usize> {
    let int_start = at + usize::from(!unsigned && b.get(at) == Some(&b'-'));
    let mut end = digits_end(b, int_start);
    let int_digits = end - int_start;
    if int_digits == 0 || (int_digits > 1 && b[int_start] == b'0') {
        return None;
    }
    if unsigned {
        let ok = int_digits <= MAX_UNSIGNED_DIGITS && !matches!(b.get(end), Some(b'.' | b'e' | b'E'));
        return ok.then_some(end);
    }
    if b.get(end) == Some(&b'.') {
        let fraction = end + 1;
        end = digits_end(b, fraction);
        if end == fraction {
            return None;
        }
    }
    let ok = !matches!(b.get(end), Some(b'e' | b'E')) && end - at <= MAX_FLOAT_LEN;
    ok.then_some(end)
}

/// Where the run of ASCII digits from `at` ends. A word at a time: XORed with `'0'`, a digit is
/// a byte below 10, and adding 0x76 sets the high bit of any other (or it was set already). Only
/// a non-digit byte carries into the next, so the lowest flag is exact.
fn digits_end(b: &[u8], mut at: usize) -> usize {
    while let Some(w) = word(b, at) {
        let x = w ^ (ONES * u64::from(b'0'));
        if let Some(i) = first_flagged((x.wrapping_add(ONES * 0x76) | x) & HIGH) {
            return at + i;
        }
        at += 8;
    }
    while at < b.len() && b[at].is_ascii_digit() {
        at += 1;
    }
    at
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
        match value_end(self.b, self.i, kind) {
            Some(end) => {
                self.i = end;
                true
            }
            None => false,
        }
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// A string's contents (the whole value is already known to be escape-free ASCII).
    fn string(&mut self) -> Option<&'a [u8]> {
        let end = string_end(self.b, self.i)?;
        let contents = &self.b[self.i + 1..end - 1];
        self.i = end;
        Some(contents)
    }
}

#[cfg(test)]
#[path = "tick_scan_tests.rs"]
mod tests;
