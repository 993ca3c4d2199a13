//! The pipeline: starting every part this process runs, wired together, and stopping them in an
//! order that loses nothing.
//!
//! - [`startup`]: wait until Kafka and S3 answer (called first by `tickstream run`).
//! - this file: [`Pipeline::start`]: topics → the shared producer → the sink side
//!   (`sink_side`: bucket, store, consumer actor) → the file-landed channel → the supervision
//!   tree ([`tree`], which declares every restart kind) → [`admin`].
//! - `shutdown`: producers stop → ticks flushed → the consumer reads to the end and its sinks
//!   drain → the watcher loads the last files → everything stops.
//! - [`admin`]: health for the systemd watchdog, readiness, fault injection.

use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorRef};
use supervisors::{Supervisor, SupervisorMsg};

use crate::auth::setup::KafkaAuth;
use crate::config::{Config, KafkaMode, WarehouseKind};
use crate::consumer::actor::{consumer_spec, ConsumerShared};
use crate::kafka::admin::{create_configured_topics, TopicAdmin};
use crate::kafka::{client_config, EmbeddedKafka, TickProducer};
use crate::s3::client::S3Endpoint;
use crate::telemetry::reachability::Reachability;
use crate::telemetry::PipelineStats;
use crate::warehouse::watcher::WatcherHandle;

pub mod admin;
mod parts;
mod shutdown;
mod sink_side;
pub mod startup;
pub mod tree;

pub use admin::Admin;
pub use shutdown::ShutdownReport;
use tree::Supervisors;

/// Where the pipeline's Kafka and S3 are.
pub struct Infra {
    pub bootstrap_servers: String,
    pub s3: S3Endpoint,
    /// Set when Kafka is the in-process mock (topics are created through it).
    pub embedded_kafka: Option<Arc<EmbeddedKafka>>,
    /// Set in `msk_iam` mode: the token every client sends and the actor that refreshes it.
    pub kafka_auth: Option<KafkaAuth>,
    /// Whether Kafka, S3 (and Snowflake) answer, as every client of this pipeline saw it.
    pub reachability: Arc<Reachability>,
}

/// Per-run options that are not configuration.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Seed of the price walks (`--seed`, else `producer.seed`, else random).
    pub seed: u64,
    /// Unique per process start; every tick carries it.
    pub run_id: String,
}

impl RunOptions {
    pub fn new(seed: Option<u64>) -> Self {
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let seed = seed
            .unwrap_or_else(|| u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or_default()));
        Self { seed, run_id }
    }
}

/// Why the pipeline could not start. Each keeps its cause ([`crate::error::chain`] renders it).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Topics(#[from] crate::kafka::admin::AdminError),
    #[error("creating the producer")]
    Producer(#[source] rdkafka::error::KafkaError),
    #[error("creating the producer of the dead-letter topic {topic}")]
    DeadLetterProducer {
        topic: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("configuration")]
    Config(#[from] crate::config::Problem),
    #[error("S3 bucket {bucket}")]
    Bucket {
        bucket: String,
        #[source]
        source: crate::s3::S3Error,
    },
    #[error("starting the supervision tree")]
    Actors(#[source] ractor::SpawnErr),
    #[error("{0}")]
    Unsupported(String),
    #[error("the CSV replay: {0}")]
    CsvSource(String),
    #[error("the live feed: {0}")]
    FeedSource(String),
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("the Snowpipe monitor")]
    Snowflake(#[from] crate::warehouse::snowflake::SnowflakeError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// A dependency still did not answer when `runtime.startup_timeout_ms` ran out.
    #[error("not reachable after {waited_s} s (runtime.startup_timeout_ms): {}", .problems.join("; "))]
    Unreachable { waited_s: u64, problems: Vec<String> },
}

/// A running pipeline.
pub struct Pipeline {
    root: ActorRef<SupervisorMsg>,
    /// Completes when the root supervisor has stopped; `None` once observed.
    root_done: Option<tokio::task::JoinHandle<()>>,
    supervisors: Supervisors,
    /// The running ingestion watcher, for the last catch-up at shutdown.
    watcher: WatcherHandle,
    producer: Option<Arc<TickProducer>>,
    /// The consumer side (its actor, its current consumer); drained at shutdown.
    consumer: Option<Arc<ConsumerShared>>,
    stats: Arc<PipelineStats>,
    options: RunOptions,
    shutdown_timeout: Duration,
    admin: Arc<Admin>,
}

impl Pipeline {
    /// Starts everything `config` enables against `infra`.
    pub async fn start(config: &Config, infra: &Infra, options: RunOptions) -> Result<Self, StartError> {
        if config.kafka.mode == KafkaMode::MskIam && infra.kafka_auth.is_none() {
            return Err(StartError::Unsupported(
                "kafka.mode = \"msk_iam\" needs an MSK IAM token source (Infra::kafka_auth)".into(),
            ));
        }
        startup::register(config, infra);
        crate::telemetry::events::pipeline_started(config.producer.enabled, config.sink.enabled);
        let stats = Arc::new(PipelineStats::default());
        let admin = match &infra.embedded_kafka {
            Some(mock) => TopicAdmin::Mock(mock),
            None => TopicAdmin::Broker(client_config::base(&config.kafka, &infra.bootstrap_servers)),
        };
        create_configured_topics(&admin, config).await?;

        let mut parts = tree::Parts {
            auth: infra.kafka_auth.as_ref().map(|a| (a.refresher)(tree::REFRESHER)),
            ..Default::default()
        };
        let producer = match parts::producers(config, infra, &options, &stats)? {
            Some(p) => {
                parts.producers = Some(p.specs);
                Some(p.producer)
            }
            None => None,
        };
        // Files the sinks land go straight to the watcher when both run here.
        let sqlite_watcher = config.warehouse.enabled && config.warehouse.kind == WarehouseKind::Sqlite;
        let (landed_tx, landed_rx) = match config.sink.enabled && sqlite_watcher {
            true => {
                let (tx, rx) = crate::landed::channel();
                (Some(tx), Some(rx))
            }
            false => (None, None),
        };
        let (mut store, mut consumer) = (None, None);
        if config.sink.enabled {
            let (s, args) = sink_side::prepare(config, infra, stats.clone(), landed_tx).await?;
            store = Some(s);
            let shared = args.shared.clone();
            consumer = Some(shared.clone());
            let started: tree::PartitionsStarted = Arc::new(move |sup| shared.partitions_started(sup));
            parts.consumer = Some((consumer_spec(args, tree::CONSUMER), started));
        }
        let watcher: WatcherHandle = Arc::default();
        parts.warehouse = parts::warehouse(config, infra, &watcher, landed_rx).await?;

        let supervisors = Supervisors::default();
        let (root_args, named) = tree::root(parts, &config.supervision.policy(), &supervisors);
        let (root, root_handle) = Supervisor::spawn(None, Supervisor, root_args)
            .await
            .map_err(StartError::Actors)?;
        let root_done = tokio::spawn(async move {
            let _ = root_handle.await;
        });
        let admin = Arc::new(Admin {
            root: root.clone(),
            supervisors: named,
            producer: producer.as_ref().map(Arc::downgrade),
            consumer: consumer.clone(),
            store,
            topic: match config.producer.enabled {
                true => config.producer.topic.clone(),
                false => config.sink.topics.clone(),
            },
            reach: infra.reachability.clone(),
        });
        Ok(Pipeline {
            root,
            root_done: Some(root_done),
            supervisors,
            watcher,
            producer,
            consumer,
            stats,
            options,
            shutdown_timeout: config.runtime.shutdown_timeout(),
            admin,
        })
    }

    /// Health, readiness and fault injection for this pipeline.
    pub fn admin(&self) -> Arc<Admin> {
        self.admin.clone()
    }

    pub fn stats(&self) -> &Arc<PipelineStats> {
        &self.stats
    }

    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The producers supervisor, if producers run here.
    pub fn producers_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        Supervisors::get(&self.supervisors.producers)
    }

    /// The token refresher's supervisor, in `msk_iam` mode.
    pub fn auth_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        Supervisors::get(&self.supervisors.auth)
    }

    /// The ingestion watcher's supervisor, if it runs here.
    pub fn warehouse_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        Supervisors::get(&self.supervisors.warehouse)
    }

    /// The `sinks` supervisor (the consumer, then `partitions`), if the sink runs here.
    pub fn sinks_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        Supervisors::get(&self.supervisors.sinks)
    }

    /// The `partitions` supervisor (a sink per assigned partition), if the sink runs here.
    pub fn partitions_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        Supervisors::get(&self.supervisors.partitions)
    }

    /// Fault injection: the consumer's router thread panics (the consumer actor fails and its
    /// supervisor restarts it). False when no consumer runs here.
    pub fn inject_consumer_panic(&self) -> bool {
        self.consumer.as_ref().is_some_and(|c| c.inject_router_panic())
    }

    /// Resolves when the supervision tree has ended on its own: a failure escalated to the root.
    pub async fn failed(&mut self) {
        if let Some(done) = &mut self.root_done {
            let _ = done.await;
            self.root_done = None;
        }
    }
}
