//! The progress line an operator sees while the pipeline runs.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::{PipelineStats, StatsSnapshot};

/// Logs progress every `every` until the task is aborted.
pub fn spawn(stats: Arc<PipelineStats>, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        let mut last = stats.snapshot();
        loop {
            tick.tick().await;
            let now = stats.snapshot();
            tracing::info!("{}", line(&last, &now, every));
            last = now;
        }
    })
}

/// `produced 70 (7.0/s) acked 70 failed 0 | consumed 70 | files 3 [p0:1 p1:1 p2:1] 12.3 KiB`
pub fn line(last: &StatsSnapshot, now: &StatsSnapshot, every: Duration) -> String {
    let rate = (now.ticks_acked - last.ticks_acked) as f64 / every.as_secs_f64().max(0.001);
    // One topic: `p0:1`; several: `trades/0:1`.
    let one_topic = now
        .partitions
        .keys()
        .all(|tp| now.partitions.keys().next().is_some_and(|f| f.topic == tp.topic));
    let files: Vec<String> = now
        .partitions
        .iter()
        .map(|(tp, pp)| match one_topic {
            true => format!("p{}:{}", tp.partition, pp.files),
            false => format!("{tp}:{}", pp.files),
        })
        .collect();
    let mut s = format!(
        "produced {} acked {} ({rate:.1}/s) failed {} | consumed {} | files {} [{}] {:.1} KiB",
        now.ticks_produced,
        now.ticks_acked,
        now.ticks_failed,
        now.records_consumed,
        now.files_uploaded,
        files.join(" "),
        now.bytes_uploaded as f64 / 1024.0
    );
    if now.dead_letters > 0 {
        s.push_str(&format!(" | dead letters {}", now.dead_letters));
    }
    if now.offsets_missing > 0 {
        s.push_str(&format!(" | LOST offsets {}", now.offsets_missing));
    }
    s
}
