//! A plain decimal (`-?digits` or `-?digits.digits`) read as an `f64` the way every correct
//! parser tries first (Clinger's fast path), without `str::parse`'s general machinery: when
//! the digits, the point left out, number at most 15, the integer they spell is below 2^53 and
//! the divisor 10^(digits after the point) is at most 10^15, so both are exact doubles and one
//! IEEE division rounds their quotient correctly: the `f64` `str::parse` gives, bit for bit.
//! Anything else is `None`, and the caller parses it the general way. A tick's price and change
//! are such decimals; a Parquet row reads two of them per record.

/// 10^0 ..= 10^15, each exact as a double.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Most digits read here: 10^15 < 2^53, so any 15-digit integer is an exact double.
const MAX_DIGITS: usize = 15;

/// `text` as `str::parse::<f64>` reads it, when it is a plain decimal of at most 15 digits;
/// `None` otherwise.
pub fn plain_f64(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let (negative, body) = match b.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, b),
    };
    let (whole, fraction) = match body.iter().position(|&c| c == b'.') {
        Some(at) => (&body[..at], &body[at + 1..]),
        None => (body, &[][..]),
    };
    let has_point = whole.len() < body.len();
    if whole.is_empty() || (has_point && fraction.is_empty()) || whole.len() + fraction.len() > MAX_DIGITS {
        return None;
    }
    let mut integer: u64 = 0;
    for &c in whole.iter().chain(fraction) {
        if !c.is_ascii_digit() {
            return None;
        }
        integer = integer * 10 + u64::from(c - b'0');
    }
    let value = integer as f64 / POW10[fraction.len()];
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `str::parse` gives, bit for bit (so -0.0 is not 0.0).
    fn same(text: &str) {
        let want: f64 = text.parse().expect("a decimal");
        let got = plain_f64(text).unwrap_or_else(|| panic!("{text} not read"));
        assert_eq!(got.to_bits(), want.to_bits(), "{text}: {got} against {want}");
    }

    #[test]
    fn plain_decimals_read_as_str_parse_reads_them() {
        for text in [
            "0",
            "-0",
            "0.0",
            "-0.00",
            "7",
            "189.51",
            "-0.01",
            "0.1",
            "0.3",
            "2.675",
            "1.005",
            "007.50",
            "123456789012345",
            "-12345678901234.5",
            "0.00000000000001",
            "9007199254740.99",
            "999999999999999",
            "4.35",
            "1.15",
            "100.0",
        ] {
            same(text);
        }
        let mut rng = crate::rng::SplitMix64(0xD1B5_4A32_D192_ED03);
        for _ in 0..1_000_000 {
            let digits = 1 + (rng.next_u64() % MAX_DIGITS as u64) as usize;
            let mut text = String::new();
            if rng.next_u64().is_multiple_of(2) {
                text.push('-');
            }
            let point = (rng.next_u64() % digits as u64) as usize;
            for i in 0..digits {
                if i == point && i > 0 {
                    text.push('.');
                }
                text.push(char::from(b'0' + (rng.next_u64() % 10) as u8));
            }
            same(&text);
        }
    }

    #[test]
    fn anything_else_is_left_to_the_general_parser() {
        for text in [
            "",
            "-",
            ".",
            "1.",
            ".5",
            "-.5",
            "1e5",
            "1E5",
            "+1",
            " 1",
            "1 ",
            "1.2.3",
            "0x1",
            "NaN",
            "inf",
            "1_000",
            "1234567890123456",
            "0.1234567890123456",
            "-1234567890123456",
        ] {
            assert_eq!(plain_f64(text), None, "{text:?}");
        }
    }
}
