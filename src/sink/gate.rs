//! A partition's count of records held in memory, shared by the router (adds) and the sink
//! (releases), and the bytes the sink holds (its open files and uploads, as it last said). Past
//! either limit, or while an upload of the partition is retrying, the router pauses the
//! partition: memory stays bounded when S3 is slow, and flat when it is down (the records wait
//! in Kafka, not here).

use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug)]
pub struct Gate {
    held: AtomicI64,
    limit: i64,
    /// Bytes of the sink's open files and uploads, set by the sink as they change.
    bytes: AtomicI64,
    /// `max.buffered.bytes`.
    byte_limit: i64,
    /// The last offset a sink of this partition committed in this process (-1: none). It
    /// survives sink restarts: the group member's own committed-offset query can come back
    /// empty while its commits are in flight, and the resume plan still verifies it against S3.
    committed: AtomicI64,
    /// Uploads of this partition retrying after a failure (see [`Gate::retrying`]).
    retrying: AtomicI64,
    /// The partition stopped at a record it may not skip (`errors.tolerance = none`): it takes
    /// nothing more until the process restarts.
    halted: std::sync::atomic::AtomicBool,
}

/// Marks one upload as retrying for as long as it lives: dropped when the upload ends, or when
/// its task is aborted with its sink, so a dead upload never keeps a partition paused.
#[derive(Debug)]
pub struct Retrying<'a>(&'a Gate);

impl Drop for Retrying<'_> {
    fn drop(&mut self) {
        self.0.retrying.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    pub fn new(limit: u64) -> Self {
        Self {
            held: AtomicI64::new(0),
            limit: limit.min(i64::MAX as u64) as i64,
            bytes: AtomicI64::new(0),
            byte_limit: i64::MAX,
            committed: AtomicI64::new(-1),
            retrying: AtomicI64::new(0),
            halted: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The same gate, pausing also at `byte_limit` bytes held (`max.buffered.bytes`).
    pub fn with_byte_limit(self, byte_limit: u64) -> Self {
        Self {
            byte_limit: byte_limit.min(i64::MAX as u64) as i64,
            ..self
        }
    }

    /// The sink holds `n` bytes now (open files and uploads).
    pub fn set_bytes(&self, n: u64) {
        self.bytes.store(n.min(i64::MAX as u64) as i64, Ordering::Release);
    }

    pub fn bytes(&self) -> i64 {
        self.bytes.load(Ordering::Acquire)
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
        self.bytes.store(0, Ordering::Release);
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

    /// An upload failed and is being retried: until it lands, the sink takes nothing more.
    pub fn retrying(&self) -> Retrying<'_> {
        self.retrying.fetch_add(1, Ordering::AcqRel);
        Retrying(self)
    }

    /// S3 refuses this partition's uploads, or the partition halted: keep the records in
    /// Kafka, not in memory (the router pauses the partition).
    pub fn is_failing(&self) -> bool {
        self.retrying.load(Ordering::Acquire) > 0 || self.is_halted()
    }

    /// The sink stopped at a record it may not skip.
    pub fn halt(&self) {
        self.halted.store(true, Ordering::Release);
    }

    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// Records the sink may still take before it is full (0 when full or failing).
    pub fn room(&self) -> usize {
        if self.is_failing() {
            return 0;
        }
        (self.limit - self.held()).max(0) as usize
    }

    /// Time to pause the partition: `max.buffered.records` held, or uploads failing.
    pub fn is_full(&self) -> bool {
        self.held() >= self.limit || self.bytes() >= self.byte_limit || self.is_failing()
    }

    /// Time to resume a paused partition (below half, so it does not flap; uploads landing).
    pub fn has_room(&self) -> bool {
        self.held() < self.limit / 2 && self.bytes() < self.byte_limit / 2 && !self.is_failing()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_over_the_byte_limit_close_the_gate_until_below_half() {
        let g = Gate::new(1_000).with_byte_limit(100);
        g.hold(1);
        g.set_bytes(99);
        assert!(!g.is_full());
        g.set_bytes(100);
        assert!(g.is_full() && !g.has_room(), "at the byte limit");
        g.set_bytes(50);
        assert!(!g.is_full() && !g.has_room(), "not yet below half: no flapping");
        g.set_bytes(49);
        assert!(g.has_room());
        g.set_bytes(500);
        g.reset();
        assert!(g.has_room(), "a new sink incarnation holds nothing");
    }

    #[test]
    fn a_failing_upload_closes_the_gate_until_it_ends() {
        let g = Gate::new(100);
        g.hold(10);
        assert!(!g.is_full() && g.has_room() && g.room() == 90);
        let first = g.retrying();
        let second = g.retrying();
        assert!(
            g.is_full() && !g.has_room() && g.room() == 0,
            "no more records while S3 fails"
        );
        drop(first);
        assert!(g.is_failing(), "another upload is still retrying");
        drop(second);
        assert!(!g.is_full() && g.has_room() && g.room() == 90);
        g.reset();
        assert_eq!(g.held(), 0);
        let _guard = g.retrying();
        g.reset();
        assert!(g.is_failing(), "a new incarnation does not forget a retrying upload");
    }
}
