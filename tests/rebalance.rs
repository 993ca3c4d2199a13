//! Several instances in one consumer group: partitions are shared; under incremental rebalancing
//! only the partitions that change owner are drained and handed over, exactly once.

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

/// Each running sink of `p`'s partitions supervisor: its child id → the actor's id.
async fn running_sinks(p: &Pipeline) -> std::collections::BTreeMap<String, ractor::ActorId> {
    let sinks = p.partitions_supervisor().expect("the instance runs sinks");
    let children = ractor::call_t!(sinks, supervisors::SupervisorMsg::GetChildren, 2_000).unwrap();
    children
        .into_iter()
        .filter(|c| c.kind == "sink" && c.running)
        .filter_map(|c| Some((c.id, c.actor?.get_id())))
        .collect()
}

/// Incremental rebalancing (the default): a member joining takes partitions from the other
/// without that one draining or restarting the sinks of the partitions it keeps; leaving, it
/// hands them back; every record is in S3 exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_member_moves_only_the_partitions_it_takes() {
    let env = TestEnv::start().await;
    let mut first = env.config(6, 2_500, 25, 300);
    first.producer.ticks_per_second = 150.0;
    let mut second = first.clone();
    second.producer.enabled = false;

    let a = Pipeline::start(&first, &env.infra(), RunOptions::new(Some(41)))
        .await
        .expect("instance a");
    let a_stats = a.stats().clone();
    eventually(Duration::from_secs(60), "a writing files", || {
        a_stats.snapshot().files_uploaded > 0
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let before = loop {
        let s = running_sinks(&a).await;
        if s.len() == 3 {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a runs a sink per partition: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let b = Pipeline::start(&second, &env.infra(), RunOptions::new(Some(42)))
        .await
        .expect("instance b");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (kept, taken) = loop {
        let (kept, taken) = (running_sinks(&a).await, running_sinks(&b).await);
        if !taken.is_empty() && kept.len() + taken.len() == 3 {
            break (kept, taken);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "b took partitions from a: a {kept:?}, b {taken:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!kept.is_empty(), "a keeps some partitions: b {taken:?}");
    for (id, actor) in &kept {
        assert_eq!(
            before.get(id),
            Some(actor),
            "the sink of a partition a kept ({id}) ran on through b's join (it was drained and restarted: an eager rebalance)"
        );
    }

    let kept_before_leave = running_sinks(&a).await;
    let acked_by_a_so_far = a_stats.snapshot().ticks_acked;
    b.shutdown().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = running_sinks(&a).await;
        if now.len() == 3 {
            for (id, actor) in &kept_before_leave {
                assert_eq!(now.get(id), Some(actor), "a's own sink {id} ran on through b's leave");
            }
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a took b's partitions back: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let acked = a.shutdown().await.stats.ticks_acked;
    assert!(acked >= acked_by_a_so_far);
    let r = env.verified(&second, 25).await;
    assert_eq!(records_in_s3(&r), acked);
    assert!(r.symbols.iter().all(|s| s.gaps.is_empty() && s.duplicated_seqs == 0));
}

/// Commits the group refuses (REBALANCE_IN_PROGRESS, as between generations) are made again while
/// the partition stays owned: with production over and every file in S3, the committed offsets
/// still reach the ends without a new record or a shutdown to carry them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_refused_between_generations_are_made_again_while_owned() {
    let env = TestEnv::start().await;
    let mut config = env.config(3, 200, 50, 300);
    config.producer.ticks_per_second = 400.0;
    env.kafka.refuse_commits(100_000).expect("refusing commits");
    let p = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(51)))
        .await
        .expect("pipeline");
    let stats = p.stats().clone();
    eventually(Duration::from_secs(60), "every tick acked", || {
        stats.snapshot().ticks_acked == 600
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let refused = loop {
        let r = env.audit(&config).await;
        if records_in_s3(&r) == 600 {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            tickstream::verify::report::table(&r)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        refused.partitions.iter().all(|p| p.committed.is_none()),
        "every commit was refused so far (else this test proves nothing): {}",
        tickstream::verify::report::table(&refused)
    );

    env.kafka.refuse_commits(0).expect("accepting commits again");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = env.audit(&config).await;
        if r.partitions.iter().all(|p| p.committed == Some(p.kafka_end)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the committed offsets reach the ends while the instance runs: {}",
            tickstream::verify::report::table(&r)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    p.shutdown().await;
    let r = env.verified(&config, 50).await;
    assert_eq!(records_in_s3(&r), 600);
}
