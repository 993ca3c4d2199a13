//! Counters shared by the pipeline's parts, read by the progress line and by tests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Landed keys kept per partition for the watcher: at flush.size 100 and 100,000 ticks/s a
/// partition lands a few hundred files a second, and the watcher takes them every 50 ms.
pub const LANDED_KEYS_KEPT: usize = 1024;

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
    partitions: Mutex<BTreeMap<i32, PartitionProgress>>,
    /// Signalled after every data file lands in S3: the in-process ingestion watcher lists
    /// at once instead of at its next poll (what S3 event notifications do for Snowpipe).
    /// Notifications coalesce: many uploads before the watcher looks wake it once.
    pub file_landed: tokio::sync::Notify,
    /// The files that landed since the watcher last took them, per partition.
    landed: Mutex<BTreeMap<i32, Vec<String>>>,
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
    pub partitions: BTreeMap<i32, PartitionProgress>,
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

    pub(crate) fn file_written(&self, partition: i32) {
        self.lock().entry(partition).or_default().files += 1;
    }

    pub(crate) fn committed(&self, partition: i32, offset: i64) {
        self.lock().entry(partition).or_default().committed = Some(offset);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<i32, PartitionProgress>> {
        self.partitions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The data file `key` of `partition` is in S3: tells the ingestion watcher. At most
    /// [`LANDED_KEYS_KEPT`] keys wait per partition (with no watcher taking them, none would
    /// ever leave); the watcher's periodic listing finds any file past that.
    pub fn note_file_landed(&self, partition: i32, key: &str) {
        if let Ok(mut p) = self.landed.lock() {
            let keys = p.entry(partition).or_default();
            if keys.len() < LANDED_KEYS_KEPT {
                keys.push(key.to_owned());
            }
        }
        self.file_landed.notify_one();
    }

    /// The files that landed since the last call, per partition.
    pub fn take_landed(&self) -> BTreeMap<i32, Vec<String>> {
        self.landed
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landed_keys_are_taken_once_and_capped_per_partition() {
        let stats = PipelineStats::default();
        for i in 0..LANDED_KEYS_KEPT + 10 {
            stats.note_file_landed(0, &format!("k{i:05}"));
        }
        stats.note_file_landed(1, "other");
        let landed = stats.take_landed();
        assert_eq!(landed[&0].len(), LANDED_KEYS_KEPT);
        assert_eq!(landed[&0][0], "k00000");
        assert_eq!(landed[&1], vec!["other".to_owned()]);
        assert!(stats.take_landed().is_empty(), "taken keys are gone");
    }
}
