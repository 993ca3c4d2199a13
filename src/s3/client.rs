//! Building the S3 client for AWS or for an S3-compatible server.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::{Credentials, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::Client;

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
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(endpoint.region.clone()));
    if let Some((ak, sk)) = &endpoint.static_credentials {
        loader = loader.credentials_provider(Credentials::new(ak, sk, None, None, "tickstream-static"));
    }
    let shared = loader.load().await;
    let mut conf = aws_sdk_s3::config::Builder::from(&shared);
    if let Some(url) = &endpoint.url {
        conf = conf
            .endpoint_url(url)
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    Client::from_conf(conf.build())
}
