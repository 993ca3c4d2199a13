//! The ingestion watcher against the real local S3 server (s3s-fs) and an SQLite warehouse:
//! exactly-once loads from a running pipeline, Snowpipe's skip-known-keys rule, a corrupt file
//! that fails alone, pending-file counts and restarts in the middle of loading (files the sinks
//! announce: `warehouse_announced`).

use std::time::Duration;

use crate::common::watcher::*;
use crate::common::{all_committed, eventually, TestEnv};
use bytes::Bytes;
use tickstream::pipeline::{Pipeline, RunOptions};
use tickstream::warehouse::schema;
use tickstream::warehouse::status::from_warehouse;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acked_tick_is_loaded_exactly_once() {
    let env = TestEnv::start().await;
    let config = env.config(3, 300, 20, 200);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(31)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    all_committed(&stats, 900, Duration::from_secs(90)).await;
    pipeline.shutdown().await;

    let db = assert_rows_exactly_once(&env, 900);
    for symbol in ["SYM0", "SYM1", "SYM2"] {
        let (n, min, max): (i64, i64, i64) = db
            .query_row(
                "SELECT COUNT(*), MIN(seq), MAX(seq) FROM STOCK_MARKET_DATA WHERE symbol = ?1",
                [symbol],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((n, min, max), (300, 0, 299), "{symbol}: every seq once");
    }
    let files: usize = env.objects().await.values().map(|f| f.len()).sum();
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM LOAD_HISTORY WHERE status = 'LOADED'"),
        files as i64
    );
    let status = status_of(&env, &db, &env.layout()).await;
    assert_eq!(status.pending_file_count, 0);
    assert_eq!(status.execution_state, "STOPPED", "the watcher records its stop");
    assert_eq!(status.loaded_rows, 900);
    assert!(status
        .latency
        .is_some_and(|l| l.rows == 900 && l.p50 > 0.0 && l.p50 <= l.p99));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_keys_are_skipped_a_corrupt_file_fails_alone_and_pending_is_counted() {
    let env = TestEnv::start().await;
    env.store().await.ensure_bucket().await.unwrap();
    let layout = env.layout();
    let (a, b, c) = (
        layout.object_key(0, 0),
        layout.object_key(0, 2),
        layout.object_key(0, 3),
    );
    put(&env, &a, file(&[tick_line("AAA", 0), tick_line("AAA", 1)])).await;
    put(
        &env,
        &b,
        Bytes::from_static(b"{\"symbol\": \"AAA\", \"price\": \"not a number\"}\n"),
    )
    .await;
    put(&env, &c, file(&[tick_line("AAA", 3)])).await;
    let d = layout.object_key(1, 0);
    put(&env, &d, file(&[tick_line("BBB", 0)])).await;

    let db = warehouse_db(&env);
    {
        let conn = schema::open_read_only(&env.warehouse_path()).unwrap(); // as `tickstream status` opens it
        let before = status_of(&env, &conn, &layout).await;
        assert_eq!(before.pending_file_count, 4);
        assert_eq!(before.oldest_pending_file_path.as_deref(), Some(a.as_str()));
        assert_eq!(before.execution_state, "NOT_STARTED");
    }

    let watcher = start_watcher(&env, db.clone()).await;
    catch_up(&watcher).await;
    {
        let conn = schema::open_read_only(&env.warehouse_path()).unwrap();
        assert_eq!(
            count(&conn, "SELECT COUNT(*) FROM STOCK_MARKET_DATA"),
            4,
            "a, c and d loaded"
        );
        let (status, error): (String, String) = conn
            .query_row(
                "SELECT status, first_error FROM LOAD_HISTORY WHERE s3_key = ?1",
                [&b],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(status, "LOAD_FAILED");
        assert!(error.starts_with("line 1:"), "{error}");
        assert_eq!(
            count(
                &conn,
                "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE s3_key LIKE '%0000000002.json'"
            ),
            0
        );
        let after = status_of(&env, &conn, &layout).await;
        assert_eq!(after.pending_file_count, 0);
        assert_eq!((after.loaded_files, after.failed_files), (3, 1));
        assert_eq!(after.last_failed_file_path.as_deref(), Some(b.as_str()));
        assert_eq!(after.execution_state, "RUNNING");
    }

    // S3 re-uploads a loaded key with other content; a restarted watcher lists from scratch.
    put(
        &env,
        &a,
        file(&[tick_line("AAA", 0), tick_line("AAA", 1), tick_line("AAA", 99)]),
    )
    .await;
    watcher.stop(None);
    let watcher = start_watcher(&env, db.clone()).await;
    catch_up(&watcher).await;
    catch_up(&watcher).await;
    let conn = schema::open_read_only(&env.warehouse_path()).unwrap();
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM STOCK_MARKET_DATA"),
        4,
        "a known key loads once"
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE seq = 99"), 0);
    drop(conn);
    watcher.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_failed_again_and_again_while_loading_loses_and_duplicates_nothing() {
    let env = TestEnv::start().await;
    let mut config = env.config(3, 600, 10, 100);
    config.producer.ticks_per_second = 300.0;
    config.warehouse.poll_interval_ms = 50;
    config.supervision.max_restarts = 50;
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(32)))
        .await
        .expect("start");
    let (stats, control) = (pipeline.stats().clone(), pipeline.admin());
    eventually(Duration::from_secs(30), "files flowing", || {
        stats.snapshot().files_uploaded >= 3
    })
    .await;
    // Each kill lands wherever the watcher is: listing, fetching, or inside a load whose
    // blocking SQLite transaction runs on while the next incarnation starts.
    for _ in 0..5 {
        // Between kills the supervisor's backoff may still be waiting to restart it.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while let Err(e) = control.fail_actor("ingest-watcher").await {
            assert!(std::time::Instant::now() < deadline, "the watcher never came back: {e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    all_committed(&stats, 1_800, Duration::from_secs(120)).await;
    pipeline.shutdown().await;
    let db = assert_rows_exactly_once(&env, 1_800);
    let files: usize = env.objects().await.values().map(|f| f.len()).sum();
    let status = from_warehouse(&db, &[TABLE.into()]).unwrap();
    assert_eq!(status.loaded_files as usize, files, "every file loaded once");
}
