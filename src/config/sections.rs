//! The tables of the configuration file. Each field's `///` line is its user documentation.

use super::source::{CsvSourceConfig, Source};
use super::websocket::WebsocketSourceConfig;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How tickstream reaches Kafka.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KafkaMode {
    /// An in-process librdkafka mock cluster on 127.0.0.1 (real wire protocol, keeps nothing).
    #[default]
    Embedded,
    /// A broker reached in PLAINTEXT at `bootstrap_servers` (tansu, a local Kafka).
    Plaintext,
    /// Amazon MSK with IAM: SASL_SSL + OAUTHBEARER on port 9098.
    MskIam,
}

/// `[kafka]`
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `embedded` (default), `plaintext` or `msk_iam`.
    #[serde(default)]
    pub mode: KafkaMode,
    /// `host:port[,host:port…]`; required unless `mode = "embedded"`.
    /// Env: `TICKSTREAM_KAFKA_BOOTSTRAP_SERVERS`.
    #[serde(default)]
    pub bootstrap_servers: String,
    /// Brokers in the embedded mock cluster.
    #[serde(default = "default_embedded_brokers")]
    pub embedded_brokers: i32,
    /// Partitions of a topic tickstream creates.
    #[serde(default = "default_partitions")]
    pub partitions: i32,
    /// Replication factor of a topic tickstream creates.
    #[serde(default = "default_replication_factor")]
    pub replication_factor: i32,
    /// Create the topics at start when they are absent. Turn off on MSK when topics are managed.
    #[serde(default = "yes")]
    pub create_topics: bool,
    /// The sink's consumer group.
    #[serde(default = "default_consumer_group")]
    pub consumer_group: String,
    /// Static group membership (`group.instance.id`): a restarted process with the same id takes
    /// its partitions back at once instead of waiting out the old member's session. One id per
    /// host/service. Env: `TICKSTREAM_GROUP_INSTANCE_ID`.
    #[serde(default)]
    pub group_instance_id: Option<String>,
    /// AWS region of the MSK cluster (`msk_iam` mode). Env: `TICKSTREAM_KAFKA_REGION`, else `AWS_REGION`.
    #[serde(default)]
    pub region: Option<String>,
    /// `msk_iam` mode: an IAM role to assume for the MSK token (STS AssumeRole, session name
    /// `tickstream`); absent = sign with the default chain's credentials (env, profile, web
    /// identity, EC2 instance role). Env: `TICKSTREAM_KAFKA_IAM_ROLE_ARN`.
    #[serde(default)]
    pub iam_role_arn: Option<String>,
    /// Extra librdkafka properties for every client, e.g. `"ssl.ca.location" = "/etc/ssl/certs"`.
    #[serde(default)]
    pub librdkafka: BTreeMap<String, String>,
}

/// `[producer]`
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerConfig {
    /// Run the tick producers in this process.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where the ticks come from: `simulated` (default: a random walk per symbol of
    /// `symbols`), `csv` (rows of `[producer.csv]`'s files, a producer per symbol found) or
    /// `websocket` (the live trades of `symbols` from `[producer.websocket]`'s feed).
    #[serde(default)]
    pub source: Source,
    /// The CSV replay, under `source = "csv"`.
    #[serde(default)]
    pub csv: Option<CsvSourceConfig>,
    /// The live trade feed, under `source = "websocket"`.
    #[serde(default)]
    pub websocket: Option<WebsocketSourceConfig>,
    /// The topic the ticks go to, keyed by symbol.
    #[serde(default = "default_topic")]
    pub topic: String,
    /// One producer actor per symbol.
    #[serde(default = "default_symbols")]
    pub symbols: Vec<String>,
    /// Ticks per second for each symbol (fractions allowed: 0.5 is one tick every 2 s).
    #[serde(default = "default_ticks_per_second")]
    pub ticks_per_second: f64,
    /// Seed of the price random walk; the same seed gives the same prices. `--seed` overrides.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Stop each symbol after this many ticks (tests, benchmarks); absent = run forever.
    #[serde(default)]
    pub max_ticks_per_symbol: Option<u64>,
    /// The `exchange` field of every tick.
    #[serde(default = "default_exchange")]
    pub exchange: String,
}

/// Where the S3 API is.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum S3Mode {
    /// An in-process s3s-fs server on 127.0.0.1, objects as plain files under `<data_dir>/s3/`.
    #[default]
    Embedded,
    /// An S3-compatible server at `endpoint` (s3s-fs, MinIO), path-style addressing.
    Endpoint,
    /// Amazon S3 (credentials from the AWS default chain).
    Aws,
}

/// `[s3]`
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// `embedded` (default), `endpoint` or `aws`.
    #[serde(default)]
    pub mode: S3Mode,
    /// `http(s)://host:port` of an S3-compatible server (`endpoint` mode). Env: `TICKSTREAM_S3_ENDPOINT`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Region for signing. Env: `TICKSTREAM_S3_REGION`, else `AWS_REGION`.
    #[serde(default = "default_region")]
    pub region: String,
    /// Create the bucket at start when it is absent (not in `aws` mode).
    #[serde(default = "yes")]
    pub create_bucket: bool,
    /// Port of the embedded server on 127.0.0.1; 0 picks a free one (logged at start).
    #[serde(default)]
    pub embedded_port: u16,
}

/// `[metrics]`
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve Prometheus metrics.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Address of `/metrics`, `/healthz` and `/readyz`. Env: `TICKSTREAM_METRICS_LISTEN`.
    #[serde(default = "default_metrics_listen")]
    pub listen: SocketAddr,
    /// Serve `POST /admin/actors/<id>/fail` (fault injection for tests and the chaos suite).
    /// Only allowed when `listen` is a loopback address.
    #[serde(default)]
    pub admin: bool,
}

/// `[supervision]`: the restart policy of every supervisor.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionConfig {
    /// Restarts each supervisor allows within `window_ms`, of all its children together (OTP's
    /// intensity); one more and it fails and its own supervisor decides (at the top, the
    /// process exits with status 1 and systemd restarts it).
    #[serde(default = "default_max_restarts")]
    pub max_restarts: u32,
    /// The sliding window of `max_restarts`.
    #[serde(default = "default_window_ms")]
    pub window_ms: u64,
    /// First delay before restarting a failed actor; doubles (with jitter) per restart in the window.
    #[serde(default = "default_backoff_min_ms")]
    pub backoff_min_ms: u64,
    /// Longest delay before a restart.
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
}

impl SupervisionConfig {
    pub fn policy(&self) -> supervisors::RestartPolicy {
        supervisors::RestartPolicy {
            max_restarts: self.max_restarts,
            within: Duration::from_millis(self.window_ms),
            backoff_min: Duration::from_millis(self.backoff_min_ms),
            backoff_max: Duration::from_millis(self.backoff_max_ms),
        }
    }
}

/// `[runtime]`
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// State directory (embedded S3 objects live in `<data_dir>/s3`).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// How often a progress line is logged; 0 turns it off.
    #[serde(default = "default_progress_interval_ms")]
    pub progress_interval_ms: u64,
    /// On SIGINT/SIGTERM, how long sinks may drain, flush and commit before the process exits.
    #[serde(default = "default_shutdown_timeout_ms")]
    pub shutdown_timeout_ms: u64,
    /// At start, how long to keep retrying a Kafka or S3 that does not answer (each failure is
    /// logged with its address and cause) before exiting 1 with that cause. Keep it below
    /// systemd's `TimeoutStartSec=` (120 s in the shipped unit).
    #[serde(default = "default_startup_timeout_ms")]
    pub startup_timeout_ms: u64,
    /// Threads of the async runtime (the actors, uploads, the HTTP endpoint); 0 is one per
    /// core. librdkafka's threads and the sink's consumer thread run outside it. On 2 cores, a
    /// sink-only instance at `flush.size` 100 spent 7% (JSON) to 16% (Parquet) less CPU per
    /// record with 1 (its threads no longer wake each other for every upload), none less at
    /// 10,000; with 1,000 producer actors in the same process one thread stretched the tick →
    /// S3 p99 from 1.0 s to 4.1 s: see docs/operations.md.
    #[serde(default)]
    pub worker_threads: usize,
}

impl RuntimeConfig {
    /// `progress_interval_ms`; `None` when progress lines are off.
    pub fn progress_interval(&self) -> Option<Duration> {
        (self.progress_interval_ms > 0).then(|| Duration::from_millis(self.progress_interval_ms))
    }

    /// `shutdown_timeout_ms`.
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_millis(self.shutdown_timeout_ms)
    }

    /// `startup_timeout_ms`.
    pub fn startup_timeout(&self) -> Duration {
        Duration::from_millis(self.startup_timeout_ms)
    }

    /// `worker_threads`, with 0 resolved on a machine of `cores` cores.
    pub fn workers(&self, cores: usize) -> usize {
        match self.worker_threads {
            0 => cores.max(1),
            n => n,
        }
    }
}

fn yes() -> bool {
    true
}
fn default_embedded_brokers() -> i32 {
    3
}
fn default_partitions() -> i32 {
    3
}
fn default_replication_factor() -> i32 {
    2
}
fn default_consumer_group() -> String {
    "tickstream-s3-sink".into()
}
fn default_topic() -> String {
    "stock-market-data".into()
}
/// The seed's seven NASDAQ symbols.
pub fn default_symbols() -> Vec<String> {
    ["AAPL", "GOOGL", "MSFT", "AMZN", "TSLA", "META", "NVDA"]
        .map(String::from)
        .to_vec()
}
fn default_ticks_per_second() -> f64 {
    1.0
}
fn default_exchange() -> String {
    "NASDAQ".into()
}
fn default_region() -> String {
    "us-east-1".into()
}
fn default_metrics_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9464))
}
fn default_max_restarts() -> u32 {
    5
}
fn default_window_ms() -> u64 {
    60_000
}
fn default_backoff_min_ms() -> u64 {
    100
}
fn default_backoff_max_ms() -> u64 {
    10_000
}
fn default_data_dir() -> PathBuf {
    "data".into()
}
fn default_progress_interval_ms() -> u64 {
    10_000
}
fn default_shutdown_timeout_ms() -> u64 {
    30_000
}
fn default_startup_timeout_ms() -> u64 {
    90_000
}

default_from_serde!(
    KafkaConfig,
    ProducerConfig,
    S3Config,
    MetricsConfig,
    SupervisionConfig,
    RuntimeConfig
);
