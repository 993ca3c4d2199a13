//! The MSK IAM token and the cell every client reads it from: the token-refresh actor
//! ([`crate::auth::refresher`]) writes the cell, librdkafka's OAUTHBEARER callback reads it.
//!
//! librdkafka calls `generate_oauth_token` synchronously on one of its own threads; it must never
//! wait on async work or on the network. Reading the cell is a pointer copy under a lock that
//! writers hold only to swap a pointer (signing happens before, outside the lock).

use std::error::Error;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rdkafka::client::OAuthToken;

/// One signed token. `Debug` and `Display` never show the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct MskToken {
    value: String,
    /// The `X-Amz-Date` it was signed with.
    pub signed_at: SystemTime,
    /// `signed_at` + 900 s, or the credentials' own expiry if sooner.
    pub expires_at: SystemTime,
}

impl MskToken {
    /// A token signed at `signed_at`, valid until `expires_at` ([`crate::auth::token`] signs it).
    pub fn new(value: String, signed_at: SystemTime, expires_at: SystemTime) -> Self {
        Self {
            value,
            signed_at,
            expires_at,
        }
    }

    /// The token for `rd_kafka_oauthbearer_set_token`. A credential: never log it.
    pub fn secret_value(&self) -> &str {
        &self.value
    }

    /// Time left at `now` (zero once expired).
    pub fn remaining(&self, now: SystemTime) -> Duration {
        self.expires_at.duration_since(now).unwrap_or(Duration::ZERO)
    }

    /// Expiry in milliseconds since the Unix epoch (librdkafka's `md_lifetime_ms`).
    pub fn expires_at_unix_ms(&self) -> i64 {
        self.expires_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

impl fmt::Debug for MskToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MskToken")
            .field("value", &"<redacted>")
            .field("signed_at", &self.signed_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The principal name librdkafka attaches to the token (MSK authenticates the signature, not
/// this name; AWS's signers leave it to the client too).
pub const PRINCIPAL: &str = "tickstream";

/// The current MSK IAM token, shared by every Kafka client of the process.
#[derive(Clone, Debug, Default)]
pub struct TokenCell(Arc<RwLock<Option<Arc<MskToken>>>>);

impl TokenCell {
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes a fresh token.
    pub fn publish(&self, token: MskToken) {
        let token = Arc::new(token);
        match self.0.write() {
            Ok(mut slot) => *slot = Some(token),
            Err(poisoned) => *poisoned.into_inner() = Some(token),
        }
    }

    /// The current token, if any.
    pub fn current(&self) -> Option<Arc<MskToken>> {
        match self.0.read() {
            Ok(slot) => slot.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// What librdkafka's OAUTHBEARER refresh callback returns: the current token if it is still
    /// valid at `now`, else an error librdkafka reports (and retries) without a secret in it.
    pub fn oauth_token(&self, now: SystemTime) -> Result<OAuthToken, Box<dyn Error>> {
        let Some(token) = self.current() else {
            return Err("no MSK IAM token yet: the token-refresh actor has not signed one".into());
        };
        if token.remaining(now).is_zero() {
            return Err("the MSK IAM token has expired and the token-refresh actor has not replaced it".into());
        }
        Ok(OAuthToken {
            token: token.secret_value().to_owned(),
            principal_name: PRINCIPAL.to_owned(),
            lifetime_ms: token.expires_at_unix_ms(),
        })
    }
}
