//! The pipeline end to end against a real broker (librdkafka mock cluster, 3 brokers) and a real
//! S3 server (s3s-fs), both on 127.0.0.1: every acknowledged tick is in S3 exactly once.

mod common;

use std::time::Duration;

use common::{assert_gapless, audit, eventually, seqs_by_symbol, TestEnv, PARTITIONS};
use tickstream::runtime::{Pipeline, RunOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acked_tick_lands_in_s3_exactly_once_in_the_confluent_layout() {
    let env = TestEnv::start().await;
    let (symbols, ticks, flush_size) = (5, 60, 7);
    let config = env.config(symbols, ticks, flush_size, 500);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(11)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    let total = symbols as u64 * ticks;
    eventually(Duration::from_secs(60), "every tick acknowledged", || {
        stats.snapshot().ticks_acked == total
    })
    .await;
    let report = pipeline.shutdown().await;
    assert!(report.producer_flushed);
    assert_eq!(report.stats.ticks_failed, 0);

    let topic = env.topic_contents();
    assert_eq!(
        topic.values().map(|r| r.len() as u64).sum::<u64>(),
        total,
        "the topic holds every acked tick"
    );
    let a = audit(&topic, &env.objects().await, flush_size as usize);
    assert_eq!(a.records_in_s3 as u64, total);
    assert!(a.files >= (total as usize).div_ceil(flush_size as usize));

    let seqs = seqs_by_symbol(&topic);
    assert_eq!(seqs.len(), symbols, "one run, {symbols} symbols");
    assert_gapless(&seqs, ticks);

    let committed = env.committed(&config.kafka.consumer_group);
    for p in 0..PARTITIONS {
        assert_eq!(
            committed[&p],
            Some(a.s3_end[&p]),
            "partition {p}: committed offset = end of its last file"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_that_receives_no_more_records_still_flushes_after_the_rotate_interval() {
    let env = TestEnv::start().await;
    // One symbol: all its ticks go to one partition; far fewer than flush.size.
    let config = env.config(1, 5, 1_000, 300);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(3)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    eventually(
        Duration::from_secs(30),
        "a file written and committed without shutdown",
        || {
            let s = stats.snapshot();
            s.files_uploaded == 1 && s.partitions.values().any(|p| p.committed == Some(5))
        },
    )
    .await;
    let objects = env.objects().await;
    let files: Vec<usize> = objects.values().flat_map(|f| f.values().map(Vec::len)).collect();
    assert_eq!(
        files,
        vec![5],
        "one file with the five ticks, written by the timer alone"
    );
    pipeline.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_resumes_where_the_first_ended_without_rewriting_a_file() {
    let env = TestEnv::start().await;
    let config = env.config(4, 40, 9, 400);
    let first = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(1)))
        .await
        .expect("start");
    let stats = first.stats().clone();
    eventually(Duration::from_secs(60), "first run acked", || {
        stats.snapshot().ticks_acked == 160
    })
    .await;
    first.shutdown().await;
    let files_after_first = env.objects().await;

    let second = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(2)))
        .await
        .expect("restart");
    let stats = second.stats().clone();
    eventually(Duration::from_secs(60), "second run acked", || {
        stats.snapshot().ticks_acked == 160
    })
    .await;
    second.shutdown().await;

    let objects = env.objects().await;
    for (p, files) in &files_after_first {
        for (start, lines) in files {
            assert_eq!(
                objects[p].get(start),
                Some(lines),
                "partition {p}: file {start} untouched by the second run"
            );
        }
    }
    let topic = env.topic_contents();
    let a = audit(&topic, &objects, 9);
    assert_eq!(a.records_in_s3, 320);
    let seqs = seqs_by_symbol(&topic);
    assert_eq!(seqs.len(), 8, "two runs × four symbols");
    assert_gapless(&seqs, 40);
}
