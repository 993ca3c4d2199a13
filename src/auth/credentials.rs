//! Where the AWS credentials that sign MSK tokens come from.

use std::future::Future;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use super::AuthError;

/// A source of AWS credentials (a trait so the refresher can be tested with a fake).
pub trait CredentialSource: Send + Sync + 'static {
    /// Current credentials; a provider caches and refreshes them itself.
    fn credentials(&self) -> impl Future<Output = Result<Credentials, AuthError>> + Send;
    /// Where they come from, for logs and `check-auth` (never a secret).
    fn describe(&self) -> String;
}

/// aws-config's default chain (env, shared profile, web identity, ECS, EC2 instance metadata),
/// optionally through an assumed role.
#[derive(Clone, Debug)]
pub struct AwsCredentialChain {
    provider: SharedCredentialsProvider,
    description: String,
}

impl AwsCredentialChain {
    /// Loads the default chain for `region`; with `role_arn`, assumes that role on top of it.
    pub async fn load(region: &str, role_arn: Option<&str>) -> Result<Self, AuthError> {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .load()
            .await;
        let base = conf
            .credentials_provider()
            .ok_or_else(|| AuthError::Credentials("aws-config found no credentials provider".into()))?;
        Ok(match role_arn {
            None => Self {
                provider: base,
                description: "the AWS default credential chain".into(),
            },
            Some(role) => {
                let assumed = aws_config::sts::AssumeRoleProvider::builder(role)
                    .session_name("tickstream")
                    .configure(&conf)
                    .build()
                    .await;
                Self {
                    provider: SharedCredentialsProvider::new(assumed),
                    description: format!("role {role} assumed with the AWS default credential chain"),
                }
            }
        })
    }
}

impl CredentialSource for AwsCredentialChain {
    async fn credentials(&self) -> Result<Credentials, AuthError> {
        // The provider's error chain names the failing source (no secrets in it).
        self.provider
            .provide_credentials()
            .await
            .map_err(|e| AuthError::Credentials(Box::new(e)))
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
