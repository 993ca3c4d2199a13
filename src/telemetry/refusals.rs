//! What the sinks' dependencies refuse for good (errors that need a person, or that a file or a
//! dead letter itself causes): logged once in ten attempts, not as "cannot reach", since the
//! dependency answered.

use crate::error::ErrorClass;
use crate::record::TopicPartition;

/// The dead-letter topic refused `n` dead letters of `tp` for good (each too large for it): they
/// go to S3 under `dlq/` instead, with the topic's answer in their reason.
pub fn dead_letters_set_aside(tp: &TopicPartition, n: usize) {
    tracing::warn!(
        topic = &*tp.topic,
        partition = tp.partition,
        dead_letters = n,
        "the dead-letter topic refused dead letters for good (too large for it): written to S3 under dlq/ instead"
    );
}

/// The dead-letter topic refused `waiting` dead letters of `tp` with an error that will not pass
/// by itself (`class`): a missing topic, no access. The partition waits with its records in
/// Kafka; `attempts` so far.
pub fn dead_letter_topic_refused(tp: &TopicPartition, waiting: usize, class: ErrorClass, cause: &str, attempts: u32) {
    tracing::warn!(
        topic = &*tp.topic,
        partition = tp.partition,
        waiting,
        class = class.as_str(),
        attempts,
        "the dead-letter topic refused dead letters (it needs a person): {cause}; the partition waits with its records in Kafka and they are sent again"
    );
}

/// S3 refused `key` with an error that will not pass by itself (`class`): access denied, a
/// missing bucket, a wrong key, or something about the file itself. The partition waits, its
/// records in Kafka, until a person acts; `attempts` so far.
pub fn upload_refused(tp: &TopicPartition, key: &str, class: ErrorClass, cause: &str, attempts: u32) {
    let what = match class {
        ErrorClass::Record => "the file itself is refused",
        _ => "it needs a person",
    };
    tracing::warn!(
        topic = &*tp.topic,
        partition = tp.partition,
        key,
        class = class.as_str(),
        attempts,
        "S3 refused the upload ({what}): {cause}; the partition waits with its records in Kafka and the upload is retried"
    );
}
