//! Which rows of a replay Kafka has acknowledged. A row's id is its file (by index in the
//! replay's list) and line; the replay may go on from the first row dealt and not yet
//! acknowledged: every row before it is in Kafka.

use std::collections::BTreeSet;
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

    /// The id a record carries through the producer.
    pub fn tracked(self) -> usize {
        self.0 as usize
    }

    pub fn from_tracked(id: usize) -> Self {
        Self(id as u64)
    }
}

/// Rows dealt and not yet acknowledged.
#[derive(Debug, Default)]
pub struct Acks(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    pending: BTreeSet<RowId>,
    /// The row after the last dealt.
    next: Option<RowId>,
    acked: u64,
    failed: u64,
}

impl Acks {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `row` was handed to its symbol's actor (rows are dealt in order).
    pub fn dealt(&self, row: RowId) {
        let mut s = self.state();
        s.pending.insert(row);
        s.next = Some(RowId::new(row.file(), row.line() + 1));
    }

    /// Kafka answered for `row`: acknowledged, or failed for good (it stays pending: the
    /// replay does not go past it, and a restart sends it again).
    pub fn delivered(&self, row: RowId, ok: bool) {
        let mut s = self.state();
        match ok {
            true => {
                s.pending.remove(&row);
                s.acked += 1;
            }
            false => s.failed += 1,
        }
    }

    /// Forgets every row dealt: a restarted feed deals again from its checkpoint (rows an
    /// earlier feed dealt may have died with its symbol actors; an acknowledgement of one still
    /// on its way means it is in Kafka all the same).
    pub fn restart(&self) {
        let mut s = self.state();
        s.pending.clear();
        s.next = None;
    }

    /// A new pass starts from the first row (every row of the last one was acknowledged).
    pub fn new_pass(&self) {
        self.state().next = None;
    }

    /// Rows dealt and not acknowledged.
    pub fn in_flight(&self) -> usize {
        self.state().pending.len()
    }

    /// Every row before this one is in Kafka (`None`: nothing dealt yet).
    pub fn safe_from(&self) -> Option<RowId> {
        let s = self.state();
        s.pending.first().copied().or(s.next)
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
        rows.iter().for_each(|r| acks.dealt(*r));
        acks.delivered(rows[1], true);
        acks.delivered(rows[0], false);
        assert_eq!(acks.safe_from(), Some(rows[0]), "a failed row holds the replay back");
        acks.delivered(rows[0], true);
        acks.delivered(rows[3], true);
        assert_eq!(acks.safe_from(), Some(rows[2]));
        acks.delivered(rows[2], true);
        assert_eq!(acks.safe_from(), Some(RowId::new(1, 6)), "after the last row dealt");
        assert_eq!((acks.in_flight(), acks.counts()), (0, (4, 1)));
        let id = RowId::from_tracked(rows[3].tracked());
        assert_eq!((id.file(), id.line()), (1, 5));
        // A restarted feed deals from its checkpoint again: nothing of the last one is pending.
        acks.dealt(rows[0]);
        acks.restart();
        assert_eq!((acks.in_flight(), acks.safe_from()), (0, None));
    }
}
