//! The Prometheus recorder and the HTTP endpoint that serves it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use hyper::Method;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

static RECORDER: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// The Prometheus recorder could not be installed (another recorder is, or a bucket list is
/// empty).
#[derive(Debug, thiserror::Error)]
#[error("installing the metrics recorder")]
pub struct RecorderError(#[source] metrics_exporter_prometheus::BuildError);

/// Installs the process-wide Prometheus recorder once and returns its handle.
pub fn recorder() -> Result<PrometheusHandle, RecorderError> {
    let mut slot = RECORDER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(h) = slot.as_ref() {
        return Ok(h.clone());
    }
    let mut builder = PrometheusBuilder::new();
    for (name, buckets) in super::events::HISTOGRAMS {
        builder = builder
            .set_buckets_for_metric(Matcher::Full((*name).into()), buckets)
            .map_err(RecorderError)?;
    }
    let handle = builder.install_recorder().map_err(RecorderError)?;
    super::events::describe();
    supervisors::events::describe();
    super::events::process_started();
    *slot = Some(handle.clone());
    Ok(handle)
}

/// Why a request to the admin endpoint was not carried out; each answers with its own status.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No actor has that id (404).
    #[error(
        "no actor named {id:?}; try producer-<SYMBOL>, sink-<partition>, consumer, token-refresher, \
         ingest-watcher, producers, sinks, auth or warehouse"
    )]
    NoSuchActor { id: String },
    /// The actor exists but is not running right now: it is being restarted (409).
    #[error("{id} is not running right now (restarting?)")]
    NotRunning { id: String },
    /// The pipeline is still starting: no actor runs yet (503).
    #[error("the pipeline is still starting: no actor runs yet")]
    Starting,
    /// A supervisor did not answer in time, so the actor could not be found or failed (503).
    #[error("{what}: a supervisor did not answer within {waited_ms} ms")]
    Unanswered { what: String, waited_ms: u64 },
}

impl AdminError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NoSuchActor { .. } => StatusCode::NOT_FOUND,
            Self::NotRunning { .. } => StatusCode::CONFLICT,
            Self::Starting | Self::Unanswered { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// What the endpoint can ask of a running pipeline.
pub trait Operator: Send + Sync + 'static {
    /// `Ok` when every actor runs and Kafka and S3 answer (with notes, such as a warehouse loaded
    /// by another instance); the reasons otherwise.
    fn readiness(&self) -> BoxFuture<'_, Readiness>;
    /// Fault injection: make actor `id` fail.
    fn fail_actor<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), AdminError>>;
}

/// Where the running pipeline's [`Operator`] is published once it has started.
pub type OperatorSlot = Arc<RwLock<Option<Arc<dyn Operator>>>>;

/// Connections served at once; one more is closed as it is accepted (a scraper needs one, an
/// operator a few), so a flood of them cannot take the process's memory or file descriptors.
pub const MAX_CONNECTIONS: usize = 64;
/// A client has this long to send a request's headers, also while a kept-alive connection
/// waits for its next request: one that sends nothing is closed.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// `/readyz` answers from a check at most this old: its Kafka and S3 probes run at most once per
/// interval, however often it is asked.
pub const READY_FOR: Duration = Duration::from_secs(1);

/// A readiness answer: `Ok` with notes, or the reasons.
pub type Readiness = Result<Vec<String>, Vec<String>>;

/// The last readiness check and when it was made, shared by every connection.
#[derive(Default)]
struct ReadyCache(tokio::sync::Mutex<Option<(tokio::time::Instant, Readiness)>>);

impl ReadyCache {
    /// `op`'s readiness, checked again only when the last check is older than [`READY_FOR`];
    /// callers meanwhile wait for the one check under way.
    async fn get(&self, op: &dyn Operator) -> Readiness {
        let mut last = self.0.lock().await;
        if let Some((_, answer)) = last.as_ref().filter(|(at, _)| at.elapsed() < READY_FOR) {
            return answer.clone();
        }
        let answer = op.readiness().await;
        *last = Some((tokio::time::Instant::now(), answer.clone()));
        answer
    }
}

/// A running metrics endpoint.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Serves `GET /metrics` (Prometheus text), `GET /healthz` (the process answers), `GET /readyz`
    /// (the pipeline is fully up) and, when `admin` is set, `POST /admin/actors/<id>/fail`.
    pub async fn start(
        listen: SocketAddr,
        handle: PrometheusHandle,
        operator: OperatorSlot,
        admin: bool,
    ) -> Result<Self, std::io::Error> {
        let listener = TcpListener::bind(listen).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("binding the metrics endpoint to {listen} (metrics.listen): {e}"),
            )
        })?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let (slots, ready) = (
            Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            Arc::new(ReadyCache::default()),
        );
        let task = tokio::spawn(async move {
            let mut upkeep = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((socket, _)) = accepted else { continue };
                        // Over the cap: closed at once (dropped), nothing read.
                        let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
                        let (h, op, ready) = (handle.clone(), operator.clone(), ready.clone());
                        tokio::spawn(async move {
                            let svc = hyper::service::service_fn(move |req| {
                                let (h, op, ready) = (h.clone(), op.clone(), ready.clone());
                                async move { Ok::<_, std::convert::Infallible>(respond(&req, &h, &op, &ready, admin).await) }
                            });
                            let mut conn = ConnBuilder::new(TokioExecutor::new()).http1_only();
                            conn.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
                            let _ = conn.serve_connection(TokioIo::new(socket), svc).await;
                            drop(slot);
                        });
                    }
                    _ = upkeep.tick() => handle.run_upkeep(),
                    _ = stopped.changed() => break,
                }
            }
        });
        Ok(Self { addr, stop, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn respond(
    req: &Request<Incoming>,
    handle: &PrometheusHandle,
    operator: &OperatorSlot,
    ready: &ReadyCache,
    admin: bool,
) -> Response<Full<Bytes>> {
    let op = operator.read().ok().and_then(|g| g.clone());
    let path = req.uri().path();
    let (status, content_type, body) = match (req.method(), path) {
        (&Method::GET, "/metrics") => (StatusCode::OK, "text/plain; version=0.0.4", handle.render()),
        (&Method::GET, "/healthz") => (StatusCode::OK, "text/plain", "ok\n".to_owned()),
        (&Method::GET, "/readyz") => match op {
            None => (StatusCode::SERVICE_UNAVAILABLE, "text/plain", "starting\n".to_owned()),
            Some(op) => match ready.get(&*op).await {
                Ok(notes) => (
                    StatusCode::OK,
                    "text/plain",
                    std::iter::once("ready".to_owned())
                        .chain(notes)
                        .map(|l| l + "\n")
                        .collect(),
                ),
                Err(problems) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("{}\n", problems.join("\n")),
                ),
            },
        },
        (&Method::POST, p) if p.starts_with("/admin/") => admin_fail(p, op, admin).await,
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics, /healthz or /readyz\n".to_owned(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

/// `POST /admin/actors/<id>/fail`
async fn admin_fail(path: &str, op: Option<Arc<dyn Operator>>, admin: bool) -> (StatusCode, &'static str, String) {
    if !admin {
        return (
            StatusCode::NOT_FOUND,
            "text/plain",
            "admin endpoints are off (metrics.admin = false)\n".into(),
        );
    }
    let Some(id) = path
        .strip_prefix("/admin/actors/")
        .and_then(|r| r.strip_suffix("/fail"))
    else {
        return (
            StatusCode::NOT_FOUND,
            "text/plain",
            "try POST /admin/actors/<id>/fail\n".into(),
        );
    };
    let Some(op) = op else {
        return (StatusCode::SERVICE_UNAVAILABLE, "text/plain", "starting\n".into());
    };
    match op.fail_actor(id).await {
        Ok(()) => (
            StatusCode::ACCEPTED,
            "text/plain",
            format!("{id}: failed on request; its supervisor restarts it\n"),
        ),
        Err(e) => (e.status(), "text/plain", format!("{e}\n")),
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
