//! `tickstream check-auth`: sign a token, connect with OAUTHBEARER, fetch metadata, and say in
//! plain words what worked and what did not.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use rdkafka::consumer::Consumer;

use super::setup::KafkaAuth;
use crate::config::Config;
use crate::kafka::{client_config, oauth};

/// What `check-auth` found.
#[derive(Debug)]
pub struct AuthCheck {
    /// Where the credentials came from.
    pub credentials: String,
    /// The IAM principal (STS GetCallerIdentity), or why it is unknown.
    pub principal: Result<String, String>,
    /// When the signed token expires.
    pub token_expires_at: SystemTime,
    /// Brokers and whether the pipeline's topic exists, or the broker's error.
    pub metadata: Result<(usize, bool), String>,
    pub topic: String,
}

impl AuthCheck {
    pub fn ok(&self) -> bool {
        self.metadata.is_ok()
    }

    /// The report, one fact per line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "credentials:   {}", self.credentials);
        let _ = match &self.principal {
            Ok(arn) => writeln!(out, "principal:     {arn}"),
            Err(why) => writeln!(out, "principal:     unknown ({why})"),
        };
        let expires = chrono::DateTime::<chrono::Utc>::from(self.token_expires_at);
        let left = self
            .token_expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "token:         signed, expires {} (in {} s)",
            expires.format("%Y-%m-%dT%H:%M:%SZ"),
            left.as_secs()
        );
        let _ = match &self.metadata {
            Ok((brokers, true)) => writeln!(
                out,
                "kafka:         authenticated; {brokers} brokers; topic {} exists",
                self.topic
            ),
            Ok((brokers, false)) => writeln!(
                out,
                "kafka:         authenticated; {brokers} brokers; topic {} does NOT exist (create it before `run`)",
                self.topic
            ),
            Err(why) => writeln!(out, "kafka:         FAILED: {why}"),
        };
        out
    }
}

/// Runs the check against `config`'s cluster (`kafka.mode` must be `msk_iam`).
pub async fn check_auth(config: &Config, timeout: Duration) -> Result<AuthCheck, super::AuthError> {
    let auth = KafkaAuth::msk_iam(&config.kafka).await?;
    let token_expires_at = auth.token.current().map_or(SystemTime::UNIX_EPOCH, |t| t.expires_at);
    let principal = caller_identity(config).await;
    let client = client_config::base(&config.kafka, &config.kafka.bootstrap_servers);
    let topic = config.producer.topic.clone();
    let token = auth.token.clone();
    let metadata = {
        let topic = topic.clone();
        tokio::task::spawn_blocking(move || fetch_metadata(&client, &token, &topic, timeout))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    };
    Ok(AuthCheck {
        credentials: auth.credentials,
        principal,
        token_expires_at,
        metadata,
        topic,
    })
}

fn fetch_metadata(
    client: &rdkafka::ClientConfig,
    token: &crate::kafka::token::TokenCell,
    topic: &str,
    timeout: Duration,
) -> Result<(usize, bool), String> {
    let consumer = oauth::consumer(client, Some(token)).map_err(|e| e.to_string())?;
    // Poll while the request is under way so authentication errors are reported.
    let deadline = std::time::Instant::now() + timeout;
    let result = consumer.fetch_metadata(None, timeout);
    let _ = consumer.poll(Duration::from_millis(100));
    match result {
        Ok(m) => Ok((m.brokers().len(), m.topics().iter().any(|t| t.name() == topic))),
        Err(e) => {
            let broker_said = consumer.context().last_error();
            let waited = timeout.saturating_sub(deadline.saturating_duration_since(std::time::Instant::now()));
            Err(match broker_said {
                Some(reason) => format!("{reason} (metadata request: {e}, after {} s)", waited.as_secs()),
                None => format!("no answer with metadata within {} s: {e}", waited.as_secs()),
            })
        }
    }
}

/// The IAM principal behind the credentials (STS GetCallerIdentity, 10 s at most).
async fn caller_identity(config: &Config) -> Result<String, String> {
    let region = config.kafka.region.clone().unwrap_or_default();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&conf);
    match tokio::time::timeout(Duration::from_secs(10), sts.get_caller_identity().send()).await {
        Ok(Ok(id)) => Ok(id.arn().unwrap_or("(no ARN returned)").to_owned()),
        Ok(Err(e)) => Err(format!("sts:GetCallerIdentity failed: {}", crate::error::chain(&e))),
        Err(_) => Err("sts:GetCallerIdentity did not answer within 10 s".into()),
    }
}
