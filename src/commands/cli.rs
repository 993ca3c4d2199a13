//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// tickstream: a supervised real-time market-data pipeline.
///
/// Simulated NASDAQ ticks → Kafka (`stock-market-data`, keyed by symbol) → per-partition sink
/// actors → JSON-lines files in S3, named exactly as the Confluent S3 Sink Connector names them,
/// with Kafka offsets committed only after each upload.
///
/// Start with the embedded default (Kafka and S3 in this process, nothing to install):
/// `tickstream run --config config/local.toml`
#[derive(Debug, Parser)]
#[command(name = "tickstream", version, about, long_about, after_help = ENV_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline until SIGINT/SIGTERM, then drain: every acknowledged tick ends up in S3.
    ///
    /// Progress is logged every runtime.progress_interval_ms; Prometheus metrics are served at
    /// metrics.listen (default http://127.0.0.1:9464/metrics). Set RUST_LOG=debug for more detail.
    Run {
        /// The configuration file (TOML). See config/local.toml for every key, documented.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// Seed of the price random walk: the same seed gives the same prices and volumes.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Audit exactly-once delivery: read every partition of every sink topic from its earliest
    /// offset, every object under topics.dir and the dead letters, and report per (topic,
    /// partition) the records in Kafka and in S3, dead letters, missing and duplicated offsets,
    /// overlapping files, changed records, and the committed offset against the end of S3; per
    /// (run_id, symbol), for records that carry them, seq gaps and duplicates.
    ///
    /// Exit 0 when every record is in S3 exactly once, 1 on any loss or duplicate, 2 for a bad
    /// configuration, 3 when Kafka or S3 cannot be read. Needs a broker that outlives the pipeline
    /// (kafka.mode plaintext or msk_iam), not the embedded one.
    Verify {
        /// The configuration the pipeline runs with (topic, bucket, prefix, group).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// How long reading the whole topic may take, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
    },
    /// Check MSK IAM authentication end to end: sign a token with the configured credentials,
    /// connect to kafka.bootstrap_servers with SASL/OAUTHBEARER and fetch metadata. Prints where
    /// the credentials came from, the IAM principal, the token's expiry, and the broker's answer
    /// (or its error, in plain words). Exit 0 when authenticated, 1 when the broker refused or did
    /// not answer, 2 for a bad configuration, 3 when no token could be signed (no credentials).
    CheckAuth {
        /// A configuration with kafka.mode = "msk_iam" (e.g. config/msk.example.toml).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// How long to wait for the brokers, in seconds.
        #[arg(long, default_value_t = 20)]
        timeout_secs: u64,
    },
    /// MSK IAM tokens.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Print the Prometheus alert rules with every runbook_url made absolute under URL, where
    /// the docs/ folder is hosted (each links to URL/runbooks.md#runbook-<alert>). Install the
    /// output as a rule file: `tickstream alerts --runbook-base-url URL > /etc/prometheus/rules/tickstream.yml`.
    Alerts {
        /// Where docs/ is served, e.g. https://wiki.example.com/tickstream/docs.
        #[arg(long, value_name = "URL", env = "TICKSTREAM_RUNBOOK_BASE_URL")]
        runbook_base_url: String,
    },
    /// Ingestion status, like Snowflake's SYSTEM$PIPE_STATUS: executionState, pendingFileCount
    /// (files in S3 the warehouse has not loaded), last ingested file and time, oldest pending
    /// file, load errors, and end-to-end latency (tick timestamp → row loaded) p50/p95/p99.
    Status {
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// JSON (SYSTEM$PIPE_STATUS field names) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run read-only SQL against the warehouse (SQLite) and print the result.
    ///
    /// Example: tickstream query -c config/local.toml "SELECT symbol, COUNT(*) FROM STOCK_MARKET_DATA GROUP BY symbol"
    Query {
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// One SELECT statement.
        sql: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Per-symbol COUNT, AVG(price), MIN, MAX, last price and volume; or OHLC candles.
    Stats {
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// OHLC candles of this width instead (30s, 1m, 5m, 1h, 1d), with volume.
        #[arg(long, value_name = "INTERVAL")]
        ohlc: Option<String>,
        /// The table to summarise (default: warehouse.table, the first topic's). It needs the
        /// columns symbol, price, volume and timestamp.
        #[arg(long, value_name = "TABLE")]
        table: Option<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Snowflake (production warehouse).
    #[command(subcommand)]
    Snowflake(SnowflakeCommand),
    /// Querying the files in place with Amazon Athena (Glue).
    #[command(subcommand)]
    Athena(AthenaCommand),
    /// Migrating from Kafka Connect.
    #[command(subcommand)]
    Connect(ConnectCommand),
    /// Validate a configuration file (with environment overrides) and exit: 0 if usable, 2 if not.
    CheckConfig {
        /// The configuration file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AthenaCommand {
    /// Print the CREATE EXTERNAL TABLE, per topic, that queries this configuration's files in
    /// S3 where they are: the typed columns (warehouse.columns / topic_columns, with their source
    /// fields as SerDe mappings), the OpenX JSON SerDe (gzip files too), and the Kafka partition
    /// as a projected partition column, so no crawler or MSCK REPAIR is needed.
    Ddl {
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// The Glue database the tables go in.
        #[arg(long, default_value = "tickstream")]
        database: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// Print the tickstream TOML equivalent to a Confluent S3 sink connector's configuration:
    /// the JSON MSK Connect takes (aws kafkaconnect create-connector --cli-input-json), Connect's
    /// REST body ({"name", "config"}), the bare settings, or a .properties file.
    ///
    /// Every setting it cannot honour yet (a Parquet or Avro format, a time-based or field
    /// partitioner, a compression other than gzip) is named on stderr and the exit code is 1; settings with no meaning here
    /// (tasks.max, the key converter) are listed as ignored. Save stdout, then run
    /// `tickstream check-config` on it.
    Import {
        /// The connector configuration (.json or .properties).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum SnowflakeCommand {
    /// Print the storage integration, file format, stage, and per topic the table
    /// (RECORD_CONTENT, RECORD_METADATA and the typed columns) and AUTO_INGEST pipe that load
    /// this configuration's files (bucket, topics.dir, topics).
    Ddl {
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Print the public key and fingerprint of `warehouse.snowflake.private_key_path`, and the
    /// ALTER USER statement that registers it. `DESC USER <user>` shows RSA_PUBLIC_KEY_FP: it must
    /// equal the fingerprint printed here, or the SQL API answers 401.
    Fingerprint {
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Print one freshly signed MSK IAM token on stdout (its expiry goes to stderr).
    ///
    /// The token is a short-lived credential (15 minutes): it is printed only because you asked.
    /// Credentials come from the AWS default chain (environment, profile, web identity, EC2
    /// instance role), or from --role-arn assumed on top of it.
    Token {
        /// The MSK cluster's AWS region, e.g. us-east-1.
        #[arg(long, env = "AWS_REGION")]
        region: String,
        /// An IAM role to assume for signing.
        #[arg(long, value_name = "ARN")]
        role_arn: Option<String>,
    },
}

const ENV_HELP: &str = "\
Environment overrides (for secrets and per-host values; e.g. in systemd's EnvironmentFile=):
  TICKSTREAM_KAFKA_BOOTSTRAP_SERVERS  kafka.bootstrap_servers
  TICKSTREAM_KAFKA_REGION             kafka.region (else AWS_REGION)
  TICKSTREAM_GROUP_INSTANCE_ID        kafka.group_instance_id (static group membership)
  TICKSTREAM_KAFKA_IAM_ROLE_ARN       kafka.iam_role_arn (role assumed for MSK IAM tokens)
  TICKSTREAM_S3_ENDPOINT              s3.endpoint
  TICKSTREAM_S3_REGION                s3.region
  TICKSTREAM_S3_BUCKET                sink.\"s3.bucket.name\"
  TICKSTREAM_METRICS_LISTEN           metrics.listen
  TICKSTREAM_WAREHOUSE_PATH           warehouse.path (the SQLite warehouse file)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...  S3 and MSK IAM credentials (AWS default chain)
  RUST_LOG                            log filter, e.g. info or tickstream=debug

Exit codes: 0 stopped cleanly (verify: verified), 1 runtime failure (verify: loss or duplicate;
check-auth: refused), 2 bad configuration, 3 (verify) Kafka or S3 could not be read (check-auth,
auth token: no credentials).";
