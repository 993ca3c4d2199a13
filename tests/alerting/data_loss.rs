//! Records deleted by the embedded broker's retention before the sink wrote them: a sink-only
//! `tickstream run` against a mock cluster of the test's own, S3 killed after its first commit.
//! Ticks until every partition's sink holds `max.buffered.records` and the router has paused it
//! (paused, a partition is not fetched, so what the broker deletes next is not in the sink's
//! memory either), then a burst larger than the mock cluster keeps per partition (5 MiB). S3
//! back, the sink finds the gap, logs DATA LOSS and counts it: TickstreamDataLoss fires (it
//! clears only after its 10-minute window, which this test does not wait for).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use tickstream::config::{KafkaConfig, KafkaMode};
use tickstream::kafka::{client_config, EmbeddedKafka, TickProducer};
use tickstream::s3::embedded::EmbeddedS3;

use super::{Fired, S3_CREDENTIALS, SYMBOLS};
use crate::process::Tickstream;
use crate::prometheus::Prometheus;

const TOPIC: &str = "lossy";
/// The scenario's `max.buffered.records`: what a paused partition's sink holds at most.
const MAX_BUFFERED: i64 = 1_000;
/// Ticks of each symbol before the outage, and in its first burst: every partition a symbol
/// goes to gets more than its sink can hold.
const BEFORE: u64 = 10;
const FILL: u64 = 3 * MAX_BUFFERED as u64;
/// The burst that retention deletes (~28 MB, each partition past 5 MiB).
const BURST: u64 = 20_000;

pub fn start(kafka: &EmbeddedKafka, s3: &EmbeddedS3) -> Tickstream {
    kafka.create_topic(TOPIC, 3, 1).expect("topic");
    Tickstream::start(
        "dataloss",
        &format!(
            "[kafka]\nmode = \"plaintext\"\nbootstrap_servers = \"{}\"\ncreate_topics = false\nconsumer_group = \"dataloss\"\n\n\
             [producer]\nenabled = false\n\n[sink]\ntopics = \"{TOPIC}\"\n\"rotate.interval.ms\" = 1000\n\"max.buffered.records\" = {MAX_BUFFERED}\n\n\
             [s3]\nmode = \"endpoint\"\nendpoint = \"{}\"\n\n[warehouse]\nenabled = false\n",
            kafka.bootstrap_servers(),
            s3.url()
        ),
        &S3_CREDENTIALS,
    )
}

fn tick(symbol: &str, seq: u64) -> Vec<u8> {
    crate::common::tick_json(symbol, seq, "data-loss-test")
}

/// Sends `per_symbol` ticks of each symbol from `from` on, and waits for every ack.
fn produce(producer: &TickProducer, from: u64, per_symbol: u64) {
    for seq in from..from + per_symbol {
        for s in SYMBOLS {
            let payload = tick(s, seq);
            while producer.try_send(TOPIC, s, &payload).is_err() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    producer
        .flush(Duration::from_secs(60))
        .expect("every tick acknowledged");
}

pub async fn run(
    prom: &Prometheus,
    t: &Tickstream,
    kafka: &Arc<EmbeddedKafka>,
    s3: EmbeddedS3,
    root: &Path,
) -> Vec<Fired> {
    let bootstrap = kafka.bootstrap_servers().to_owned();
    let kc = KafkaConfig {
        mode: KafkaMode::Plaintext,
        ..KafkaConfig::default()
    };
    // Uncompressed, so the burst is as large on the broker as it is here.
    let mut producer_config = client_config::producer(&kc, &bootstrap);
    producer_config.set("compression.type", "none");
    let producer =
        Arc::new(TickProducer::new(&producer_config, Default::default(), None, Default::default()).expect("producer"));
    let p = producer.clone();
    tokio::task::spawn_blocking(move || produce(&p, 0, BEFORE))
        .await
        .expect("produced");
    prom.until(
        r#"sum(tickstream_sink_committed_offset{scenario="dataloss"})"#,
        Duration::from_secs(120),
        |v| v >= (BEFORE * SYMBOLS.len() as u64) as f64,
    )
    .await;
    prom.until(
        r#"count(tickstream_sink_offsets_missing_total{scenario="dataloss"} == 0)"#,
        Duration::from_secs(30),
        |v| v == 3.0,
    )
    .await;

    let port = s3.port();
    s3.kill().await;
    let p = producer.clone();
    tokio::task::spawn_blocking(move || produce(&p, BEFORE, FILL))
        .await
        .expect("fill");
    // Until then the consumer may have fetched ahead: a burst now could sit in its memory.
    let fed = partitions_with_records(&bootstrap).await;
    until_paused(t, &fed, Duration::from_secs(60)).await;
    let p = producer.clone();
    tokio::task::spawn_blocking(move || produce(&p, BEFORE + FILL, BURST))
        .await
        .expect("burst");
    let lost = low_watermarks_pass_the_sinks(&bootstrap).await;
    let s3 = EmbeddedS3::start(root, port).await.expect("S3 back on its port");
    let back = Instant::now();
    // Polled here rather than with `until_firing`, so that a miss shows the process's own log.
    let firing = loop {
        let firing = prom.firing("TickstreamDataLoss", "dataloss").await;
        if !firing.is_empty() {
            break firing;
        }
        if back.elapsed() > Duration::from_secs(120) {
            let log = t.log();
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "TickstreamDataLoss did not fire within 120 s of S3's return (lost on {lost:?}); the process's last lines:\n{}",
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let fired = back.elapsed();
    assert!(
        firing
            .iter()
            .any(|a| lost.contains(&a.label("partition").parse().unwrap_or(-1))),
        "the alert names a partition that lost records ({lost:?}): {firing:?}"
    );
    t.until_logged("DATA LOSS", Duration::from_secs(10)).await;
    s3.stop().await;
    drop(producer);
    vec![Fired {
        alert: "TickstreamDataLoss",
        provoked_by: "the mock cluster's retention (5 MiB a partition) deleted records the paused sink had not written",
        fired_after: fired,
        cleared_after: None,
    }]
}

/// Each partition's (earliest offset, end offset, committed offset), read by a client of the
/// group's own (it never joins, so it moves nothing).
struct Offsets {
    consumer: BaseConsumer,
}

impl Offsets {
    fn new(bootstrap: &str) -> Self {
        let consumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "dataloss")
            .create()
            .expect("consumer");
        Self { consumer }
    }

    fn read(&self) -> Vec<(i32, i64, i64, i64)> {
        let mut partitions = rdkafka::TopicPartitionList::new();
        for p in 0..3 {
            partitions.add_partition(TOPIC, p);
        }
        let committed = self
            .consumer
            .committed_offsets(partitions, Duration::from_secs(5))
            .ok()
            .map(|tpl| tpl.to_topic_map())
            .unwrap_or_default();
        (0..3)
            .map(|p| {
                let (low, high) = self
                    .consumer
                    .fetch_watermarks(TOPIC, p, Duration::from_secs(5))
                    .unwrap_or((0, 0));
                let done = match committed.get(&(TOPIC.to_owned(), p)) {
                    Some(rdkafka::Offset::Offset(o)) => *o,
                    _ => 0,
                };
                (p, low, high, done)
            })
            .collect()
    }
}

/// The partitions the symbols' ticks went to.
async fn partitions_with_records(bootstrap: &str) -> Vec<i32> {
    let bootstrap = bootstrap.to_owned();
    tokio::task::spawn_blocking(move || {
        let fed: Vec<i32> = Offsets::new(&bootstrap)
            .read()
            .into_iter()
            .filter(|&(_, _, high, _)| high > 0)
            .map(|(p, ..)| p)
            .collect();
        assert!(!fed.is_empty(), "no partition of {TOPIC} has records");
        fed
    })
    .await
    .expect("watermarks")
}

/// Waits until the process counted a pause of each of `partitions`
/// (`tickstream_sink_pauses_total` on its own `/metrics`).
async fn until_paused(t: &Tickstream, partitions: &[i32], limit: Duration) {
    let started = Instant::now();
    loop {
        let metrics = t
            .http("GET", "/metrics")
            .await
            .map(|(_, body)| body)
            .unwrap_or_default();
        let paused: Vec<i32> = metrics
            .lines()
            .filter(|l| l.starts_with("tickstream_sink_pauses_total{"))
            .filter(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) > Some(0.0))
            .filter_map(|l| l.split("partition=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect();
        if partitions.iter().all(|p| paused.contains(p)) {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "partitions {partitions:?} of {TOPIC} not all paused within {limit:?} of S3's outage (paused: {paused:?}):\n{}",
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until some partition's earliest offset is past anything its paused sink can hold
/// (what it committed plus `max.buffered.records`, twice over); those partitions.
async fn low_watermarks_pass_the_sinks(bootstrap: &str) -> Vec<i32> {
    let bootstrap = bootstrap.to_owned();
    tokio::task::spawn_blocking(move || {
        let offsets = Offsets::new(&bootstrap);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let read = offsets.read();
            let lost: Vec<i32> = read
                .iter()
                .filter(|&&(_, low, _, done)| low > done + 2 * MAX_BUFFERED)
                .map(|&(p, ..)| p)
                .collect();
            if !lost.is_empty() {
                return lost;
            }
            assert!(
                Instant::now() < deadline,
                "the mock cluster deleted too little: (partition, earliest, end, committed) {read:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .expect("watermarks")
}
