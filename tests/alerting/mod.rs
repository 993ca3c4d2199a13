//! The alert rules against the real exporter on a real Prometheus: `tickstream run` processes
//! (one per scenario, scraped every second as targets labelled `scenario`), Debian's
//! `prometheus` with `config/prometheus/alerts.yml`, and the faults an operator would meet,
//! provoked for real: an actor's first restart, a restart storm, a spent restart budget (the
//! process exits and is started again), S3 killed, the warehouse locked, the process killed,
//! records deleted by the embedded broker's retention, a record the sink may not skip
//! (`errors.tolerance = "none"`). Each alert must fire
//! (and, where the fault ends, clear) as Prometheus itself reports at `/api/v1/alerts`. While the
//! scenarios run, every panel of the Grafana dashboard must evaluate to data, and `promtool
//! check metrics` must find nothing to say about a live scrape.
//!
//! Alerts that cannot be provoked on one machine (token expiry against MSK, Snowflake's own
//! pipe) keep their promtool unit tests (`config/prometheus/alerts.test.yml`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tickstream::kafka::EmbeddedKafka;
use tickstream::s3::embedded::{EmbeddedS3, ACCESS_KEY, SECRET_KEY};

mod data_loss;
mod escalation;
mod ingestion_stalled;
mod partition_halted;
mod sink_stalled;

use crate::dashboard::empty_or_failing_panels;
use crate::process::Tickstream;
use crate::prometheus::{Prometheus, Target};

/// What one provoked alert did, for the report the test prints.
#[derive(Clone)]
pub struct Fired {
    pub alert: &'static str,
    pub provoked_by: &'static str,
    pub fired_after: Duration,
    pub cleared_after: Option<Duration>,
}

/// The embedded default with files every second and the seed's seven symbols at 1 tick/s.
pub const EMBEDDED: &str = "[sink]\n\"rotate.interval.ms\" = 1000\n\n[warehouse]\npoll_interval_ms = 500\n";

pub const SYMBOLS: [&str; 7] = ["AAPL", "GOOGL", "MSFT", "AMZN", "TSLA", "META", "NVDA"];

/// Credentials the embedded S3 server accepts, for a process in `s3.mode = "endpoint"`.
pub const S3_CREDENTIALS: [(&str, &str); 2] =
    [("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET_KEY)];

/// Fails `id` through the admin endpoint as soon as it runs again (after a restart's backoff).
pub async fn fail_when_running(t: &Tickstream, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match t.http("POST", &format!("/admin/actors/{id}/fail")).await {
            Some((202, _)) => return,
            other => assert!(Instant::now() < deadline, "{}: {id} never ran again: {other:?}", t.name),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first restart of an actor fires TickstreamActorRestarted (for it alone); fourteen more
/// in a minute fire TickstreamRestartStorm; both clear once the restarts leave the 5-minute
/// window.
async fn restarts(prom: &Prometheus, t: &Tickstream) -> Vec<Fired> {
    let series = r#"tickstream_actor_restarts_total{scenario="restarts", actor="sink-0"}"#;
    // Prometheus holds samples at 0 from before the restart: the exporter's own series.
    prom.until(
        &format!("count_over_time({series}[1m]) >= 2 and {series} == 0"),
        Duration::from_secs(90),
        |_| true,
    )
    .await;
    fail_when_running(t, "sink-0").await;
    let (firing, first) = prom
        .until_firing("TickstreamActorRestarted", "restarts", Duration::from_secs(30))
        .await;
    assert!(
        firing.iter().all(|a| a.label("actor") == "sink-0"),
        "only the restarted actor alerts: {firing:?}"
    );
    assert!(
        prom.firing("TickstreamRestartStorm", "restarts").await.is_empty(),
        "one restart is no storm"
    );

    let storm_started = Instant::now();
    for _ in 0..2 {
        for s in SYMBOLS {
            fail_when_running(t, &format!("producer-{s}")).await;
        }
    }
    prom.until_firing("TickstreamRestartStorm", "restarts", Duration::from_secs(60))
        .await;
    let storm = storm_started.elapsed();
    let last_restart = Instant::now();
    // Both clear when the restarts are older than the rules' 5-minute window.
    prom.until_clear("TickstreamRestartStorm", "restarts", Duration::from_secs(420))
        .await;
    let storm_cleared = last_restart.elapsed();
    prom.until_clear("TickstreamActorRestarted", "restarts", Duration::from_secs(60))
        .await;
    let restarted_cleared = last_restart.elapsed();
    vec![
        Fired {
            alert: "TickstreamActorRestarted",
            provoked_by: "POST /admin/actors/sink-0/fail: the first restart of sink-0",
            fired_after: first,
            cleared_after: Some(restarted_cleared),
        },
        Fired {
            alert: "TickstreamRestartStorm",
            provoked_by: "14 producer restarts (7 producers failed twice) on top of sink-0's",
            fired_after: storm,
            cleared_after: Some(storm_cleared),
        },
    ]
}

/// The process killed: TickstreamDown after a minute of failed scrapes; started again, it clears.
async fn down(prom: &Prometheus, t: &mut Tickstream) -> Vec<Fired> {
    prom.until(r#"up{scenario="down"}"#, Duration::from_secs(60), |v| v == 1.0)
        .await;
    t.kill();
    let (_, fired) = prom
        .until_firing("TickstreamDown", "down", Duration::from_secs(150))
        .await;
    t.restart();
    t.until_serving(Duration::from_secs(60)).await;
    let cleared = prom
        .until_clear("TickstreamDown", "down", Duration::from_secs(60))
        .await;
    vec![Fired {
        alert: "TickstreamDown",
        provoked_by: "SIGKILL of the tickstream process (then started again)",
        fired_after: fired,
        cleared_after: Some(cleared),
    }]
}

/// Asserts `promtool check metrics` has nothing to say about `t`'s live scrape.
async fn promtool_is_quiet(t: &Tickstream) {
    use std::io::Write;
    let Some((200, scrape)) = t.http("GET", "/metrics").await else {
        panic!("{}: no scrape", t.name);
    };
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; scripts/test installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(scrape.as_bytes())
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool ran");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "{}: promtool check metrics: {said}",
        t.name
    );
    assert!(scrape.contains("# HELP tickstream_"), "{scrape}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alerts_fire_and_clear_on_a_real_prometheus_scraping_real_processes() {
    // Each supervisor absorbs `max_restarts` restarts of its children together: room for the
    // storm's fourteen producer restarts within the window.
    let restarts_config = format!("{EMBEDDED}\n[supervision]\nmax_restarts = 30\n");
    let restarts_t = Tickstream::start("restarts", &restarts_config, &[]);
    let mut down_t = Tickstream::start("down", EMBEDDED, &[]);
    let mut escalation_t = Tickstream::start("escalation", &format!("{EMBEDDED}{}", escalation::SUPERVISION), &[]);

    let s3_dir = tempfile::tempdir().expect("temp dir");
    let s3 = EmbeddedS3::start(s3_dir.path(), 0).await.expect("s3s-fs");
    let stalled_t = Tickstream::start(
        "s3",
        &format!("[s3]\nmode = \"endpoint\"\nendpoint = \"{}\"\n\n{EMBEDDED}", s3.url()),
        &S3_CREDENTIALS,
    );
    let ingest_t = Tickstream::start("ingest", EMBEDDED, &[]);

    let loss_dir = tempfile::tempdir().expect("temp dir");
    let loss_s3 = EmbeddedS3::start(loss_dir.path(), 0).await.expect("s3s-fs");
    let loss_kafka = Arc::new(EmbeddedKafka::start(1).expect("mock cluster"));
    let loss_t = data_loss::start(&loss_kafka, &loss_s3);
    // Its own topic on the same mock cluster.
    let halted_t = partition_halted::start(&loss_kafka);

    let sasl = crate::sasl_broker::SaslBroker::start();
    let msk_t = crate::startup::msk_iam_process(&sasl);

    let all = [
        &restarts_t,
        &down_t,
        &escalation_t,
        &stalled_t,
        &ingest_t,
        &loss_t,
        &halted_t,
        &msk_t,
    ];
    let targets: Vec<Target> = all
        .iter()
        .map(|t| Target {
            scenario: t.name.clone(),
            addr: t.metrics.clone(),
        })
        .collect();
    for t in all {
        t.until_serving(Duration::from_secs(120)).await;
    }
    let prom = Prometheus::start(&targets).await;

    let dashboard = async {
        // Every scenario's process has run for a while: every panel has something to show.
        tokio::time::sleep(Duration::from_secs(45)).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let bad = empty_or_failing_panels(&prom).await;
            if bad.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dashboard panels without data:\n{}",
                bad.join("\n")
            );
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        for t in [&restarts_t, &stalled_t, &loss_t, &msk_t] {
            promtool_is_quiet(t).await;
        }
    };
    let (mut report, _) = tokio::join!(
        async {
            let (a, b, c, d, e, f, g) = tokio::join!(
                restarts(&prom, &restarts_t),
                down(&prom, &mut down_t),
                escalation::run(&prom, &mut escalation_t),
                sink_stalled::run(&prom, &stalled_t, s3, s3_dir.path()),
                ingestion_stalled::run(&prom, &ingest_t),
                data_loss::run(&prom, &loss_t, &loss_kafka, loss_s3, loss_dir.path()),
                partition_halted::run(&prom, &loss_kafka),
            );
            [a, b, c, d, e, f, g].concat()
        },
        dashboard,
    );
    report.sort_by_key(|f| f.alert);
    for f in &report {
        eprintln!(
            "alert {:<32} fired after {:>6.1} s, cleared after {:>8}: {}",
            f.alert,
            f.fired_after.as_secs_f64(),
            f.cleared_after
                .map_or("-".to_owned(), |c| format!("{:.1} s", c.as_secs_f64())),
            f.provoked_by
        );
    }
    drop(prom);
    drop((
        restarts_t,
        down_t,
        escalation_t,
        stalled_t,
        ingest_t,
        loss_t,
        halted_t,
        msk_t,
    ));
    let kafka = Arc::try_unwrap(loss_kafka)
        .ok()
        .expect("the data-loss broker is ours alone at the end");
    tokio::task::spawn_blocking(move || kafka.stop())
        .await
        .expect("stopped");
}
