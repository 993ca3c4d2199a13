//! One chaos run: real processes on 127.0.0.1 (s3s-fs, tansu, `tickstream run`), the S3 fault
//! proxy in between, a seeded schedule of faults, then a final drain and the verify audit.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::procs::{self, free_port, Proc, ProcError};
use crate::s3_proxy::{Fault as ProxyFault, S3FaultProxy};
use crate::schedule::{schedule, FaultKind};

const ACCESS_KEY: &str = "chaos";
const SECRET_KEY: &str = "chaos-secret-key";
const TOPIC: &str = "stock-market-data";
const BUCKET: &str = "chaos-bucket";

/// What a run needs.
pub struct RunConfig {
    pub seed: u64,
    pub faults: usize,
    /// The run directory (logs, data, report).
    pub dir: PathBuf,
    /// The `tickstream` binary to run.
    pub tickstream: PathBuf,
    /// Stop scheduling faults after this long (soak); `None`: after `faults` faults.
    pub minutes: Option<u64>,
}

/// Errors that end a run before its audit.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error(transparent)]
    Proc(#[from] ProcError),
    #[error("{0}")]
    Setup(String),
}

/// The run's outcome, also written to `<dir>/report.json`.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub seed: u64,
    pub faults: BTreeMap<String, u32>,
    pub records_in_kafka: u64,
    pub records_in_s3: u64,
    pub lost: i64,
    pub duplicated: i64,
    pub dead_lettered: u64,
    pub recovery_ms_p50: u64,
    pub recovery_ms_p99: u64,
    pub peak_rss_kib: u64,
    pub verified: bool,
}

fn setup(e: impl std::fmt::Display) -> ChaosError {
    ChaosError::Setup(e.to_string())
}

fn config_toml(broker: u16, s3_url: &str, metrics: u16, producers: bool) -> String {
    format!(
        r#"[kafka]
mode = "plaintext"
bootstrap_servers = "127.0.0.1:{broker}"
create_topics = false
group_instance_id = "chaos-sink"
[producer]
enabled = {producers}
topic = "{TOPIC}"
ticks_per_second = 20.0
[sink]
topics = "{TOPIC}"
"flush.size" = 50
"rotate.interval.ms" = 1000
"s3.bucket.name" = "{BUCKET}"
[s3]
mode = "endpoint"
endpoint = "{s3_url}"
[metrics]
listen = "127.0.0.1:{metrics}"
admin = true
[runtime]
data_dir = "data"
progress_interval_ms = 5000
"#
    )
}

/// Sum of a counter over its labels, from tickstream's `/metrics`.
async fn scrape(metrics: u16, name: &str) -> Option<f64> {
    Some(sum_metric(&http(metrics, "GET", "/metrics").await?, name))
}

/// Sums every sample of metric `name` (any labels) in Prometheus text.
fn sum_metric(body: &str, name: &str) -> f64 {
    body.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn http(port: u16, method: &str, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    s.write_all(format!("{method} {path} HTTP/1.0\r\nContent-Length: 0\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
        .await
        .ok()?
        .ok()?;
    Some(out)
}

/// Waits until tickstream uploads a new file; returns how long that took.
async fn flowing_again(metrics: u16, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let before = scrape(metrics, "tickstream_sink_files_uploaded_total")
        .await
        .unwrap_or(0.0);
    while started.elapsed() < limit {
        if scrape(metrics, "tickstream_sink_files_uploaded_total")
            .await
            .unwrap_or(0.0)
            > before
        {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

fn inject_malformed(broker: u16) -> Result<(), ChaosError> {
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
    let producer: ThreadedProducer<_> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", format!("127.0.0.1:{broker}"))
        .set("message.max.bytes", "2000000")
        .create()
        .map_err(setup)?;
    let big = vec![b'x'; 1_000_000];
    let wrong_types =
        br#"{"symbol":7,"price":"high","volume":-1,"change":null,"timestamp":1,"exchange":"N","run_id":"r","seq":"x"}"#;
    for value in [&b"not json at all"[..], wrong_types, &big, b""] {
        let _ = producer.send(BaseRecord::to(TOPIC).key("BAD").payload(value));
    }
    producer.flush(Duration::from_secs(30)).map_err(setup)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs the whole scenario.
pub async fn run(rc: RunConfig) -> Result<Report, ChaosError> {
    std::fs::create_dir_all(rc.dir.join("s3")).map_err(setup)?;
    let (s3_port, broker_port, metrics_port) = (
        free_port().map_err(setup)?,
        free_port().map_err(setup)?,
        free_port().map_err(setup)?,
    );
    let s3_addr = SocketAddr::from(([127, 0, 0, 1], s3_port));
    let broker_addr = SocketAddr::from(([127, 0, 0, 1], broker_port));
    let s = |v: &str| v.to_owned();

    let mut s3 = procs::s3s_fs(&rc.dir, s3_port, ACCESS_KEY, SECRET_KEY);
    s3.start()?;
    s3.wait_listening(s3_addr, Duration::from_secs(30))?;
    let proxy = S3FaultProxy::start(s3_addr).await.map_err(setup)?;

    let listener = format!("tcp://127.0.0.1:{broker_port}");
    let mut broker = procs::tansu(&rc.dir, broker_port, "sqlite://tansu.db");
    broker.start()?;
    broker.wait_listening(broker_addr, Duration::from_secs(60))?;
    let created = std::process::Command::new("tansu")
        .args(["topic", "create", TOPIC, "--partitions", "3", "--broker", &listener])
        .current_dir(&rc.dir)
        .status()
        .map_err(setup)?;
    if !created.success() {
        return Err(setup(format!("tansu topic create failed: {created}")));
    }

    std::fs::write(
        rc.dir.join("tickstream.toml"),
        config_toml(broker_port, &proxy.url(), metrics_port, true),
    )
    .map_err(setup)?;
    std::fs::write(
        rc.dir.join("drain.toml"),
        config_toml(broker_port, &proxy.url(), metrics_port, false),
    )
    .map_err(setup)?;
    let runtime = |config: &str| {
        Proc::new(
            "tickstream",
            &rc.tickstream,
            &[s("run"), s("--config"), s(config)],
            &rc.dir,
        )
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("RUST_LOG", "info,rdkafka=warn")
    };
    let mut app = runtime("tickstream.toml");
    app.start()?;
    app.wait_listening(
        SocketAddr::from(([127, 0, 0, 1], metrics_port)),
        Duration::from_secs(60),
    )?;
    flowing_again(metrics_port, Duration::from_secs(90))
        .await
        .ok_or_else(|| setup("tickstream never wrote a file"))?;

    let mut report = Report {
        seed: rc.seed,
        ..Report::default()
    };
    let mut recoveries = Vec::new();
    let started = Instant::now();
    let count = if rc.minutes.is_some() { 100_000 } else { rc.faults };
    for (i, fault) in schedule(rc.seed, count).into_iter().enumerate() {
        if rc
            .minutes
            .is_some_and(|m| started.elapsed() > Duration::from_secs(m * 60))
        {
            break;
        }
        println!("chaos: fault {:>3} {:?} (hold {:?})", i + 1, fault.kind, fault.hold);
        report.peak_rss_kib = report.peak_rss_kib.max(app.peak_rss_kib().unwrap_or(0));
        match fault.kind {
            FaultKind::BrokerKill => {
                broker.kill();
                tokio::time::sleep(fault.hold).await;
                broker.start()?;
                broker.wait_listening(broker_addr, Duration::from_secs(60))?;
            }
            FaultKind::S3Kill | FaultKind::S3Outage => {
                s3.kill();
                tokio::time::sleep(fault.hold).await;
                s3.start()?;
                s3.wait_listening(s3_addr, Duration::from_secs(30))?;
            }
            FaultKind::S3Errors => {
                proxy.set(if fault.target % 2 == 0 {
                    ProxyFault::SlowDown
                } else {
                    ProxyFault::InternalError
                });
                tokio::time::sleep(fault.hold).await;
                proxy.set(ProxyFault::None);
            }
            FaultKind::RuntimeKill => {
                app.kill();
                app.start()?;
                app.wait_listening(
                    SocketAddr::from(([127, 0, 0, 1], metrics_port)),
                    Duration::from_secs(60),
                )?;
            }
            FaultKind::RuntimeStall => {
                app.signal("STOP")?;
                tokio::time::sleep(fault.hold).await;
                app.signal("CONT")?;
            }
            FaultKind::ActorFail => {
                let _ = http(
                    metrics_port,
                    "POST",
                    &format!("/admin/actors/sink-{}/fail", fault.target % 3),
                )
                .await;
            }
            FaultKind::MalformedRecords => inject_malformed(broker_port)?,
        }
        *report.faults.entry(format!("{:?}", fault.kind)).or_default() += 1;
        match flowing_again(metrics_port, Duration::from_secs(120)).await {
            Some(d) => recoveries.push(d.as_millis() as u64),
            None => println!("chaos: not flowing again within 120 s after {:?}", fault.kind),
        }
        if let Some(status) = app.exited() {
            return Err(setup(format!(
                "tickstream exited on its own ({status}); see tickstream.log"
            )));
        }
    }
    report.peak_rss_kib = report.peak_rss_kib.max(app.peak_rss_kib().unwrap_or(0));
    recoveries.sort_unstable();
    report.recovery_ms_p50 = percentile(&recoveries, 0.5);
    report.recovery_ms_p99 = percentile(&recoveries, 0.99);

    // Stop producing; a sink-only instance drains what is left, then the audit.
    app.terminate(Duration::from_secs(45));
    let mut drain = runtime("drain.toml");
    drain.start()?;
    let mut config = tickstream::config::parse_str(&config_toml(broker_port, &proxy.url(), metrics_port, false))
        .map_err(|p| setup(p.message))?;
    config.s3.endpoint = Some(format!("http://{s3_addr}"));
    let endpoint = tickstream::s3::client::S3Endpoint {
        url: config.s3.endpoint.clone(),
        region: config.s3.region.clone(),
        static_credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    let audit = loop {
        let r = tickstream::verify::audit(
            &config,
            &format!("127.0.0.1:{broker_port}"),
            &endpoint,
            Duration::from_secs(120),
        )
        .await
        .map_err(setup)?;
        if r.ok() || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    drain.terminate(Duration::from_secs(45));
    println!("{}", tickstream::verify::report::table(&audit));
    report.records_in_kafka = audit.partitions.iter().map(|p| p.records_in_kafka).sum();
    report.records_in_s3 = audit.partitions.iter().map(|p| p.records_in_s3).sum();
    report.lost = audit
        .partitions
        .iter()
        .flat_map(|p| p.missing.iter().map(|(a, b)| b - a))
        .sum();
    report.duplicated = audit
        .partitions
        .iter()
        .flat_map(|p| p.duplicated.iter().map(|(a, b)| b - a))
        .sum();
    report.dead_lettered = audit.partitions.iter().map(|p| p.dead_lettered).sum();
    report.verified = audit.ok();
    let json = serde_json::to_string_pretty(&report).map_err(setup)?;
    std::fs::write(rc.dir.join("report.json"), &json).map_err(setup)?;
    proxy.stop().await;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_is_summed_over_its_labels_and_no_other_metric() {
        let body = "# TYPE x counter\nfiles_total{partition=\"0\"} 3\nfiles_total{partition=\"1\"} 4\nfiles_total_other 100\nfiles_total 1\n";
        assert_eq!(sum_metric(body, "files_total"), 8.0);
    }

    #[test]
    fn percentiles_of_sorted_samples() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!((percentile(&v, 0.5), percentile(&v, 0.99)), (51, 99));
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
