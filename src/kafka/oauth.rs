//! OAUTHBEARER for librdkafka clients: every client context answers librdkafka's token-refresh
//! callback from the process's [`TokenCell`], without blocking.

use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rdkafka::client::OAuthToken;
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::ClientContext;

use crate::kafka::token::TokenCell;

/// The answer to librdkafka's OAUTHBEARER refresh callback: the current token, if this process
/// authenticates with MSK IAM.
pub fn answer(token: Option<&TokenCell>) -> Result<OAuthToken, Box<dyn Error>> {
    match token {
        Some(cell) => cell.oauth_token(SystemTime::now()),
        None => Err("OAUTHBEARER requested but kafka.mode is not \"msk_iam\": no token source".into()),
    }
}

/// A context that only authenticates: for short-lived clients (verify, check-auth). It keeps
/// the client-level errors librdkafka reported (e.g. the broker's authentication failure) so a
/// command can say why it could not connect.
#[derive(Clone, Debug, Default)]
pub struct AuthContext {
    pub token: Option<TokenCell>,
    /// (is it an authentication error, librdkafka's description)
    errors: Arc<Mutex<Vec<(bool, String)>>>,
}

impl AuthContext {
    /// The most telling error: the last authentication failure if there was one (a refused login
    /// is followed by "all brokers are down", which says less), else the last error.
    pub fn last_error(&self) -> Option<String> {
        let errors = self.errors.lock().ok()?;
        errors
            .iter()
            .rev()
            .find(|(auth, _)| *auth)
            .or_else(|| errors.last())
            .map(|(_, reason)| reason.clone())
    }
}

impl ClientContext for AuthContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn Error>> {
        answer(self.token.as_ref())
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!("kafka: {reason}");
        let auth = error.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication);
        if let Ok(mut errors) = self.errors.lock() {
            errors.push((
                auth,
                if reason.is_empty() {
                    error.to_string()
                } else {
                    reason.to_owned()
                },
            ));
        }
    }
}

impl ConsumerContext for AuthContext {}

/// librdkafka asks for the first token through an event the consumer's poll serves; until then
/// no broker connection can authenticate, so a metadata request would wait out its timeout.
/// Serves that event before such requests (a no-op for clients that do not use OAUTHBEARER).
pub fn serve_first_token<C: ConsumerContext>(consumer: &BaseConsumer<C>, token: Option<&TokenCell>) {
    if token.is_some() {
        // Nothing is assigned yet, so this poll can only serve events, never return a record.
        let _ = consumer.poll(Duration::from_millis(200));
    }
}

/// A plain consumer (no rebalance hooks) that authenticates with `token` when it is set; its
/// first token is served before it is returned.
pub fn consumer(
    config: &rdkafka::ClientConfig,
    token: Option<&TokenCell>,
) -> rdkafka::error::KafkaResult<BaseConsumer<AuthContext>> {
    let consumer: BaseConsumer<AuthContext> = config.create_with_context(AuthContext {
        token: token.cloned(),
        ..AuthContext::default()
    })?;
    serve_first_token(&consumer, token);
    Ok(consumer)
}
