//! MSK IAM authentication: SigV4-signed OAUTHBEARER tokens, kept fresh by an actor and read by
//! every librdkafka client without blocking.
//!
//! - [`token`]: signing one token (what AWS's signers produce, byte for byte).
//! - [`credentials`]: where AWS credentials come from (the default chain or an assumed role).
//! - [`cell`]: the shared cell the refresher writes and the client contexts read.
//! - [`refresher`]: the token-refresh actor: refresh at 80% of the lifetime, retry with backoff,
//!   fail (and be restarted by its supervisor) only once the token has expired.
//! - [`check`]: `tickstream check-auth`.
//! - [`setup`]: the first token and the refresher's child spec, for the pipeline.

pub mod cell;
pub mod check;
pub mod credentials;
pub mod refresher;
pub mod setup;
pub mod token;

#[cfg(test)]
mod cell_tests;
#[cfg(test)]
mod refresher_tests;
#[cfg(test)]
mod token_tests;

/// An error and its sources, joined with ": " (AWS SDK errors keep the useful part in sources).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Why a token could not be made. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("kafka.region: {0:?} is not an AWS region name")]
    Region(String),
    #[error("signing the MSK IAM token: {0}")]
    Signing(String),
    #[error("no AWS credentials: {0}")]
    Credentials(String),
}
