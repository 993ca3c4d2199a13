//! S3: where the sink's files go, in the Confluent S3 Sink Connector's layout.
//!
//! - [`keys`]: the object key layout and its parsing (pure).
//! - [`error`]: [`S3Error`] and its [`crate::error::ErrorClass`] by status and code.
//! - [`client`]: an `aws_sdk_s3::Client` for AWS or an S3-compatible server.
//! - [`objects`]: what S3 keeps with each file (encryption, ACL, storage class, tags) and
//!   the SSE-C key every read sends.
//! - `multipart`: files larger than `s3.part.size`, uploaded in parts, still conditionally.
//! - [`store`]: [`SegmentStore`], the three operations the sink needs, and its S3 implementation.
//! - [`embedded`]: an in-process s3s-fs server on 127.0.0.1 (the zero-set-up default and tests).
//! - `unsigned_body`, `user_agent`: the client's two interceptors (a checksummed body sent
//!   unsigned; one fixed User-Agent in place of the SDK's per-request analytics headers).
//! - `endpoints`: S3's endpoint rules evaluated once per request shape, not twice per request.

pub mod client;
pub mod embedded;
mod endpoints;
pub mod error;
pub mod key_limits;
pub mod keys;
mod multipart;
pub mod objects;
#[cfg(test)]
mod recording_server;
pub mod store;
mod unsigned_body;
mod user_agent;

pub use error::S3Error;
pub use objects::ObjectOptions;
pub use store::{PutOutcome, S3SegmentStore, SegmentMeta, SegmentStore};
