//! A Schema Registry on 127.0.0.1 for the tests (no Confluent-compatible registry installs here):
//! the REST subset serializers and the converter use, with Confluent's answers and error codes.
//! Real clients talk to it: confluent-kafka's `AvroSerializer` registers schemas, tickstream
//! fetches them. It can be taken down (503s), can require basic auth, can serve HTTPS, and counts
//! what it was asked.
//!
//! - `POST /subjects/{s}/versions` → `{"id"}` (the same schema text keeps its id)
//! - `POST /subjects/{s}` → the subject's version of that schema, or 40403
//! - `GET /schemas/ids/{id}` → `{"schema"}`, or 404 with error code 40403
//! - `GET /schemas/ids/{id}/versions` → `[{"subject", "version"}]`
//! - `GET /subjects/{s}/versions/{v|latest}` → `{"subject", "id", "version", "schema"}`

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{json, Value};

#[derive(Default)]
struct State {
    /// Id → (schema text, schemaType when not Avro).
    schemas: HashMap<u32, (String, Option<String>)>,
    /// Subject → its versions' ids, oldest first.
    subjects: HashMap<String, Vec<u32>>,
    next_id: u32,
    down: bool,
    /// The `Authorization` header every request must carry.
    auth: Option<String>,
    /// `GET /schemas/ids/{id}` requests per id.
    fetches: HashMap<u32, u32>,
    /// Requests refused for their credentials.
    refused: u32,
    /// Every request, answered or not.
    asked: u32,
}

/// The registry; stops when dropped.
pub struct FakeRegistry {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
    https: bool,
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeRegistry {
    /// Plain HTTP; ids start at `first_id` (so they differ from versions).
    pub async fn start(first_id: u32) -> Self {
        Self::serve(first_id, None).await
    }

    /// HTTPS with `cert` and `key` (PEM files).
    pub async fn start_tls(first_id: u32, cert: &std::path::Path, key: &std::path::Path) -> Self {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .expect("cert")
            .collect::<Result<_, _>>()
            .expect("cert PEM");
        let key = PrivateKeyDer::from_pem_file(key).expect("key PEM");
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server certificate");
        Self::serve(first_id, Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls)))).await
    }

    async fn serve(first_id: u32, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            next_id: first_id,
            ..State::default()
        }));
        let shared = state.clone();
        let https = tls.is_some();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (state, tls) = (shared.clone(), tls.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, req).await) }
                    });
                    let builder = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder
                                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            state,
            task,
            https,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Answers 503 to everything while `down`.
    pub fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }

    /// Requires basic auth with `user:password` from now on.
    pub fn require_auth(&self, user_info: &str) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(user_info);
        self.state.lock().unwrap().auth = Some(format!("Basic {b64}"));
    }

    /// `GET /schemas/ids/{id}` requests per id.
    pub fn fetches(&self) -> HashMap<u32, u32> {
        self.state.lock().unwrap().fetches.clone()
    }

    /// Every request so far, answered or not.
    pub fn asked(&self) -> u32 {
        self.state.lock().unwrap().asked
    }

    /// Requests refused for missing or wrong credentials.
    pub fn refused(&self) -> u32 {
        self.state.lock().unwrap().refused
    }

    /// Registers a schema under `subject` as a serializer would; its id.
    pub fn register(&self, subject: &str, schema: &str) -> u32 {
        register(&mut self.state.lock().unwrap(), subject, schema, None)
    }
}

fn register(st: &mut State, subject: &str, schema: &str, kind: Option<String>) -> u32 {
    let id = match st.schemas.iter().find(|(_, (s, _))| s == schema) {
        Some((id, _)) => *id,
        None => {
            let id = st.next_id;
            st.next_id += 1;
            st.schemas.insert(id, (schema.to_owned(), kind));
            id
        }
    };
    let versions = st.subjects.entry(subject.to_owned()).or_default();
    if !versions.contains(&id) {
        versions.push(id);
    }
    id
}

fn reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn not_found(code: u32, message: &str) -> Response<Full<Bytes>> {
    reply(404, json!({"error_code": code, "message": message}))
}

async fn handle(state: &Mutex<State>, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut st = state.lock().unwrap();
    st.asked += 1;
    if st.down {
        return reply(503, json!({"error_code": 50003, "message": "the registry is down"}));
    }
    if st.auth.is_some() && st.auth != auth {
        st.refused += 1;
        return reply(401, json!({"error_code": 401, "message": "Unauthorized"}));
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["subjects", subject, "versions"]) => {
            let b: Value = serde_json::from_slice(&body).unwrap_or_default();
            let schema = b["schema"].as_str().unwrap_or_default().to_owned();
            let kind = b["schemaType"].as_str().filter(|t| *t != "AVRO").map(str::to_owned);
            let id = register(&mut st, &decode(subject), &schema, kind);
            reply(200, json!({"id": id}))
        }
        ("POST", ["subjects", subject]) => {
            let subject = decode(subject);
            let b: Value = serde_json::from_slice(&body).unwrap_or_default();
            let schema = b["schema"].as_str().unwrap_or_default();
            let found = st.subjects.get(&subject).and_then(|ids| {
                ids.iter()
                    .position(|id| st.schemas[id].0 == schema)
                    .map(|i| (ids[i], i + 1))
            });
            match found {
                Some((id, version)) => reply(
                    200,
                    json!({"subject": subject, "id": id, "version": version, "schema": schema}),
                ),
                None => not_found(40403, "Schema not found"),
            }
        }
        ("GET", ["schemas", "ids", id]) => {
            let id: u32 = id.parse().unwrap_or(0);
            *st.fetches.entry(id).or_default() += 1;
            match st.schemas.get(&id) {
                Some((schema, Some(kind))) => reply(200, json!({"schema": schema, "schemaType": kind})),
                Some((schema, None)) => reply(200, json!({"schema": schema})),
                None => not_found(40403, &format!("Schema {id} not found")),
            }
        }
        ("GET", ["schemas", "ids", id, "versions"]) => {
            let id: u32 = id.parse().unwrap_or(0);
            let list: Vec<Value> = st
                .subjects
                .iter()
                .filter_map(|(s, ids)| {
                    let v = ids.iter().position(|i| *i == id)?;
                    Some(json!({"subject": s, "version": v + 1}))
                })
                .collect();
            reply(200, Value::Array(list))
        }
        ("GET", ["subjects", subject, "versions", version]) => {
            let subject = decode(subject);
            let Some(ids) = st.subjects.get(&subject) else {
                return not_found(40401, &format!("Subject '{subject}' not found."));
            };
            let i = match *version {
                "latest" => ids.len(),
                v => v.parse().unwrap_or(0),
            };
            match i.checked_sub(1).and_then(|i| ids.get(i)) {
                Some(id) => reply(
                    200,
                    json!({"subject": subject, "id": id, "version": i, "schema": st.schemas[id].0}),
                ),
                None => not_found(40402, "Version not found."),
            }
        }
        _ => not_found(404, &format!("{method} {path} is not served here")),
    }
}
