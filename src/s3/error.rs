//! What can go wrong talking to S3, and which of it is worth retrying.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

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

/// Whether the same request should be tried again. Everything is, except a conflict: the key
/// holds other bytes, so only a re-plan from S3 can go on (retrying would never succeed, and
/// overwriting would break exactly-once). A 403 is retried too: the records wait in Kafka until
/// a person fixes the policy, and nothing is dropped meanwhile.
pub fn is_retriable(err: &S3Error) -> bool {
    !matches!(err, S3Error::Conflict { .. })
}

/// Whether the failure is transient (throttling, a server error, an answer that never came),
/// as opposed to one that needs a person (403 AccessDenied, 404 NoSuchBucket) or a re-plan. The
/// `retriable` label of `tickstream_sink_upload_errors_total` and the log level follow it.
pub fn is_transient(err: &S3Error) -> bool {
    match err {
        S3Error::Conflict { .. } => false,
        S3Error::Service { status, code, .. } => {
            // BadDigest: the body changed on its way (the CRC32 did not match): send it again.
            *status >= 500 || *status == 429 || matches!(code.as_str(), "SlowDown" | "RequestTimeout" | "BadDigest")
        }
        S3Error::Transport { .. } | S3Error::Body { .. } => true,
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
    fn throttling_and_server_errors_are_transient() {
        assert!(is_transient(&service(503, "SlowDown")));
        assert!(is_transient(&service(500, "InternalError")));
        assert!(is_transient(&service(400, "RequestTimeout")));
        assert!(is_transient(&service(400, "BadDigest")));
        assert!(is_transient(&S3Error::Transport {
            op: "PutObject",
            bucket: "b".into(),
            key: "k".into(),
            source: "connection refused".into(),
        }));
    }

    #[test]
    fn client_errors_are_not_transient_but_still_retried_and_a_conflict_is_neither() {
        assert!(!is_transient(&service(403, "AccessDenied")));
        assert!(
            is_retriable(&service(403, "AccessDenied")),
            "records wait for a fixed policy"
        );
        let conflict = S3Error::Conflict {
            bucket: "b".into(),
            key: "k".into(),
        };
        assert!(!is_transient(&conflict) && !is_retriable(&conflict));
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
