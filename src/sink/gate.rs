//! A partition's count of records held in memory, shared by the router (adds) and the sink
//! (releases). Past the limit the router pauses the partition: memory stays bounded when S3 is
//! slow or down.

use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug)]
pub struct Gate {
    held: AtomicI64,
    limit: i64,
    /// The last offset a sink of this partition committed in this process (-1: none). It
    /// survives sink restarts: the group member's own committed-offset query can come back
    /// empty while its commits are in flight, and the resume plan still verifies it against S3.
    committed: AtomicI64,
}

impl Gate {
    pub fn new(limit: u64) -> Self {
        Self {
            held: AtomicI64::new(0),
            limit: limit.min(i64::MAX as u64) as i64,
            committed: AtomicI64::new(-1),
        }
    }

    /// The router handed `n` more records to the sink.
    pub fn hold(&self, n: usize) {
        self.held.fetch_add(n as i64, Ordering::AcqRel);
    }

    /// The sink is done with `n` records (committed, stale or skipped).
    pub fn release(&self, n: u64) {
        self.held.fetch_sub(n as i64, Ordering::AcqRel);
    }

    /// A new sink incarnation starts with nothing held.
    pub fn reset(&self) {
        self.held.store(0, Ordering::Release);
    }

    /// Remembers a commit of this partition.
    pub fn note_commit(&self, offset: i64) {
        self.committed.fetch_max(offset, Ordering::AcqRel);
    }

    /// The last commit noted in this process, if any.
    pub fn last_commit(&self) -> Option<i64> {
        Some(self.committed.load(Ordering::Acquire)).filter(|c| *c >= 0)
    }

    pub fn held(&self) -> i64 {
        self.held.load(Ordering::Acquire)
    }

    /// Records the sink may still take before it is full (0 when full).
    pub fn room(&self) -> usize {
        (self.limit - self.held()).max(0) as usize
    }

    /// Time to pause the partition.
    pub fn is_full(&self) -> bool {
        self.held() >= self.limit
    }

    /// Time to resume a paused partition (below half, so it does not flap).
    pub fn has_room(&self) -> bool {
        self.held() < self.limit / 2
    }
}
