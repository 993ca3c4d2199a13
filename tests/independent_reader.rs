//! The files read back by an independent reader, DuckDB (from PyPI, in the venv
//! `scripts/install-test-deps` makes): plain, gzip and zstd JSON-lines files of one topic, and
//! snappy and zstd Parquet files, written by the real pipeline, give every record once with the
//! tick's types (in Parquet, the timestamp a timestamp), and so do files in field and hourly
//! partitioner directories (DuckDB reads those as hive partitions).

use crate::common::{records_in_s3, run_until_acked, TestEnv};
use tickstream::config::{Compression, FormatClass, ParquetCodec};

const PYTHON: &str = "target/test-venv/bin/python";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_every_record_of_the_plain_gzip_and_zstd_files_once_with_the_ticks_types() {
    let env = TestEnv::start().await;
    let (symbols, ticks) = (4, 50);
    let mut config = env.config(symbols, ticks, 16, 400);
    for (seed, compression) in [(1, Compression::None), (2, Compression::Gzip), (3, Compression::Zstd)] {
        config.sink.compression = compression;
        run_until_acked(&env, &config, seed, symbols as u64 * ticks).await;
    }
    let report = env.verified(&config, 16).await;
    assert_eq!(records_in_s3(&report), 600);

    let glob = env
        .object_path(&format!("topics/{}/partition=*/*.json*", env.topic))
        .display()
        .to_string();
    let got = duckdb(&[&glob]);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_the_snappy_and_zstd_parquet_files_with_their_column_types() {
    let env = TestEnv::start().await;
    let (symbols, ticks) = (4, 50);
    let mut config = env.config(symbols, ticks, 16, 400);
    config.sink.format_class = FormatClass::Parquet;
    let started = chrono::Utc::now().timestamp_millis();
    for (seed, codec) in [(1, ParquetCodec::Snappy), (2, ParquetCodec::Zstd)] {
        config.sink.parquet_codec = codec;
        run_until_acked(&env, &config, seed, symbols as u64 * ticks).await;
    }
    let report = env.verified(&config, 16).await;
    assert_eq!(records_in_s3(&report), 400);

    let glob = env
        .object_path(&format!("topics/{}/partition=*/*.parquet", env.topic))
        .display()
        .to_string();
    let got = duckdb(&["--parquet", &glob]);
    let files = report.partitions.iter().map(|p| p.files).sum::<u64>();
    assert_eq!(got["files"], files, "every file, snappy and zstd: {got}");
    assert_eq!(
        (got["rows"].as_u64(), got["distinct"].as_u64()),
        (Some(400), Some(400)),
        "{got}"
    );
    assert_eq!(got["types"]["timestamp"], "TIMESTAMP WITH TIME ZONE", "{got}");
    assert_eq!(got["types"]["price"], "DOUBLE", "{got}");
    assert_eq!(got["types"]["seq"], "BIGINT", "{got}");
    assert_eq!(got["types"]["symbol"], "VARCHAR", "{got}");
    // The tick's eight columns, and DuckDB's hive partition column from `partition=<p>/`.
    assert_eq!(got["types"].as_object().map(|t| t.len()), Some(9), "{got}");
    assert_eq!(got["types"]["partition"], "BIGINT", "{got}");
    let now = chrono::Utc::now().timestamp_millis();
    let (lo, hi) = (got["timestamp_ms"][0].as_i64(), got["timestamp_ms"][1].as_i64());
    assert!(
        lo.is_some_and(|t| t >= started - 1_000) && hi.is_some_and(|t| t <= now),
        "the ticks' times, as points in time: {got}"
    );
}

/// What `tests/readers/count.py` (DuckDB) finds with `args`.
pub(crate) fn duckdb(args: &[&str]) -> serde_json::Value {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(PYTHON);
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-test-deps (scripts/test does)",
        python.display()
    );
    let out = std::process::Command::new(&python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/readers/count.py"))
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "count.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("count.py prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_files_per_symbol_and_per_hour_through_their_hive_directories() {
    use tickstream::config::PartitionerClass;
    let env = TestEnv::start().await;
    let (symbols, ticks) = (4, 50);
    let mut by_symbol = env.config(symbols, ticks, 16, 400);
    by_symbol.sink.partitioner_class = PartitionerClass::Field;
    by_symbol.sink.partition_field_name = Some("symbol".into());
    run_until_acked(&env, &by_symbol, 1, symbols as u64 * ticks).await;
    assert_eq!(records_in_s3(&env.verified(&by_symbol, 16).await), 200);

    let hourly_topic = format!("{}-hourly", env.topic);
    let mut hourly = env.config(symbols, ticks, 16, 400);
    hourly.producer.topic = hourly_topic.clone();
    hourly.sink.topics = hourly_topic.clone();
    hourly.kafka.consumer_group = format!("group-{hourly_topic}");
    crate::partitioners::hourly_parquet_by_record_time(&mut hourly.sink);
    run_until_acked(&env, &hourly, 2, symbols as u64 * ticks).await;
    assert_eq!(records_in_s3(&env.verified(&hourly, 16).await), 200);

    let glob = |pattern: &str| env.object_path(pattern).display().to_string();
    let got = duckdb(&[&glob(&format!("topics/{}/symbol=*/*.json", env.topic))]);
    assert_eq!(
        (got["rows"].as_u64(), got["distinct"].as_u64()),
        (Some(200), Some(200)),
        "{got}"
    );
    assert_eq!(
        got["types"]["symbol"], "VARCHAR",
        "the field and its directory agree: {got}"
    );
    let got = duckdb(&[
        "--parquet",
        &glob(&format!(
            "topics/{hourly_topic}/year=*/month=*/day=*/hour=*/*.zstd.parquet"
        )),
    ]);
    assert_eq!(
        (got["rows"].as_u64(), got["distinct"].as_u64()),
        (Some(200), Some(200)),
        "{got}"
    );
    assert_eq!(got["types"]["timestamp"], "TIMESTAMP WITH TIME ZONE", "{got}");
    for hive in ["year", "month", "day", "hour"] {
        assert!(
            got["types"].get(hive).is_some(),
            "DuckDB finds {hive} in the path: {got}"
        );
    }
}
