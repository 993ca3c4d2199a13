//! `path.format`: a Joda-style pattern of a time partition's directory, as Confluent's
//! TimeBasedPartitioner writes it, parsed when the configuration is read. Only numeric fields
//! are supported (no month or day names, so `locale` changes nothing); anything else is refused
//! there, with the key and line.

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

/// One piece of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// A numeric field and its minimum width.
    Field(Unit, usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

/// A parsed `path.format`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct PathFormat {
    /// As written.
    source: String,
    pieces: Vec<Piece>,
}

impl TryFrom<String> for PathFormat {
    type Error = String;

    fn try_from(pattern: String) -> Result<Self, String> {
        Self::parse(&pattern)
    }
}

impl From<PathFormat> for String {
    fn from(f: PathFormat) -> String {
        f.source
    }
}

impl PathFormat {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Parses `pattern`, or says which letter it cannot write.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut chars = pattern.chars().peekable();
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            if c == '\'' {
                // 'text' is literal; '' is one quote.
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    literal.push('\'');
                    continue;
                }
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(ch) => literal.push(ch),
                        None => return Err(format!("{pattern:?}: a quote is never closed")),
                    }
                }
            } else if c.is_ascii_alphabetic() {
                let mut n = 1;
                while chars.peek() == Some(&c) {
                    chars.next();
                    n += 1;
                }
                let unit = match c {
                    'Y' | 'y' => Unit::Year,
                    'M' if n <= 2 => Unit::Month,
                    'd' => Unit::Day,
                    'H' => Unit::Hour,
                    'm' => Unit::Minute,
                    's' => Unit::Second,
                    _ => {
                        return Err(format!(
                            "{pattern:?}: {:?} is not supported (numeric fields only: YYYY yyyy YY MM dd HH mm ss; \
                             quote literal text: 'year'=YYYY)",
                            c.to_string().repeat(n)
                        ))
                    }
                };
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field(unit, n));
            } else {
                literal.push(c);
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Field(..))) {
            return Err(format!("{pattern:?} has no time field (YYYY, MM, dd, HH, …)"));
        }
        Ok(Self {
            source: pattern.to_owned(),
            pieces,
        })
    }

    /// The same pattern as a Java `DateTimeFormatter` pattern (Athena's date projection):
    /// literals quoted, the year as `yyyy` (Java's `YYYY` is the week-based year).
    pub fn java_pattern(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(&format!("'{}'", s.replace('\'', "''"))),
                Piece::Field(unit, width) => {
                    let letter = match unit {
                        Unit::Year if *width == 2 => "yy",
                        Unit::Year => "yyyy",
                        Unit::Month => "M",
                        Unit::Day => "d",
                        Unit::Hour => "H",
                        Unit::Minute => "m",
                        Unit::Second => "s",
                    };
                    match unit {
                        Unit::Year => out.push_str(letter),
                        _ => out.push_str(&letter.repeat(*width)),
                    }
                }
            }
        }
        out
    }

    /// The directory of the local time `t`.
    pub fn render(&self, t: NaiveDateTime) -> String {
        let mut out = String::with_capacity(32);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Field(unit, width) => {
                    let v = match unit {
                        // Joda's YY is the year of the century.
                        Unit::Year if *width == 2 => i64::from(t.year().rem_euclid(100)),
                        Unit::Year => i64::from(t.year()),
                        Unit::Month => i64::from(t.month()),
                        Unit::Day => i64::from(t.day()),
                        Unit::Hour => i64::from(t.hour()),
                        Unit::Minute => i64::from(t.minute()),
                        Unit::Second => i64::from(t.second()),
                    };
                    out.push_str(&format!("{v:0width$}"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn renders_confluents_hourly_pattern() {
        let f = PathFormat::parse("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH").unwrap();
        assert_eq!(f.render(at("2026-03-07 09:41:00")), "year=2026/month=03/day=07/hour=09");
        let plain = PathFormat::parse("YYYY/MM/dd/HH").unwrap();
        assert_eq!(plain.render(at("2026-12-01 18:00:00")), "2026/12/01/18");
        let quoted = PathFormat::parse("'it''s'-yy-M-d").unwrap();
        assert_eq!(quoted.render(at("2026-03-07 00:00:00")), "it's-26-3-7");
    }

    #[test]
    fn the_java_pattern_quotes_literals_and_writes_the_calendar_year() {
        let f = PathFormat::parse("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH").unwrap();
        assert_eq!(f.java_pattern(), "'year='yyyy'/month='MM'/day='dd'/hour='HH");
        assert_eq!(
            PathFormat::parse("YYYY/MM/dd").unwrap().java_pattern(),
            "yyyy'/'MM'/'dd"
        );
    }

    #[test]
    fn refuses_what_it_cannot_write() {
        assert!(PathFormat::parse("'month'=MMM")
            .unwrap_err()
            .contains("\"MMM\" is not supported"));
        assert!(PathFormat::parse("'year").unwrap_err().contains("never closed"));
        assert!(PathFormat::parse("'static'").unwrap_err().contains("no time field"));
        assert!(PathFormat::parse("EEE/HH").unwrap_err().contains("\"EEE\""));
    }
}
