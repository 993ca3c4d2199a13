//! A partition's watermarks, read again while its leader moves. librdkafka asks the leader it
//! has cached: just after a leader move (or while the new leader's connection is still being
//! made) the read fails, and librdkafka only refreshes its metadata for the next read.

use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};

/// How long after a failed read the next one starts.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// `partition`'s (low, high) watermarks, read again within `timeout` after an error that a
/// leader move or a broker coming back explains; any other error at once.
pub fn read<C, K>(consumer: &K, topic: &str, partition: i32, timeout: Duration) -> KafkaResult<(i64, i64)>
where
    C: ConsumerContext,
    K: Consumer<C>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match consumer.fetch_watermarks(topic, partition, left) {
            Err(e) if leader_moving(&e) && left > RETRY_AFTER * 2 => {
                tracing::debug!(topic, partition, "reading the watermarks again: {e}");
                std::thread::sleep(RETRY_AFTER);
            }
            other => return other,
        }
    }
}

/// An error a read of the same partition can get past once librdkafka knows its leader.
pub fn leader_moving(e: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::NotLeaderForPartition
                | C::LeaderNotAvailable
                | C::FencedLeaderEpoch
                | C::UnknownLeaderEpoch
                | C::OffsetNotAvailable
                | C::BrokerNotAvailable
                | C::NetworkException
                | C::BrokerTransportFailure
                | C::AllBrokersDown
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_leader_is_read_again_and_a_missing_topic_is_not() {
        assert!(leader_moving(&KafkaError::MetadataFetch(
            RDKafkaErrorCode::NotLeaderForPartition
        )));
        assert!(leader_moving(&KafkaError::MetadataFetch(
            RDKafkaErrorCode::BrokerTransportFailure
        )));
        assert!(!leader_moving(&KafkaError::MetadataFetch(
            RDKafkaErrorCode::UnknownTopicOrPartition
        )));
        assert!(!leader_moving(&KafkaError::MetadataFetch(
            RDKafkaErrorCode::TopicAuthorizationFailed
        )));
        // The whole timeout is spent: reading again cannot help.
        assert!(!leader_moving(&KafkaError::MetadataFetch(
            RDKafkaErrorCode::OperationTimedOut
        )));
    }
}
