//! One partition's rotation timers as one queue with one armed wake-up, not a timer task per
//! open file: under `field` and `time` partitioners a partition opens thousands of files, and
//! most close on `flush.size` long before their `rotate.interval.ms` is up.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::time::Duration;

use tokio::time::Instant;

/// Batches waiting for their rotation deadline, and the wake-up armed for the earliest.
#[derive(Debug, Default)]
pub struct RotationTimers {
    due: BinaryHeap<Reverse<(Instant, u64)>>,
    /// When each wake-up asked for and not fired yet fires.
    armed: BTreeSet<Instant>,
}

impl RotationTimers {
    /// Batch `id` rotates `delay` from `now`. Returns the delay of a wake-up to ask for, when
    /// none is armed for that deadline or earlier.
    pub fn add(&mut self, id: u64, delay: Duration, now: Instant) -> Option<Duration> {
        let at = now + delay;
        self.due.push(Reverse((at, id)));
        match self.armed.first() {
            Some(armed) if *armed <= at => None,
            _ => {
                self.armed.insert(at);
                Some(delay)
            }
        }
    }

    /// A wake-up fired at `now`: the batches whose deadline has passed, and the delay of the
    /// next wake-up to ask for (for the earliest left), if any.
    pub fn fired(&mut self, now: Instant) -> (Vec<u64>, Option<Duration>) {
        self.armed.retain(|a| *a > now);
        let mut ids = Vec::new();
        while let Some(Reverse((at, id))) = self.due.peek().copied() {
            if at > now {
                break;
            }
            self.due.pop();
            ids.push(id);
        }
        let next = match (self.due.peek(), self.armed.first()) {
            (Some(Reverse((at, _))), armed) if armed.is_none_or(|a| a > at) => {
                self.armed.insert(*at);
                Some(at.saturating_duration_since(now))
            }
            _ => None,
        };
        (ids, next)
    }

    /// Deadlines waiting (a batch closed early keeps its entry until its deadline).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.due.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_wake_up_serves_every_deadline_in_order() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut timers = RotationTimers::default();
        assert_eq!(timers.add(1, s(60), t0), Some(s(60)), "the first arms a wake-up");
        assert_eq!(
            timers.add(2, s(60), t0 + s(1)),
            None,
            "a later deadline waits behind it"
        );
        assert_eq!(
            timers.add(3, s(10), t0 + s(2)),
            Some(s(10)),
            "an earlier one arms its own"
        );
        assert_eq!(
            timers.fired(t0 + s(12)),
            (vec![3], None),
            "the 60 s wake-up is still armed"
        );
        assert_eq!(
            timers.fired(t0 + s(60)),
            (vec![1], Some(s(1))),
            "then the next is armed"
        );
        assert_eq!(timers.fired(t0 + s(61)), (vec![2], None));
        assert_eq!(timers.len(), 0);
    }

    #[test]
    fn a_thousand_files_keep_one_wake_up_armed() {
        let t0 = Instant::now();
        let mut timers = RotationTimers::default();
        let armed = (0..1_000)
            .filter(|i| {
                timers
                    .add(*i, Duration::from_secs(60), t0 + Duration::from_millis(*i))
                    .is_some()
            })
            .count();
        assert_eq!(armed, 1);
        let (ids, next) = timers.fired(t0 + Duration::from_secs(60));
        assert_eq!((ids, next), (vec![0], Some(Duration::from_millis(1))));
    }
}
