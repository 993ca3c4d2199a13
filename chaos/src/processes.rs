//! Phase 1 of a run: real processes on 127.0.0.1 (s3s-fs, tansu, `tickstream run`), the S3
//! fault proxy in between, a seeded schedule of faults, then a final drain and the verify audit.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::monitor::{Monitor, RssReport};
use crate::procs::{self, free_port, Proc};
use crate::report::{PhaseTotals, Recoveries};
use crate::run::{http, scrape, setup, ChaosError, RunConfig};
use crate::s3_proxy::{Fault as ProxyFault, S3FaultProxy};
use crate::schedule::{schedule, FaultKind};

const ACCESS_KEY: &str = "chaos";
const SECRET_KEY: &str = "chaos-secret-key";
const TOPIC: &str = "stock-market-data";
const BUCKET: &str = "chaos-bucket";

/// The instance's configuration; `sink_extra` are more `[sink]` lines (`chaos --sink`).
fn config_toml(broker: u16, s3_url: &str, metrics: u16, producers: bool, sink_extra: &str) -> String {
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
{sink_extra}
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

/// Injects one process-level fault and returns when it is over.
async fn inject(kind: FaultKind, hold: Duration, target: u32, p: &mut Procs<'_>) -> Result<(), ChaosError> {
    match kind {
        FaultKind::BrokerKill => {
            p.broker.kill();
            tokio::time::sleep(hold).await;
            p.broker.start()?;
            p.broker.wait_listening(p.broker_addr, Duration::from_secs(60))?;
        }
        FaultKind::S3Kill | FaultKind::S3Outage => {
            p.s3.kill();
            tokio::time::sleep(hold).await;
            p.s3.start()?;
            p.s3.wait_listening(p.s3_addr, Duration::from_secs(30))?;
        }
        FaultKind::S3Errors => {
            p.proxy.set(if target.is_multiple_of(2) {
                ProxyFault::SlowDown
            } else {
                ProxyFault::InternalError
            });
            tokio::time::sleep(hold).await;
            p.proxy.set(ProxyFault::None);
        }
        FaultKind::RuntimeKill => {
            p.app.kill();
            p.start_app()?;
        }
        FaultKind::RuntimeStall => {
            p.app.signal("STOP")?;
            tokio::time::sleep(hold).await;
            p.app.signal("CONT")?;
        }
        FaultKind::ActorFail => {
            let _ = http(
                p.metrics_port,
                "POST",
                &format!("/admin/actors/sink-{}/fail", target % 3),
            )
            .await;
        }
        FaultKind::MalformedRecords => inject_malformed(p.broker_addr.port())?,
    }
    Ok(())
}

/// The processes of phase 1 and where they listen.
struct Procs<'a> {
    s3: Proc,
    broker: Proc,
    app: Proc,
    proxy: &'a S3FaultProxy,
    s3_addr: SocketAddr,
    broker_addr: SocketAddr,
    metrics_port: u16,
    monitor: Monitor,
    /// tansu's store (`sqlite://tansu.db` in the run directory).
    tansu_db: std::path::PathBuf,
}

/// What happened besides the injected faults: tickstream exiting on its own (restarted, as
/// systemd would), and stalls the suite ended by restarting the broker.
#[derive(Debug, Default)]
pub struct Incidents {
    pub exits: Vec<String>,
    pub stalls: Vec<String>,
}

/// Why nothing flows, as far as tickstream says: its consumer-group watchdog counts a member
/// stuck joining its group (tansu 0.6's coordinator can wedge a `group.instance.id` after broker
/// restarts seconds apart; a broker restart clears it).
async fn stall_cause(metrics_port: u16) -> &'static str {
    match scrape(metrics_port, "tickstream_consumer_group_stuck_total").await {
        Some(n) if n > 0.0 => "tickstream reported its consumer stuck joining the group",
        Some(_) => "tickstream reported no stuck group (cause unknown: look at tickstream.log)",
        None => "tickstream's /metrics did not answer",
    }
}

impl Procs<'_> {
    /// Ends a stall: SIGKILL the broker, expire its groups' members (what tansu skips for
    /// static members, see [`crate::tansu_groups`]), and start it again (its data is durable).
    fn restart_broker(&mut self) -> Result<(), ChaosError> {
        self.broker.kill();
        let expired = crate::tansu_groups::reset_membership(&self.tansu_db).map_err(setup)?;
        println!("chaos: restarted the broker to end the stall ({expired} group member(s) expired)");
        self.broker.start()?;
        self.broker.wait_listening(self.broker_addr, Duration::from_secs(60))?;
        Ok(())
    }

    fn start_app(&mut self) -> Result<(), ChaosError> {
        self.app.start()?;
        self.monitor.pid.store(self.app.pid().unwrap_or(0), Ordering::Relaxed);
        self.app.wait_listening(
            SocketAddr::from(([127, 0, 0, 1], self.metrics_port)),
            Duration::from_secs(60),
        )?;
        Ok(())
    }
}

/// Phase 1: tansu, s3s-fs and tickstream as processes, `rc.faults` faults (or until `until`),
/// then a drain and the audit.
pub(crate) async fn process_phase(
    rc: &RunConfig,
    until: Option<Duration>,
    recoveries: &mut Recoveries,
) -> Result<(PhaseTotals, RssReport, Incidents), ChaosError> {
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
    procs::tansu_create_topic(&rc.dir, &listener, TOPIC, 3).map_err(setup)?;

    std::fs::write(
        rc.dir.join("tickstream.toml"),
        config_toml(broker_port, &proxy.url(), metrics_port, true, &rc.sink_toml()),
    )
    .map_err(setup)?;
    std::fs::write(
        rc.dir.join("drain.toml"),
        config_toml(broker_port, &proxy.url(), metrics_port, false, &rc.sink_toml()),
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
        .env("RUST_LOG", "info,librdkafka=warn")
    };
    let monitor = Monitor::default();
    let mut p = Procs {
        s3,
        broker,
        app: runtime("tickstream.toml"),
        proxy: &proxy,
        s3_addr,
        broker_addr,
        metrics_port,
        monitor: monitor.clone(),
        tansu_db: rc.dir.join("tansu.db"),
    };
    p.start_app()?;
    monitor.start(metrics_port);
    flowing_again(metrics_port, Duration::from_secs(90))
        .await
        .ok_or_else(|| setup("tickstream never wrote a file"))?;

    let started = Instant::now();
    let mut incidents = Incidents::default();
    let count = if until.is_some() { 100_000 } else { rc.faults };
    for (i, fault) in schedule(rc.seed, count).into_iter().enumerate() {
        if until.is_some_and(|u| started.elapsed() > u) {
            break;
        }
        println!(
            "chaos: fault {:>3} {:?} (hold {:?}) at {} s",
            i + 1,
            fault.kind,
            fault.hold,
            started.elapsed().as_secs()
        );
        monitor.in_fault.store(true, Ordering::Relaxed);
        inject(fault.kind, fault.hold, fault.target, &mut p).await?;
        let recovered = flowing_again(metrics_port, Duration::from_secs(120)).await;
        monitor.in_fault.store(false, Ordering::Relaxed);
        if recovered.is_none() {
            println!("chaos: not flowing again within 120 s after {:?}", fault.kind);
            let why = stall_cause(metrics_port).await;
            p.restart_broker()?;
            let after = flowing_again(metrics_port, Duration::from_secs(120)).await;
            incidents.stalls.push(format!(
                "after fault {} ({:?}): {why}; broker restarted, members expired, flowing again: {}",
                i + 1,
                fault.kind,
                after.map_or("no".into(), |d| format!("after {} ms", d.as_millis()))
            ));
        }
        recoveries.push(&format!("{:?}", fault.kind), recovered);
        if let Some(status) = p.app.exited() {
            // systemd would start it again (Restart=on-failure); so does the suite, and the
            // report lists every such exit. The audit still has to pass.
            println!("chaos: tickstream exited on its own ({status}); starting it again");
            incidents
                .exits
                .push(format!("after fault {} ({:?}): {status}", i + 1, fault.kind));
            p.start_app()?;
        }
    }
    let (ticks_produced, ticks_acked) = monitor.ticks();
    let rss = monitor.finish();

    // Stop producing; a sink-only instance drains what is left, then the audit.
    p.app.terminate(Duration::from_secs(45));
    let mut drain = runtime("drain.toml");
    drain.start()?;
    let mut config = tickstream::config::parse_str(&config_toml(
        broker_port,
        &proxy.url(),
        metrics_port,
        false,
        &rc.sink_toml(),
    ))
    .map_err(|p| setup(p.message))?;
    config.s3.endpoint = Some(format!("http://{s3_addr}"));
    let endpoint = tickstream::s3::client::S3Endpoint {
        url: config.s3.endpoint.clone(),
        region: config.s3.region.clone(),
        static_credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
    };
    let drain_started = Instant::now();
    let deadline = drain_started + Duration::from_secs(360);
    let mut restarted = false;
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
        // A drain still consuming just needs time (the audit re-reads the whole topic each try);
        // only a drain whose consumer says it is stuck joining the group gets the broker restart.
        if !restarted
            && drain_started.elapsed() > Duration::from_secs(90)
            && scrape(metrics_port, "tickstream_consumer_group_stuck_total")
                .await
                .is_some_and(|n| n > 0.0)
        {
            let why = stall_cause(metrics_port).await;
            p.restart_broker()?;
            incidents.stalls.push(format!(
                "final drain not done after 90 s: {why}; broker restarted, members expired"
            ));
            restarted = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    drain.terminate(Duration::from_secs(45));
    println!("{}", tickstream::verify::report::table(&audit));
    proxy.stop().await;
    Ok((
        PhaseTotals::from_audit(&audit, ticks_produced, ticks_acked),
        rss,
        incidents,
    ))
}
