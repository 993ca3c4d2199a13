//! Stopping: producers stop → producer flushes (every queued tick acked) → consumer reads up to
//! the high watermark → sinks flush, upload and commit → the ingestion watcher loads their last
//! files → consumer leaves the group.

use std::time::{Duration, Instant};

use supervisors::SupervisorMsg;

use super::Pipeline;
use crate::consumer::rebalance::Committed;
use crate::telemetry::StatsSnapshot;
use crate::warehouse::watcher::WatcherMsg;

/// What a clean stop achieved.
#[derive(Debug)]
pub struct ShutdownReport {
    /// Each drained partition's committed offset.
    pub committed: Committed,
    pub stats: StatsSnapshot,
    /// Every queued tick was acknowledged before the sinks drained.
    pub producer_flushed: bool,
}

impl Pipeline {
    /// The sinks' last files are in S3 now: the watcher loads them before it stops. A watcher
    /// being restarted by its supervisor is waited for (until the shutdown deadline).
    async fn watcher_catch_up(&self, deadline: Instant) {
        let give_up = deadline.max(Instant::now() + Duration::from_secs(5));
        loop {
            let watcher = self.watcher.lock().ok().and_then(|w| w.clone());
            let Some(w) = watcher else { return };
            let left = give_up.saturating_duration_since(Instant::now());
            match w.call(WatcherMsg::CatchUp, Some(left)).await {
                Ok(ractor::rpc::CallResult::Success(())) => return,
                Ok(other) => {
                    tracing::warn!("the ingestion watcher's last catch-up did not finish: {other:?}");
                    return;
                }
                Err(_) if Instant::now() < give_up => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => {
                    tracing::warn!("the ingestion watcher's last catch-up did not happen: {e}");
                    return;
                }
            }
        }
    }

    /// Stops everything without losing a tick that was acknowledged; bounded by
    /// `runtime.shutdown_timeout_ms`.
    pub async fn shutdown(mut self) -> ShutdownReport {
        let deadline = Instant::now() + self.shutdown_timeout;
        let _ = ractor::call_t!(self.root, SupervisorMsg::StopChild, 30_000, "producers".to_owned());
        let mut producer_flushed = true;
        if let Some(p) = self.producer.take() {
            let left = deadline.saturating_duration_since(Instant::now()) / 2;
            producer_flushed = tokio::task::spawn_blocking(move || p.flush(left))
                .await
                .is_ok_and(|r| r.is_ok());
            if !producer_flushed {
                tracing::error!("not every queued tick was acknowledged before the shutdown deadline");
            }
        }
        // The consumer reads to the end, its sinks drain, and it leaves the group and closes.
        let committed = match self.consumer.take() {
            Some(consumer) => consumer.drain(deadline).await,
            None => Committed::new(),
        };
        self.watcher_catch_up(deadline).await;
        self.root.stop(None);
        if let Some(done) = self.root_done.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), done).await;
        }
        ShutdownReport {
            committed,
            stats: self.stats.snapshot(),
            producer_flushed,
        }
    }
}
