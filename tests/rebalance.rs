//! Two instances in one consumer group: partitions are shared, and when one instance stops its
//! partitions are drained, revoked, and resumed by the other without loss or duplicate.

use std::time::Duration;

use crate::common::{eventually, records_in_s3, TestEnv};
use tickstream::pipeline::{Pipeline, RunOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_departing_instance_hands_its_partitions_over_exactly_once() {
    let env = TestEnv::start().await;
    let mut first = env.config(4, 1_500, 25, 300);
    first.producer.ticks_per_second = 150.0;
    let mut second = first.clone();
    second.producer.enabled = false;

    let a = Pipeline::start(&first, &env.infra(), RunOptions::new(Some(31)))
        .await
        .expect("instance a");
    let b = Pipeline::start(&second, &env.infra(), RunOptions::new(Some(32)))
        .await
        .expect("instance b");
    let (a_stats, b_stats) = (a.stats().clone(), b.stats().clone());
    eventually(Duration::from_secs(60), "both instances writing files", || {
        a_stats.snapshot().files_uploaded > 0 && b_stats.snapshot().files_uploaded > 0
    })
    .await;
    let a_partitions = a_stats.snapshot().partitions.len();
    let b_partitions = b_stats.snapshot().partitions.len();
    assert!(
        a_partitions < 3 && b_partitions < 3,
        "the group split the partitions: {a_partitions} + {b_partitions}"
    );

    // Instance a stops producing and sinking; b must take over a's partitions. The producer
    // stops with a, so wait for what a acknowledged to be committed by whoever owns it.
    let acked_by_a = {
        let report = a.shutdown().await;
        report.stats.ticks_acked
    };
    let sinks = b.partitions_supervisor().expect("b runs sinks");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let children = ractor::call_t!(sinks, supervisors::SupervisorMsg::GetChildren, 2_000).unwrap();
        if children.iter().filter(|c| c.kind == "sink" && c.running).count() == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "b took over every partition: {children:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let r = tickstream::verify::audit(
            &second,
            env.kafka.bootstrap_servers(),
            &env.s3.endpoint(),
            Duration::from_secs(30),
        )
        .await
        .expect("audit");
        if r.ok() {
            assert_eq!(records_in_s3(&r), acked_by_a);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            tickstream::verify::report::table(&r)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    b.shutdown().await;
    let r = env.verified(&second, 25).await;
    assert_eq!(records_in_s3(&r), acked_by_a);
    assert!(r.symbols.iter().all(|s| s.gaps.is_empty() && s.duplicated_seqs == 0));
}
