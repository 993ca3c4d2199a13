//! Faults with the in-process servers: an S3 outage and a whole-cluster broker outage in the
//! middle of a run. Afterwards `tickstream verify`'s audit must find every acknowledged tick in
//! S3 exactly once. (The chaos suite does the same with real processes and SIGKILL.)

use std::time::{Duration, Instant};

use crate::common::{all_committed, assert_ticks_per_symbol, eventually, records_in_s3, TestEnv};
use tickstream::pipeline::{Pipeline, RunOptions};
use tickstream::s3::embedded::EmbeddedS3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_outage_pauses_the_sinks_with_bounded_memory_and_loses_nothing() {
    let mut env = TestEnv::start().await;
    // 3,000 ticks/s for 4 s: without the memory gate a sink would take in ~9,000 records while
    // S3 is down; with it, each partition holds at most max.buffered.records plus one poll round.
    let mut config = env.config(3, 4_000, 20, 200);
    config.producer.ticks_per_second = 1_000.0;
    config.sink.max_buffered_records = Some(100);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(21)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(30), "files flowing", || {
        stats.snapshot().files_uploaded >= 3
    })
    .await;

    // S3 goes away for 3 s (same port and directory when it comes back).
    let (root, port) = (env.s3.root().to_owned(), env.s3.port());
    let s3 = std::mem::replace(&mut env.s3, EmbeddedS3::placeholder());
    s3.kill().await;
    let outage = Instant::now();
    let files_at_outage = stats.snapshot().files_uploaded;
    // Records held in memory by the sinks, every 100 ms through the outage.
    let mut samples = Vec::new();
    while outage.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples.push(held(&stats.snapshot()));
    }
    let during = stats.snapshot();
    // PUTs the server finished just before the kill may still be acknowledged after it: at most
    // max.inflight.uploads (4) per partition. A live S3 would take ~450 files in these 3 s.
    assert!(
        during.files_uploaded <= files_at_outage + 12,
        "uploads stall while S3 is down: {} then {}",
        files_at_outage,
        during.files_uploaded
    );
    // A routing round ends as soon as a partition's sink is full, and a partition whose upload
    // fails is paused (its records wait in Kafka), so each of the 3 sinks holds at most
    // max.buffered.records (100) plus the record that filled it, at every moment of the outage.
    // Without the gate it would reach ~9,000. (How soon each sink fills depends on the machine's
    // load, so the samples are checked against the bound, not against each other.)
    eprintln!("records held in memory every 100 ms of the S3 outage: {samples:?}");
    let most = samples.iter().copied().max().unwrap_or(0);
    // The sinks fill up (1,000 ticks/s a symbol, nothing landing): the samples measure memory.
    assert!(most >= 100, "the sinks report what they hold: {samples:?}");
    assert!(
        most <= 3 * 101,
        "memory bounded during the outage: {most} records held ({samples:?})"
    );
    env.s3 = EmbeddedS3::start(&root, port).await.expect("S3 back on the same port");
    eprintln!("S3 outage: {:?}", outage.elapsed());

    eventually(Duration::from_secs(90), "every tick acked", || {
        stats.snapshot().ticks_acked == 12_000
    })
    .await;
    // The debug build drains ~500 records/s at flush.size 20: wait for it rather than let the
    // shutdown deadline cut the drain short (what is cut short stays uncommitted, not lost).
    all_committed(&stats, 12_000, Duration::from_secs(120)).await;
    pipeline.shutdown().await;
    let r = env.verified(&config, 20).await;
    assert_eq!(records_in_s3(&r), 12_000);
    assert_ticks_per_symbol(&r, 3, 4_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_broker_down_then_up_loses_nothing_and_keeps_seqs_gapless() {
    cluster_outage_loses_nothing(Duration::from_secs(3), 22).await;
}

/// Longer than the consumer's 10 s session: the group expires the member, librdkafka reports the
/// partitions as lost, and the sinks must upload without committing (a synchronous commit then
/// waits for a coordinator that no longer knows the member) and resume after the rejoin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_outage_longer_than_the_session_loses_the_assignment_but_no_ticks() {
    cluster_outage_loses_nothing(Duration::from_secs(13), 23).await;
}

async fn cluster_outage_loses_nothing(outage: Duration, seed: u64) {
    let env = TestEnv::start().await;
    let mut config = env.config(3, 600, 20, 200);
    config.producer.ticks_per_second = 100.0;
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(seed)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(30), "files flowing", || {
        stats.snapshot().files_uploaded >= 3
    })
    .await;

    for broker in 1..=3 {
        env.kafka.broker_down(broker).expect("broker down");
    }
    tokio::time::sleep(outage).await;
    for broker in 1..=3 {
        env.kafka.broker_up(broker).expect("broker up");
    }

    eventually(Duration::from_secs(90), "every tick acked", || {
        stats.snapshot().ticks_acked == 1_800
    })
    .await;
    // The outage can cost the consumer its group membership (partitions lost, rejoin ~3 s):
    // wait until the sinks have caught up rather than let the shutdown deadline cut it short.
    all_committed(&stats, 1_800, Duration::from_secs(120)).await;
    let report = pipeline.shutdown().await;
    assert_eq!(report.stats.ticks_failed, 0, "librdkafka retried through the outage");
    let r = env.verified(&config, 20).await;
    assert_eq!(records_in_s3(&r), 1_800);
    assert_ticks_per_symbol(&r, 3, 600);
}

/// The chaos smoke's failover phase once lost its last 6 records this way: a partition's
/// leadership had just moved when the pipeline stopped, so the shutdown's read of that
/// partition's high watermark failed (not the leader), and the consumer stopped short of the
/// partition's end. A shutdown consumes every partition to the end it had when the producers
/// stopped, leaders moving or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_move_just_before_shutdown_still_drains_every_partition_to_its_end() {
    let env = TestEnv::start().await;
    let mut config = env.config(3, 0, 20, 200);
    // Unbounded and fast: the consumer is behind the producers by a fetch when they stop.
    config.producer.max_ticks_per_symbol = None;
    config.producer.ticks_per_second = 300.0;
    config.kafka.replication_factor = 3;
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(24)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(30), "files flowing", || {
        stats.snapshot().files_uploaded >= 10
    })
    .await;
    // Partition 0 moves twice (the first makes sure the second is a move): after the second,
    // its fetches stall until the consumer learns the new leader, so it lags the others.
    env.kafka.set_leader(&env.topic, 0, Some(1)).expect("leader moves");
    tokio::time::sleep(Duration::from_secs(2)).await;
    env.kafka.set_leader(&env.topic, 0, Some(2)).expect("leader moves");
    let report = pipeline.shutdown().await;
    assert!(
        report.producer_flushed,
        "every tick acknowledged before the consumer drained"
    );
    let r = env.verified(&config, 20).await;
    assert_eq!(records_in_s3(&r), report.stats.ticks_acked);
}

/// What the sinks hold in memory (buffered, queued, uploading; released when their file lands),
/// as each sink last reported it. Not consumed minus committed: a file that lands while an
/// earlier one of its partition is still retrying leaves memory but cannot be committed yet.
fn held(s: &tickstream::telemetry::StatsSnapshot) -> u64 {
    s.partitions.values().map(|p| p.held).sum()
}
