//! When files close on the clock: a batch's `rotate.interval.ms` counted from its first record,
//! and every open file at the boundaries of `rotate.schedule.interval.ms`.

use std::time::Duration;

/// How long a batch opened by a record stamped `timestamp_ms` stays open: `rotate.interval.ms`
/// from the record's timestamp while it is recent (a live tick then reaches S3 one interval after
/// it was made, not one interval after it was consumed), from now for an old record (a backlog
/// after an outage still fills its files instead of closing each at once) or a stamp from the
/// future (clock skew).
pub fn rotate_delay(interval: Duration, timestamp_ms: Option<i64>, now_ms: i64) -> Duration {
    match timestamp_ms {
        Some(ts) if ts <= now_ms && ((now_ms - ts) as u128) < interval.as_millis() => {
            interval - Duration::from_millis((now_ms - ts) as u64)
        }
        _ => interval,
    }
}

/// Now, in Unix milliseconds (Kafka's timestamp unit).
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `rotate.schedule.interval.ms`: every open file closes at each multiple of `interval` on the
/// wall clock of `zone` (3600000: on the hour; 86400000: at local midnight), records or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub interval: Duration,
    pub zone: chrono_tz::Tz,
}

impl Schedule {
    /// The first boundary after `now_ms` (Unix milliseconds), aligned in `zone` by its UTC
    /// offset at `now_ms`.
    pub fn next_after(&self, now_ms: i64) -> i64 {
        use chrono::{Offset, TimeZone};
        let interval = self.interval.as_millis().max(1) as i64;
        let offset_ms = match chrono::Utc.timestamp_millis_opt(now_ms) {
            chrono::LocalResult::Single(t) => {
                i64::from(
                    self.zone
                        .offset_from_utc_datetime(&t.naive_utc())
                        .fix()
                        .local_minus_utc(),
                ) * 1000
            }
            _ => 0,
        };
        let local = now_ms + offset_ms;
        (local.div_euclid(interval) + 1) * interval - offset_ms
    }

    /// How long from `now_ms` until the next boundary.
    pub fn delay(&self, now_ms: i64) -> Duration {
        Duration::from_millis((self.next_after(now_ms) - now_ms).max(1) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn boundaries_are_multiples_of_the_interval_on_the_zones_clock() {
        let hourly = Schedule {
            interval: Duration::from_secs(3600),
            zone: chrono_tz::Tz::UTC,
        };
        assert_eq!(
            hourly.next_after(ms("2026-12-06T10:15:00Z")),
            ms("2026-12-06T11:00:00Z")
        );
        assert_eq!(
            hourly.next_after(ms("2026-12-06T11:00:00Z")),
            ms("2026-12-06T12:00:00Z"),
            "strictly after"
        );
        let daily_ny = Schedule {
            interval: Duration::from_secs(86_400),
            zone: chrono_tz::America::New_York,
        };
        // 18:00 in New York (EST, UTC-5): the next local midnight is 05:00 UTC.
        assert_eq!(
            daily_ny.next_after(ms("2026-12-06T23:00:00Z")),
            ms("2026-12-07T05:00:00Z")
        );
        // In July (EDT, UTC-4) it is 04:00 UTC.
        assert_eq!(
            daily_ny.next_after(ms("2026-07-06T23:00:00Z")),
            ms("2026-07-07T04:00:00Z")
        );
        let kolkata = Schedule {
            interval: Duration::from_secs(3600),
            zone: chrono_tz::Asia::Kolkata,
        };
        // UTC+5:30: local hours fall on the half hour in UTC.
        assert_eq!(
            kolkata.next_after(ms("2026-12-06T10:15:00Z")),
            ms("2026-12-06T10:30:00Z")
        );
        assert_eq!(kolkata.delay(ms("2026-12-06T10:29:59Z")), Duration::from_secs(1));
    }
}
