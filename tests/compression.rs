//! `s3.compression.type` through the real pipeline (mock cluster, s3s-fs): files named
//! `….json.gz` (`….json.zst`) that decompress to the records, exactly once in S3 and in the
//! warehouse, across a restart and across changes of the setting (files written before stay
//! counted).

use crate::common::{assert_ticks_per_symbol, records_in_s3, run_until_acked, TestEnv};
use tickstream::config::Compression;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_files_hold_every_record_once_across_a_restart_and_changes_of_compression() {
    let env = TestEnv::start().await;
    let (symbols, ticks, flush_size) = (3, 40, 8);
    let plain = env.config(symbols, ticks, flush_size, 400);
    run_until_acked(&env, &plain, 1, 120).await;
    let mut gzip = plain.clone();
    gzip.sink.compression = Compression::Gzip;
    gzip.sink.compression_level = 9;
    run_until_acked(&env, &gzip, 2, 120).await;
    run_until_acked(&env, &gzip, 3, 120).await;
    let mut zstd = plain.clone();
    zstd.sink.compression = Compression::Zstd;
    run_until_acked(&env, &zstd, 4, 120).await;

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
