//! How often a sink commits: at most once per `offset.flush.interval.ms`.
//!
//! Every upload that completes the in-order run makes a new offset committable. At flush.size 100
//! that is hundreds of offsets a second per partition, and one OffsetCommit request for each
//! costs the group coordinator more than it costs us. So while offsets come faster than the
//! interval, a sink keeps only the newest and commits it when the interval is up. It commits at
//! once the first offset after a quiet interval, and any offset when no other upload is under
//! way: nothing later could be folded into that commit, so waiting would only delay it (a trickle
//! of ticks, or the end of a backlog, is committed as soon as it is in S3). Nothing is lost by
//! waiting: the offset is already durable in S3, a restarted sink resumes from what S3 holds past
//! the committed offset (`resume`), and the drain's synchronous commit covers what is pending.

use std::time::Duration;

use tokio::time::Instant;

/// What the sink should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Commit this offset now.
    Commit(i64),
    /// Come back (call [`CommitPace::woke`]) after this long.
    WakeIn(Duration),
    /// Nothing to do: no offset is pending, or a wake-up is already due.
    Wait,
}

/// One partition's commit pacing.
#[derive(Debug)]
pub struct CommitPace {
    every: Duration,
    last: Option<Instant>,
    pending: Option<i64>,
    wake_armed: bool,
}

impl CommitPace {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            pending: None,
            wake_armed: false,
        }
    }

    /// An upload made `offset` (the next offset to read) committable; `more_coming` says
    /// whether other uploads are still under way.
    pub fn offer(&mut self, offset: i64, more_coming: bool, now: Instant) -> Next {
        self.pending = Some(offset);
        if more_coming {
            self.next(now)
        } else {
            self.commit_pending(now)
        }
    }

    /// The wake-up asked for by [`Next::WakeIn`] has come.
    pub fn woke(&mut self, now: Instant) -> Next {
        self.wake_armed = false;
        self.next(now)
    }

    /// The offset offered but not yet committed, if any.
    #[cfg(test)]
    pub fn pending(&self) -> Option<i64> {
        self.pending
    }

    fn next(&mut self, now: Instant) -> Next {
        if self.pending.is_none() {
            return Next::Wait;
        }
        match self.last.map(|t| now.saturating_duration_since(t)) {
            Some(since) if since < self.every => {
                if self.wake_armed {
                    Next::Wait
                } else {
                    self.wake_armed = true;
                    Next::WakeIn(self.every - since)
                }
            }
            _ => self.commit_pending(now),
        }
    }

    fn commit_pending(&mut self, now: Instant) -> Next {
        match self.pending.take() {
            Some(offset) => {
                self.last = Some(now);
                Next::Commit(offset)
            }
            None => Next::Wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY: Duration = Duration::from_millis(100);

    /// A pacer with a 100 ms interval, and the instant `ms` after its start.
    fn pace() -> (CommitPace, impl Fn(u64) -> Instant) {
        let t0 = Instant::now();
        (CommitPace::new(EVERY), move |ms| t0 + Duration::from_millis(ms))
    }

    fn wake_in(ms: u64) -> Next {
        Next::WakeIn(Duration::from_millis(ms))
    }

    #[test]
    fn the_first_offset_after_a_quiet_interval_is_committed_at_once() {
        let (mut pace, at) = pace();
        assert_eq!(pace.offer(100, true, at(0)), Next::Commit(100));
        assert_eq!(pace.offer(200, true, at(100)), Next::Commit(200));
        assert_eq!(pace.offer(300, true, at(500)), Next::Commit(300));
        assert_eq!(pace.pending(), None);
    }

    #[test]
    fn offsets_within_the_interval_collapse_into_one_commit_of_the_newest() {
        let (mut pace, at) = pace();
        assert_eq!(pace.offer(100, true, at(0)), Next::Commit(100));
        assert_eq!(pace.offer(200, true, at(30)), wake_in(70));
        assert_eq!(pace.offer(300, true, at(60)), Next::Wait, "one wake-up is enough");
        assert_eq!(pace.pending(), Some(300));
        assert_eq!(pace.woke(at(100)), Next::Commit(300));
        assert_eq!(pace.pending(), None);
        assert_eq!(
            pace.woke(at(300)),
            Next::Wait,
            "a wake-up with nothing pending does nothing"
        );
    }

    #[test]
    fn a_commit_on_wake_up_starts_the_next_interval() {
        let (mut pace, at) = pace();
        assert_eq!(pace.offer(1, true, at(0)), Next::Commit(1));
        assert_eq!(pace.offer(2, true, at(10)), wake_in(90));
        assert_eq!(pace.woke(at(100)), Next::Commit(2));
        assert_eq!(
            pace.offer(3, true, at(150)),
            wake_in(50),
            "the interval runs from 100 ms"
        );
        assert_eq!(pace.woke(at(200)), Next::Commit(3));
    }

    #[test]
    fn a_zero_interval_commits_every_offset() {
        let t0 = Instant::now();
        let mut pace = CommitPace::new(Duration::ZERO);
        for offset in [5, 6, 7] {
            assert_eq!(pace.offer(offset, true, t0), Next::Commit(offset));
        }
    }

    #[test]
    fn an_offset_with_no_other_upload_under_way_is_committed_at_once() {
        let (mut pace, at) = pace();
        assert_eq!(pace.offer(1, true, at(0)), Next::Commit(1));
        assert_eq!(pace.offer(2, true, at(10)), wake_in(90));
        assert_eq!(
            pace.offer(3, false, at(20)),
            Next::Commit(3),
            "the last upload of a burst does not wait for the interval"
        );
        assert_eq!(
            pace.woke(at(100)),
            Next::Wait,
            "the armed wake-up finds nothing pending"
        );
        assert_eq!(pace.offer(4, true, at(110)), wake_in(10));
    }
}
