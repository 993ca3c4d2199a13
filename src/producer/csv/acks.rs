//! Which rows of a replay Kafka has acknowledged. A row is known by its file (by index in the
//! replay's list) and line; the replay may go on from the first row dealt and not yet
//! acknowledged: every row before it is in Kafka.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Where a row is: `(file index, line)` packed into one number that sorts as the pair does
/// (lines below 2^40), never 0 (0 is an untracked record's id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowId(u64);

const LINE_BITS: u32 = 40;

impl RowId {
    /// A row whose delivery is not tracked (a sampled row: the same row may go many times).
    pub const UNTRACKED: Self = Self(0);

    pub fn new(file: usize, line: u64) -> Self {
        Self(((file as u64 + 1) << LINE_BITS) | (line & ((1 << LINE_BITS) - 1)))
    }

    pub fn file(self) -> usize {
        (self.0 >> LINE_BITS).saturating_sub(1) as usize
    }

    pub fn line(self) -> u64 {
        self.0 & ((1 << LINE_BITS) - 1)
    }
}

/// Rows dealt and not yet acknowledged, in the order dealt. Each row dealt gets a delivery id
/// (the next of a count that never repeats, across restarts too), so an acknowledgement finds
/// its row in constant time, and an acknowledgement of a row an earlier feed dealt is ignored.
#[derive(Debug, Default)]
pub struct Acks(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    /// Rows dealt from the first not acknowledged on, each with whether it was acknowledged.
    window: VecDeque<(RowId, bool)>,
    /// The delivery id of `window`'s first row.
    base: u64,
    /// The delivery id the next row dealt gets.
    next_id: u64,
    /// The row after the last dealt.
    next: Option<RowId>,
    acked: u64,
    failed: u64,
}

impl State {
    fn first_id(&self) -> u64 {
        self.next_id.max(1)
    }
}

impl Acks {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The delivery id the next row dealt will get (never 0: an untracked record's).
    pub fn next_id(&self) -> usize {
        self.state().first_id() as usize
    }

    /// `rows` were handed to their symbols' actors, in this order, with the delivery ids from
    /// [`Acks::next_id`] on (the feed is the only one dealing).
    pub fn dealt(&self, rows: &[RowId]) {
        let Some(last) = rows.last() else { return };
        let mut s = self.state();
        if s.window.is_empty() {
            s.base = s.first_id();
        }
        s.next_id = s.first_id() + rows.len() as u64;
        s.window.extend(rows.iter().map(|r| (*r, false)));
        s.next = Some(RowId::new(last.file(), last.line() + 1));
    }

    /// Kafka answered for the row of delivery id `id`: acknowledged, or failed for good (it stays
    /// pending: the replay does not go past it, and a restart sends it again).
    pub fn delivered(&self, id: usize, ok: bool) {
        let mut s = self.state();
        if !ok {
            s.failed += 1;
            return;
        }
        s.acked += 1;
        let Some(at) = (id as u64).checked_sub(s.base).map(|i| i as usize) else {
            return; // dealt by an earlier feed
        };
        if let Some(row) = s.window.get_mut(at) {
            row.1 = true;
        }
        while s.window.front().is_some_and(|r| r.1) {
            s.window.pop_front();
            s.base += 1;
        }
    }

    /// Forgets every row dealt: a restarted feed deals again from its checkpoint (rows an
    /// earlier feed dealt may have died with its symbol actors; an acknowledgement of one still
    /// on its way means it is in Kafka all the same).
    pub fn restart(&self) {
        let mut s = self.state();
        s.window.clear();
        s.next = None;
        s.base = s.first_id();
    }

    /// A new pass starts from the first row (every row of the last one was acknowledged).
    pub fn new_pass(&self) {
        self.state().next = None;
    }

    /// Rows dealt from the first not acknowledged on (the replay's memory).
    pub fn in_flight(&self) -> usize {
        self.state().window.len()
    }

    /// Every row before this one is in Kafka (`None`: nothing dealt yet).
    pub fn safe_from(&self) -> Option<RowId> {
        let s = self.state();
        s.window.front().map(|r| r.0).or(s.next)
    }

    /// Rows acknowledged, and deliveries that failed for good.
    pub fn counts(&self) -> (u64, u64) {
        let s = self.state();
        (s.acked, s.failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_may_go_on_from_the_first_row_not_acknowledged() {
        let acks = Acks::default();
        assert_eq!(acks.safe_from(), None);
        let rows: Vec<RowId> = [(0, 2), (0, 3), (1, 2), (1, 5)]
            .iter()
            .map(|&(f, l)| RowId::new(f, l))
            .collect();
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "ids sort as (file, line)");
        let first = acks.next_id();
        assert_ne!(first, 0, "0 is an untracked record's id");
        acks.dealt(&rows[..2]);
        acks.dealt(&rows[2..]);
        let id = |i: usize| first + i;
        acks.delivered(id(1), true);
        acks.delivered(id(0), false);
        assert_eq!(acks.safe_from(), Some(rows[0]), "a failed row holds the replay back");
        acks.delivered(id(0), true);
        acks.delivered(id(3), true);
        assert_eq!(acks.safe_from(), Some(rows[2]));
        assert_eq!(acks.in_flight(), 2, "the row not acknowledged, and the one after it");
        acks.delivered(id(2), true);
        assert_eq!(acks.safe_from(), Some(RowId::new(1, 6)), "after the last row dealt");
        assert_eq!((acks.in_flight(), acks.counts()), (0, (4, 1)));
        // A restarted feed deals from its checkpoint again: nothing of the last one is pending,
        // and a late acknowledgement of it does not count for the new rows.
        let again = acks.next_id();
        assert_eq!(again, id(4), "delivery ids never repeat");
        acks.dealt(&rows[..1]);
        acks.restart();
        assert_eq!((acks.in_flight(), acks.safe_from()), (0, None));
        let after = acks.next_id();
        acks.dealt(&rows[1..2]);
        acks.delivered(again, true);
        assert_eq!(
            acks.safe_from(),
            Some(rows[1]),
            "the earlier feed's row is not this one"
        );
        acks.delivered(after, true);
        assert_eq!(acks.in_flight(), 0);
    }
}
