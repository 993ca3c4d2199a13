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
    /// The request never got an answer (connection refused, timeout, broken response).
    #[error("S3 {op} on s3://{bucket}/{key}: {detail}")]
    Transport {
        op: &'static str,
        bucket: String,
        key: String,
        detail: String,
    },
    /// The object's body could not be read.
    #[error("reading s3://{bucket}/{key}: {detail}")]
    Body {
        bucket: String,
        key: String,
        detail: String,
    },
}

/// Whether trying the same request again may succeed: throttling, server errors, and answers
/// that never came. A conflict or a client error (403, 404 on the bucket) needs a person or a
/// re-plan, not a retry; the sink still retries those with backoff so no data is dropped, but
/// logs them as errors.
pub fn is_retriable(err: &S3Error) -> bool {
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
pub(crate) fn from_sdk<E>(op: &'static str, bucket: &str, key: &str, err: &SdkError<E, HttpResponse>) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (bucket, key) = (bucket.to_owned(), key.to_owned());
    match err {
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
        other => S3Error::Transport {
            op,
            bucket,
            key,
            detail: chain(other),
        },
    }
}

/// The error and its causes on one line, for logs.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
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
    fn throttling_and_server_errors_are_retriable() {
        assert!(is_retriable(&service(503, "SlowDown")));
        assert!(is_retriable(&service(500, "InternalError")));
        assert!(is_retriable(&service(400, "RequestTimeout")));
        assert!(is_retriable(&service(400, "BadDigest")));
        assert!(is_retriable(&S3Error::Transport {
            op: "PutObject",
            bucket: "b".into(),
            key: "k".into(),
            detail: "connection refused".into()
        }));
    }

    #[test]
    fn client_errors_and_conflicts_are_not() {
        assert!(!is_retriable(&service(403, "AccessDenied")));
        assert!(!is_retriable(&S3Error::Conflict {
            bucket: "b".into(),
            key: "k".into()
        }));
    }
}
