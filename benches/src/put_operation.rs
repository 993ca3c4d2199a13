//! `--put-client operation`: the PUT as one operation of the SDK's own orchestrator
//! (aws-smithy-runtime's `Operation`, built once), with the SDK's default HTTP client, the sink
//! client's timeouts and upload stall setting, standard retries and aws-runtime's SigV4 signer,
//! but none of aws-sdk-s3's plugins, interceptors, serializer or deserializer: what the SDK's
//! machinery costs when only the parts a conditional PUT needs are in it.

use std::fmt;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_runtime::auth::sigv4::{SigV4AuthScheme, SCHEME_ID};
use aws_runtime::auth::{SigV4OperationSigningConfig, SigningOptions};
use aws_sigv4::http_request::SignableBody;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::auth::AuthSchemeOptionResolverParams;
use aws_smithy_runtime_api::client::identity::SharedIdentityResolver;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use aws_smithy_runtime_api::client::runtime_plugin::StaticRuntimePlugin;
use aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::Layer;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::{Region, SigningRegion};
use aws_types::SigningName;
use bytes::Bytes;
use tickstream::s3::SegmentMeta;

use crate::put_clients::{object_path, PutHeaders};

/// One PUT's input: what the serializer turns into the request.
#[derive(Debug)]
pub struct PutInput {
    path: String,
    body: Bytes,
    headers: PutHeaders,
}

/// S3 did not create the object: its status and answer.
#[derive(Debug)]
pub struct Refused(u16, String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3 answered {}: {}", self.0, self.1)
    }
}

impl std::error::Error for Refused {}

/// The conditional PUT, built once, invoked per file.
pub struct OperationPut {
    operation: Operation<PutInput, (), Refused>,
    bucket: String,
}

impl OperationPut {
    /// The operation with `client`'s timeouts, signed with `credentials` for `region`, sent to
    /// `url` (path-style).
    pub fn new(client: &aws_sdk_s3::Client, credentials: Credentials, url: &str, region: &str, bucket: String) -> Self {
        let config = client.config();
        let credentials = SharedCredentialsProvider::new(credentials);
        let components = RuntimeComponentsBuilder::new("tickstream-put")
            .with_auth_scheme(SigV4AuthScheme::new())
            .with_auth_scheme_option_resolver(Some(StaticAuthSchemeOptionResolver::new(vec![SCHEME_ID])))
            .with_identity_resolver(SCHEME_ID, SharedIdentityResolver::new(credentials));
        let mut signing = SigningOptions::default();
        signing.double_uri_encode = false;
        signing.normalize_uri_path = false;
        signing.content_sha256_header = true;
        signing.payload_override = Some(SignableBody::UnsignedPayload);
        let mut layer = Layer::new("tickstream-put");
        layer.store_put(AuthSchemeOptionResolverParams::new(()));
        layer.store_put(SigV4OperationSigningConfig {
            region: Some(SigningRegion::from(Region::new(region.to_owned()))),
            name: Some(SigningName::from_static("s3")),
            signing_options: signing,
            ..Default::default()
        });
        let timeouts = config.timeout_config().cloned().unwrap_or_else(TimeoutConfig::disabled);
        let operation = Operation::builder()
            .service_name("s3")
            .operation_name("PutObject")
            .endpoint_url(url)
            .standard_retry(&RetryConfig::standard())
            .timeout_config(timeouts)
            .stalled_stream_protection(StalledStreamProtectionConfig::enabled().upload_enabled(false).build())
            .runtime_plugin(
                StaticRuntimePlugin::new()
                    .with_config(layer.freeze())
                    .with_runtime_components(components),
            )
            .serializer(serialize)
            .deserializer(deserialize)
            .build();
        Self { operation, bucket }
    }

    pub async fn put(&self, key: &str, body: &Bytes, meta: &SegmentMeta) -> anyhow::Result<()> {
        let input = PutInput {
            path: object_path(&self.bucket, key),
            body: body.clone(),
            headers: PutHeaders::new(body, meta),
        };
        self.operation
            .invoke(input)
            .await
            .map_err(|e| anyhow::anyhow!("PUT {key} through the SDK's orchestrator: {}", DisplayErrorContext(e)))
    }
}

fn serialize(input: PutInput) -> Result<HttpRequest, aws_smithy_runtime_api::box_error::BoxError> {
    let mut request = hyper::Request::put(input.path);
    for (name, value) in input.headers.list() {
        request = request.header(name, value);
    }
    Ok(HttpRequest::try_from(request.body(SdkBody::from(input.body))?)?)
}

fn deserialize(response: &HttpResponse) -> Result<(), OrchestratorError<Refused>> {
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(());
    }
    let answer = response.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
    Err(OrchestratorError::operation(Refused(status, answer.into_owned())))
}
