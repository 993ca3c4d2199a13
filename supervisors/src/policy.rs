//! How a supervisor restarts: which children a failure takes down ([`Strategy`]), how many
//! restarts it absorbs within a window before it gives up (its intensity), and the backoff
//! before each.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Which children a child's failure restarts (OTP's restart strategies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The failed child alone; its siblings never notice.
    OneForOne,
    /// The failed child and every child started after it (they depend on it): those are
    /// stopped first, latest first, and started again in order right after it.
    RestForOne,
}

/// How often a supervisor may restart its children before it gives up and escalates, and how
/// long each restart waits.
#[derive(Clone, Debug)]
pub struct RestartPolicy {
    /// At most this many restarts, of all its children together, within
    /// [`RestartPolicy::within`] (OTP's intensity); one more and the supervisor fails.
    pub max_restarts: u32,
    /// ...a sliding window (OTP's period).
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

/// Recent restarts within the policy's window: a supervisor's (its intensity) or one child's
/// (its backoff).
#[derive(Debug, Default)]
pub struct RestartHistory {
    /// When each restart within the window happened, oldest first.
    recent: VecDeque<Instant>,
}

impl RestartHistory {
    /// Records a restart at `now`, unless it would be one more than the policy allows within its
    /// window: then `false`, and the supervisor must escalate.
    pub fn allow(&mut self, policy: &RestartPolicy, now: Instant) -> bool {
        self.forget_before(policy, now);
        if self.recent.len() >= policy.max_restarts as usize {
            return false;
        }
        self.recent.push_back(now);
        true
    }

    /// Records a restart at `now`; the delay before it, longer the more restarts the window
    /// holds.
    pub fn backoff(&mut self, policy: &RestartPolicy, now: Instant) -> Duration {
        self.forget_before(policy, now);
        self.recent.push_back(now);
        delay_for_attempt(policy, self.recent.len())
    }

    fn forget_before(&mut self, policy: &RestartPolicy, now: Instant) {
        while let Some(first) = self.recent.front() {
            if now.duration_since(*first) > policy.within {
                self.recent.pop_front();
            } else {
                break;
            }
        }
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
            assert!(h.allow(&p, Instant::now()));
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert!(!h.allow(&p, Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn old_restarts_leave_the_window() {
        let mut h = RestartHistory::default();
        let p = policy();
        for _ in 0..3 {
            assert!(h.allow(&p, Instant::now()));
        }
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(h.allow(&p, Instant::now()));
        assert_eq!(h.in_window(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_childs_backoff_grows_with_its_own_restarts_in_the_window() {
        let (mut h, p) = (RestartHistory::default(), policy());
        let first = h.backoff(&p, Instant::now());
        let second = h.backoff(&p, Instant::now());
        assert!(first <= Duration::from_millis(200) && second >= Duration::from_millis(200));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(
            h.backoff(&p, Instant::now()) <= Duration::from_millis(200),
            "a fresh window"
        );
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
