//! The pipeline through the fault-injecting S3 proxy: S3 throttles (503 SlowDown), fails (500),
//! and drops connections for a while; afterwards every acknowledged tick is in S3 exactly once.

use std::sync::Arc;
use std::time::Duration;

use chaos::s3_proxy::{Fault, S3FaultProxy};
use tickstream::config::{Config, KafkaMode, S3Mode};
use tickstream::kafka::EmbeddedKafka;
use tickstream::pipeline::{Infra, Pipeline, RunOptions};
use tickstream::s3::client::S3Endpoint;
use tickstream::s3::embedded::EmbeddedS3;
use tickstream::test_support::{all_committed, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_errors_and_dropped_connections_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kafka = Arc::new(EmbeddedKafka::start(3).unwrap());
    let s3 = EmbeddedS3::start(&dir.path().join("s3"), 0).await.unwrap();
    let proxy = S3FaultProxy::start(([127, 0, 0, 1], s3.port()).into()).await.unwrap();
    let id = &uuid::Uuid::new_v4().simple().to_string()[..12];

    let mut config = Config::default();
    config.kafka.mode = KafkaMode::Plaintext;
    config.kafka.bootstrap_servers = kafka.bootstrap_servers().to_owned();
    config.kafka.consumer_group = format!("group-{id}");
    config.producer.topic = format!("ticks-{id}");
    config.producer.symbols = vec!["AAA".into(), "BBB".into(), "CCC".into()];
    config.producer.ticks_per_second = 200.0;
    config.producer.max_ticks_per_symbol = Some(1_500);
    config.sink.topics = config.producer.topic.clone();
    config.sink.bucket = format!("bucket-{id}");
    config.sink.flush_size = 25;
    config.sink.rotate_interval_ms = 300;
    config.s3.mode = S3Mode::Endpoint;
    config.s3.endpoint = Some(proxy.url());
    config.metrics.enabled = false;
    config.runtime.progress_interval_ms = 0;
    config.runtime.data_dir = dir.path().to_owned();
    let through_proxy = S3Endpoint {
        url: Some(proxy.url()),
        ..s3.endpoint()
    };
    let infra = Infra {
        bootstrap_servers: kafka.bootstrap_servers().to_owned(),
        s3: through_proxy,
        embedded_kafka: Some(kafka.clone()),
        kafka_auth: None,
        reachability: Default::default(),
    };

    let pipeline = Pipeline::start(&config, &infra, RunOptions::new(Some(41)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(30), "files flowing", || {
        stats.snapshot().files_uploaded >= 3
    })
    .await;

    for (fault, secs) in [(Fault::SlowDown, 2), (Fault::InternalError, 1), (Fault::Drop, 1)] {
        proxy.set(fault);
        let files = stats.snapshot().files_uploaded;
        tokio::time::sleep(Duration::from_secs(secs)).await;
        // An upload already past the proxy may still land; none can start and finish.
        assert!(
            stats.snapshot().files_uploaded <= files + 12,
            "{fault:?}: uploads stall"
        );
    }
    assert!(proxy.faulted() > 0, "the sink kept trying while S3 failed");
    proxy.set(Fault::None);

    all_committed(&stats, 4_500, Duration::from_secs(120)).await;
    pipeline.shutdown().await;
    let report = tickstream::verify::audit(
        &config,
        kafka.bootstrap_servers(),
        &s3.endpoint(),
        Duration::from_secs(60),
    )
    .await
    .expect("audit");
    assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
    assert_eq!(report.partitions.iter().map(|p| p.records_in_s3).sum::<u64>(), 4_500);
    eprintln!("requests answered with a fault: {}", proxy.faulted());
    proxy.stop().await;
    s3.stop().await;
}
