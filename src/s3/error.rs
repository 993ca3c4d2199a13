//! What can go wrong talking to S3, and which of it is worth retrying.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::error::ErrorClass;

/// An S3 operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// A conditional write found the key already holding different bytes: writing would break
    /// exactly-once, so the caller must re-plan from what is in S3.
    #[error("s3://{bucket}/{key} already exists with different content; refusing to overwrite")]
    Conflict { bucket: String, key: String },
    /// The server answered with an error.
    #[error("S3 {op} on s3://{bucket}/{key}: HTTP {status} {code}: {message}")]
    Service {
        op: &'static str,
        bucket: String,
        key: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The request never got an answer (connection refused, a name that does not resolve, a
    /// TLS failure, a timeout, a broken response); the SDK's error, with its causes, is the source.
    #[error("S3 {op} on s3://{bucket}/{key}")]
    Transport {
        op: &'static str,
        bucket: String,
        key: String,
        #[source]
        source: Cause,
    },
    /// The object's body could not be read.
    #[error("reading s3://{bucket}/{key}")]
    Body {
        bucket: String,
        key: String,
        #[source]
        source: Cause,
    },
}

/// A boxed cause (the SDK's error types differ by operation).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

impl S3Error {
    /// What the error means for the data path: the S3 half of `docs/errors.md`'s table.
    ///
    /// A conflict is transient for the partition, not for the request: another writer landed
    /// a different file at the key, and the sink resolves it by planning again from S3
    /// ([`Self::is_retriable`] is false for it).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Conflict { .. } | Self::Transport { .. } | Self::Body { .. } => ErrorClass::Transient,
            Self::Service { status, code, .. } => service_class(*status, code),
        }
    }

    /// Whether sending the same request again may succeed: transient, and not a conflict.
    pub fn is_retriable(&self) -> bool {
        self.class() == ErrorClass::Transient && !self.is_conflict()
    }

    /// A conditional write found the key holding other bytes.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// The key is not there (a HEAD or GET answered 404 for the key, not the bucket).
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Service { status: 404, code, .. } if code != "NoSuchBucket")
    }
}

/// S3's answer by status and code.
fn service_class(status: u16, code: &str) -> ErrorClass {
    match code {
        // The body changed on its way (the CRC32 did not match), a slow client, throttling.
        "BadDigest" | "RequestTimeout" | "SlowDown" | "Throttling" | "UnparsableResponse" => ErrorClass::Transient,
        // The record made a key or a body S3 cannot take: it will fail every time.
        "KeyTooLongError" | "EntityTooLarge" | "MetadataTooLarge" | "InvalidObjectName" => ErrorClass::Record,
        // A key listed a moment ago and gone now (a racing writer): list again.
        "NoSuchKey" => ErrorClass::Transient,
        _ if status >= 500 || status == 429 => ErrorClass::Transient,
        // 403 AccessDenied (a bucket policy, a KMS key), 404 NoSuchBucket, 301 a wrong region,
        // 400 a malformed request (a wrong setting): someone has to change something.
        _ => ErrorClass::NeedsPerson,
    }
}

/// Turns an SDK error into an [`S3Error`]; `status` is `Some(412)` for a failed precondition.
pub(crate) fn from_sdk<E>(op: &'static str, bucket: &str, key: &str, err: SdkError<E, HttpResponse>) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (bucket, key) = (bucket.to_owned(), key.to_owned());
    match &err {
        SdkError::ServiceError(e) => S3Error::Service {
            op,
            bucket,
            key,
            status: e.raw().status().as_u16(),
            code: e.err().code().unwrap_or("Unknown").to_owned(),
            message: e.err().message().unwrap_or("").to_owned(),
        },
        SdkError::ResponseError(e) => S3Error::Service {
            op,
            bucket,
            key,
            status: e.raw().status().as_u16(),
            code: "UnparsableResponse".into(),
            message: format!("{err}"),
        },
        _ => S3Error::Transport {
            op,
            bucket,
            key,
            source: Box::new(err),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16, code: &str) -> S3Error {
        S3Error::Service {
            op: "PutObject",
            bucket: "b".into(),
            key: "k".into(),
            status,
            code: code.into(),
            message: String::new(),
        }
    }

    #[test]
    fn throttling_server_errors_and_lost_answers_are_transient() {
        for (status, code) in [
            (503, "SlowDown"),
            (500, "InternalError"),
            (400, "RequestTimeout"),
            (400, "BadDigest"),
            (429, "TooManyRequests"),
        ] {
            assert_eq!(service(status, code).class(), ErrorClass::Transient, "{status} {code}");
            assert!(service(status, code).is_retriable(), "{status} {code}");
        }
        let lost = S3Error::Transport {
            op: "PutObject",
            bucket: "b".into(),
            key: "k".into(),
            source: "connection refused".into(),
        };
        assert_eq!(lost.class(), ErrorClass::Transient);
    }

    #[test]
    fn what_a_person_must_fix_and_what_the_record_caused_are_told_apart() {
        for (status, code) in [
            (403, "AccessDenied"),
            (404, "NoSuchBucket"),
            (301, "PermanentRedirect"),
            (400, "InvalidBucketName"),
        ] {
            assert_eq!(
                service(status, code).class(),
                ErrorClass::NeedsPerson,
                "{status} {code}"
            );
        }
        for code in ["KeyTooLongError", "EntityTooLarge"] {
            assert_eq!(service(400, code).class(), ErrorClass::Record, "{code}");
            assert!(!service(400, code).is_retriable(), "{code} fails every time");
        }
    }

    #[test]
    fn a_conflict_is_resolved_by_planning_again_not_by_sending_again() {
        let conflict = S3Error::Conflict {
            bucket: "b".into(),
            key: "k".into(),
        };
        assert_eq!(conflict.class(), ErrorClass::Transient);
        assert!(!conflict.is_retriable());
    }

    #[test]
    fn a_transport_failure_keeps_its_cause() {
        let e = S3Error::Transport {
            op: "PutObject",
            bucket: "b".into(),
            key: "k".into(),
            source: "connection refused".into(),
        };
        assert_eq!(crate::error::chain(&e), "S3 PutObject on s3://b/k: connection refused");
    }
}
