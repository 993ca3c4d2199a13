//! Waiting helpers shared by the workspace's tests (the integration tests, the chaos suite's):
//! poll a condition with a deadline instead of sleeping a fixed time.

use std::time::{Duration, Instant};

use crate::telemetry::PipelineStats;

/// Polls `cond` every 50 ms until it holds; panics naming `what` once `limit` has passed.
pub async fn eventually(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the sinks' committed offsets add up to `total` (every record in S3 and committed).
pub async fn all_committed(stats: &PipelineStats, total: i64, limit: Duration) {
    eventually(limit, &format!("{total} records committed"), || {
        stats
            .snapshot()
            .partitions
            .values()
            .filter_map(|p| p.committed)
            .sum::<i64>()
            == total
    })
    .await;
}
