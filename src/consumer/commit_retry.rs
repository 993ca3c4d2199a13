//! Commits the group refused (RebalanceInProgress, IllegalGeneration, UnknownMemberId while it
//! was between generations, or a coordinator that moved), made again while this member still
//! owns the partition.
//!
//! A sink commits asynchronously after its uploads, and librdkafka does not tell the
//! application how a manual asynchronous commit ended (only an `offset_commit_cb` would, and it
//! is not set). So a refused commit used to wait for the next one, and when production stopped
//! right after a rebalance there was none: the committed offset stayed behind what S3 holds (a
//! false lag page; a restart re-reads it all). Here each partition's latest requested offset is
//! kept, a checker thread reads the committed offsets back once every [`CHECK_EVERY`] while some
//! are behind, and commits again the latest requested offset of a partition behind for longer
//! than [`RETRY_AFTER`]. Ownership bounds it: an assignment or a revocation forgets the
//! partition, so a member that lost a partition (a zombie) never commits an offset from before
//! the move, and a partition given back to it starts from its new sink's plan.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};

use super::directory::Directory;
use crate::record::TopicPartition;
use crate::sink::source::CHECKPOINT;
use crate::telemetry::{events, group_events};

/// How often the committed offsets are read back while some are behind.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long a requested commit may take before it is made again.
pub const RETRY_AFTER: Duration = Duration::from_secs(2);
/// How long reading the committed offsets back may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// The latest offset the partition's sink asked to commit.
    requested: i64,
    /// The committed offset as last read back.
    confirmed: Option<i64>,
    /// Since when the committed offset has been behind `requested`.
    behind_since: Option<Instant>,
}

/// Per owned partition: what its sink asked to commit and what the group holds.
#[derive(Debug, Default)]
pub struct CommitRetry {
    entries: Mutex<BTreeMap<TopicPartition, Entry>>,
}

impl CommitRetry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<TopicPartition, Entry>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The partition's sink asks to commit `offset` (offsets only grow within an ownership).
    pub fn requested(&self, tp: &TopicPartition, offset: i64, now: Instant) {
        let mut entries = self.lock();
        let e = entries.entry(tp.clone()).or_insert(Entry {
            requested: offset,
            confirmed: None,
            behind_since: None,
        });
        e.requested = e.requested.max(offset);
        if e.confirmed.is_none_or(|c| c < e.requested) && e.behind_since.is_none() {
            e.behind_since = Some(now);
        }
    }

    /// The partitions' ownership ended or began anew: nothing of before is committed again.
    pub fn forget(&self, partitions: &[TopicPartition]) {
        let mut entries = self.lock();
        for tp in partitions {
            entries.remove(tp);
        }
    }

    /// The partitions whose committed offset is not known to have reached what was requested.
    pub fn behind(&self) -> Vec<TopicPartition> {
        self.lock()
            .iter()
            .filter(|(_, e)| e.behind_since.is_some())
            .map(|(tp, _)| tp.clone())
            .collect()
    }

    /// The group holds `committed` for the partition (read back).
    pub fn observed(&self, tp: &TopicPartition, committed: Option<i64>) {
        if let Some(e) = self.lock().get_mut(tp) {
            e.confirmed = committed;
            if committed.is_some_and(|c| c >= e.requested) {
                e.behind_since = None;
            }
        }
    }

    /// Runs `commit` on each partition behind for [`RETRY_AFTER`] (its latest requested offset),
    /// holding the table so that no newer request slips in between (commits of one client go
    /// out in the order they are made). Its clock restarts for the next retry.
    pub fn retry_due(&self, now: Instant, mut commit: impl FnMut(&[(TopicPartition, i64)])) {
        let mut entries = self.lock();
        let due: Vec<(TopicPartition, i64)> = entries
            .iter_mut()
            .filter(|(_, e)| e.behind_since.is_some_and(|t| now.duration_since(t) >= RETRY_AFTER))
            .map(|(tp, e)| {
                e.behind_since = Some(now);
                (tp.clone(), e.requested)
            })
            .collect();
        if !due.is_empty() {
            commit(&due);
        }
    }
}

/// Reads back the committed offsets of the partitions behind, then commits again (with the
/// checkpoint, asynchronously) those behind too long that this member still holds. Runs on
/// [`spawn_checker`]'s thread: the read is a round trip to the coordinator.
pub(super) fn check<C: ConsumerContext>(consumer: &BaseConsumer<C>, commits: &CommitRetry, directory: &Directory) {
    let behind = commits.behind();
    if behind.is_empty() {
        return;
    }
    let mut tpl = TopicPartitionList::new();
    for tp in &behind {
        tpl.add_partition(&tp.topic, tp.partition);
    }
    let Ok(read) = consumer.committed_offsets(tpl, READ_TIMEOUT) else {
        return; // The coordinator did not answer: read again next time.
    };
    for tp in &behind {
        let committed = read
            .find_partition(&tp.topic, tp.partition)
            .and_then(|e| match e.offset() {
                Offset::Offset(o) if e.error().is_ok() => Some(o),
                _ => None,
            });
        if let Some(c) = committed {
            group_events::committed_read_back(&tp.topic, tp.partition, c);
        }
        commits.observed(tp, committed);
    }
    commits.retry_due(Instant::now(), |due| {
        let mut tpl = TopicPartitionList::new();
        let held = directory.lock();
        for (tp, offset) in due.iter().filter(|(tp, _)| held.contains_key(tp)) {
            if tpl
                .add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset))
                .is_ok()
            {
                if let Some(mut elem) = tpl.find_partition(&tp.topic, tp.partition) {
                    elem.set_metadata(CHECKPOINT);
                }
            }
        }
        drop(held);
        if tpl.count() == 0 {
            return;
        }
        group_events::commit_retried(tpl.count());
        if let Err(e) = consumer.commit(&tpl, CommitMode::Async) {
            events::commit_failed(&format!("{:?}", tpl.to_topic_map()), &e);
        }
    });
}

/// Starts the thread that runs [`check`] every [`CHECK_EVERY`] until the consumer is gone (it
/// holds the consumer only during a check, so closing it never waits on this thread for long).
pub(super) fn spawn_checker<C: ConsumerContext + 'static>(
    consumer: Weak<BaseConsumer<C>>,
    commits: Arc<CommitRetry>,
    directory: Arc<Directory>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("commit-check".into())
        .spawn(move || loop {
            std::thread::sleep(CHECK_EVERY);
            let Some(consumer) = consumer.upgrade() else {
                return;
            };
            check(&consumer, &commits, &directory);
        })
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn retried(r: &CommitRetry, now: Instant) -> Vec<(TopicPartition, i64)> {
        let mut out = Vec::new();
        r.retry_due(now, |due| out.extend_from_slice(due));
        out
    }

    #[test]
    fn a_commit_still_behind_after_a_while_is_made_again_with_the_latest_requested_offset() {
        let r = CommitRetry::default();
        let t0 = Instant::now();
        r.requested(&tp(0), 100, t0);
        r.requested(&tp(0), 150, t0 + Duration::from_millis(500));
        assert!(retried(&r, t0 + Duration::from_secs(1)).is_empty(), "too early");
        r.observed(&tp(0), Some(100));
        assert_eq!(r.behind(), vec![tp(0)]);
        assert_eq!(
            retried(&r, t0 + RETRY_AFTER),
            vec![(tp(0), 150)],
            "the latest, never an older one"
        );
        assert!(
            retried(&r, t0 + RETRY_AFTER + CHECK_EVERY).is_empty(),
            "its clock restarted"
        );
        assert_eq!(
            retried(&r, t0 + RETRY_AFTER * 2),
            vec![(tp(0), 150)],
            "still behind: again"
        );
        r.observed(&tp(0), Some(150));
        assert!(r.behind().is_empty());
        assert!(retried(&r, t0 + RETRY_AFTER * 5).is_empty());
    }

    #[test]
    fn a_commit_that_landed_is_not_made_again() {
        let r = CommitRetry::default();
        let t0 = Instant::now();
        r.requested(&tp(1), 150, t0);
        r.observed(&tp(1), Some(150));
        assert!(retried(&r, t0 + RETRY_AFTER * 3).is_empty());
        r.requested(&tp(1), 200, t0 + RETRY_AFTER * 3);
        assert_eq!(r.behind(), vec![tp(1)], "a new request is behind until read back");
    }

    #[test]
    fn a_revoked_or_reassigned_partition_is_never_committed_from_before() {
        let r = CommitRetry::default();
        let t0 = Instant::now();
        r.requested(&tp(2), 100, t0);
        r.forget(&[tp(2)]);
        r.observed(&tp(2), Some(10));
        assert!(
            retried(&r, t0 + RETRY_AFTER * 3).is_empty(),
            "a zombie's commit is not made after the revoke"
        );
        assert!(r.behind().is_empty());
        let t1 = t0 + RETRY_AFTER * 3;
        r.requested(&tp(2), 40, t1);
        assert_eq!(
            retried(&r, t1 + RETRY_AFTER),
            vec![(tp(2), 40)],
            "the new ownership's own offset"
        );
    }
}
