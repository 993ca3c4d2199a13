//! Counters shared by the pipeline's parts, read by the progress line and by tests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::record::TopicPartition;

/// Totals since the process started.
#[derive(Debug, Default)]
pub struct PipelineStats {
    pub ticks_produced: AtomicU64,
    pub ticks_acked: AtomicU64,
    pub ticks_failed: AtomicU64,
    pub records_consumed: AtomicU64,
    pub files_uploaded: AtomicU64,
    pub bytes_uploaded: AtomicU64,
    pub dead_letters: AtomicU64,
    pub offsets_missing: AtomicU64,
    partitions: Mutex<BTreeMap<TopicPartition, PartitionProgress>>,
    /// Handles of the per-tick Prometheus counters, made at the first tick: looking a
    /// counter up in the registry at every tick was ~6% of the producer's CPU.
    per_tick: std::sync::OnceLock<PerTickCounters>,
}

/// The counters bumped once per tick.
pub struct PerTickCounters {
    pub produced: metrics::Counter,
    pub acked: metrics::Counter,
}

impl std::fmt::Debug for PerTickCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PerTickCounters")
    }
}

/// One partition's sink progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartitionProgress {
    pub files: u64,
    pub committed: Option<i64>,
    /// Records the partition's sink holds in memory (buffered, queued or uploading), as of its
    /// last append or landed upload: what `max.buffered.records` bounds.
    pub held: u64,
}

/// A consistent-enough copy of [`PipelineStats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub ticks_produced: u64,
    pub ticks_acked: u64,
    pub ticks_failed: u64,
    pub records_consumed: u64,
    pub files_uploaded: u64,
    pub bytes_uploaded: u64,
    pub dead_letters: u64,
    pub offsets_missing: u64,
    pub partitions: BTreeMap<TopicPartition, PartitionProgress>,
}

impl PipelineStats {
    /// The per-tick counters (registered with the recorder installed at the first tick).
    pub fn per_tick(&self) -> &PerTickCounters {
        self.per_tick.get_or_init(|| PerTickCounters {
            produced: metrics::counter!(super::events::TICKS_PRODUCED),
            acked: metrics::counter!(super::events::TICKS_ACKED),
        })
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn file_written(&self, tp: &TopicPartition) {
        self.lock().entry(tp.clone()).or_default().files += 1;
    }

    pub(crate) fn committed(&self, tp: &TopicPartition, offset: i64) {
        self.lock().entry(tp.clone()).or_default().committed = Some(offset);
    }

    pub(crate) fn held(&self, tp: &TopicPartition, records: i64) {
        self.lock().entry(tp.clone()).or_default().held = records.max(0) as u64;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<TopicPartition, PartitionProgress>> {
        self.partitions.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            ticks_produced: get(&self.ticks_produced),
            ticks_acked: get(&self.ticks_acked),
            ticks_failed: get(&self.ticks_failed),
            records_consumed: get(&self.records_consumed),
            files_uploaded: get(&self.files_uploaded),
            bytes_uploaded: get(&self.bytes_uploaded),
            dead_letters: get(&self.dead_letters),
            offsets_missing: get(&self.offsets_missing),
            partitions: self.lock().clone(),
        }
    }
}
