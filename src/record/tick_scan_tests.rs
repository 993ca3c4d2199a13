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

/// The word-at-a-time check against the byte-wise rule: every byte value at every position
/// of the words and of the tail, alone and beside the bytes either side of each boundary.
#[test]
fn plain_ascii_is_the_byte_wise_rule() {
    let byte_wise = |v: &[u8]| v.iter().all(|&c| (0x20..0x7f).contains(&c) && c != b'\\');
    for len in [1, 7, 8, 9, 16, 21] {
        for at in 0..len {
            for c in 0..=255u8 {
                for fill in [b'a', b' ', b'~', b'[', b']'] {
                    let mut v = vec![fill; len];
                    v[at] = c;
                    assert_eq!(plain_ascii(&v), byte_wise(&v), "byte {c:#x} at {at} of {len}");
                }
            }
        }
    }
    assert!(plain_ascii(b""));
    assert!(plain_ascii(TICK.as_bytes()));
}

#[test]
fn the_producer_order_is_the_fields_in_order() {
    let made: Vec<(Vec<u8>, Kind)> = FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let before = if i == 0 { '{' } else { ',' };
            (format!("{before}\"{}\":", f.name).into_bytes(), f.kind)
        })
        .collect();
    let literal: Vec<(Vec<u8>, Kind)> = PRODUCER_ORDER.iter().map(|(k, kind)| (k.to_vec(), *kind)).collect();
    assert_eq!(literal, made);
}

/// The word-at-a-time searches against their byte-wise rules: every byte value at every
/// position (within a word, across a word's end, in the tail), between digits or between
/// other bytes, from every start.
#[test]
fn quote_and_digit_searches_are_the_byte_wise_rules() {
    for len in [0, 1, 7, 8, 9, 15, 16, 17, 23] {
        for at in 0..len {
            for c in 0..=255u8 {
                for fill in [b'7', b'a', b'"', b'\\', 0x7f] {
                    let mut v = vec![fill; len];
                    v[at] = c;
                    for from in 0..=len {
                        let quote = v[from..].iter().position(|&b| b == b'"').map(|i| from + i);
                        let plain_quote = quote.filter(|&q| v[from..q].iter().all(|&b| plain(b)));
                        assert_eq!(plain_quote_from(&v, from), plain_quote, "{v:?} from {from}");
                        let digits = from + v[from..].iter().take_while(|b| b.is_ascii_digit()).count();
                        assert_eq!(digits_end(&v, from), digits, "{v:?} from {from}");
                    }
                }
            }
        }
    }
    assert_eq!(plain_quote_from(b"ab", 3), None, "past the end");
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
        if in_producer_order(&v) {
            // It reads strings without the whole-value check: it must refuse what fails it.
            assert!(plain_ascii(&v), "not plain ASCII: {}", String::from_utf8_lossy(&v));
            assert!(
                in_any_order(&v),
                "the two scans disagree: {}",
                String::from_utf8_lossy(&v)
            );
        }
        let shape = plain_tick(&v);
        assert_eq!(shape.is_some(), is_plain_tick(&v), "{}", String::from_utf8_lossy(&v));
        if let Some(Plain::ProducerOrder(spans)) = shape {
            // Each span is its field's value, as serde reads the whole.
            let whole: serde_json::Value = serde_json::from_slice(&v).expect("a plain tick is JSON");
            for (f, (start, end)) in FIELDS.iter().zip(spans) {
                let alone: serde_json::Value = serde_json::from_slice(&v[start..end]).expect("a field's value");
                assert_eq!(whole[f.name], alone, "{}", String::from_utf8_lossy(&v));
            }
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
