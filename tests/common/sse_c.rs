//! An SSE-C gate in front of moto (which stores SSE-C objects but serves them to anyone): it
//! remembers which objects were written with a customer key and answers a HEAD or GET of one
//! that does not send the same key as S3 does (400 `InvalidRequest`); everything else is passed
//! to moto as it came. It counts what it let through with the key and what it refused.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};

const KEY_MD5: &str = "x-amz-server-side-encryption-customer-key-md5";

#[derive(Default)]
pub struct Seen {
    /// Object path → the MD5 of the key it was written with.
    keyed: HashMap<String, String>,
    /// HEADs and GETs of keyed objects that sent the right key.
    pub reads_with_key: u64,
    /// HEADs and GETs refused for want of the key.
    pub refused: u64,
}

pub struct SseCGate {
    addr: SocketAddr,
    pub seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

type Client = hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

impl SseCGate {
    pub async fn start(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let client: Client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let (shared, upstream) = (seen.clone(), upstream.to_owned());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, client, upstream) = (shared.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let (seen, client, upstream) = (seen.clone(), client.clone(), upstream.clone());
                        async move { Ok::<_, Infallible>(handle(&seen, &client, &upstream, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, seen, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SseCGate {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    seen: &Mutex<Seen>,
    client: &Client,
    upstream: &str,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let md5 = parts
        .headers
        .get(KEY_MD5)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_object = path.trim_start_matches('/').contains('/');
    if is_object && (parts.method == hyper::Method::GET || parts.method == hyper::Method::HEAD) {
        let mut seen = seen.lock().unwrap();
        if let Some(stored) = seen.keyed.get(&path).cloned() {
            if md5.as_deref() != Some(stored.as_str()) {
                seen.refused += 1;
                let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidRequest</Code><Message>The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.</Message></Error>";
                return Response::builder()
                    .status(400)
                    .header("content-type", "application/xml")
                    .body(Full::new(if parts.method == hyper::Method::HEAD {
                        Bytes::new()
                    } else {
                        Bytes::from(xml)
                    }))
                    .unwrap();
            }
            seen.reads_with_key += 1;
        }
    }
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let mut forward = Request::builder().method(parts.method.clone()).uri(format!(
        "{upstream}{}",
        parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    ));
    for (name, value) in &parts.headers {
        forward = forward.header(name, value);
    }
    let answer = match client.request(forward.body(Full::new(bytes)).unwrap()).await {
        Ok(answer) => answer,
        Err(e) => {
            return Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(e.to_string())))
                .unwrap()
        }
    };
    let (aparts, abody) = answer.into_parts();
    let abytes = abody.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if parts.method == hyper::Method::PUT && aparts.status.is_success() && is_object {
        if let Some(md5) = md5 {
            seen.lock().unwrap().keyed.insert(path, md5);
        }
    }
    Response::from_parts(aparts, Full::new(abytes))
}
