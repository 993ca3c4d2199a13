//! The tick: tickstream's own record, declared once. [`Tick`] (what serde reads and writes) and
//! [`FIELDS`] (each field's name and JSON kind, in the producer's order, for the encoder and
//! the scanner that work on bytes) come from the one list in `tick_record!` below, so they
//! cannot disagree. The timestamp format is part of the record: [`Timestamp`].

use serde::{Deserialize, Serialize};

/// What JSON value a tick field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// A number, written as a decimal.
    Float,
    /// A non-negative integer.
    Unsigned,
}

/// One field of the tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
}

/// Declares [`Tick`] and [`FIELDS`] from one list of `name: Type => Kind`.
macro_rules! tick_record {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty => $kind:ident ),* $(,)?) => {
        /// One simulated NASDAQ quote, as it is written to Kafka and (unchanged) to S3.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct Tick {
            $( $(#[$doc])* pub $name: $ty, )*
        }

        /// The tick's fields, in the order the producer writes them.
        pub const FIELDS: &[Field] = &[ $( Field { name: stringify!($name), kind: Kind::$kind } ),* ];
    };
}

tick_record! {
    symbol: String => Str,
    /// Last price, two decimals.
    price: f64 => Float,
    /// Shares in this tick.
    volume: u64 => Unsigned,
    /// `price` minus the symbol's first price of this run, two decimals.
    change: f64 => Float,
    /// When the tick was generated: RFC 3339, UTC, milliseconds ([`Timestamp`]).
    timestamp: String => Str,
    exchange: String => Str,
    /// Unique per process start: `(run_id, symbol, seq)` identifies a tick.
    run_id: String => Str,
    /// Per symbol within a run: 0, 1, 2, … with no gaps, across producer restarts.
    seq: u64 => Unsigned,
}

/// The numbers of one tick, before it is stamped with time and identity (a producer's walk
/// makes them; [`super::tick_json::TickEncoder`] writes them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quote {
    pub seq: u64,
    pub price: f64,
    pub volume: u64,
    pub change: f64,
}

/// Checks that `value` is a tick (every field, of its type), with serde's message if not.
pub fn check(value: &[u8]) -> Result<(), super::RecordError> {
    serde_json::from_slice::<Tick>(value)
        .map(drop)
        .map_err(|e| super::RecordError::NotTick(e.to_string()))
}

/// Now, in the tick's timestamp format.
pub fn timestamp_now() -> String {
    Timestamp::of(chrono::Utc::now()).as_str().to_owned()
}

/// A tick timestamp (`2026-11-22T01:02:03.456Z`: RFC 3339, UTC, milliseconds) formatted on
/// the stack: the producer stamps every tick, and chrono's formatter allocated each time.
#[derive(Clone, Copy)]
pub struct Timestamp([u8; 24]);

impl Timestamp {
    pub fn now() -> Self {
        Self::of(chrono::Utc::now())
    }

    pub fn of(t: chrono::DateTime<chrono::Utc>) -> Self {
        use chrono::{Datelike, Timelike};
        let mut b = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        // Years past 9999 do not fit the format; ticks are stamped with the current time.
        put(0, 4, t.year().clamp(0, 9999) as u32);
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        // A leap second shows as :59.999+ in chrono's nanosecond field; keep it in range.
        put(17, 2, t.second());
        put(20, 3, (t.timestamp_subsec_millis()).min(999));
        Self(b)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.0).unwrap_or("1970-01-01T00:00:00.000Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick() -> Tick {
        Tick {
            symbol: "AAPL".into(),
            price: 189.51,
            volume: 120,
            change: 0.01,
            timestamp: "2026-11-22T01:02:03.456Z".into(),
            exchange: "NASDAQ".into(),
            run_id: "r".into(),
            seq: 0,
        }
    }

    #[test]
    fn tick_json_has_the_documented_fields_in_the_declared_order() {
        assert_eq!(
            serde_json::to_string(&tick()).unwrap(),
            r#"{"symbol":"AAPL","price":189.51,"volume":120,"change":0.01,"timestamp":"2026-11-22T01:02:03.456Z","exchange":"NASDAQ","run_id":"r","seq":0}"#
        );
        let v = serde_json::to_value(tick()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut declared: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        declared.sort_unstable();
        assert_eq!(keys, declared, "serde_json's map is sorted; the same names");
    }

    #[test]
    fn the_check_names_what_is_wrong() {
        let good = serde_json::to_vec(&tick()).unwrap();
        assert_eq!(check(&good), Ok(()));
        let wrong = String::from_utf8(good)
            .unwrap()
            .replace("\"volume\":120", "\"volume\":\"lots\"");
        assert!(check(wrong.as_bytes())
            .unwrap_err()
            .to_string()
            .starts_with("not a tick: invalid type"));
    }

    #[test]
    fn the_stack_timestamp_matches_chronos_rfc3339() {
        use chrono::TimeZone;
        let mut rng = crate::rng::SplitMix64(42);
        for _ in 0..10_000 {
            let ms = (rng.next_u64() % 4_102_444_800_000) as i64; // 1970 .. 2100
            let t = chrono::Utc.timestamp_millis_opt(ms).unwrap();
            let want = t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            assert_eq!(Timestamp::of(t).as_str(), want);
        }
        let now = timestamp_now();
        assert_eq!(now.len(), 24);
        assert!(now.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(&now).is_ok());
    }
}
