//! A real Prometheus (Debian's `prometheus` package) as a process on 127.0.0.1: its own temporary
//! storage, scrape and evaluation every second, `config/prometheus/alerts.yml` loaded. Tests ask
//! it what a Prometheus operator would, through its HTTP API (`/api/v1/query`, `/api/v1/alerts`).
//! Stopped (SIGKILL, and reaped) when dropped.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// One scrape target: its address and a `scenario` label that names it in queries.
pub struct Target {
    pub scenario: String,
    pub addr: String,
}

/// A running Prometheus.
pub struct Prometheus {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

/// One alert as `/api/v1/alerts` gives it.
#[derive(Clone, Debug)]
pub struct Alert {
    pub name: String,
    pub state: String,
    pub labels: serde_json::Map<String, serde_json::Value>,
}

impl Alert {
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).and_then(|v| v.as_str()).unwrap_or("")
    }
}

/// A free port on 127.0.0.1, below the ephemeral range (see `ports`).
pub fn free_port() -> u16 {
    crate::ports::free_port().expect("a free port on 127.0.0.1")
}

fn program() -> &'static str {
    "prometheus"
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` (job `tickstream`) with the repository's alert rules.
    pub async fn start(targets: &[Target]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/prometheus/alerts.yml");
        let mut config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: tickstream\n    static_configs:\n",
            rules.display()
        );
        for t in targets {
            config.push_str(&format!(
                "      - targets: ['{}']\n        labels: {{scenario: {}}}\n",
                t.addr, t.scenario
            ));
        }
        let file = dir.path().join("prometheus.yml");
        std::fs::write(&file, config).expect("write prometheus.yml");
        let addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = Command::new(program())
            .arg(format!("--config.file={}", file.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting Debian's prometheus ({e}): install it with scripts/test (the README's \
                     test command), or `apt-get install prometheus` with a policy-rc.d that exits 101"
                )
            });
        let p = Self { child, addr, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while p.get("/-/ready").await.is_none_or(|(status, _)| status != 200) {
            assert!(
                Instant::now() < deadline,
                "prometheus not ready on {} after 30 s",
                p.addr
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        p
    }

    async fn get(&self, path_and_query: &str) -> Option<(u16, String)> {
        let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let uri: hyper::Uri = format!("http://{}{path_and_query}", self.addr).parse().ok()?;
        let response = tokio::time::timeout(Duration::from_secs(10), client.get(uri))
            .await
            .ok()?
            .ok()?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.ok()?.to_bytes();
        Some((status, String::from_utf8_lossy(&body).into_owned()))
    }

    async fn api(&self, path_and_query: &str) -> serde_json::Value {
        let (status, body) = self
            .get(path_and_query)
            .await
            .unwrap_or_else(|| panic!("prometheus on {} did not answer {path_and_query}", self.addr));
        let v: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path_and_query}: {e}: {body}"));
        assert_eq!(status, 200, "{path_and_query}: {body}");
        v["data"].clone()
    }

    /// Evaluates `expr` now: the instant vector's series (labels and value), or the error
    /// Prometheus gives.
    pub async fn query(&self, expr: &str) -> Result<Vec<(serde_json::Value, f64)>, String> {
        let path = format!("/api/v1/query?query={}", percent_encode(expr));
        let (status, body) = self.get(&path).await.ok_or_else(|| "no answer".to_owned())?;
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        if status != 200 || v["status"] != "success" {
            return Err(format!("HTTP {status}: {}", v["error"]));
        }
        let data = &v["data"];
        let series = match data["resultType"].as_str() {
            Some("vector") => data["result"].as_array().cloned().unwrap_or_default(),
            Some("scalar") => vec![serde_json::json!({"metric": {}, "value": data["result"]})],
            other => return Err(format!("unexpected result type {other:?}")),
        };
        Ok(series
            .into_iter()
            .map(|s| {
                let value = s["value"][1].as_str().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
                (s["metric"].clone(), value)
            })
            .collect())
    }

    /// Every pending or firing alert.
    pub async fn alerts(&self) -> Vec<Alert> {
        let data = self.api("/api/v1/alerts").await;
        data["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|a| Alert {
                name: a["labels"]["alertname"].as_str().unwrap_or_default().to_owned(),
                state: a["state"].as_str().unwrap_or_default().to_owned(),
                labels: a["labels"].as_object().cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// The firing alerts named `name` whose `scenario` label is `scenario`.
    pub async fn firing(&self, name: &str, scenario: &str) -> Vec<Alert> {
        self.alerts()
            .await
            .into_iter()
            .filter(|a| a.name == name && a.state == "firing" && a.label("scenario") == scenario)
            .collect()
    }

    /// Waits (polling every 500 ms, up to `limit`) until `name` fires for `scenario`; returns
    /// the firing alerts and how long it took.
    pub async fn until_firing(&self, name: &str, scenario: &str, limit: Duration) -> (Vec<Alert>, Duration) {
        let started = Instant::now();
        loop {
            let firing = self.firing(name, scenario).await;
            if !firing.is_empty() {
                return (firing, started.elapsed());
            }
            assert!(
                started.elapsed() < limit,
                "{name} did not fire for scenario {scenario} within {limit:?}; alerts now: {:?}",
                self.alerts().await
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits until no `name` alert (pending or firing) is left for `scenario`.
    pub async fn until_clear(&self, name: &str, scenario: &str, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let left = self
                .alerts()
                .await
                .into_iter()
                .any(|a| a.name == name && a.label("scenario") == scenario);
            if !left {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < limit,
                "{name} still active for {scenario} after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits until `expr` returns at least one series whose value satisfies `ok`.
    pub async fn until(&self, expr: &str, limit: Duration, ok: impl Fn(f64) -> bool) {
        let started = Instant::now();
        loop {
            if let Ok(series) = self.query(expr).await {
                if series.iter().any(|(_, v)| ok(*v)) {
                    return;
                }
            }
            assert!(started.elapsed() < limit, "{expr} never held within {limit:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes a query parameter (everything but unreserved characters).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
