//! An in-process S3 server: s3s-fs on 127.0.0.1, objects as plain files under a directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::client::S3Endpoint;

/// Credentials of the embedded server; it listens on loopback only.
pub const ACCESS_KEY: &str = "tickstream";
pub const SECRET_KEY: &str = "tickstream-embedded-secret";

/// Errors starting the embedded server.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedS3Error {
    #[error("creating the S3 data directory {dir}: {source}")]
    Dir { dir: PathBuf, source: std::io::Error },
    #[error("starting s3s-fs on {dir}: {detail}")]
    Fs { dir: PathBuf, detail: String },
    #[error("binding the embedded S3 server to 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}

/// How the server is asked to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Running,
    /// Finish open requests (5 s at most), then close every connection.
    Graceful,
    /// Close every connection at once, like a crashed server.
    Kill,
}

/// A running embedded S3 server. [`EmbeddedS3::stop`] ends it; dropping it ends it too.
pub struct EmbeddedS3 {
    addr: SocketAddr,
    root: PathBuf,
    stop: watch::Sender<Stop>,
    task: Option<JoinHandle<()>>,
}

impl EmbeddedS3 {
    /// Serves `root` (created if missing) on `127.0.0.1:port` (0 = any free port).
    pub async fn start(root: &Path, port: u16) -> Result<Self, EmbeddedS3Error> {
        std::fs::create_dir_all(root).map_err(|source| EmbeddedS3Error::Dir {
            dir: root.into(),
            source,
        })?;
        let fs = s3s_fs::FileSystem::new(root).map_err(|e| EmbeddedS3Error::Fs {
            dir: root.into(),
            detail: format!("{e:?}"),
        })?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();

        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| EmbeddedS3Error::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmbeddedS3Error::Bind { port, source })?;
        let (stop, mut stopped) = watch::channel(Stop::Running);
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => {
                            // Without it a GET's body, written after its headers, waits for
                            // the client's delayed ACK: 40 ms a small object.
                            let _ = socket.set_nodelay(true);
                            let conn = http.serve_connection(TokioIo::new(socket), service.clone());
                            let conn = graceful.watch(conn.into_owned());
                            connections.spawn(async move { let _ = conn.await; });
                        }
                        Err(e) => tracing::warn!("embedded S3: accepting a connection failed: {e}"),
                    },
                    _ = stopped.changed() => break,
                }
            }
            drop(listener);
            if *stopped.borrow() == Stop::Graceful {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
            }
            // Whatever is still open (keep-alive connections, or everything on a kill) ends now.
            connections.shutdown().await;
        });
        Ok(Self {
            addr,
            root: root.into(),
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port it listens on (to restart it on the same one).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A stopped server's stand-in, for code that must keep an `EmbeddedS3` value while the real
    /// one is down (outage tests).
    pub fn placeholder() -> Self {
        let (stop, _) = watch::channel(Stop::Kill);
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            root: PathBuf::new(),
            stop,
            task: None,
        }
    }

    /// The directory holding `<bucket>/<key>` files.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How a client reaches this server.
    pub fn endpoint(&self) -> S3Endpoint {
        S3Endpoint {
            url: Some(self.url()),
            region: "us-east-1".into(),
            static_credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
        }
    }

    /// Stops accepting, lets open requests finish (5 s at most), and returns when it is down.
    pub async fn stop(self) {
        self.end(Stop::Graceful).await;
    }

    /// Drops every connection at once (an outage or a crash), and returns when it is down.
    pub async fn kill(self) {
        self.end(Stop::Kill).await;
    }

    async fn end(mut self, how: Stop) {
        let _ = self.stop.send(how);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        let _ = self.stop.send(Stop::Kill);
    }
}
