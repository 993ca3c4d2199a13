//! MSK IAM for one process: the first token, the cell every client reads, and the refresher.

use std::sync::Arc;

use supervisors::{ChildSpec, Restart};

use super::credentials::{AwsCredentialChain, CredentialSource};
use super::refresher::{refresh_delay, refresher_spec, system_clock, RefresherArgs};
use super::token::user_agent;
use super::AuthError;
use crate::config::KafkaConfig;
use crate::kafka::token::TokenCell;
use crate::telemetry::events;

/// What the pipeline needs for MSK IAM: the token cell and the refresher's child spec.
#[derive(Clone)]
pub struct KafkaAuth {
    pub token: TokenCell,
    /// The token-refresh actor's child spec, with the restart kind the tree gives it.
    pub refresher: Arc<dyn Fn(Restart) -> ChildSpec + Send + Sync>,
    /// Where the credentials come from (for logs and `check-auth`).
    pub credentials: String,
}

impl std::fmt::Debug for KafkaAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaAuth")
            .field("token", &self.token.current())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl KafkaAuth {
    /// Signs the first token (so clients can connect at once) and prepares the refresher.
    pub async fn start<C: CredentialSource>(args: RefresherArgs<C>) -> Result<Self, AuthError> {
        events::token_auth_started();
        let token = args.sign().await?;
        let now = (args.clock)();
        events::token_refreshed(token.remaining(now), refresh_delay(&token, now));
        args.cell.publish(token);
        Ok(Self {
            token: args.cell.clone(),
            credentials: args.credentials.describe(),
            refresher: Arc::new(move |restart| refresher_spec(args.clone(), restart)),
        })
    }

    /// MSK IAM from `[kafka]`: the default credential chain (or `iam_role_arn`) for `region`.
    pub async fn msk_iam(kafka: &KafkaConfig) -> Result<Self, AuthError> {
        let region = kafka.region.clone().unwrap_or_default();
        let chain = AwsCredentialChain::load(&region, kafka.iam_role_arn.as_deref()).await?;
        Self::start(RefresherArgs {
            region,
            user_agent: user_agent(),
            credentials: Arc::new(chain),
            cell: TokenCell::new(),
            clock: system_clock(),
        })
        .await
    }
}

/// One token for `region`, signed now with the default chain's credentials (or `role_arn`
/// assumed on top): `tickstream auth token`.
pub async fn sign_once(region: &str, role_arn: Option<&str>) -> Result<super::token::MskToken, AuthError> {
    let chain = AwsCredentialChain::load(region, role_arn).await?;
    let credentials = chain.credentials().await?;
    super::token::sign_token(region, &credentials, std::time::SystemTime::now(), &user_agent())
}
