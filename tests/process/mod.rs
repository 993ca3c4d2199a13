//! `tickstream run` as the operator runs it: the real binary, a configuration file, its own data
//! directory and log, its metrics endpoint on a free 127.0.0.1 port. Killed when dropped.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::prometheus::free_port;

/// One `tickstream run` process (and its later incarnations, on the same port and data).
pub struct Tickstream {
    pub name: String,
    /// `127.0.0.1:PORT` of `/metrics`, `/readyz` and the admin endpoint.
    pub metrics: String,
    config: PathBuf,
    log: PathBuf,
    envs: Vec<(String, String)>,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Tickstream {
    /// Writes `sections` (the `[kafka]`, `[s3]`, `[sink]`, … tables) plus `[metrics]` (admin on)
    /// and `[runtime]` (a data directory of its own, start-up waiting up to 15 minutes for its
    /// dependencies) and starts the process.
    pub fn start(name: &str, sections: &str, envs: &[(&str, &str)]) -> Self {
        Self::start_with_runtime(name, sections, "startup_timeout_ms = 900000\n", envs)
    }

    /// [`Tickstream::start`] with `runtime` as more lines of `[runtime]`.
    pub fn start_with_runtime(name: &str, sections: &str, runtime: &str, envs: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let metrics = format!("127.0.0.1:{}", free_port());
        let config = dir.path().join("tickstream.toml");
        let toml = format!(
            "{sections}\n[metrics]\nlisten = \"{metrics}\"\nadmin = true\n\n[runtime]\ndata_dir = \"{}\"\nprogress_interval_ms = 0\nshutdown_timeout_ms = 5000\n{}",
            dir.path().join("data").display(),
            runtime
        );
        std::fs::write(&config, toml).expect("write the configuration");
        let mut t = Self {
            name: name.to_owned(),
            metrics,
            config,
            log: dir.path().join("tickstream.log"),
            envs: envs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            child: None,
            dir,
        };
        t.restart();
        t
    }

    /// The data directory (`runtime.data_dir`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts a new incarnation (after [`Tickstream::kill`]), appending to the same log.
    pub fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the log");
        let err = log.try_clone().expect("clone the log");
        let child = Command::new(env!("CARGO_BIN_EXE_tickstream"))
            .args(["run", "--config"])
            .arg(&self.config)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .env(
                "RUST_LOG",
                std::env::var("TICKSTREAM_TEST_LOG").unwrap_or_else(|_| "info,librdkafka=warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("start tickstream");
        self.child = Some(child);
    }

    /// SIGKILL, and reap it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends a signal by name (`TERM`, `INT`) with the system's `kill`.
    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill").args(["-s", sig, &c.id().to_string()]).status();
        }
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until its log contains `needle`.
    pub async fn until_logged(&self, needle: &str, limit: Duration) {
        let started = Instant::now();
        while !self.log().contains(needle) {
            assert!(
                started.elapsed() < limit,
                "{}: no {needle:?} in the log within {limit:?}:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One HTTP/1.0 exchange with its metrics endpoint: status code and body.
    pub async fn http(&self, method: &str, path: &str) -> Option<(u16, String)> {
        let mut s = tokio::net::TcpStream::connect(&self.metrics).await.ok()?;
        s.write_all(format!("{method} {path} HTTP/1.0\r\nHost: t\r\nContent-Length: 0\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
            .await
            .ok()?
            .ok()?;
        let status = out.split(' ').nth(1)?.parse().ok()?;
        let body = out
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Some((status, body))
    }

    /// `POST /admin/actors/<id>/fail`, asserting it was accepted.
    pub async fn fail_actor(&self, id: &str) {
        let answer = self.http("POST", &format!("/admin/actors/{id}/fail")).await;
        assert!(
            matches!(answer, Some((202, _))),
            "{}: failing {id}: {answer:?}",
            self.name
        );
    }

    /// Waits until its endpoint answers `/metrics`.
    pub async fn until_serving(&self, limit: Duration) {
        let started = Instant::now();
        while !matches!(self.http("GET", "/metrics").await, Some((200, _))) {
            assert!(
                started.elapsed() < limit,
                "{}: /metrics not served within {limit:?}:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Tickstream {
    fn drop(&mut self) {
        self.kill();
    }
}
