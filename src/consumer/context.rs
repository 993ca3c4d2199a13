//! The sink consumer's context: librdkafka calls it on the consumer's polling thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::client::OAuthToken;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};

use rdkafka::config::RDKafkaLogLevel;

use super::Topics;
use crate::kafka::client_config::CONSUMER_STATS_INTERVAL_MS;
use crate::kafka::token::TokenCell;
use crate::record::TopicPartition;
use crate::telemetry::reachability::Reachability;
use crate::telemetry::{events, group_events};

/// What the sink side does when the group gives or takes partitions.
pub trait RebalanceListener: Send + Sync + 'static {
    /// Partitions were assigned; the consumer has them paused until their sinks attach.
    fn assigned(&self, partitions: &[TopicPartition]);
    /// Partitions are about to be taken away: flush, upload and commit them now (this blocks the
    /// rebalance, so another member starts exactly where the last file ended). `lost`: the group
    /// already gave them away (session expired, coordinator gone): upload, but do not commit.
    fn revoking(&self, partitions: &[TopicPartition], lost: bool);
}

/// The consumer context: rebalance hooks, lag metrics, commit results.
pub struct SinkConsumerContext {
    /// The topics the sink reads.
    pub wanted: Topics,
    pub listener: Arc<dyn RebalanceListener>,
    /// The MSK IAM token cell (`msk_iam` mode).
    pub token: Option<TokenCell>,
    /// The group membership as librdkafka's statistics last described it.
    pub group: Arc<GroupWatch>,
    /// Where broker failures go (one WARN per interval, and `/readyz`).
    pub reach: Arc<Reachability>,
}

/// Where the consumer stands in its group, from librdkafka's statistics (every 5 s), so the
/// router can tell a member stuck rejoining (seen against a restarted broker) from a steady one.
#[derive(Debug)]
pub struct GroupWatch {
    last: std::sync::Mutex<Option<GroupState>>,
    /// Statistics in a row that found the member joining. librdkafka's `rebalance_age` and the
    /// monotonic clock both run while the process is stopped (SIGSTOP, a VM paused), so a
    /// member that wakes up in the middle of a rebalance looks stuck at once; counting the
    /// samples delivered while it ran does not.
    joining_samples: std::sync::atomic::AtomicU32,
    /// When the consumer was made: librdkafka reports a `rebalance_age` of 0 until the first
    /// assign or revoke, so a member that never got one counts its join from here.
    created: Instant,
}

impl Default for GroupWatch {
    fn default() -> Self {
        Self::since(Instant::now())
    }
}

/// librdkafka's `cgrp.join_state` and how long since the last assign or revoke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupState {
    pub join_state: String,
    pub rebalance_age_ms: i64,
}

impl GroupWatch {
    /// A watch for a consumer made at `created`.
    pub fn since(created: Instant) -> Self {
        Self {
            last: std::sync::Mutex::new(None),
            joining_samples: std::sync::atomic::AtomicU32::new(0),
            created,
        }
    }

    pub fn record(&self, state: GroupState) {
        use std::sync::atomic::Ordering;
        if matches!(state.join_state.as_str(), "steady" | "init") {
            self.joining_samples.store(0, Ordering::Relaxed);
        } else {
            self.joining_samples.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut last) = self.last.lock() {
            *last = Some(state);
        }
    }

    /// Forgets what was recorded (after a rejoin, wait for fresh statistics).
    pub fn clear(&self) {
        self.joining_samples.store(0, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut last) = self.last.lock() {
            *last = None;
        }
    }

    /// The last statistics said the member is settled (`steady`, or `init`: not subscribed).
    pub fn settled(&self) -> bool {
        let last = self.last.lock().ok().and_then(|l| l.clone());
        last.is_some_and(|s| matches!(s.join_state.as_str(), "steady" | "init"))
    }

    /// The state if the member has been joining (neither `steady` nor `init`, the state of a
    /// consumer not subscribed) for at least `limit` since its last assign or revoke, and the
    /// statistics delivered in a row over `limit` (every
    /// [`CONSUMER_STATS_INTERVAL_MS`]) all found it joining.
    pub fn stuck(&self, limit: Duration) -> Option<GroupState> {
        let samples = self.joining_samples.load(std::sync::atomic::Ordering::Relaxed);
        if Duration::from_millis(CONSUMER_STATS_INTERVAL_MS) * samples < limit {
            return None;
        }
        let mut last = self.last.lock().ok()?.clone()?;
        let joining = !matches!(last.join_state.as_str(), "steady" | "init");
        if last.rebalance_age_ms == 0 {
            // Never assigned nor revoked: joining since the consumer was made (seen in a chaos
            // soak: a fresh process against a tansu whose group kept a dead member waited for
            // its first assignment for minutes, and the watchdog never fired).
            last.rebalance_age_ms = self.created.elapsed().as_millis().min(i64::MAX as u128) as i64;
        }
        (joining && last.rebalance_age_ms >= limit.as_millis() as i64).then_some(last)
    }
}

impl SinkConsumerContext {
    fn partitions_of(&self, tpl: &TopicPartitionList) -> Vec<TopicPartition> {
        tpl.elements()
            .iter()
            .filter(|e| self.wanted.contains(e.topic()))
            .map(|e| TopicPartition::new(e.topic(), e.partition()))
            .collect()
    }
}

impl ClientContext for SinkConsumerContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        crate::kafka::diagnostics::log(
            &self.reach,
            crate::kafka::diagnostics::Report::Log,
            level,
            fac,
            log_message,
        );
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        crate::kafka::diagnostics::error(&self.reach, crate::kafka::diagnostics::Report::Log, &error, reason);
    }

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        crate::kafka::oauth::answer(self.token.as_ref())
    }

    fn stats(&self, stats: Statistics) {
        if let Some(cgrp) = &stats.cgrp {
            self.group.record(GroupState {
                join_state: cgrp.join_state.clone(),
                rebalance_age_ms: cgrp.rebalance_age,
            });
        }
        for (name, topic) in stats.topics.iter().filter(|(name, _)| self.wanted.contains(name)) {
            for (partition, p) in &topic.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    events::consumer_lag(name, *partition, p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for SinkConsumerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let partitions = self.partitions_of(tpl);
            let lost = rdkafka::consumer::Consumer::assignment_lost(consumer);
            if lost {
                tracing::warn!(
                    partitions = %list(&partitions),
                    "partitions lost (the group moved on without this member): draining their sinks without committing"
                );
            } else {
                tracing::info!(partitions = %list(&partitions), "partitions revoked: draining their sinks");
            }
            let started = Instant::now();
            self.listener.revoking(&partitions, lost);
            group_events::revoked(partitions.len(), lost, started.elapsed());
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                // Nothing is fetched until the partition's sink has decided where to resume.
                if let Err(e) = rdkafka::consumer::Consumer::pause(consumer, tpl) {
                    tracing::warn!("pausing newly assigned partitions: {e}");
                }
                let partitions = self.partitions_of(tpl);
                tracing::info!(partitions = %list(&partitions), "partitions assigned");
                group_events::assigned(partitions.len());
                self.listener.assigned(&partitions);
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::error!("consumer group rebalance failed: {e}"),
        }
    }

    /// Results of librdkafka's own (automatic) commits only: the result of a manual
    /// asynchronous commit is not delivered to the application without an `offset_commit_cb`,
    /// so the sinks' commits are confirmed by reading them back ([`super::commit_retry`]).
    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        if let Err(e) = result {
            events::commit_failed(&format!("{:?}", offsets.to_topic_map()), &e);
        }
    }
}

/// `stock-market-data/0, stock-market-data/1` for a log line.
fn list(partitions: &[TopicPartition]) -> String {
    partitions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Waits (5 s at most) until `consumer` is the last reference, then closes it on a blocking thread
/// and waits for the close: it has left the group and closed its connections before the caller
/// stops the broker.
pub async fn close_when_unshared(consumer: Arc<BaseConsumer<SinkConsumerContext>>) {
    for _ in 0..100 {
        if Arc::strong_count(&consumer) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if Arc::strong_count(&consumer) > 1 {
        tracing::warn!(
            references = Arc::strong_count(&consumer),
            "the sink consumer is still referenced after shutdown"
        );
    }
    let _ = tokio::task::spawn_blocking(move || drop(consumer)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(join_state: &str, age_s: i64) -> GroupState {
        GroupState {
            join_state: join_state.into(),
            rebalance_age_ms: age_s * 1000,
        }
    }

    #[test]
    fn a_member_joining_for_too_long_is_stuck_and_a_steady_one_never() {
        let w = GroupWatch::default();
        let limit = Duration::from_secs(60);
        assert_eq!(w.stuck(limit), None, "no statistics yet");
        assert!(!w.settled());
        w.record(state("steady", 3_600));
        assert_eq!(w.stuck(limit), None);
        assert!(w.settled());
        for _ in 0..12 {
            w.record(state("wait-join", 59));
        }
        assert_eq!(w.stuck(limit), None, "joining, not for long");
        w.record(state("wait-join", 61));
        assert_eq!(w.stuck(limit), Some(state("wait-join", 61)));
        assert!(!w.settled());
        w.record(state("init", 600));
        assert_eq!(w.stuck(limit), None, "not subscribed is not stuck");
        w.clear();
        assert!(!w.settled() && w.stuck(limit).is_none());
    }

    #[test]
    fn a_member_woken_from_a_stop_in_the_middle_of_a_rebalance_is_not_stuck_at_once() {
        // SIGSTOPped for 78 s, continued in `wait-unassign-call`: the age says 78 s, but only
        // one sample was taken while it ran (the watchdog re-subscribed, forcing another
        // rebalance on every member, before this).
        let w = GroupWatch::default();
        let limit = Duration::from_secs(60);
        w.record(state("steady", 5));
        w.record(state("wait-unassign-call", 78));
        assert_eq!(w.stuck(limit), None);
        for _ in 0..10 {
            w.record(state("wait-join", 80));
        }
        assert_eq!(w.stuck(limit), None, "11 samples, 55 s observed");
        w.record(state("wait-join", 140));
        assert!(w.stuck(limit).is_some(), "joining through 12 samples: 60 s observed");
        w.record(state("steady", 0));
        w.record(state("wait-join", 200));
        assert_eq!(w.stuck(limit), None, "a steady sample starts the count again");
    }

    #[test]
    fn a_member_never_assigned_counts_its_join_from_when_the_consumer_was_made() {
        let limit = Duration::from_secs(60);
        let Some(made) = Instant::now().checked_sub(Duration::from_secs(90)) else {
            return; // a clock this young cannot hold the test's past
        };
        let old = GroupWatch::since(made);
        for _ in 0..12 {
            old.record(state("wait-join", 0));
        }
        let stuck = old.stuck(limit).expect("joining for 90 s without any rebalance");
        assert!(stuck.rebalance_age_ms >= 90_000, "{stuck:?}");
        let fresh = GroupWatch::default();
        for _ in 0..12 {
            fresh.record(state("wait-join", 0));
        }
        assert_eq!(fresh.stuck(limit), None, "joining for a moment only");
        old.record(state("steady", 0));
        assert_eq!(old.stuck(limit), None, "steady is never stuck");
    }
}
