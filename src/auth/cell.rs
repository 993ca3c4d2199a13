//! The shared token cell: the refresher writes it, librdkafka's OAUTHBEARER callback reads it.
//!
//! librdkafka calls `generate_oauth_token` synchronously on one of its own threads; it must never
//! wait on async work or on the network. Reading the cell is a pointer copy under a lock that
//! writers hold only to swap a pointer (signing happens before, outside the lock).

use std::error::Error;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rdkafka::client::OAuthToken;

use super::token::MskToken;

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
