//! When a batch's rotation timer fires: `rotate.interval.ms` counted from its first record.

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
