//! `s3.compression.type` through the real pipeline (mock cluster, s3s-fs): files named
//! `….json.gz` (`….json.zst`) that decompress to the records, exactly once in S3 and in the
//! warehouse, across a restart and across changes of the setting (files written before stay
//! counted).

use std::time::Duration;

use crate::common::{assert_ticks_per_symbol, eventually, records_in_s3, TestEnv};
use tickstream::config::{Compression, Config};
use tickstream::pipeline::{Pipeline, RunOptions};

async fn run(env: &TestEnv, config: &Config, seed: u64, ticks: u64) {
    let pipeline = Pipeline::start(config, &env.infra(), RunOptions::new(Some(seed)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(60), "every tick acknowledged", || {
        stats.snapshot().ticks_acked == ticks
    })
    .await;
    // The watcher loads the sinks' last files at shutdown.
    pipeline.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_files_hold_every_record_once_across_a_restart_and_changes_of_compression() {
    let env = TestEnv::start().await;
    let (symbols, ticks, flush_size) = (3, 40, 8);
    let plain = env.config(symbols, ticks, flush_size, 400);
    run(&env, &plain, 1, 120).await;
    let mut gzip = plain.clone();
    gzip.sink.compression = Compression::Gzip;
    gzip.sink.compression_level = 9;
    run(&env, &gzip, 2, 120).await;
    run(&env, &gzip, 3, 120).await;
    let mut zstd = plain.clone();
    zstd.sink.compression = Compression::Zstd;
    run(&env, &zstd, 4, 120).await;

    let keys = tickstream::s3::SegmentStore::list(&env.store().await, "topics/", None)
        .await
        .unwrap();
    let gz = keys.iter().filter(|k| k.ends_with(".json.gz")).count();
    let zst = keys.iter().filter(|k| k.ends_with(".json.zst")).count();
    let json = keys.iter().filter(|k| k.ends_with(".json")).count();
    assert!(
        gz > 0 && zst > 0 && json > 0,
        "plain files from the first run, gzip and zstd after: {keys:?}"
    );
    assert_eq!(gz + zst + json, keys.len(), "no other keys: {keys:?}");

    let r = env.verified(&zstd, flush_size as usize).await;
    assert_eq!(records_in_s3(&r), 480, "every record of the four runs, once");
    assert_ticks_per_symbol(&r, 4 * symbols, ticks);

    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
    let (rows, distinct): (i64, i64) = db
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT run_id || symbol || seq) FROM STOCK_MARKET_DATA",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (rows, distinct),
        (480, 480),
        "plain, gzip and zstd files loaded, each record once"
    );
    let failed: i64 = db
        .query_row("SELECT COUNT(*) FROM LOAD_HISTORY WHERE status <> 'LOADED'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(failed, 0);
}
