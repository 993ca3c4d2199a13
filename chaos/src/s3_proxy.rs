//! A fault-injecting HTTP proxy for S3: forwards every request to the real server, or, while a
//! fault is switched on, answers the way a struggling S3 does (503 SlowDown, 500 InternalError)
//! or drops the connection. Requests are forwarded with their `Host` header untouched, so SigV4
//! signatures made for the proxy's address still verify upstream.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// What the proxy does with the next requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Forward to the real server.
    None = 0,
    /// `503 SlowDown`: S3's throttling answer.
    SlowDown = 1,
    /// `500 InternalError`.
    InternalError = 2,
    /// Close the connection without answering.
    Drop = 3,
}

impl Fault {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Fault::SlowDown,
            2 => Fault::InternalError,
            3 => Fault::Drop,
            _ => Fault::None,
        }
    }
}

/// A running proxy on 127.0.0.1.
pub struct S3FaultProxy {
    addr: SocketAddr,
    fault: Arc<AtomicU8>,
    faulted: Arc<AtomicU64>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl S3FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (fault, faulted) = (Arc::new(AtomicU8::new(Fault::None as u8)), Arc::new(AtomicU64::new(0)));
        let (stop, mut stopped) = watch::channel(false);
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let (f, n) = (fault.clone(), faulted.clone());
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((socket, _)) = accepted else { continue };
                        let (client, f, n) = (client.clone(), f.clone(), n.clone());
                        connections.spawn(async move {
                            let svc = hyper::service::service_fn(move |req| {
                                let (client, f, n) = (client.clone(), f.clone(), n.clone());
                                async move { handle(req, upstream, &client, &f, &n).await }
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(socket), svc)
                                .await;
                        });
                    }
                    _ = stopped.changed() => break,
                }
            }
            connections.shutdown().await;
        });
        Ok(Self {
            addr,
            fault,
            faulted,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`: point tickstream's `s3.endpoint` here.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the fault for the requests that follow.
    pub fn set(&self, fault: Fault) {
        self.fault.store(fault as u8, Ordering::SeqCst);
    }

    /// Requests answered with a fault so far.
    pub fn faulted(&self) -> u64 {
        self.faulted.load(Ordering::SeqCst)
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The error a closed connection is reported as (hyper then drops the connection).
#[derive(Debug, thiserror::Error)]
enum ProxyError {
    #[error("connection dropped by fault injection")]
    Dropped,
}

async fn handle(
    req: Request<Incoming>,
    upstream: SocketAddr,
    client: &Client<HttpConnector, Full<Bytes>>,
    fault: &AtomicU8,
    faulted: &AtomicU64,
) -> Result<Response<Full<Bytes>>, ProxyError> {
    let fault = Fault::from_u8(fault.load(Ordering::SeqCst));
    if fault != Fault::None {
        faulted.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        Fault::None => Ok(forward(req, upstream, client).await),
        Fault::SlowDown => Ok(s3_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        )),
        Fault::InternalError => Ok(s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error.",
        )),
        Fault::Drop => Err(ProxyError::Dropped),
    }
}

async fn forward(
    req: Request<Incoming>,
    upstream: SocketAddr,
    client: &Client<HttpConnector, Full<Bytes>>,
) -> Response<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return s3_error(
                StatusCode::BAD_GATEWAY,
                "ProxyError",
                &format!("reading the request: {e}"),
            )
        }
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = match format!("http://{upstream}{path}").parse() {
        Ok(uri) => uri,
        Err(e) => return s3_error(StatusCode::BAD_GATEWAY, "ProxyError", &format!("bad URI: {e}")),
    };
    match client.request(Request::from_parts(parts, Full::new(body))).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            match body.collect().await {
                Ok(b) => Response::from_parts(parts, Full::new(b.to_bytes())),
                Err(e) => s3_error(
                    StatusCode::BAD_GATEWAY,
                    "ProxyError",
                    &format!("reading the answer: {e}"),
                ),
            }
        }
        Err(e) => s3_error(StatusCode::BAD_GATEWAY, "ProxyError", &format!("upstream: {e}")),
    }
}

/// An S3-style XML error answer.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/xml"),
    );
    resp
}
