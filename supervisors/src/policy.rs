//! The restart budget and the backoff between restarts.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// How often a supervisor may restart one child before it gives up and escalates.
#[derive(Clone, Debug)]
pub struct RestartPolicy {
    /// At most this many restarts of one child within [`RestartPolicy::within`]...
    pub max_restarts: u32,
    /// ...a sliding window; a child that stays up longer than this starts with a fresh budget.
    pub within: Duration,
    /// First delay before a restart; doubles (with jitter) for each restart in the window.
    pub backoff_min: Duration,
    /// Upper bound of the restart delay.
    pub backoff_max: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            max_restarts: 5,
            within: Duration::from_secs(60),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
        }
    }
}

/// One child's recent restarts, for the budget and the backoff.
#[derive(Debug, Default)]
pub struct RestartHistory {
    /// When each restart within the window happened, oldest first.
    recent: VecDeque<Instant>,
}

impl RestartHistory {
    /// Records a failure at `now`. Returns the delay before the restart, or `None` when the budget
    /// is spent and the supervisor must escalate.
    pub fn on_failure(&mut self, policy: &RestartPolicy, now: Instant) -> Option<Duration> {
        while let Some(first) = self.recent.front() {
            if now.duration_since(*first) > policy.within {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() >= policy.max_restarts as usize {
            return None;
        }
        self.recent.push_back(now);
        Some(delay_for_attempt(policy, self.recent.len()))
    }

    /// Restarts counted in the current window.
    pub fn in_window(&self) -> usize {
        self.recent.len()
    }
}

/// The jittered exponential delay before the `attempt`-th restart (1-based) within the window.
fn delay_for_attempt(policy: &RestartPolicy, attempt: usize) -> Duration {
    crate::backoff::delays(policy.backoff_min, policy.backoff_max)
        .nth(attempt.saturating_sub(1))
        .unwrap_or(policy.backoff_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RestartPolicy {
        RestartPolicy {
            max_restarts: 3,
            within: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn budget_is_spent_after_max_restarts_within_the_window() {
        let mut h = RestartHistory::default();
        let p = policy();
        for _ in 0..3 {
            assert!(h.on_failure(&p, Instant::now()).is_some());
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(h.on_failure(&p, Instant::now()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn old_restarts_leave_the_window() {
        let mut h = RestartHistory::default();
        let p = policy();
        for _ in 0..3 {
            assert!(h.on_failure(&p, Instant::now()).is_some());
        }
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(h.on_failure(&p, Instant::now()).is_some());
        assert_eq!(h.in_window(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_and_is_capped() {
        let p = policy();
        let first = delay_for_attempt(&p, 1);
        let third = delay_for_attempt(&p, 3);
        // Jitter adds up to one more delay on top of the base value.
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
        assert!(
            third >= Duration::from_millis(400),
            "third restart waits longer: {third:?}"
        );
        assert!(delay_for_attempt(&p, 30) <= Duration::from_secs(2));
    }
}
