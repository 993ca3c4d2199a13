//! The one backoff of the workspace: jittered exponential delays on `backon`, from `min`
//! doubling to `max`. The restart policy here uses it, and so does every retry loop of the
//! pipeline (uploads, token refreshes, resume planning, the start-up wait, the Snowflake API).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// `min`, doubling (with jitter: up to one more delay on top) to at most `max`, without end.
/// Add `.with_max_times(n)` for a bounded retry.
pub fn exponential(min: Duration, max: Duration) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(min)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
}

/// The delays of [`exponential`], as an iterator (for loops that sleep themselves).
pub fn delays(min: Duration, max: Duration) -> impl Iterator<Item = Duration> + Send {
    exponential(min, max).build()
}

/// [`delays`] without jitter: exactly `min`, `2 min`, `4 min`, … up to `max`. For a single
/// client whose retries must land at known times (the token refresher never retries past its
/// token's expiry, and its tests pin the times).
pub fn steady_delays(min: Duration, max: Duration) -> impl Iterator<Item = Duration> + Send {
    ExponentialBuilder::default()
        .with_min_delay(min)
        .with_max_delay(max)
        .with_factor(2.0)
        .without_max_times()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_from_min_and_stay_within_twice_max() {
        let d: Vec<Duration> = delays(Duration::from_millis(100), Duration::from_secs(1))
            .take(30)
            .collect();
        assert!(
            d[0] >= Duration::from_millis(100) && d[0] <= Duration::from_millis(200),
            "{d:?}"
        );
        assert!(d[2] >= Duration::from_millis(400), "{d:?}");
        assert!(d.iter().all(|x| *x <= Duration::from_secs(2)), "{d:?}");
    }
}
