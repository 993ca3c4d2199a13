//! Files landed in S3: the typed channel from the sinks to the ingestion watcher of the same
//! process, made where the pipeline is wired. A sink sends each data file's key once it is in
//! S3; the watcher loads those files at once, by key, without listing (the embedded stand-in
//! for S3 event notifications). Telemetry only observes uploads; it does not carry them.
//!
//! The channel is bounded per partition ([`KEPT_PER_PARTITION`] keys wait at most; with no
//! watcher taking them none would ever leave), and a wake-up coalesces: many uploads before
//! the watcher looks wake it once. A key the bound drops is found by the watcher's periodic
//! listing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::record::TopicPartition;

/// Landed keys kept per partition: at flush.size 100 and 100,000 ticks/s a partition lands a
/// few hundred files a second, and the watcher takes them every 50 ms.
pub const KEPT_PER_PARTITION: usize = 1024;

#[derive(Debug, Default)]
struct Inner {
    keys: Mutex<BTreeMap<TopicPartition, Vec<String>>>,
    wake: Notify,
}

/// The sinks' end.
#[derive(Clone, Debug)]
pub struct LandedSender(Arc<Inner>);

/// The watcher's end (cloned into each incarnation of the watcher).
#[derive(Clone, Debug)]
pub struct LandedReceiver(Arc<Inner>);

/// A new channel.
pub fn channel() -> (LandedSender, LandedReceiver) {
    let inner = Arc::new(Inner::default());
    (LandedSender(inner.clone()), LandedReceiver(inner))
}

impl LandedSender {
    /// The data file `key` of `tp` is in S3.
    pub fn send(&self, tp: &TopicPartition, key: &str) {
        if let Ok(mut p) = self.0.keys.lock() {
            let keys = p.entry(tp.clone()).or_default();
            if keys.len() < KEPT_PER_PARTITION {
                keys.push(key.to_owned());
            }
        }
        self.0.wake.notify_one();
    }
}

impl LandedReceiver {
    /// Waits until a file landed since the last [`LandedReceiver::take`] (at once if one did).
    pub async fn landed(&self) {
        self.0.wake.notified().await;
    }

    /// The files that landed since the last call, per partition, oldest first.
    pub fn take(&self) -> BTreeMap<TopicPartition, Vec<String>> {
        self.0
            .keys
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn landed_keys_are_taken_once_and_capped_per_partition() {
        let (tx, rx) = channel();
        for i in 0..KEPT_PER_PARTITION + 10 {
            tx.send(&tp(0), &format!("k{i:05}"));
        }
        tx.send(&tp(1), "other");
        let landed = rx.take();
        assert_eq!(landed[&tp(0)].len(), KEPT_PER_PARTITION);
        assert_eq!(landed[&tp(0)][0], "k00000");
        assert_eq!(landed[&tp(1)], vec!["other".to_owned()]);
        assert!(rx.take().is_empty(), "taken keys are gone");
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_wakes_the_receiver_once_for_many() {
        let (tx, rx) = channel();
        tx.send(&tp(0), "a");
        tx.send(&tp(0), "b");
        tokio::time::timeout(std::time::Duration::from_secs(1), rx.landed())
            .await
            .expect("woken");
        assert_eq!(rx.take()[&tp(0)].len(), 2);
        let again = tokio::time::timeout(std::time::Duration::from_secs(1), rx.landed()).await;
        assert!(again.is_err(), "the two sends made one wake-up");
    }
}
