//! Wiring: builds the supervision tree, the Kafka clients and the sink's consumer loop, and
//! takes them down again in an order that loses nothing.
//!
//! Start: dependencies answer (`startup.rs`, called by `app::run`) → topics → S3 bucket → root supervisor { auth, producers, sinks, warehouse } → consumer
//! thread (`sink.rs` starts the sink side). Stop: `shutdown.rs`.

use std::sync::{mpsc, Arc};
use std::time::Duration;

use ractor::{Actor, ActorRef};
use rdkafka::consumer::BaseConsumer;
use supervisors::{child_supervisor, RestartPolicy, Supervisor, SupervisorArgs, SupervisorMsg};

use crate::auth::setup::KafkaAuth;
use crate::config::{Config, KafkaMode, WarehouseKind};
use crate::consumer::context::SinkConsumerContext;
use crate::consumer::router::RouterCmd;
use crate::control::{Control, Shared};
use crate::kafka::admin::{create_configured_topics, TopicAdmin};
use crate::kafka::{client_config, EmbeddedKafka, TickProducer};
use crate::producer::{producer_specs, ProducerCommon};
use crate::s3::client::S3Endpoint;
use crate::s3::S3SegmentStore;
use crate::telemetry::reachability::Reachability;
use crate::telemetry::PipelineStats;
use crate::warehouse::watcher::WatcherHandle;

mod shutdown;
mod sink;
pub mod startup;

pub use shutdown::ShutdownReport;

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

/// Why the pipeline could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Kafka(String),
    #[error("S3 bucket {bucket}: {source}")]
    Bucket { bucket: String, source: crate::s3::S3Error },
    #[error("starting the supervision tree: {0}")]
    Actors(String),
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    /// A dependency still did not answer when `runtime.startup_timeout_ms` ran out.
    #[error("not reachable after {waited_s} s (runtime.startup_timeout_ms): {}", .problems.join("; "))]
    Unreachable { waited_s: u64, problems: Vec<String> },
}

/// A running pipeline.
pub struct Pipeline {
    root: ActorRef<SupervisorMsg>,
    /// Completes when the root supervisor has stopped; `None` once observed.
    root_done: Option<tokio::task::JoinHandle<()>>,
    /// The token refresher's supervisor (`msk_iam` mode).
    auth: Shared<ActorRef<SupervisorMsg>>,
    /// The warehouse supervisor: the ingestion watcher (`sqlite`) or the Snowpipe monitor.
    warehouse: Shared<ActorRef<SupervisorMsg>>,
    /// The running ingestion watcher, for the last catch-up at shutdown.
    watcher: WatcherHandle,
    producers: Shared<ActorRef<SupervisorMsg>>,
    sinks: Shared<ActorRef<SupervisorMsg>>,
    producer: Option<Arc<TickProducer>>,
    router: Option<(mpsc::Sender<RouterCmd>, std::thread::JoinHandle<()>)>,
    manager: Option<tokio::task::JoinHandle<()>>,
    /// The sink's consumer. Shutdown closes it last, itself, and waits for the close (leave the
    /// group, join librdkafka's threads) so nothing talks to the broker after `shutdown` returns.
    consumer: Option<Arc<BaseConsumer<SinkConsumerContext>>>,
    stats: Arc<PipelineStats>,
    options: RunOptions,
    shutdown_timeout: Duration,
    control: Option<Arc<Control>>,
    store: Option<Arc<S3SegmentStore>>,
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
        let token = infra.kafka_auth.as_ref().map(|a| a.token.clone());
        crate::telemetry::events::pipeline_started(config.producer.enabled, config.sink.enabled);
        let stats = Arc::new(PipelineStats::default());
        let admin = match &infra.embedded_kafka {
            Some(mock) => TopicAdmin::Mock(mock),
            None => TopicAdmin::Broker(client_config::base(&config.kafka, &infra.bootstrap_servers)),
        };
        create_configured_topics(&admin, config)
            .await
            .map_err(|e| StartError::Kafka(e.to_string()))?;

        let producer = if config.producer.enabled {
            let cc = client_config::producer(&config.kafka, &infra.bootstrap_servers);
            let p = TickProducer::new(&cc, stats.clone(), token.clone(), infra.reachability.clone())
                .map_err(|e| StartError::Kafka(format!("creating the producer: {e}")))?;
            Some(Arc::new(p))
        } else {
            None
        };

        let producers: Shared<ActorRef<SupervisorMsg>> = Arc::default();
        let sinks: Shared<ActorRef<SupervisorMsg>> = Arc::default();
        let auth_sup: Shared<ActorRef<SupervisorMsg>> = Arc::default();
        let mut children = Vec::new();
        if let Some(auth) = &infra.kafka_auth {
            // Its own supervisor: a refresher that fails (token expired) is restarted within the
            // budget before anything escalates.
            let policy = config.supervision.policy();
            let refresher = vec![auth.refresher.clone()];
            children.push(child_supervisor("auth", policy, refresher, publish(&auth_sup)));
        }
        if let Some(p) = &producer {
            let common = ProducerCommon {
                topic: config.producer.topic.clone(),
                exchange: config.producer.exchange.clone(),
                run_id: options.run_id.clone(),
                ticks_per_second: config.producer.ticks_per_second,
                max_ticks: config.producer.max_ticks_per_symbol,
                producer: p.clone(),
                stats: stats.clone(),
            };
            let specs = producer_specs(&common, &config.producer.symbols, options.seed);
            let policy = config.supervision.policy();
            children.push(child_supervisor("producers", policy, specs, publish(&producers)));
        }
        if config.sink.enabled {
            let policy = config.supervision.policy();
            children.push(child_supervisor("sinks", policy, Vec::new(), publish(&sinks)));
        }
        // Files the sinks land go straight to the watcher when both run here.
        let sqlite_watcher = config.warehouse.enabled && config.warehouse.kind == WarehouseKind::Sqlite;
        let (landed_tx, landed_rx) = match config.sink.enabled && sqlite_watcher {
            true => {
                let (tx, rx) = crate::landed::channel();
                (Some(tx), Some(rx))
            }
            false => (None, None),
        };
        let warehouse_sup: Shared<ActorRef<SupervisorMsg>> = Arc::default();
        let watcher_handle: WatcherHandle = Arc::default();
        if config.warehouse.enabled {
            let spec = match config.warehouse.kind {
                WarehouseKind::Sqlite => {
                    crate::warehouse::watcher::sqlite_watcher(
                        config,
                        &infra.s3,
                        watcher_handle.clone(),
                        landed_rx,
                        infra.reachability.clone(),
                    )
                    .await?
                }
                // Snowpipe loads; this process watches the pipe through the SQL API.
                WarehouseKind::Snowflake => {
                    crate::warehouse::snowflake::monitor::monitor_spec(config, infra.reachability.clone())
                        .map_err(|e| crate::warehouse::WarehouseError::Other(e.to_string()))?
                }
            };
            let policy = config.supervision.policy();
            children.push(child_supervisor(
                "warehouse",
                policy,
                vec![spec],
                publish(&warehouse_sup),
            ));
        }
        // The root absorbs nothing: a child supervisor that fails ends the process (non-zero),
        // and systemd restarts it from what is durable.
        let root_args = SupervisorArgs {
            name: "root".into(),
            policy: RestartPolicy {
                max_restarts: 0,
                ..config.supervision.policy()
            },
            children,
        };
        let (root, root_handle) = Supervisor::spawn(None, Supervisor, root_args)
            .await
            .map_err(|e| StartError::Actors(e.to_string()))?;
        let root_done = tokio::spawn(async move {
            let _ = root_handle.await;
        });

        let mut pipeline = Pipeline {
            root,
            root_done: Some(root_done),
            auth: auth_sup,
            warehouse: warehouse_sup,
            watcher: watcher_handle,
            producers,
            sinks: sinks.clone(),
            producer,
            router: None,
            manager: None,
            consumer: None,
            stats: stats.clone(),
            options,
            shutdown_timeout: Duration::from_millis(config.runtime.shutdown_timeout_ms),
            control: None,
            store: None,
        };
        if config.sink.enabled {
            pipeline.start_sink(config, infra, sinks, stats, landed_tx).await?;
        }
        let mut supervisors = Vec::new();
        if infra.kafka_auth.is_some() {
            supervisors.push(("auth", pipeline.auth.clone()));
        }
        if config.producer.enabled {
            supervisors.push(("producers", pipeline.producers.clone()));
        }
        if config.sink.enabled {
            supervisors.push(("sinks", pipeline.sinks.clone()));
        }
        if config.warehouse.enabled {
            supervisors.push(("warehouse", pipeline.warehouse.clone()));
        }
        pipeline.control = Some(Arc::new(Control {
            root: pipeline.root.clone(),
            supervisors,
            producer: pipeline.producer.as_ref().map(Arc::downgrade),
            consumer: pipeline.consumer.as_ref().map(Arc::downgrade),
            store: pipeline.store.clone(),
            topic: if config.producer.enabled {
                config.producer.topic.clone()
            } else {
                config.sink.topics.clone()
            },
            reach: infra.reachability.clone(),
        }));
        Ok(pipeline)
    }

    /// Health, readiness and fault injection for this pipeline.
    pub fn control(&self) -> Option<Arc<Control>> {
        self.control.clone()
    }

    pub fn stats(&self) -> &Arc<PipelineStats> {
        &self.stats
    }

    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The producers supervisor, if producers run here.
    pub fn producers_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        self.producers.lock().ok().and_then(|g| g.clone())
    }

    /// The token refresher's supervisor, in `msk_iam` mode.
    pub fn auth_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        self.auth.lock().ok().and_then(|g| g.clone())
    }

    /// The ingestion watcher's supervisor, if it runs here.
    pub fn warehouse_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        self.warehouse.lock().ok().and_then(|g| g.clone())
    }

    /// The sinks supervisor, if the sink runs here.
    pub fn sinks_supervisor(&self) -> Option<ActorRef<SupervisorMsg>> {
        self.sinks.lock().ok().and_then(|g| g.clone())
    }

    /// Resolves when the supervision tree has ended on its own: a failure escalated to the root.
    pub async fn failed(&mut self) {
        if let Some(done) = &mut self.root_done {
            let _ = done.await;
            self.root_done = None;
        }
    }
}

/// Stores a (re)started supervisor's `ActorRef` in `slot`.
fn publish(slot: &Shared<ActorRef<SupervisorMsg>>) -> impl Fn(ActorRef<SupervisorMsg>) + Send + Sync + 'static {
    let slot = slot.clone();
    move |sup| {
        if let Ok(mut g) = slot.lock() {
            *g = Some(sup);
        }
    }
}
