//! What can go wrong talking to Kafka, and what each librdkafka error code means for the data
//! path: the Kafka half of `docs/errors.md`'s table.

use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};

use crate::error::ErrorClass;

/// A Kafka request that failed.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// Producing to a topic (the dead-letter topic) failed.
    #[error("producing to the topic {topic}")]
    Produce {
        topic: String,
        #[source]
        source: RdKafkaError,
    },
    /// A request about one partition failed (its offsets, its watermarks, a commit).
    #[error("{topic}/{partition}: {op}")]
    Partition {
        topic: String,
        partition: i32,
        op: &'static str,
        #[source]
        source: RdKafkaError,
    },
}

impl KafkaError {
    /// What the error means for the data path.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Produce { source, .. } | Self::Partition { source, .. } => class(source),
        }
    }
}

/// The class of any librdkafka error.
pub fn class(e: &RdKafkaError) -> ErrorClass {
    match e {
        RdKafkaError::ClientConfig(..) | RdKafkaError::ClientCreation(_) => ErrorClass::NeedsPerson,
        _ => e.rdkafka_error_code().map_or(ErrorClass::Transient, code_class),
    }
}

/// The class of a librdkafka or broker error code.
pub fn code_class(code: RDKafkaErrorCode) -> ErrorClass {
    use RDKafkaErrorCode as C;
    match code {
        // The record itself: too large for the broker or the topic, or not a valid record.
        C::MessageSizeTooLarge | C::InvalidRecord | C::InvalidMessage | C::InvalidMessageSize => ErrorClass::Record,
        // Access, a missing topic, a setting the cluster refuses: a person must act.
        C::TopicAuthorizationFailed
        | C::GroupAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::TransactionalIdAuthorizationFailed
        | C::SaslAuthenticationFailed
        | C::Authentication
        | C::UnknownTopicOrPartition
        | C::UnknownTopic
        | C::InvalidTopic
        | C::InvalidConfig
        | C::PolicyViolation
        | C::UnsupportedVersion
        | C::UnsupportedForMessageFormat
        | C::UnsupportedSASLMechanism
        | C::IllegalSASLState
        | C::InvalidRequiredAcks => ErrorClass::NeedsPerson,
        // A moving leader, a broker coming back, a rebalance, a timeout: it passes.
        _ => ErrorClass::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_its_class() {
        use RDKafkaErrorCode as C;
        let of = |c| class(&RdKafkaError::MessageProduction(c));
        assert_eq!(of(C::MessageSizeTooLarge), ErrorClass::Record);
        assert_eq!(of(C::TopicAuthorizationFailed), ErrorClass::NeedsPerson);
        assert_eq!(of(C::UnknownTopicOrPartition), ErrorClass::NeedsPerson);
        for transient in [
            C::NotLeaderForPartition,
            C::RequestTimedOut,
            C::AllBrokersDown,
            C::RebalanceInProgress,
        ] {
            assert_eq!(of(transient), ErrorClass::Transient, "{transient:?}");
        }
        assert_eq!(
            class(&RdKafkaError::ClientCreation("bad property".into())),
            ErrorClass::NeedsPerson
        );
    }
}
