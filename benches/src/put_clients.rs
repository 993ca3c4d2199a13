//! The clients `--put-cost` can measure (`--put-client`), each sending the same conditional
//! PUT (content type, the sink's two metadata headers, `If-None-Match: *`, the body's CRC32)
//! to the run's s3s-fs:
//!
//! - `tickstream`: the sink's own store (`S3SegmentStore::put_new`) on the sink's client.
//! - `sdk`: aws-sdk-s3 as its guide builds a client (`aws_config::defaults` with the endpoint,
//!   path-style addressing, and checksums only where required, which s3s-fs needs): what the
//!   SDK costs before tickstream's changes to its client.
//! - `presigned`: the sink's client presigns the request (aws-sdk-s3's `presigned`: its
//!   serializer, endpoint, credentials and signature, nothing sent) and hyper-util's pooled
//!   client, the HTTP client under the SDK, sends it: the SDK's pipeline up to the signature.
//! - `sigv4`: no SDK. The request is signed with aws-sigv4 (unsigned payload, as tickstream
//!   sends it) and sent by the same hyper-util client: what a signed PUT costs without the
//!   SDK's per-request pipeline.
//! - `operation`: the SDK's own orchestrator with only what the PUT needs, built once
//!   (`put_operation.rs`): the least of the SDK's machinery a signed PUT can go through.

use std::time::{Duration, SystemTime};

use crate::put_operation::OperationPut;
use anyhow::Context as _;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client as HttpClient};
use hyper_util::rt::TokioExecutor;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tickstream::s3::client::S3Endpoint;
use tickstream::s3::{S3SegmentStore, SegmentMeta, SegmentStore};

/// Which client sends the PUTs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PutClient {
    Tickstream,
    Sdk,
    Presigned,
    Sigv4,
    Operation,
}

/// A client of one kind, ready to PUT into the sink's bucket.
pub enum Putter {
    Tickstream(S3SegmentStore),
    Sdk(aws_sdk_s3::Client, String),
    Presigned(aws_sdk_s3::Client, Http, String),
    Sigv4(Box<SignedPut>),
    Operation(Box<OperationPut>),
}

impl Putter {
    /// A client of `endpoint` (its URL and static credentials); `store` is the sink's store of
    /// the bucket (the `tickstream` client).
    pub async fn new(kind: PutClient, endpoint: &S3Endpoint, store: &S3SegmentStore) -> anyhow::Result<Self> {
        let url = endpoint.url.as_deref().context("an S3-compatible server's URL")?;
        let (key, secret) = endpoint.static_credentials.clone().context("static credentials")?;
        let credentials = Credentials::new(key, secret, None, None, "bench");
        let bucket = store.bucket().to_owned();
        Ok(match kind {
            PutClient::Tickstream => Putter::Tickstream(store.clone()),
            PutClient::Sdk => Putter::Sdk(sdk_client(url, &endpoint.region, credentials).await, bucket),
            PutClient::Presigned => {
                let client = tickstream::s3::client::build(endpoint).await;
                Putter::Presigned(client, http(), bucket)
            }
            PutClient::Sigv4 => Putter::Sigv4(Box::new(SignedPut::new(url, &endpoint.region, bucket, credentials))),
            PutClient::Operation => {
                let client = tickstream::s3::client::build(endpoint).await;
                Putter::Operation(Box::new(OperationPut::new(
                    &client,
                    credentials,
                    url,
                    &endpoint.region,
                    bucket,
                )))
            }
        })
    }

    /// Writes `body` at `key` unless the key exists; an error unless S3 created it.
    pub async fn put(&self, key: &str, body: &Bytes, meta: &SegmentMeta) -> anyhow::Result<()> {
        match self {
            Putter::Tickstream(store) => {
                store.put_new(key, body.clone(), meta.clone()).await?;
            }
            Putter::Sdk(client, bucket) => {
                sdk_put(client, bucket, key, body, meta)
                    .body(ByteStream::from(body.clone()))
                    .send()
                    .await
                    .with_context(|| format!("PUT {key} through the SDK"))?;
            }
            Putter::Presigned(client, http, bucket) => {
                let presigned = sdk_put(client, bucket, key, body, meta)
                    .presigned(PresigningConfig::expires_in(Duration::from_secs(900))?)
                    .await
                    .with_context(|| format!("presigning PUT {key}"))?;
                let mut request = hyper::Request::put(presigned.uri());
                for (name, value) in presigned.headers() {
                    request = request.header(name, value);
                }
                send(http, request.body(Full::new(body.clone()))?, key).await?;
            }
            Putter::Sigv4(signed) => signed.put(key, body, meta).await?,
            Putter::Operation(operation) => operation.put(key, body, meta).await?,
        }
        Ok(())
    }
}

/// The request through the SDK, all but its body.
fn sdk_put(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    meta: &SegmentMeta,
) -> PutObjectFluentBuilder {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .metadata("tickstream-end-offset", meta.end_offset.to_string())
        .metadata("tickstream-records", meta.records.to_string())
        .if_none_match("*")
        .checksum_crc32(crc32_base64(body))
}

/// aws-sdk-s3 with its defaults, pointed at an S3-compatible server.
async fn sdk_client(url: &str, region: &str, credentials: Credentials) -> aws_sdk_s3::Client {
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .load()
        .await;
    let conf = aws_sdk_s3::config::Builder::from(&shared)
        .endpoint_url(url)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn crc32_base64(body: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(body).to_be_bytes())
}

/// S3's encoding of a key in the path: everything but the unreserved characters and `/`.
const KEY_IN_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// The path of `key` in `bucket`, path-style.
pub fn object_path(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", utf8_percent_encode(key, KEY_IN_PATH))
}

/// The headers of the PUT that the clients without aws-sdk-s3's serializer write themselves:
/// the values, built once per request.
#[derive(Debug)]
pub struct PutHeaders {
    length: String,
    crc: String,
    end_offset: String,
    records: String,
}

impl PutHeaders {
    pub fn new(body: &[u8], meta: &SegmentMeta) -> Self {
        Self {
            length: body.len().to_string(),
            crc: crc32_base64(body),
            end_offset: meta.end_offset.to_string(),
            records: meta.records.to_string(),
        }
    }

    /// Each header's name and value.
    pub fn list(&self) -> [(&'static str, &str); 6] {
        [
            ("content-type", "application/json"),
            ("content-length", &self.length),
            ("if-none-match", "*"),
            ("x-amz-checksum-crc32", &self.crc),
            ("x-amz-meta-tickstream-end-offset", &self.end_offset),
            ("x-amz-meta-tickstream-records", &self.records),
        ]
    }
}

/// hyper-util's pooled HTTP/1 client, as the SDK uses it.
type Http = HttpClient<HttpConnector, Full<Bytes>>;

fn http() -> Http {
    HttpClient::builder(TokioExecutor::new()).build_http()
}

/// Sends `request`; an error unless S3 answers 2xx.
async fn send(http: &Http, request: hyper::Request<Full<Bytes>>, key: &str) -> anyhow::Result<()> {
    let response = http.request(request).await?;
    let status = response.status();
    let answer = response.into_body().collect().await?.to_bytes();
    anyhow::ensure!(
        status.is_success(),
        "PUT {key}: {status} {}",
        String::from_utf8_lossy(&answer)
    );
    Ok(())
}

/// A SigV4-signed PUT sent by hyper-util's client, no SDK.
pub struct SignedPut {
    http: Http,
    url: String,
    host: String,
    region: String,
    bucket: String,
    identity: Identity,
}

impl SignedPut {
    fn new(url: &str, region: &str, bucket: String, credentials: Credentials) -> Self {
        let host = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        Self {
            http: http(),
            url: url.trim_end_matches('/').to_owned(),
            host,
            region: region.to_owned(),
            bucket,
            identity: credentials.into(),
        }
    }

    async fn put(&self, key: &str, body: &Bytes, meta: &SegmentMeta) -> anyhow::Result<()> {
        let uri = format!("{}{}", self.url, object_path(&self.bucket, key));
        let values = PutHeaders::new(body, meta);
        let [a, b, c, d, e, f] = values.list();
        let headers = [("host", self.host.as_str()), a, b, c, d, e, f];
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()?
            .into();
        let signable = SignableRequest::new("PUT", &uri, headers.iter().copied(), SignableBody::UnsignedPayload)?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut request = hyper::Request::put(&uri);
        for (name, value) in headers.iter().copied().chain(instructions.headers()) {
            request = request.header(name, value);
        }
        send(&self.http, request.body(Full::new(body.clone()))?, key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;
    use tickstream::s3::embedded::EmbeddedS3;

    /// Every client's PUT lands in a server that checks SigV4 (s3s-fs), whole and with its
    /// metadata, and is conditional: a second PUT of other bytes at the key is refused.
    #[tokio::test]
    async fn every_client_writes_the_file_with_its_metadata_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let s3 = EmbeddedS3::start(dir.path(), 0).await.unwrap();
        let endpoint = s3.endpoint();
        let store = S3SegmentStore::new(tickstream::s3::client::build(&endpoint).await, "clients");
        store.ensure_bucket().await.unwrap();
        let body = Bytes::from_static(b"{\"symbol\":\"S1\"}\n{\"symbol\":\"S2\"}\n");
        let meta = SegmentMeta {
            start_offset: 40,
            end_offset: 42,
            records: 2,
            error: None,
        };
        for kind in PutClient::value_variants() {
            let putter = Putter::new(*kind, &endpoint, &store).await.unwrap();
            let key = format!("topics/t/partition=0/{kind:?}+0+0000000040.json");
            putter.put(&key, &body, &meta).await.unwrap();
            assert_eq!(store.get(&key).await.unwrap(), body, "{kind:?}");
            assert_eq!(store.end_offset(&key).await.unwrap(), Some(42), "{kind:?}");
            let other = Bytes::from_static(b"{\"symbol\":\"S3\"}\n");
            assert!(
                putter.put(&key, &other, &meta).await.is_err(),
                "{kind:?}: a second PUT of {key}"
            );
            assert_eq!(store.get(&key).await.unwrap(), body, "{kind:?}");
        }
        s3.stop().await;
    }
}
