//! (Topic, partition) → its sink actor and memory gate: shared by the router thread (routing, seeks,
//! pauses) and the rebalance listener (drains on revoke).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ractor::ActorRef;

use crate::record::TopicPartition;
use crate::sink::gate::Gate;
use crate::sink::SinkMsg;

/// (Topic, partition) → its sink and memory gate, shared by the router and the rebalance listener.
#[derive(Default)]
pub struct Directory {
    slots: Mutex<HashMap<TopicPartition, Slot>>,
    /// The group has given this consumer its first assignment (possibly empty).
    assigned_once: AtomicBool,
}

pub(super) struct Slot {
    pub(super) gate: Arc<Gate>,
    pub(super) sink: Option<ActorRef<SinkMsg>>,
    /// The next offset the router will route (`None`: wherever the consumer starts).
    pub(super) position: Option<i64>,
    /// Records were dropped while no sink was attached: the next attach must seek.
    pub(super) needs_seek: bool,
    /// Paused because the sink holds too much.
    pub(super) paused_for_room: bool,
    /// Since when the sink has held `max.buffered.records` (the router stops polling for a
    /// while before it pauses the partition).
    pub(super) full_since: Option<std::time::Instant>,
    /// What it took in its last round of records: its next round's buffers start that large.
    pub(super) took: super::round::Took,
}

impl Directory {
    /// Registers a newly assigned partition before its sink starts.
    pub fn prepare(&self, tp: TopicPartition, gate: Arc<Gate>) {
        let slot = Slot {
            gate,
            sink: None,
            position: None,
            needs_seek: false,
            paused_for_room: false,
            full_since: None,
            took: Default::default(),
        };
        self.lock().insert(tp, slot);
    }

    /// Forgets a partition; returns its sink, if attached.
    pub fn remove(&self, tp: &TopicPartition) -> Option<ActorRef<SinkMsg>> {
        self.lock().remove(tp).and_then(|s| s.sink)
    }

    /// The partitions this consumer holds.
    pub fn partitions(&self) -> Vec<TopicPartition> {
        self.lock().keys().cloned().collect()
    }

    /// Takes every attached sink out of the directory (a drain of them all).
    pub fn take_sinks(&self) -> Vec<(TopicPartition, ActorRef<SinkMsg>)> {
        self.lock()
            .iter_mut()
            .filter_map(|(tp, s)| s.sink.take().map(|sink| (tp.clone(), sink)))
            .collect()
    }

    pub(super) fn mark_assigned(&self) {
        self.assigned_once.store(true, Ordering::Release);
    }

    pub(super) fn assigned_once(&self) -> bool {
        self.assigned_once.load(Ordering::Acquire)
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TopicPartition, Slot>> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
