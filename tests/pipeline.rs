//! The pipeline end to end against a real broker (librdkafka mock cluster, 3 brokers) and a real
//! S3 server (s3s-fs), both on 127.0.0.1: every acknowledged tick is in S3 exactly once, as
//! `tickstream verify` audits it.

use std::time::Duration;

use crate::common::{assert_ticks_per_symbol, eventually, records_in_s3, TestEnv, PARTITIONS};
use aws_sdk_s3::primitives::ByteStream;
use tickstream::pipeline::{Pipeline, RunOptions};

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

    let r = env.verified(&config, flush_size as usize).await;
    let in_kafka: u64 = r.partitions.iter().map(|p| p.records_in_kafka).sum();
    assert_eq!((in_kafka, records_in_s3(&r)), (total, total), "every acked tick, once");
    assert!(r.partitions.iter().map(|p| p.files).sum::<u64>() >= total.div_ceil(flush_size));
    assert_ticks_per_symbol(&r, symbols, ticks);
    for p in &r.partitions {
        assert_eq!(
            p.committed, p.s3_end,
            "partition {}: committed offset = end of its last file",
            p.partition
        );
    }
    assert_eq!(r.partitions.len(), PARTITIONS as usize);
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
    let r = env.verified(&config, 9).await;
    assert_eq!(records_in_s3(&r), 320);
    assert_ticks_per_symbol(&r, 8, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_catches_a_lost_file_and_a_duplicating_file() {
    let env = TestEnv::start().await;
    let config = env.config(3, 30, 5, 300);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(6)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(60), "acked", || stats.snapshot().ticks_acked == 90).await;
    pipeline.shutdown().await;
    env.verified(&config, 5).await;

    // Lose one file, and add one that repeats records of another.
    let objects = env.objects().await;
    let (p, files) = objects
        .iter()
        .find(|(_, f)| f.len() >= 3)
        .expect("a partition with 3 files");
    let mut starts = files.keys();
    let (first, second) = (*starts.next().unwrap(), *starts.next().unwrap());
    let client = tickstream::s3::client::build(&env.s3.endpoint()).await;
    let layout = env.layout();
    client
        .delete_object()
        .bucket(&env.bucket)
        .key(layout.object_key(*p, second))
        .send()
        .await
        .unwrap();
    let repeat: Vec<u8> = files[&first][1..]
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    client
        .put_object()
        .bucket(&env.bucket)
        .key(layout.object_key(*p, first + 1))
        .body(ByteStream::from(repeat))
        .send()
        .await
        .unwrap();

    let r = env.audit(&config).await;
    assert!(!r.ok());
    let bad = r.partitions.iter().find(|x| x.partition == *p).unwrap();
    let lost = files[&second].len() as i64;
    assert_eq!(
        bad.missing,
        vec![(second, second + lost)],
        "the deleted file's offsets are missing"
    );
    assert_eq!(
        bad.duplicated,
        vec![(first + 1, second)],
        "the repeated records are duplicates"
    );
    assert_eq!(bad.overlapping_files, vec![first + 1]);
    let table = tickstream::verify::report::table(&r);
    assert!(table.contains("FAIL") && table.ends_with("FAILED\n"), "{table}");
}
