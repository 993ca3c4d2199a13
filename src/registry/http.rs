//! The registry's HTTP side: GETs against its URLs in turn (the one that answered last goes
//! first), with basic auth and TLS, each bounded by a timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{ACCEPT, AUTHORIZATION};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::RegistryError;
use crate::config::{AuthSource, RegistryUrl, SinkConfig};

/// How long one request may take before the next URL is tried.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema Registry's content type (its JSON too).
const ACCEPTED: &str = "application/vnd.schemaregistry.v1+json, application/json";

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// A registry's URLs and how to call them.
pub struct Http {
    urls: Vec<RegistryUrl>,
    /// `Basic …`, when credentials are configured.
    auth: Vec<Option<String>>,
    client: Client<Https, Empty<Bytes>>,
    /// The URL to try first: the last that answered.
    first: AtomicUsize,
}

/// A response: its status and body.
pub struct Response {
    pub status: u16,
    pub body: Bytes,
    /// The URL that answered.
    pub url: String,
}

impl Http {
    /// The registry `[sink]` names, or why it cannot be called (no URL, a CA file that does not
    /// read).
    pub fn new(sink: &SinkConfig) -> Result<Self, RegistryError> {
        let urls = sink
            .registry_url
            .as_ref()
            .map(|u| u.0.clone())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| RegistryError::Config("value.converter.schema.registry.url is not set".into()))?;
        let configured = sink.registry_user_info.as_ref().map(|s| s.0.clone());
        let auth = urls
            .iter()
            .map(|u| {
                let user_info = match sink.registry_auth_source {
                    AuthSource::Url => u.user_info.as_ref().map(|s| s.0.clone()),
                    AuthSource::UserInfo => configured.clone(),
                };
                user_info.map(|ui| {
                    use base64::Engine;
                    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(ui))
                })
            })
            .collect();
        let client = client(sink.registry_ca_location.as_deref(), urls.iter().any(|u| u.https))?;
        Ok(Self {
            urls,
            auth,
            client,
            first: AtomicUsize::new(0),
        })
    }

    /// The URLs, safe to show.
    pub fn addresses(&self) -> String {
        self.urls.iter().map(|u| u.base.as_str()).collect::<Vec<_>>().join(",")
    }

    /// `GET <url><path>` against each URL in turn until one answers with anything but a server
    /// error; the last failure otherwise.
    pub async fn get(&self, path: &str) -> Result<Response, RegistryError> {
        let n = self.urls.len();
        let first = self.first.load(Ordering::Relaxed) % n;
        let mut last = None;
        for i in (0..n).map(|k| (first + k) % n) {
            match self.get_one(i, path).await {
                Ok(r) if r.status < 500 && r.status != 429 => {
                    self.first.store(i, Ordering::Relaxed);
                    return Ok(r);
                }
                Ok(r) => {
                    last = Some(RegistryError::Server {
                        url: r.url,
                        status: r.status,
                        message: message(&r.body),
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| RegistryError::Config("no registry URL".into())))
    }

    async fn get_one(&self, i: usize, path: &str) -> Result<Response, RegistryError> {
        let url = format!("{}{path}", self.urls[i].base);
        let unreachable = |cause: String| RegistryError::Unreachable {
            url: url.clone(),
            cause,
        };
        let mut req = hyper::Request::get(&url).header(ACCEPT, ACCEPTED);
        if let Some(auth) = &self.auth[i] {
            req = req.header(AUTHORIZATION, auth);
        }
        let req = req.body(Empty::new()).map_err(|e| unreachable(e.to_string()))?;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| unreachable(crate::error::chain(&e)))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| unreachable(e.to_string()))?
                .to_bytes();
            Ok(Response {
                status,
                body,
                url: url.clone(),
            })
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(r) => r,
            Err(_) => Err(unreachable(format!("no answer within {REQUEST_TIMEOUT:?}"))),
        }
    }
}

/// The registry's `message` in an error body, or the body's start.
pub fn message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Error {
        error_code: Option<i64>,
        message: Option<String>,
    }
    match serde_json::from_slice::<Error>(body) {
        Ok(Error {
            error_code: Some(code),
            message: Some(m),
        }) => format!("{m} (error {code})"),
        Ok(Error { message: Some(m), .. }) => m,
        _ => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

/// HTTP and HTTPS: the system's CA certificates and those of `ca_file`.
fn client(ca_file: Option<&std::path::Path>, https: bool) -> Result<Client<Https, Empty<Bytes>>, RegistryError> {
    let mut roots = crate::tls::host_roots();
    if let Some(path) = ca_file {
        let shown = path.display();
        let pem = std::fs::read(path).map_err(|e| {
            RegistryError::Config(format!("value.converter.schema.registry.ssl.ca.location {shown}: {e}"))
        })?;
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| {
                RegistryError::Config(format!(
                    "value.converter.schema.registry.ssl.ca.location {shown}: not PEM certificates: {e}"
                ))
            })?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(RegistryError::Config(format!(
                "value.converter.schema.registry.ssl.ca.location {shown}: no certificate in it"
            )));
        }
    }
    if https && roots.is_empty() {
        return Err(RegistryError::Config(
            "no CA certificates found on this host (install ca-certificates, or set \
             value.converter.schema.registry.ssl.ca.location)"
                .into(),
        ));
    }
    let tls = crate::tls::client_config(roots).map_err(|e| RegistryError::Config(format!("TLS: {e}")))?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
