//! Tests of [`super`]: admin refusals, the connection cap, the header timeout, the cached `/readyz`.

use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// Answers every fault injection with the same error.
struct Refuses(fn() -> AdminError);

impl Operator for Refuses {
    fn readiness(&self) -> BoxFuture<'_, Readiness> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn fail_actor<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), AdminError>> {
        let e = (self.0)();
        Box::pin(async move { Err(e) })
    }
}

#[tokio::test]
async fn each_refusal_answers_with_its_own_status() {
    let cases: [(fn() -> AdminError, u16); 4] = [
        (|| AdminError::NoSuchActor { id: "sink-9".into() }, 404),
        (|| AdminError::NotRunning { id: "sink-0".into() }, 409),
        (|| AdminError::Starting, 503),
        (
            || AdminError::Unanswered {
                what: "finding sink-0".into(),
                waited_ms: 2_000,
            },
            503,
        ),
    ];
    for (error, want) in cases {
        let op: Arc<dyn Operator> = Arc::new(Refuses(error));
        let (status, _, body) = admin_fail("/admin/actors/sink-0/fail", Some(op), true).await;
        assert_eq!(status.as_u16(), want, "{body}");
        assert_eq!(body, format!("{}\n", error()));
    }
}

/// Ready, counting its checks.
#[derive(Default)]
struct Counts(AtomicU32);

impl Operator for Counts {
    fn readiness(&self) -> BoxFuture<'_, Readiness> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(Vec::new()) })
    }

    fn fail_actor<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), AdminError>> {
        Box::pin(async { Err(AdminError::Starting) })
    }
}

async fn serve() -> (MetricsServer, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let op: Arc<dyn Operator> = counts.clone();
    let slot: OperatorSlot = Arc::new(RwLock::new(Some(op)));
    let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), recorder().unwrap(), slot, false)
        .await
        .unwrap();
    (server, counts)
}

/// One `GET path` on a connection of its own: the status line.
async fn get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.lines().next().unwrap_or_default().to_owned()
}

/// Whether the server closes `s` (end of stream) within `limit`.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(tokio::time::timeout(limit, s.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

#[tokio::test]
async fn readyz_checks_at_most_once_per_interval_however_often_it_is_asked() {
    let (server, counts) = serve().await;
    let answers = futures::future::join_all((0..20).map(|_| get(server.addr(), "/readyz"))).await;
    assert!(answers.iter().all(|a| a == "HTTP/1.1 200 OK"), "{answers:?}");
    assert_eq!(counts.0.load(Ordering::SeqCst), 1, "twenty asks, one check");
    tokio::time::sleep(READY_FOR + Duration::from_millis(100)).await;
    assert_eq!(get(server.addr(), "/readyz").await, "HTTP/1.1 200 OK");
    assert_eq!(
        counts.0.load(Ordering::SeqCst),
        2,
        "checked again once the answer is old"
    );
    server.stop().await;
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_and_a_silent_one_is_closed_after_the_header_timeout() {
    let (server, _) = serve().await;
    let mut idle = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        idle.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    // Every slot is held by a connection that sends nothing: the next one is closed at once.
    let mut over = TcpStream::connect(server.addr()).await.unwrap();
    assert!(
        closed_within(&mut over, Duration::from_secs(5)).await,
        "over the cap: closed"
    );
    // The silent ones are closed when their headers do not come, and the endpoint serves again.
    assert!(
        closed_within(&mut idle[0], HEADER_TIMEOUT + Duration::from_secs(10)).await,
        "a connection that sends no request is closed"
    );
    drop(idle);
    assert_eq!(get(server.addr(), "/healthz").await, "HTTP/1.1 200 OK");
    server.stop().await;
}
