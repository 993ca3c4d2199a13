//! Records deleted by the embedded broker's retention before the sink wrote them: a sink-only
//! `tickstream run` against a mock cluster of the test's own, S3 killed after its first commit,
//! then a burst larger than the mock cluster keeps per partition (5 MiB). S3 back, the sink
//! finds the gap, logs DATA LOSS and counts it: TickstreamDataLoss fires (it clears only after
//! its 10-minute window, which this test does not wait for).

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

pub fn start(kafka: &EmbeddedKafka, s3: &EmbeddedS3) -> Tickstream {
    kafka.create_topic(TOPIC, 3, 1).expect("topic");
    Tickstream::start(
        "dataloss",
        &format!(
            "[kafka]\nmode = \"plaintext\"\nbootstrap_servers = \"{}\"\ncreate_topics = false\nconsumer_group = \"dataloss\"\n\n\
             [producer]\nenabled = false\n\n[sink]\ntopics = \"{TOPIC}\"\n\"rotate.interval.ms\" = 1000\n\n\
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
    tokio::task::spawn_blocking(move || produce(&p, 0, 10))
        .await
        .expect("produced");
    prom.until(
        r#"sum(tickstream_sink_committed_offset{scenario="dataloss"})"#,
        Duration::from_secs(120),
        |v| v >= 70.0,
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
    // ~28 MB of ticks: more than the mock cluster's 5 MiB per partition, so it deletes the
    // oldest while the sink, its uploads failing, holds its partitions paused.
    let p = producer.clone();
    tokio::task::spawn_blocking(move || produce(&p, 10, 20_000))
        .await
        .expect("burst");
    let lost = low_watermarks_pass_the_commits(&bootstrap).await;
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

/// Waits until some partition's earliest offset is past what the sink committed; those
/// partitions.
async fn low_watermarks_pass_the_commits(bootstrap: &str) -> Vec<i32> {
    let bootstrap = bootstrap.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", "dataloss")
            .create()
            .expect("consumer");
        let mut partitions = rdkafka::TopicPartitionList::new();
        for p in 0..3 {
            partitions.add_partition(TOPIC, p);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let committed = consumer
                .committed_offsets(partitions.clone(), Duration::from_secs(5))
                .ok()
                .map(|tpl| tpl.to_topic_map())
                .unwrap_or_default();
            let lost: Vec<i32> = (0..3)
                .filter(|p| {
                    let low = consumer
                        .fetch_watermarks(TOPIC, *p, Duration::from_secs(5))
                        .map_or(0, |(l, _)| l);
                    let done = match committed.get(&(TOPIC.to_owned(), *p)) {
                        Some(rdkafka::Offset::Offset(o)) => *o,
                        _ => 0,
                    };
                    low > done
                })
                .collect();
            if !lost.is_empty() {
                return lost;
            }
            assert!(Instant::now() < deadline, "the mock cluster deleted nothing");
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .expect("watermarks")
}
