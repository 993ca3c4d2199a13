//! Integration-test harness: a real broker (librdkafka's mock cluster on 127.0.0.1) and a real
//! S3 server (s3s-fs on 127.0.0.1), fresh topic and bucket names per test, and the audit of
//! `tickstream verify`, which reads the whole topic back and compares it with every object.

#![allow(dead_code)]

pub mod feed;
pub mod moto;
pub mod registry;
pub mod sse_c;
pub mod watcher;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tickstream::config::{Config, FormatClass, KafkaMode, S3Mode};
use tickstream::kafka::EmbeddedKafka;
use tickstream::pipeline::Infra;
use tickstream::s3::client;
use tickstream::s3::embedded::EmbeddedS3;
use tickstream::s3::keys::KeyLayout;
use tickstream::s3::{S3SegmentStore, SegmentStore};
use tickstream::verify::VerifyReport;

pub const PARTITIONS: i32 = 3;

/// A 127.0.0.1 port nothing listens on, for as long as the returned socket lives: bound but not
/// listening, so every connection to it is refused, and no other test's server can take the
/// port meanwhile (as one did a port that was only found free, and "answered" for the broker).
pub fn refused_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind 127.0.0.1:0");
    let port = socket.local_addr().expect("its address").port();
    (socket, port)
}

/// A broker, an S3 server and fresh names; stopped when dropped.
pub struct TestEnv {
    pub kafka: Arc<EmbeddedKafka>,
    pub s3: EmbeddedS3,
    pub topic: String,
    pub bucket: String,
    dir: tempfile::TempDir,
}

impl TestEnv {
    pub async fn start() -> Self {
        // RUST_LOG=tickstream=debug shows what the pipeline did during a failing test. Unset,
        // a failing test shows warnings and the group's assignments, revocations and sink
        // attachments (a handful of lines), which place a stall in the group or in the sinks.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn,tickstream::consumer=info".into()),
            )
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let kafka = Arc::new(EmbeddedKafka::start(3).expect("mock cluster"));
        let s3 = EmbeddedS3::start(&dir.path().join("s3"), 0).await.expect("s3s-fs");
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            kafka,
            s3,
            topic: format!("ticks-{}", &id[..12]),
            bucket: format!("bucket-{}", &id[..12]),
            dir,
        }
    }

    pub fn infra(&self) -> Infra {
        Infra {
            bootstrap_servers: self.kafka.bootstrap_servers().to_owned(),
            s3: self.s3.endpoint(),
            embedded_kafka: Some(self.kafka.clone()),
            kafka_auth: None,
            reachability: Default::default(),
        }
    }

    /// A configuration for this environment: `symbols` symbols, `ticks` ticks each.
    pub fn config(&self, symbols: usize, ticks: u64, flush_size: u64, rotate_ms: u64) -> Config {
        let mut c = Config::default();
        c.kafka.mode = KafkaMode::Plaintext;
        c.kafka.bootstrap_servers = self.kafka.bootstrap_servers().to_owned();
        c.kafka.partitions = PARTITIONS;
        c.kafka.replication_factor = 2;
        c.kafka.consumer_group = format!("group-{}", self.topic);
        c.producer.topic = self.topic.clone();
        c.producer.symbols = (0..symbols).map(|i| format!("SYM{i}")).collect();
        c.producer.ticks_per_second = 500.0;
        c.producer.max_ticks_per_symbol = Some(ticks);
        c.sink.topics = self.topic.clone();
        c.sink.flush_size = flush_size;
        c.sink.rotate_interval_ms = rotate_ms;
        c.sink.bucket = self.bucket.clone();
        c.s3.mode = S3Mode::Endpoint;
        c.s3.endpoint = Some(self.s3.url());
        c.metrics.enabled = false;
        c.runtime.progress_interval_ms = 0;
        c.runtime.data_dir = self.dir.path().to_owned();
        c.warehouse.poll_interval_ms = 200;
        c.runtime.shutdown_timeout_ms = 20_000;
        c
    }

    /// Where the S3 server keeps `key` of this environment's bucket (s3s-fs stores objects as
    /// files), for readers that are not S3 clients.
    #[allow(dead_code)] // not every test binary reads the files directly
    pub fn object_path(&self, key: &str) -> std::path::PathBuf {
        self.dir.path().join("s3").join(&self.bucket).join(key)
    }

    /// The warehouse file the configurations of this environment load into.
    #[allow(dead_code)] // not every test binary reads the warehouse
    pub fn warehouse_path(&self) -> std::path::PathBuf {
        self.dir.path().join("warehouse.db")
    }

    pub fn layout(&self) -> KeyLayout {
        KeyLayout::json("topics", &self.topic, 10)
    }

    pub async fn store(&self) -> S3SegmentStore {
        S3SegmentStore::new(client::build(&self.s3.endpoint()).await, self.bucket.clone())
    }

    /// Audits the configured topics against the bucket with `tickstream verify`'s code.
    pub async fn audit(&self, config: &Config) -> VerifyReport {
        tickstream::verify::audit(
            config,
            self.kafka.bootstrap_servers(),
            &self.s3.endpoint(),
            Duration::from_secs(60),
        )
        .await
        .expect("audit reads Kafka and S3")
    }

    /// Creates the configured topics (and dead-letter topic) as the pipeline does at start, so
    /// that a test's own producer can write to them first.
    pub async fn create_topics(&self, config: &Config) {
        tickstream::kafka::admin::create_configured_topics(
            &tickstream::kafka::admin::TopicAdmin::Mock(&self.kafka),
            config,
        )
        .await
        .expect("topics created");
    }

    /// Audits the topic against the bucket, asserts it passes and that no file holds more than
    /// `flush_size` records, and returns the report.
    pub async fn verified(&self, config: &Config, flush_size: usize) -> VerifyReport {
        let report = self.audit(config).await;
        assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
        // Raw-bytes files are `.bin`; the JSON layout reads every JSON and Parquet key (a test
        // may switch compression or format between runs).
        let layout = match config.sink.format() {
            FormatClass::ByteArray => KeyLayout::of(&config.sink, &self.topic),
            _ => self.layout(),
        };
        for (p, files) in self.objects_in(layout).await {
            for (start, lines) in files {
                assert!(
                    lines.len() <= flush_size,
                    "partition {p}: file {start} holds {} records",
                    lines.len()
                );
            }
        }
        report
    }

    /// Every data object: partition → start offset → its lines (compressed files decompressed,
    /// Parquet files as JSON lines).
    pub async fn objects(&self) -> BTreeMap<i32, BTreeMap<i64, Vec<Vec<u8>>>> {
        self.objects_in(self.layout()).await
    }

    /// [`Self::objects`], with keys named as `layout` names them (e.g. `.bin` files).
    pub async fn objects_in(&self, layout: KeyLayout) -> BTreeMap<i32, BTreeMap<i64, Vec<Vec<u8>>>> {
        let store = self.store().await;
        let keys = store.list("topics/", None).await.expect("list");
        let mut out: BTreeMap<i32, BTreeMap<i64, Vec<Vec<u8>>>> = BTreeMap::new();
        for key in keys {
            // Any topic of this environment's bucket (a test may sink several).
            let topic = key.split('/').nth(1).unwrap_or_default();
            let layout = layout.for_topic(topic);
            let file = layout
                .parse_any(&key)
                .filter(|f| (0..PARTITIONS).contains(&f.partition))
                .unwrap_or_else(|| panic!("key {key:?} does not follow the Confluent layout"));
            let (p, start) = (file.partition, file.start);
            let stem = layout.key_in(&file.dir, p, start);
            let stem = stem
                .strip_suffix("json")
                .or_else(|| stem.strip_suffix("bin"))
                .unwrap_or(&stem);
            assert!(
                key.starts_with(stem),
                "listed key {key} is the written key {stem}<extension>"
            );
            let body = store.get(&key).await.expect("get");
            if key.ends_with(".json") {
                assert!(body.ends_with(b"\n"), "{key} ends with a newline");
            }
            let file = tickstream::format::Reader::default()
                .read(&key, body)
                .expect("a compressed or Parquet file reads back");
            let lines = file.iter().map(<[u8]>::to_vec).collect();
            out.entry(p).or_default().insert(start, lines);
        }
        out
    }
}

/// Runs the pipeline (seed `seed`) until `ticks` are acknowledged, then stops it: the sinks
/// write their last files and the watcher loads them at shutdown.
#[allow(dead_code)] // not every test binary runs a pipeline this way
pub async fn run_until_acked(env: &TestEnv, config: &Config, seed: u64, ticks: u64) {
    run_until_acked_on(&env.infra(), config, seed, ticks).await
}

/// [`run_until_acked`] on other infrastructure (another S3 server).
pub async fn run_until_acked_on(infra: &Infra, config: &Config, seed: u64, ticks: u64) {
    let pipeline =
        tickstream::pipeline::Pipeline::start(config, infra, tickstream::pipeline::RunOptions::new(Some(seed)))
            .await
            .expect("start");
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(60), "every tick acknowledged", || {
        stats.snapshot().ticks_acked == ticks
    })
    .await;
    pipeline.shutdown().await;
}

/// A tick's JSON as tickstream's producer writes it, under `run_id`, stamped now.
pub fn tick_json(symbol: &str, seq: u64, run_id: &str) -> Vec<u8> {
    serde_json::to_vec(&tickstream::record::tick::Tick {
        symbol: symbol.into(),
        price: 100.0 + (seq % 100) as f64,
        volume: 100,
        change: 0.0,
        timestamp: tickstream::record::tick::timestamp_now(),
        exchange: "NASDAQ".into(),
        run_id: run_id.into(),
        seq,
    })
    .expect("tick JSON")
}

/// Records in S3 across partitions.
pub fn records_in_s3(r: &VerifyReport) -> u64 {
    r.partitions.iter().map(|p| p.records_in_s3).sum()
}

/// Asserts every (run_id, symbol) has exactly `n` ticks, seqs 0..n without gap or duplicate.
pub fn assert_ticks_per_symbol(r: &VerifyReport, pairs: usize, n: u64) {
    assert_eq!(r.symbols.len(), pairs, "(run_id, symbol) pairs");
    for s in &r.symbols {
        assert_eq!(
            (s.ticks, s.gaps.len(), s.duplicated_seqs),
            (n, 0, 0),
            "{}/{}",
            s.run_id,
            s.symbol
        );
    }
}

pub use tickstream::test_support::{all_committed, eventually};
