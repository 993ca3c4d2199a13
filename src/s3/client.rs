//! Building the S3 client for AWS or for an S3-compatible server.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    Credentials, RequestChecksumCalculation, ResponseChecksumValidation, SharedInterceptor,
    StalledStreamProtectionConfig,
};
use aws_sdk_s3::Client;

/// How long a connection to S3 may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long S3 may stay silent while a request waits for its answer: a server that accepted
/// the connection and then stopped answering (a crash mid-request, a network that drops
/// packets) fails the attempt, which is retried, instead of holding the upload, and its
/// partition's commits, for ever. Bodies of any size still go up (this bounds silence, not
/// the whole request).
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to reach S3.
#[derive(Clone, Debug)]
pub struct S3Endpoint {
    /// `http://127.0.0.1:PORT` for s3s-fs or MinIO; `None` for Amazon S3.
    pub url: Option<String>,
    pub region: String,
    /// Fixed credentials (the embedded server's); `None` uses the AWS default chain
    /// (env, profile, web identity, EC2 instance metadata).
    pub static_credentials: Option<(String, String)>,
}

impl S3Endpoint {
    /// Where `[s3]` points, with credentials from the AWS default chain; `None` in embedded mode
    /// (the embedded server supplies its own endpoint).
    pub fn from_config(s3: &crate::config::S3Config) -> Option<Self> {
        let url = match s3.mode {
            crate::config::S3Mode::Embedded => return None,
            crate::config::S3Mode::Endpoint => s3.endpoint.clone(),
            crate::config::S3Mode::Aws => None,
        };
        Some(Self {
            url,
            region: s3.region.clone(),
            static_credentials: None,
        })
    }
}

impl S3Endpoint {
    /// Where requests go, for logs and `/readyz`.
    pub fn address(&self) -> String {
        match &self.url {
            Some(url) => url.clone(),
            None => format!("https://s3.{}.amazonaws.com", self.region),
        }
    }
}

/// A client for `endpoint`. S3-compatible servers get path-style addressing and checksums only
/// where the API requires them (s3s-fs and others reject the newer default trailers).
pub async fn build(endpoint: &S3Endpoint) -> Client {
    build_with(endpoint, CONNECT_TIMEOUT, READ_TIMEOUT).await
}

async fn build_with(endpoint: &S3Endpoint, connect: Duration, read: Duration) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(endpoint.region.clone()));
    if let Some((ak, sk)) = &endpoint.static_credentials {
        loader = loader.credentials_provider(Credentials::new(ak, sk, None, None, "tickstream-static"));
    }
    let shared = loader.load().await;
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(connect)
        .read_timeout(read)
        .build();
    // An upload that stalls (a server that stops reading) never gets its answer, and the read
    // timeout fails it; the SDK's own watch of upload throughput wrapped every body in a
    // future that checked the clock on each poll. Downloads keep it: the read timeout ends
    // when the answer's head arrives, and a body that stops after it would hold a read.
    let stalls = StalledStreamProtectionConfig::enabled().upload_enabled(false).build();
    let mut conf = aws_sdk_s3::config::Builder::from(&shared)
        .timeout_config(timeouts)
        .stalled_stream_protection(stalls)
        .endpoint_resolver(super::endpoints::KeptEndpoints::default());
    // The orchestrator calls each of these only at the hooks it overrides (their
    // `#[dyn_dispatch_hint]`; without it, at all nineteen of a request's hooks) and, being
    // permanent, without first looking up in the request's configuration bag whether something
    // disabled it (what `.interceptor(…)` registers is looked up at each of its hooks). The
    // macro is the one the SDK's own interceptors use, hidden from its docs: an SDK release
    // without it fails this build, and a test here holds each interceptor to its hooks.
    conf.push_interceptor(SharedInterceptor::permanent(super::unsigned_body::UnsignedBody))
        .push_interceptor(SharedInterceptor::permanent(super::user_agent::FixedUserAgent));
    if let Some(url) = &endpoint.url {
        conf = conf
            .endpoint_url(url)
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    Client::from_conf(conf.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::Intercept;
    use aws_smithy_runtime_api::client::interceptors::OverriddenHooks;

    #[tokio::test]
    async fn the_clients_own_interceptors_are_called_only_at_the_hooks_they_override() {
        let endpoint = S3Endpoint {
            url: Some("http://127.0.0.1:9".into()),
            region: "us-east-1".into(),
            static_credentials: Some(("k".into(), "s".into())),
        };
        let client = build(&endpoint).await;
        let hooks = |name: &str| {
            let mut ours = client.config().interceptors().filter(|i| i.name() == name);
            let found = ours.next().unwrap_or_else(|| panic!("{name} is registered"));
            assert!(ours.next().is_none(), "{name} is registered once");
            found.overridden_hooks()
        };
        assert_eq!(
            hooks("tickstream::UnsignedBody"),
            OverriddenHooks::MODIFY_BEFORE_SIGNING
        );
        assert_eq!(
            hooks("tickstream::FixedUserAgent"),
            OverriddenHooks::READ_BEFORE_EXECUTION | OverriddenHooks::MODIFY_BEFORE_SIGNING
        );
    }

    #[tokio::test]
    async fn a_server_that_accepts_and_never_answers_fails_the_request_instead_of_holding_it() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // Accepts every connection and keeps it open without a byte of answer.
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let endpoint = S3Endpoint {
            url: Some(url),
            region: "us-east-1".into(),
            static_credentials: Some(("k".into(), "s".into())),
        };
        let client = build_with(&endpoint, Duration::from_secs(1), Duration::from_millis(500)).await;
        let put = client
            .put_object()
            .bucket("b")
            .key("k")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
            .send();
        // Generous: the SDK retries the timed-out attempt (three attempts with backoff).
        let answer = tokio::time::timeout(Duration::from_secs(20), put).await;
        let err = answer.expect("the request ends on its own").unwrap_err();
        let text = format!("{:?}", err);
        assert!(
            text.to_lowercase().contains("timeout") || text.contains("Timeout"),
            "{text}"
        );
        held.abort();
    }
}
