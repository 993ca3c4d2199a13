//! CSV archives replayed as the operator runs it (the binary, `source = "csv"`): files in the
//! seeds' two shapes (a daily `Date,Open,High,Low,Close,Volume,Name` dataset and a
//! `symbol,price,volume,timestamp` trade log), generated here with bad rows among them, end in
//! S3 once per row, each symbol's `seq` without a gap; a backfill SIGKILLed midway goes on from
//! its checkpoint, losing no row and sending again only rows Kafka had not acknowledged, with
//! the same identity. The audit reads Kafka and S3 itself (`verify`'s code reads both).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::alerting::S3_CREDENTIALS;
use crate::common::{records_in_s3, TestEnv};
use crate::process::Tickstream;
use tickstream::config::source::{ColumnNames, CsvSourceConfig, PacingKind, Source};

const SYMBOLS: [&str; 3] = ["AAL", "AAPL", "MSFT"];

/// Writes the two files: `daily.csv` with `days` rows per symbol and `trades.csv` with
/// `trades` rows per symbol, and three bad rows; returns the good rows per symbol.
fn write_archive(dir: &Path, days: u64, trades: u64) -> u64 {
    let mut daily = String::from("Date,Open,High,Low,Close,Volume,Name\n");
    for d in 0..days {
        for (i, s) in SYMBOLS.iter().enumerate() {
            let close = 10.0 + i as f64 + (d % 17) as f64 / 4.0;
            let date = chrono::NaiveDate::from_ymd_opt(2013, 2, 8).unwrap() + chrono::Days::new(d);
            daily += &format!("{date},{close},{close},{close},{close},{},{s}\n", 1_000 + d);
        }
        if d == days / 2 {
            daily += "2013-05-01,1,1,1,n/a,100,AAL\n"; // no price
            daily += "2013-05-01,1,1\n"; // a short row
        }
    }
    std::fs::write(dir.join("daily.csv"), daily).unwrap();
    let mut log = String::from("symbol,price,volume,timestamp\n");
    for t in 0..trades {
        for s in SYMBOLS {
            log += &format!(
                "{s},{}.25,{}.0,2026-12-01 10:{:02}:{:02}.{:03}\n",
                100 + t % 9,
                t + 1,
                t / 60 % 60,
                t % 60,
                t % 1000
            );
        }
        if t == 3 {
            log += "MSFT,1.0,1,next tuesday\n"; // no time
        }
    }
    std::fs::write(dir.join("trades.csv"), log).unwrap();
    days + trades
}

fn replay(
    env: &TestEnv,
    archive: &Path,
    pacing: PacingKind,
    rate: f64,
    warehouse: bool,
) -> (tickstream::config::Config, String) {
    let mut config = env.config(1, 1, 100, 1_000);
    config.producer.source = Source::Csv;
    config.producer.csv = Some(CsvSourceConfig {
        path: archive.join("*.csv").display().to_string(),
        pacing,
        rate,
        speed: 1.0,
        repeat: false,
        columns: ColumnNames::default(),
        checkpoint: None,
        dead_letter_topic: None,
    });
    config.warehouse.enabled = warehouse;
    config.kafka.create_topics = false;
    env.kafka
        .create_topic(&env.topic, crate::common::PARTITIONS, 1)
        .expect("topic");
    let sections = sections_of(&config);
    (config, sections)
}

/// The configuration's tables for [`Tickstream::start`] (which writes `[metrics]` and
/// `[runtime]` itself).
fn sections_of(config: &tickstream::config::Config) -> String {
    let mut sections = toml::Table::try_from(config).expect("the configuration as TOML");
    sections.remove("metrics");
    sections.remove("runtime");
    toml::to_string(&sections).unwrap()
}

/// Every record of `topic` (one partition): its value and its headers, by name.
fn dead_letters(env: &TestEnv, topic: &str, n: usize) -> Vec<(String, BTreeMap<String, String>)> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", env.kafka.bootstrap_servers())
        .set("group.id", "bad-rows-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < n && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let headers = m.headers().map_or_else(BTreeMap::new, |h| {
                h.iter()
                    .map(|x| {
                        (
                            x.key.to_owned(),
                            String::from_utf8_lossy(x.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            });
            got.push((
                String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
                headers,
            ));
        }
    }
    got
}

/// Audits until every row is in S3 (or fails after a minute); the report.
async fn audited(
    env: &TestEnv,
    config: &tickstream::config::Config,
    rows: u64,
    t: &Tickstream,
) -> tickstream::verify::VerifyReport {
    let since = Instant::now();
    loop {
        let report = env.audit(config).await;
        let distinct: u64 = report.symbols.iter().map(|s| s.ticks - s.duplicated_seqs).sum();
        if distinct >= rows && report.partitions.iter().all(|p| p.missing.is_empty()) {
            return report;
        }
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "rows missing: {report:?}\n{}",
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Ticks of each symbol, by `run_id`.
fn per_symbol(report: &tickstream::verify::VerifyReport) -> BTreeMap<String, u64> {
    report
        .symbols
        .iter()
        .map(|s| (s.symbol.clone(), s.ticks - s.duplicated_seqs))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_of_an_archive_lands_once_and_bad_rows_are_named_with_file_and_line() {
    let env = TestEnv::start().await;
    let archive = tempfile::tempdir().unwrap();
    let per_symbol_rows = write_archive(archive.path(), 200, 150);
    let bad_topic = format!("{}-bad-rows", env.topic);
    env.kafka.create_topic(&bad_topic, 1, 1).expect("the dead-letter topic");
    let (mut config, _) = replay(&env, archive.path(), PacingKind::Max, 1.0, true);
    if let Some(csv) = config.producer.csv.as_mut() {
        csv.dead_letter_topic = Some(bad_topic.clone());
    }
    let sections = sections_of(&config);
    let t = Tickstream::start("csv", &sections, &S3_CREDENTIALS);
    t.until_logged("the replay went through every file", Duration::from_secs(120))
        .await;
    let rows = per_symbol_rows * SYMBOLS.len() as u64;
    let report = audited(&env, &config, rows, &t).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(records_in_s3(&report), rows);
    let want: BTreeMap<String, u64> = SYMBOLS.iter().map(|s| (s.to_string(), per_symbol_rows)).collect();
    assert_eq!(per_symbol(&report), want, "each symbol's rows, seq 0.. without a gap");
    assert_eq!(
        report
            .symbols
            .iter()
            .map(|s| &s.run_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        1
    );
    let log = t.log();
    let daily = archive.path().join("daily.csv").display().to_string();
    let trades = archive.path().join("trades.csv").display().to_string();
    for (file, line, why) in [
        (&daily, 305, "price: \"n/a\" is not a price"),
        (&daily, 306, "symbol: empty or missing"),
        (
            &trades,
            14,
            "timestamp: \"next tuesday\" is not a time tickstream reads",
        ),
    ] {
        let named = log
            .lines()
            .any(|l| l.contains(why) && l.contains(&format!("file={file}")) && l.contains(&format!("line={line}")));
        assert!(named, "{file}:{line} ({why}) not in the log:\n{log}");
    }
    assert!(log.contains("rows_sent=1050") && log.contains("bad_rows=3"), "{log}");
    // Each bad row also in the dead-letter topic, as it was in its file, with its place and why.
    let letters = dead_letters(&env, &bad_topic, 3);
    let shown: Vec<(String, String, String, String)> = letters
        .iter()
        .map(|(value, h)| {
            let file = h.get("tickstream.csv.file").cloned().unwrap_or_default();
            let name = std::path::Path::new(&file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                value.clone(),
                name,
                h["tickstream.csv.line"].clone(),
                h["tickstream.csv.error"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "2013-05-01,1,1,1,n/a,100,AAL".into(),
                "daily.csv".into(),
                "305".into(),
                "price: \"n/a\" is not a price".into()
            ),
            (
                "2013-05-01,1,1".into(),
                "daily.csv".into(),
                "306".into(),
                "symbol: empty or missing".into()
            ),
            (
                "MSFT,1.0,1,next tuesday".into(),
                "trades.csv".into(),
                "14".into(),
                "timestamp: \"next tuesday\" is not a time tickstream reads".into()
            ),
        ]
    );
    // And in the warehouse, each row once.
    let db = t.data_dir().join("warehouse.db");
    let table = config.warehouse.table_for(&env.topic, Some(&env.topic));
    let since = Instant::now();
    let count = |sql: &str| {
        tickstream::warehouse::schema::open_read_only(&db)
            .ok()
            .and_then(|db| db.query_row(sql, [], |r| r.get::<_, i64>(0)).ok())
    };
    let all = format!("SELECT COUNT(*) FROM {table}");
    while count(&all) != Some(rows as i64) {
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "{:?} rows loaded",
            count(&all)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let distinct = format!("SELECT COUNT(DISTINCT json_extract(RECORD_CONTENT, '$.symbol') || '/' || json_extract(RECORD_CONTENT, '$.seq')) FROM {table}");
    assert_eq!(count(&distinct), Some(rows as i64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_midway_goes_on_from_its_checkpoint_and_loses_no_row() {
    let env = TestEnv::start().await;
    let archive = tempfile::tempdir().unwrap();
    let per_symbol_rows = write_archive(archive.path(), 1_500, 1_500);
    // 9,000 rows at 1,000 a second: the first file (4,500 rows) takes four and a half seconds.
    let (config, sections) = replay(&env, archive.path(), PacingKind::Rate, 1_000.0, false);
    let mut t = Tickstream::start("csv-kill", &sections, &S3_CREDENTIALS);
    let checkpoint = t.data_dir().join("csv-replay.json");
    let since = Instant::now();
    // (file, line) of the checkpoint.
    let at = || -> (u64, u64) {
        let text = std::fs::read_to_string(&checkpoint).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&text).map_or((0, 0), |v| {
            (v["file"].as_u64().unwrap_or(0), v["line"].as_u64().unwrap_or(0))
        })
    };
    while at() < (0, 2_500) {
        assert!(since.elapsed() < Duration::from_secs(90), "no progress: {}", t.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    t.kill();
    let (file, killed_at) = at();
    assert_eq!(file, 0, "killed in the first file, at line {killed_at}");
    t.restart();
    t.until_logged("the replay went through every file", Duration::from_secs(120))
        .await;
    let rows = per_symbol_rows * SYMBOLS.len() as u64;
    let report = audited(&env, &config, rows, &t).await;
    let want: BTreeMap<String, u64> = SYMBOLS.iter().map(|s| (s.to_string(), per_symbol_rows)).collect();
    assert_eq!(per_symbol(&report), want, "every row, once counted by its identity");
    assert!(report.symbols.iter().all(|s| s.gaps.is_empty()), "{report:?}");
    // Sent twice: only rows dealt after the checkpoint. From the first row again, it would be
    // every row before the checkpoint's line too (the header and two bad rows are not rows).
    let again: u64 = report.symbols.iter().map(|s| s.duplicated_seqs).sum();
    let before_checkpoint = killed_at - 4;
    assert!(
        again < before_checkpoint,
        "{again} rows sent again, the checkpoint was past {before_checkpoint}"
    );
    assert!(
        report
            .partitions
            .iter()
            .all(|p| p.missing.is_empty() && p.duplicated.is_empty()),
        "every Kafka record in S3 exactly once: {report:?}"
    );
}
