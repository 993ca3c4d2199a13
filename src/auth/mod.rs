//! MSK IAM authentication: SigV4-signed OAUTHBEARER tokens, kept fresh by an actor and read by
//! every librdkafka client without blocking.
//!
//! - [`token`]: signing one token (what AWS's signers produce, byte for byte).
//! - [`credentials`]: where AWS credentials come from (the default chain or an assumed role).
//! - [`refresher`]: the token-refresh actor: refresh at 80% of the lifetime, retry with backoff,
//!   fail (and be restarted by its supervisor) only once the token has expired.
//! - [`check`]: `tickstream check-auth`.
//! - [`setup`]: the first token and the refresher's child spec, for the pipeline.
//!
//! The token and the cell the refresher writes and every client reads are
//! [`crate::kafka::token`]: the Kafka clients read it, so it sits below them.

pub mod check;
pub mod credentials;
pub mod refresher;
pub mod setup;
pub mod token;

#[cfg(test)]
mod refresher_tests;
#[cfg(test)]
mod token_tests;

/// A boxed cause (the AWS SDK's error types differ by operation).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why a token could not be made. Never carries a secret; the AWS SDK's causes (which name the
/// failing credential source) are kept, and [`crate::error::chain`] says them.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("kafka.region: {0:?} is not an AWS region name")]
    Region(String),
    #[error("signing the MSK IAM token")]
    Signing(#[source] Cause),
    #[error("no AWS credentials")]
    Credentials(#[source] Cause),
}
