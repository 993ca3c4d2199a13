//! Supervision of the real pipeline (mock cluster + s3s-fs): a failed actor restarts alone and
//! loses or duplicates nothing; a spent restart budget ends the pipeline.

mod common;

use std::time::{Duration, Instant};

use common::{assert_gapless, audit, eventually, seqs_by_symbol, TestEnv};
use ractor::ActorRef;
use supervisors::{ChildInfo, SupervisorMsg};
use tickstream::runtime::{Pipeline, RunOptions};

async fn children(sup: &ActorRef<SupervisorMsg>) -> Vec<ChildInfo> {
    ractor::call_t!(sup, SupervisorMsg::GetChildren, 2_000).unwrap()
}

async fn wait_running(sup: &ActorRef<SupervisorMsg>, id: &str, restarts: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = children(sup).await;
        if c.iter()
            .any(|c| c.id == id && c.running && c.recent_restarts == restarts)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{id} running again after {restarts} restart(s): {c:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sink_restarts_alone_and_its_partition_stays_exactly_once() {
    let env = TestEnv::start().await;
    // ~6 s of production, so partition 1 keeps receiving records after its sink is killed.
    let mut config = env.config(6, 1_200, 10, 300);
    config.producer.ticks_per_second = 200.0;
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(5)))
        .await
        .expect("start");
    let (stats, control) = (pipeline.stats().clone(), pipeline.control().unwrap());
    let sinks = pipeline.sinks_supervisor().unwrap();
    eventually(Duration::from_secs(30), "files flowing on every partition", || {
        stats.snapshot().partitions.values().filter(|p| p.files > 0).count() == 3
    })
    .await;

    if std::env::var_os("TICKSTREAM_TEST_TRACE").is_some() {
        eprintln!(
            "before kill: committed {:?} stats {:?}",
            env.committed(&config.kafka.consumer_group),
            stats.snapshot().partitions
        );
    }
    let killed = Instant::now();
    control.fail_actor("sink-1").await.expect("fail sink-1");
    wait_running(&sinks, "sink-1", 1).await;
    let running = killed.elapsed();
    let files_before = stats.snapshot().partitions[&1].files;
    eventually(Duration::from_secs(30), "partition 1 writing again", || {
        stats.snapshot().partitions[&1].files > files_before
    })
    .await;
    eprintln!(
        "sink restart: running again after {running:?}, next file after {:?}",
        killed.elapsed()
    );

    let siblings: Vec<(String, usize)> = children(&sinks)
        .await
        .into_iter()
        .map(|c| (c.id, c.recent_restarts))
        .collect();
    assert_eq!(
        siblings,
        vec![("sink-0".into(), 0), ("sink-1".into(), 1), ("sink-2".into(), 0)]
    );

    eventually(Duration::from_secs(60), "every tick acked", || {
        stats.snapshot().ticks_acked == 7_200
    })
    .await;
    pipeline.shutdown().await;
    let topic = env.topic_contents();
    let a = audit(&topic, &env.objects().await, 10);
    assert_eq!(a.records_in_s3, 7_200, "nothing lost, nothing duplicated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_producer_continues_its_seq_without_a_gap() {
    let env = TestEnv::start().await;
    let mut config = env.config(3, 300, 50, 300);
    config.producer.ticks_per_second = 150.0;
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(8)))
        .await
        .expect("start");
    let (stats, control) = (pipeline.stats().clone(), pipeline.control().unwrap());
    let producers = pipeline.producers_supervisor().unwrap();
    eventually(Duration::from_secs(30), "ticks flowing", || {
        stats.snapshot().ticks_acked > 150
    })
    .await;

    let killed = Instant::now();
    control.fail_actor("producer-SYM1").await.expect("fail producer");
    wait_running(&producers, "producer-SYM1", 1).await;
    eprintln!("producer restart: running again after {:?}", killed.elapsed());

    eventually(Duration::from_secs(60), "every tick acked", || {
        stats.snapshot().ticks_acked == 900
    })
    .await;
    let restarts: Vec<usize> = children(&producers).await.iter().map(|c| c.recent_restarts).collect();
    assert_eq!(restarts, vec![0, 1, 0], "only SYM1 restarted");
    pipeline.shutdown().await;
    let topic = env.topic_contents();
    audit(&topic, &env.objects().await, 50);
    assert_gapless(&seqs_by_symbol(&topic), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_restart_budget_escalates_and_ends_the_pipeline() {
    let env = TestEnv::start().await;
    let mut config = env.config(2, 1_000_000, 100, 300);
    config.producer.ticks_per_second = 20.0;
    config.supervision.max_restarts = 2;
    config.supervision.backoff_min_ms = 10;
    config.supervision.backoff_max_ms = 50;
    let mut pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(9)))
        .await
        .expect("start");
    let control = pipeline.control().unwrap();
    let producers = pipeline.producers_supervisor().unwrap();
    for restarts in 1..=2 {
        control.fail_actor("producer-SYM0").await.expect("fail");
        wait_running(&producers, "producer-SYM0", restarts).await;
    }
    assert!(control.healthy(), "two restarts are within the budget");
    control.fail_actor("producer-SYM0").await.expect("fail a third time");
    tokio::time::timeout(Duration::from_secs(20), pipeline.failed())
        .await
        .expect("the root gave up");
    assert!(!control.healthy());
    pipeline.shutdown().await;
}
