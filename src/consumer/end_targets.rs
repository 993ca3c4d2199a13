//! What a stopping router consumes to: each assigned partition's high watermark when the
//! shutdown began. A watermark that cannot be read yet (its leader just moved, or the broker
//! just came back and has no connection) is read again until the deadline, never skipped: a
//! partition without a target would let the router stop short of its end, and the records
//! after its position would be left for the next start (not lost, but not in S3 at shutdown).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::kafka::KafkaError;
use crate::record::TopicPartition;

/// How long one read of a partition's watermarks may take.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// How long after a failed read the next one starts.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// Reads a partition's (low, high) watermarks.
pub type ReadWatermarks<'a> = dyn FnMut(&TopicPartition) -> Result<(i64, i64), KafkaError> + 'a;

/// Each assigned partition's (low, high) watermarks, or that it is still to be read.
pub struct EndTargets {
    known: HashMap<TopicPartition, (i64, i64)>,
    unknown: Vec<TopicPartition>,
    next_read: Instant,
    failed_reads: u32,
}

impl EndTargets {
    /// Targets for `assigned`, read once now.
    pub fn read(assigned: Vec<TopicPartition>, watermarks: &mut ReadWatermarks<'_>) -> Self {
        let mut targets = EndTargets {
            known: HashMap::new(),
            unknown: assigned,
            next_read: Instant::now(),
            failed_reads: 0,
        };
        targets.read_unknown(watermarks);
        targets
    }

    /// Reads the watermarks still unknown, if a retry is due.
    pub fn read_unknown(&mut self, watermarks: &mut ReadWatermarks<'_>) {
        if self.unknown.is_empty() || Instant::now() < self.next_read {
            return;
        }
        let mut still = Vec::new();
        for tp in std::mem::take(&mut self.unknown) {
            match watermarks(&tp) {
                Ok(w) => {
                    if self.failed_reads > 0 {
                        tracing::info!(%tp, reads = self.failed_reads + 1, "read the watermarks for shutdown");
                    }
                    self.known.insert(tp, w);
                }
                Err(e) => {
                    // Once after a leader move; for seconds, the broker is away.
                    if self.failed_reads == 0 {
                        tracing::info!(%tp, "reading the watermarks for shutdown, retrying: {e}");
                    } else if self.failed_reads.is_multiple_of(10) {
                        tracing::warn!(%tp, tries = self.failed_reads + 1, "reading the watermarks for shutdown, retrying: {e}");
                    }
                    still.push(tp);
                }
            }
        }
        if !still.is_empty() {
            self.failed_reads += 1;
            self.next_read = Instant::now() + RETRY_AFTER;
        }
        self.unknown = still;
    }

    /// Every partition's watermarks are known, and each is empty or `done(partition, high)`.
    pub fn reached(&self, mut done: impl FnMut(&TopicPartition, i64) -> bool) -> bool {
        self.unknown.is_empty()
            && self
                .known
                .iter()
                .all(|(tp, (low, high))| high <= low || done(tp, *high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn a_partition_whose_watermarks_failed_to_read_is_read_again_and_waited_for() {
        let mut fail_p0 = 2;
        let mut read = |t: &TopicPartition| {
            if t.partition == 0 && fail_p0 > 0 {
                fail_p0 -= 1;
                return Err(KafkaError::Partition {
                    topic: "t".into(),
                    partition: 0,
                    op: "reading the watermarks",
                    source: rdkafka::error::KafkaError::MetadataFetch(
                        rdkafka::error::RDKafkaErrorCode::NotLeaderForPartition,
                    ),
                });
            }
            Ok((0, 10 + t.partition as i64))
        };
        let mut targets = EndTargets::read(vec![tp(0), tp(1)], &mut read);
        // Partition 1 is at its end, partition 0's end is not known yet: not reached.
        assert!(!targets.reached(|_, _| true));
        // No retry before its time.
        targets.read_unknown(&mut read);
        assert_eq!(targets.unknown, vec![tp(0)]);
        for _ in 0..2 {
            std::thread::sleep(RETRY_AFTER);
            targets.read_unknown(&mut read);
        }
        assert!(targets.unknown.is_empty());
        assert_eq!(targets.known[&tp(0)], (0, 10));
        let mut positions = HashMap::from([(tp(0), 9), (tp(1), 11)]);
        assert!(!targets.reached(|t, high| positions[t] >= high));
        positions.insert(tp(0), 10);
        assert!(targets.reached(|t, high| positions[t] >= high));
    }

    #[test]
    fn empty_partitions_and_no_assignment_are_reached_at_once() {
        let mut read = |_: &TopicPartition| Ok((5, 5));
        assert!(EndTargets::read(vec![tp(0)], &mut read).reached(|_, _| false));
        assert!(EndTargets::read(Vec::new(), &mut read).reached(|_, _| false));
    }
}
