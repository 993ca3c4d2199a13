//! Integration-test harness: a real broker (librdkafka's mock cluster on 127.0.0.1) and a real
//! S3 server (s3s-fs on 127.0.0.1), fresh topic and bucket names per test, and an audit that
//! reads the whole topic back and compares it with every object in the bucket.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tickstream::config::{Config, KafkaMode, S3Mode};
use tickstream::kafka::EmbeddedKafka;
use tickstream::producer::Tick;
use tickstream::runtime::Infra;
use tickstream::s3::client;
use tickstream::s3::embedded::EmbeddedS3;
use tickstream::s3::keys::KeyLayout;
use tickstream::s3::{S3SegmentStore, SegmentStore};

pub const PARTITIONS: i32 = 3;

/// A broker, an S3 server and fresh names; stopped when dropped.
pub struct TestEnv {
    pub kafka: Arc<EmbeddedKafka>,
    pub s3: EmbeddedS3,
    pub topic: String,
    pub bucket: String,
    _dir: tempfile::TempDir,
}

impl TestEnv {
    pub async fn start() -> Self {
        // RUST_LOG=tickstream=debug shows what the pipeline did during a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
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
            _dir: dir,
        }
    }

    pub fn infra(&self) -> Infra {
        Infra {
            bootstrap_servers: self.kafka.bootstrap_servers().to_owned(),
            s3: self.s3.endpoint(),
            embedded_kafka: Some(self.kafka.clone()),
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
        c.runtime.shutdown_timeout_ms = 20_000;
        c
    }

    pub fn layout(&self) -> KeyLayout {
        KeyLayout {
            topics_dir: "topics".into(),
            topic: self.topic.clone(),
            pad_width: 10,
        }
    }

    pub async fn store(&self) -> S3SegmentStore {
        S3SegmentStore::new(client::build(&self.s3.endpoint()).await, self.bucket.clone())
    }

    /// Every record of every partition, from the beginning: partition → offset → value.
    pub fn topic_contents(&self) -> BTreeMap<i32, BTreeMap<i64, Vec<u8>>> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.kafka.bootstrap_servers())
            .set("group.id", format!("audit-{}", uuid::Uuid::new_v4()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("audit consumer");
        let mut out = BTreeMap::new();
        for p in 0..PARTITIONS {
            let (low, high) = consumer
                .fetch_watermarks(&self.topic, p, Duration::from_secs(10))
                .expect("watermarks");
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&self.topic, p, Offset::Offset(low))
                .expect("tpl");
            consumer.assign(&tpl).expect("assign");
            let mut records = BTreeMap::new();
            let deadline = Instant::now() + Duration::from_secs(30);
            while (records.len() as i64) < high - low && Instant::now() < deadline {
                if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                    records.insert(m.offset(), m.payload().unwrap_or_default().to_vec());
                }
            }
            assert_eq!(
                records.len() as i64,
                high - low,
                "read partition {p} of the topic completely"
            );
            out.insert(p, records);
        }
        out
    }

    /// The group's committed offset per partition.
    pub fn committed(&self, group: &str) -> BTreeMap<i32, Option<i64>> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.kafka.bootstrap_servers())
            .set("group.id", group)
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            tpl.add_partition(&self.topic, p);
        }
        let tpl = consumer
            .committed_offsets(tpl, Duration::from_secs(10))
            .expect("committed");
        (0..PARTITIONS)
            .map(|p| {
                let o = match tpl.find_partition(&self.topic, p).map(|e| e.offset()) {
                    Some(Offset::Offset(o)) => Some(o),
                    _ => None,
                };
                (p, o)
            })
            .collect()
    }

    /// Every data object: partition → start offset → its lines.
    pub async fn objects(&self) -> BTreeMap<i32, BTreeMap<i64, Vec<Vec<u8>>>> {
        let store = self.store().await;
        let layout = self.layout();
        let keys = store.list("topics/", None).await.expect("list");
        let mut out: BTreeMap<i32, BTreeMap<i64, Vec<Vec<u8>>>> = BTreeMap::new();
        for key in keys {
            let (p, start) = (0..PARTITIONS)
                .find_map(|p| layout.parse_start_offset(p, &key).map(|s| (p, s)))
                .unwrap_or_else(|| panic!("key {key:?} does not follow the Confluent layout"));
            assert_eq!(key, layout.object_key(p, start), "listed key equals the written key");
            let body = store.get(&key).await.expect("get");
            assert!(body.ends_with(b"\n"), "{key} ends with a newline");
            let lines = body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect();
            out.entry(p).or_default().insert(start, lines);
        }
        out
    }
}

/// What the audit found.
#[derive(Debug, Default)]
pub struct Audit {
    pub files: usize,
    pub records_in_s3: usize,
    /// Partition → offset after the last file.
    pub s3_end: BTreeMap<i32, i64>,
}

/// Checks that S3 holds every record of the topic exactly once, in files named for their first
/// offset, each with at most `flush_size` records, with no gap and no overlap.
pub fn audit(
    topic: &BTreeMap<i32, BTreeMap<i64, Vec<u8>>>,
    objects: &BTreeMap<i32, BTreeMap<i64, Vec<Vec<u8>>>>,
    flush_size: usize,
) -> Audit {
    let mut a = Audit::default();
    for (p, records) in topic {
        let files = objects.get(p).cloned().unwrap_or_default();
        let mut next = records.keys().next().copied().unwrap_or(0);
        for (start, lines) in &files {
            assert_eq!(
                *start, next,
                "partition {p}: file at {start} follows the previous file without gap or overlap"
            );
            assert!(
                !lines.is_empty() && lines.len() <= flush_size,
                "partition {p}: file {start} holds {} records",
                lines.len()
            );
            for (i, line) in lines.iter().enumerate() {
                let offset = start + i as i64;
                let expected = records
                    .get(&offset)
                    .unwrap_or_else(|| panic!("partition {p}: offset {offset} is not in Kafka"));
                assert_eq!(
                    line, expected,
                    "partition {p}: offset {offset} in S3 equals the record in Kafka"
                );
            }
            next = start + lines.len() as i64;
            a.files += 1;
            a.records_in_s3 += lines.len();
        }
        let end = records.keys().last().map_or(0, |o| o + 1);
        assert_eq!(
            next, end,
            "partition {p}: S3 holds every record up to the end of the partition"
        );
        a.s3_end.insert(*p, next);
    }
    a
}

/// Per (run_id, symbol): the seqs, which must be 0..n without gap or duplicate.
pub fn seqs_by_symbol(topic: &BTreeMap<i32, BTreeMap<i64, Vec<u8>>>) -> BTreeMap<(String, String), Vec<u64>> {
    let mut out: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for records in topic.values() {
        for value in records.values() {
            let t: Tick = serde_json::from_slice(value).expect("every record is a tick");
            out.entry((t.run_id, t.symbol)).or_default().push(t.seq);
        }
    }
    for seqs in out.values_mut() {
        seqs.sort_unstable();
    }
    out
}

pub fn assert_gapless(seqs: &BTreeMap<(String, String), Vec<u64>>, expected_per_symbol: u64) {
    for ((run, symbol), s) in seqs {
        let unique: BTreeSet<_> = s.iter().collect();
        assert_eq!(unique.len(), s.len(), "{run}/{symbol}: no duplicate seq");
        assert_eq!(
            s,
            &(0..expected_per_symbol).collect::<Vec<_>>(),
            "{run}/{symbol}: seqs 0..{expected_per_symbol}"
        );
    }
}

/// Polls `cond` every 50 ms until it holds or `limit` passes.
pub async fn eventually(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        if std::env::var_os("TICKSTREAM_TEST_TRACE").is_some() {
            eprintln!("waiting for: {what}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
