//! The multi-broker phase: tansu answers as the leader of every partition, so leader moves and
//! one-of-three brokers down run against librdkafka's mock cluster (three brokers, real Kafka
//! protocol on 127.0.0.1) with tickstream's pipeline in this process and s3s-fs in-process.
//! Same seeded schedule idea, same audit.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickstream::config::{Config, KafkaMode, S3Mode};
use tickstream::kafka::EmbeddedKafka;
use tickstream::pipeline::{Infra, Pipeline, RunOptions};
use tickstream::rng::SplitMix64;
use tickstream::s3::embedded::EmbeddedS3;
use tickstream::telemetry::PipelineStats;
use tickstream::verify::VerifyReport;

use crate::run::{setup, ChaosError};

const BROKERS: i32 = 3;
const PARTITIONS: i32 = 3;
const TOPIC: &str = "stock-market-data";

/// A fault of the multi-broker phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MockFault {
    /// Partition `partition`'s leadership moves to `broker`.
    LeaderMove { partition: i32, broker: i32 },
    /// `broker` goes down for `hold`; the partitions it led move to the next broker first.
    BrokerDown { broker: i32, hold: Duration },
}

impl MockFault {
    pub fn kind(&self) -> &'static str {
        match self {
            MockFault::LeaderMove { .. } => "MockLeaderMove",
            MockFault::BrokerDown { .. } => "MockBrokerDown",
        }
    }
}

/// `count` faults from `seed`, alternating kinds first so a short run has both.
pub fn mock_schedule(seed: u64, count: usize) -> Vec<MockFault> {
    let mut rng = SplitMix64(seed ^ 0x6d6f_636b);
    (0..count)
        .map(|i| {
            let broker = 1 + (rng.next_u64() % BROKERS as u64) as i32;
            if i == 0 || (i >= 2 && rng.next_u64().is_multiple_of(2)) {
                MockFault::LeaderMove {
                    partition: (rng.next_u64() % PARTITIONS as u64) as i32,
                    broker,
                }
            } else {
                MockFault::BrokerDown {
                    broker,
                    hold: Duration::from_millis(1_000 + rng.next_u64() % 4_000),
                }
            }
        })
        .collect()
}

/// What the phase found.
#[derive(Debug)]
pub struct FailoverOutcome {
    pub faults: Vec<(&'static str, Option<Duration>)>,
    pub audit: VerifyReport,
    pub ticks_produced: u64,
    pub ticks_acked: u64,
}

/// The phase's pipeline; `sink_extra` are more `[sink]` lines (`chaos --sink`).
fn config(kafka: &EmbeddedKafka, s3: &EmbeddedS3, dir: &Path, sink_extra: &str) -> Result<Config, ChaosError> {
    let mut c = tickstream::config::parse_str(&format!("[sink]\n{sink_extra}")).map_err(|p| setup(p.message))?;
    c.kafka.mode = KafkaMode::Plaintext;
    c.kafka.bootstrap_servers = kafka.bootstrap_servers().to_owned();
    c.kafka.partitions = PARTITIONS;
    c.kafka.replication_factor = BROKERS;
    c.kafka.consumer_group = "chaos-failover".into();
    c.producer.topic = TOPIC.into();
    c.producer.symbols = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA"]
        .map(String::from)
        .to_vec();
    // 7 × 20 ticks/s keeps a 5-minute soak phase under the mock cluster's 5 MiB per partition
    // (older records would be deleted: the audit skips them, the report's "in kafka" shrinks).
    c.producer.ticks_per_second = 20.0;
    c.sink.topics = TOPIC.into();
    c.sink.flush_size = 50;
    c.sink.rotate_interval_ms = 1_000;
    c.sink.bucket = "chaos-failover".into();
    c.s3.mode = S3Mode::Endpoint;
    c.s3.endpoint = Some(s3.url());
    c.metrics.enabled = false;
    c.runtime.progress_interval_ms = 0;
    c.runtime.data_dir = dir.to_owned();
    c.runtime.shutdown_timeout_ms = 60_000;
    Ok(c)
}

/// Waits until a new file is uploaded; how long that took.
async fn flowing_again(stats: &PipelineStats, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let before = stats.snapshot().files_uploaded;
    while started.elapsed() < limit {
        if stats.snapshot().files_uploaded > before {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Applies one fault; returns when it is over (the broker is back).
async fn inject(kafka: &EmbeddedKafka, leaders: &mut [i32], fault: MockFault) -> Result<(), ChaosError> {
    match fault {
        MockFault::LeaderMove { partition, broker } => {
            kafka.set_leader(TOPIC, partition, Some(broker)).map_err(setup)?;
            leaders[partition as usize] = broker;
        }
        MockFault::BrokerDown { broker, hold } => {
            let next = broker % BROKERS + 1;
            for (p, leader) in leaders.iter_mut().enumerate() {
                if *leader == broker {
                    kafka.set_leader(TOPIC, p as i32, Some(next)).map_err(setup)?;
                    *leader = next;
                }
            }
            kafka.broker_down(broker).map_err(setup)?;
            tokio::time::sleep(hold).await;
            kafka.broker_up(broker).map_err(setup)?;
        }
    }
    Ok(())
}

/// Runs the pipeline against a three-broker mock cluster through `faults` faults (or until
/// `until` passes), drains it and audits the topic against the bucket.
pub async fn run(
    seed: u64,
    faults: usize,
    until: Option<Duration>,
    dir: &Path,
    sink_extra: &str,
) -> Result<FailoverOutcome, ChaosError> {
    std::fs::create_dir_all(dir).map_err(setup)?;
    let kafka = Arc::new(EmbeddedKafka::start(BROKERS).map_err(setup)?);
    let s3 = EmbeddedS3::start(&dir.join("s3"), 0).await.map_err(setup)?;
    let config = config(&kafka, &s3, dir, sink_extra)?;
    let infra = Infra {
        bootstrap_servers: kafka.bootstrap_servers().to_owned(),
        s3: s3.endpoint(),
        embedded_kafka: Some(kafka.clone()),
        kafka_auth: None,
        reachability: Default::default(),
    };
    let pipeline = Pipeline::start(&config, &infra, RunOptions::new(Some(seed)))
        .await
        .map_err(setup)?;
    let stats = pipeline.stats().clone();
    flowing_again(&stats, Duration::from_secs(60))
        .await
        .ok_or_else(|| setup("failover phase: the pipeline never wrote a file"))?;

    // Known starting leaders: partition p on broker p + 1.
    let mut leaders: Vec<i32> = (0..PARTITIONS).map(|p| p % BROKERS + 1).collect();
    for (p, b) in leaders.iter().enumerate() {
        kafka.set_leader(TOPIC, p as i32, Some(*b)).map_err(setup)?;
    }
    let started = Instant::now();
    let count = if until.is_some() { 100_000 } else { faults };
    let mut done = Vec::new();
    for (i, fault) in mock_schedule(seed, count).into_iter().enumerate() {
        if until.is_some_and(|u| started.elapsed() > u) {
            break;
        }
        println!("chaos: failover fault {:>3} {fault:?}", i + 1);
        inject(&kafka, &mut leaders, fault).await?;
        let recovered = flowing_again(&stats, Duration::from_secs(60)).await;
        if recovered.is_none() {
            println!("chaos: not flowing again within 60 s after {fault:?}");
        }
        done.push((fault.kind(), recovered));
    }

    let report = pipeline.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let audit = loop {
        let r = tickstream::verify::audit(
            &config,
            kafka.bootstrap_servers(),
            &s3.endpoint(),
            Duration::from_secs(60),
        )
        .await
        .map_err(setup)?;
        if r.ok() || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    s3.stop().await;
    drop(infra);
    if let Ok(kafka) = Arc::try_unwrap(kafka) {
        kafka.stop();
    }
    Ok(FailoverOutcome {
        faults: done,
        audit,
        ticks_produced: report.stats.ticks_produced,
        ticks_acked: report.stats.ticks_acked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mock_schedule_is_seeded_and_has_both_kinds_first() {
        assert_eq!(mock_schedule(5, 10), mock_schedule(5, 10));
        let s = mock_schedule(5, 2);
        assert!(matches!(s[0], MockFault::LeaderMove { .. }));
        assert!(matches!(s[1], MockFault::BrokerDown { .. }));
        for f in mock_schedule(9, 50) {
            match f {
                MockFault::LeaderMove { partition, broker } => {
                    assert!((0..PARTITIONS).contains(&partition) && (1..=BROKERS).contains(&broker))
                }
                MockFault::BrokerDown { broker, hold } => {
                    assert!((1..=BROKERS).contains(&broker) && hold >= Duration::from_secs(1))
                }
            }
        }
    }
}
