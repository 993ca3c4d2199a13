//! What went wrong, and what to do about it.
//!
//! Each service has one error enum (S3: [`crate::s3::S3Error`], Kafka:
//! [`crate::kafka::KafkaError`], the sink's Kafka side: [`crate::sink::source::SourceError`], the
//! warehouse: [`crate::warehouse::WarehouseError`]; a record that cannot be written:
//! [`crate::record::RecordError`]). Each keeps its cause as `#[source]` and says its
//! [`ErrorClass`]: what the data path does about it is decided by the class, in one place per
//! service (`docs/errors.md` is the table). [`chain`] says an error and its causes on one line,
//! for logs, `/readyz` and the process's last line.

use std::error::Error;

/// What an error means for the data path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// It may pass: throttling, a server error, a dropped connection, a leader that moved, a
    /// file another writer landed first. Retried with backoff; records wait in Kafka meanwhile.
    Transient,
    /// It will fail until a person acts: access denied, a missing bucket or topic, a wrong key or
    /// region. Waited on and reported (log, `/readyz`, alert); records wait in Kafka meanwhile.
    NeedsPerson,
    /// Caused by the record: it fails every time the same way. The record is set aside (a dead
    /// letter), or, under `errors.tolerance = none`, its partition stops at it.
    Record,
}

impl ErrorClass {
    /// The class as a metric label or a log field: `transient`, `needs_person`, `record`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::NeedsPerson => "needs_person",
            Self::Record => "record",
        }
    }
}

/// `err` and its causes, outermost first, joined by `": "` (a cause whose text its parent
/// already ends with is not repeated).
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("S3 PutObject on s3://b/k")]
    struct Put(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("upload failed")]
    struct Upload(#[source] Put);

    #[test]
    fn every_cause_is_said_once_in_order() {
        let e = Upload(Put(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        )));
        assert_eq!(chain(&e), "upload failed: S3 PutObject on s3://b/k: connection refused");
    }

    #[test]
    fn a_cause_its_parent_already_states_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("reading: {0}")]
        struct Flat(#[source] std::io::Error);
        let e = Flat(std::io::Error::other("disk gone"));
        assert_eq!(chain(&e), "reading: disk gone");
    }
}
