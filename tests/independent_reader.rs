//! The files read back by an independent reader, DuckDB (from PyPI, in the venv
//! `scripts/install-test-deps` makes): plain, gzip and zstd JSON-lines files of one topic,
//! written by the real pipeline, give every record once with the tick's types.

use std::time::Duration;

use crate::common::{eventually, records_in_s3, TestEnv};
use tickstream::config::Compression;
use tickstream::pipeline::{Pipeline, RunOptions};

const PYTHON: &str = "target/test-venv/bin/python";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_every_record_of_the_plain_gzip_and_zstd_files_once_with_the_ticks_types() {
    let env = TestEnv::start().await;
    let (symbols, ticks) = (4, 50);
    let mut config = env.config(symbols, ticks, 16, 400);
    for (seed, compression) in [(1, Compression::None), (2, Compression::Gzip), (3, Compression::Zstd)] {
        config.sink.compression = compression;
        let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(seed)))
            .await
            .expect("start");
        let stats = pipeline.stats().clone();
        eventually(Duration::from_secs(60), "every tick acknowledged", || {
            stats.snapshot().ticks_acked == symbols as u64 * ticks
        })
        .await;
        pipeline.shutdown().await;
    }
    let report = env.verified(&config, 16).await;
    assert_eq!(records_in_s3(&report), 600);

    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(PYTHON);
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-test-deps (scripts/test does)",
        python.display()
    );
    let glob = env
        .object_path(&format!("topics/{}/partition=*/*.json*", env.topic))
        .display()
        .to_string();
    let out = std::process::Command::new(&python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/readers/count.py"))
        .arg(&glob)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "count.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("count.py prints JSON");
    let files = report.partitions.iter().map(|p| p.files).sum::<u64>();
    assert_eq!(got["files"], files, "every file, plain, gzip and zstd: {got}");
    assert_eq!(
        (got["rows"].as_u64(), got["distinct"].as_u64()),
        (Some(600), Some(600)),
        "{got}"
    );
    assert_eq!(got["types"]["price"], "DOUBLE", "{got}");
    assert_eq!(got["types"]["volume"], "BIGINT", "{got}");
    assert_eq!(got["types"]["seq"], "BIGINT", "{got}");
    assert_eq!(got["types"]["symbol"], "VARCHAR", "{got}");
}
