//! The consumer group's events: rebalances (how often, how many partitions moved, how long a
//! revocation held the group), and offset commits the broker refused, by cause, with their retries.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

const REBALANCES: &str = "tickstream_consumer_rebalances_total";
const PARTITIONS_MOVED: &str = "tickstream_consumer_partitions_moved_total";
pub(crate) const REVOKE_DURATION: &str = "tickstream_consumer_revoke_duration_seconds";
pub(crate) const REVOKE_DURATION_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const COMMIT_FAILURES: &str = "tickstream_consumer_commit_failures_total";
const COMMIT_RETRIES: &str = "tickstream_consumer_commit_retries_total";
const READ_BACK: &str = "tickstream_consumer_committed_offset";

/// Why the broker refused a commit, as a label.
const CAUSES: &[&str] = &[
    "rebalance_in_progress",
    "illegal_generation",
    "unknown_member_id",
    "coordinator",
    "other",
];

pub fn describe() {
    describe_counter!(
        REBALANCES,
        Unit::Count,
        "Rebalance callbacks by event: assigned, revoked, lost (the group moved on without this member)"
    );
    describe_counter!(
        PARTITIONS_MOVED,
        Unit::Count,
        "Partitions given to (assigned) or taken from (revoked) this member by rebalances"
    );
    describe_histogram!(
        REVOKE_DURATION,
        Unit::Seconds,
        "How long a revocation held the rebalance: the drain (flush, upload, commit) of the revoked partitions' sinks"
    );
    describe_counter!(
        COMMIT_FAILURES,
        Unit::Count,
        "Offset commits the broker refused, by cause (a refused commit is made again while the partition stays owned)"
    );
    describe_gauge!(
        READ_BACK,
        Unit::Count,
        "The partition's committed offset as read back from the group coordinator after a commit (what a restart resumes from)"
    );
    describe_counter!(
        COMMIT_RETRIES,
        Unit::Count,
        "Commits made again after the broker refused them (the partition was still owned)"
    );
}

/// The sink consumer is starting: its group counters exist from 0.
pub fn consumer_started() {
    for event in ["assigned", "revoked", "lost"] {
        counter!(REBALANCES, "event" => event).increment(0);
    }
    for direction in ["assigned", "revoked"] {
        counter!(PARTITIONS_MOVED, "direction" => direction).increment(0);
    }
    for cause in CAUSES {
        counter!(COMMIT_FAILURES, "cause" => *cause).increment(0);
    }
    counter!(COMMIT_RETRIES).increment(0);
}

/// The group assigned `n` partitions to this member.
pub fn assigned(n: usize) {
    counter!(REBALANCES, "event" => "assigned").increment(1);
    counter!(PARTITIONS_MOVED, "direction" => "assigned").increment(n as u64);
}

/// `n` partitions were revoked (`lost`: taken without a chance to commit); their drain took `took`.
pub fn revoked(n: usize, lost: bool, took: Duration) {
    let event = if lost { "lost" } else { "revoked" };
    counter!(REBALANCES, "event" => event).increment(1);
    counter!(PARTITIONS_MOVED, "direction" => "revoked").increment(n as u64);
    histogram!(REVOKE_DURATION).record(took.as_secs_f64());
}

/// The cause label of a refused commit; `true` with it when the commit is worth making again
/// while the partition is owned (the group was between generations, or its coordinator moved).
pub fn commit_refusal(err: &KafkaError) -> (&'static str, bool) {
    use RDKafkaErrorCode as C;
    match err.rdkafka_error_code() {
        Some(C::RebalanceInProgress) => ("rebalance_in_progress", true),
        Some(C::IllegalGeneration) => ("illegal_generation", true),
        Some(C::UnknownMemberId) => ("unknown_member_id", true),
        Some(
            C::NotCoordinator
            | C::CoordinatorNotAvailable
            | C::CoordinatorLoadInProgress
            | C::RequestTimedOut
            | C::BrokerTransportFailure
            | C::AllBrokersDown,
        ) => ("coordinator", true),
        _ => ("other", false),
    }
}

/// The broker refused a commit of `offsets` with `err`.
pub fn commit_refused(offsets: &str, err: &KafkaError) {
    let (cause, retried) = commit_refusal(err);
    counter!(COMMIT_FAILURES, "cause" => cause).increment(1);
    tracing::warn!(
        offsets,
        cause,
        retried,
        "the broker refused a commit: {err}{}",
        if retried {
            " (made again while the partition stays owned)"
        } else {
            " (the next commit covers it)"
        }
    );
}

/// The group coordinator holds `offset` as the partition's committed offset.
pub fn committed_read_back(topic: &str, partition: i32, offset: i64) {
    gauge!(READ_BACK, "topic" => topic.to_owned(), "partition" => partition.to_string()).set(offset as f64);
}

/// A refused commit is being made again.
pub fn commit_retried(n: usize) {
    counter!(COMMIT_RETRIES).increment(n as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_from_a_rebalance_or_a_moved_coordinator_are_retried_and_others_are_not() {
        let commit = |c| KafkaError::ConsumerCommit(c);
        assert_eq!(
            commit_refusal(&commit(RDKafkaErrorCode::RebalanceInProgress)),
            ("rebalance_in_progress", true)
        );
        assert_eq!(
            commit_refusal(&commit(RDKafkaErrorCode::IllegalGeneration)),
            ("illegal_generation", true)
        );
        assert_eq!(
            commit_refusal(&commit(RDKafkaErrorCode::UnknownMemberId)),
            ("unknown_member_id", true)
        );
        assert_eq!(
            commit_refusal(&commit(RDKafkaErrorCode::NotCoordinator)),
            ("coordinator", true)
        );
        assert_eq!(
            commit_refusal(&commit(RDKafkaErrorCode::GroupAuthorizationFailed)),
            ("other", false)
        );
        for cause in CAUSES {
            assert!(cause.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{cause}");
        }
    }
}
