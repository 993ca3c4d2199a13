//! Every format with every partitioner through the real pipeline (mock cluster, s3s-fs): plain,
//! gzip and zstd JSON and snappy Parquet files, each in `partition=<p>/`, `symbol=<s>/` and
//! hourly directories by the record's own time; bytearray files (raw values, which no
//! partitioner may read) in `partition=<p>/` and hourly directories by the Kafka timestamp.
//! Each combination runs on its own topic and bucket, passes `verify`, loads into the warehouse
//! once per record, and reads back in DuckDB (an independent reader) with every record once.

use tickstream::config::{
    Compression, Config, FormatClass, ParquetCodec, PartitionerClass, TimestampExtractor, ValueConverter,
};

use crate::common::{records_in_s3, run_until_acked, TestEnv};
use crate::independent_reader::duckdb;

const SYMBOLS: usize = 3;
const TICKS: u64 = 40;
const FLUSH: u64 = 16;

/// One partitioner's settings, and the glob of its directories under the topic.
#[derive(Clone, Copy, Debug)]
enum Partitioner {
    Default,
    Field,
    HourlyByRecordTime,
    HourlyByKafkaTime,
}

impl Partitioner {
    const JSON_RECORDS: [Self; 3] = [Self::Default, Self::Field, Self::HourlyByRecordTime];

    fn apply(self, config: &mut Config) {
        let sink = &mut config.sink;
        match self {
            Self::Default => {}
            Self::Field => {
                sink.partitioner_class = PartitionerClass::Field;
                sink.partition_field_name = Some("symbol".into());
            }
            Self::HourlyByRecordTime => {
                sink.partitioner_class = PartitionerClass::Hourly;
                sink.timestamp_extractor = TimestampExtractor::RecordField;
                sink.timestamp_field = Some("timestamp".into());
            }
            Self::HourlyByKafkaTime => {
                sink.partitioner_class = PartitionerClass::Hourly;
                sink.timestamp_extractor = TimestampExtractor::Record;
            }
        }
    }

    fn dirs(self) -> &'static str {
        match self {
            Self::Default => "partition=*",
            Self::Field => "symbol=*",
            Self::HourlyByRecordTime | Self::HourlyByKafkaTime => "year=*/month=*/day=*/hour=*",
        }
    }
}

/// What a format's files hold, for the readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Files {
    JsonLines,
    Parquet,
    Bytes,
}

/// Runs `format` (set on the config, its files ending in `ext`) under each of `partitioners`
/// and checks each run end to end.
async fn under(partitioners: &[Partitioner], format: impl Fn(&mut Config), ext: &str, kind: Files) {
    for &partitioner in partitioners {
        let env = TestEnv::start().await;
        let mut config = env.config(SYMBOLS, TICKS, FLUSH, 400);
        format(&mut config);
        partitioner.apply(&mut config);
        let total = SYMBOLS as u64 * TICKS;
        run_until_acked(&env, &config, 1, total).await;
        let case = format!("{ext} files under {partitioner:?}");

        let report = env.verified(&config, FLUSH as usize).await;
        assert_eq!(records_in_s3(&report), total, "{case}: verify");

        // Each record's row once; its typed columns filled, except from raw bytes (which
        // load as one JSON string each, as Snowflake's connector loads them).
        let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
        let (rows, distinct, typed): (i64, i64, i64) = db
            .query_row(
                "SELECT COUNT(*), COUNT(DISTINCT RECORD_CONTENT), COUNT(DISTINCT run_id || symbol || seq) \
                 FROM STOCK_MARKET_DATA",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let typed_rows = if kind == Files::Bytes { 0 } else { total as i64 };
        assert_eq!(
            (rows, distinct, typed),
            (total as i64, total as i64, typed_rows),
            "{case}: the warehouse"
        );

        let glob = env.object_path(&format!("topics/{}/{}/*{ext}", env.topic, partitioner.dirs()));
        let glob = glob.display().to_string();
        // Raw bytes that are JSON lines (ticks) read as JSON lines.
        let got = match kind {
            Files::Parquet => duckdb(&["--parquet", &glob]),
            Files::JsonLines | Files::Bytes => duckdb(&[&glob]),
        };
        let files = report.partitions.iter().map(|p| p.files).sum::<u64>();
        assert_eq!(got["files"], files, "{case}: DuckDB reads every file: {got}");
        assert_eq!(
            (got["rows"].as_u64(), got["distinct"].as_u64()),
            (Some(total), Some(total)),
            "{case}: DuckDB reads every record once: {got}"
        );
        assert_eq!(got["types"]["price"], "DOUBLE", "{case}: {got}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_json_under_every_partitioner() {
    under(&Partitioner::JSON_RECORDS, |_| {}, ".json", Files::JsonLines).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_json_under_every_partitioner() {
    under(
        &Partitioner::JSON_RECORDS,
        |c| c.sink.compression = Compression::Gzip,
        ".json.gz",
        Files::JsonLines,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_json_under_every_partitioner() {
    under(
        &Partitioner::JSON_RECORDS,
        |c| c.sink.compression = Compression::Zstd,
        ".json.zst",
        Files::JsonLines,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snappy_parquet_under_every_partitioner() {
    let parquet = |c: &mut Config| {
        c.sink.format_class = FormatClass::Parquet;
        c.sink.parquet_codec = ParquetCodec::Snappy;
    };
    under(&Partitioner::JSON_RECORDS, parquet, ".snappy.parquet", Files::Parquet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytearray_by_partition_and_by_kafka_time_and_refused_where_a_field_is_read() {
    // Raw values as produced, one per line (the default separator): a tick's JSON.
    let bytes = |c: &mut Config| {
        c.sink.value_converter = ValueConverter::Bytes;
        c.sink.format_class = FormatClass::ByteArray;
    };
    let runs = [Partitioner::Default, Partitioner::HourlyByKafkaTime];
    under(&runs, bytes, ".bin", Files::Bytes).await;
    for reads_a_field in [Partitioner::Field, Partitioner::HourlyByRecordTime] {
        let mut config = Config::default();
        bytes(&mut config);
        reads_a_field.apply(&mut config);
        let problems: Vec<String> = tickstream::config::validate(&config)
            .into_iter()
            .map(|p| p.message)
            .collect();
        assert!(
            problems.iter().any(|m| m.contains("needs value.converter = \"json\"")),
            "{reads_a_field:?} over raw bytes is refused, naming the converter: {problems:?}"
        );
    }
}
