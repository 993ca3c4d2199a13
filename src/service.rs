//! tickstream as a service: everything one `tickstream run` does, from the metrics endpoint to
//! the last log line. [`run`] starts the metrics endpoint, the embedded servers (when the
//! configuration embeds Kafka or S3), waits until Kafka and S3 answer, starts the pipeline,
//! tells systemd it is ready, and then runs until `shutdown` resolves (a clean stop that
//! drains everything) or the supervision tree gives up (the caller exits non-zero and systemd
//! restarts the process). Whatever path ends the run, what started is stopped once, in reverse
//! order.

use std::future::Future;
use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::embedded::{EmbeddedError, EmbeddedServers};
use crate::pipeline::admin::Starting;
use crate::pipeline::startup::wait_for_dependencies;
use crate::pipeline::{Infra, Pipeline, RunOptions, StartError};
use crate::systemd;
use crate::telemetry::{http, progress};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Stopped on request, after draining.
    Stopped,
    /// The supervision tree gave up: exit non-zero so systemd restarts the process.
    Failed,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Recorder(#[from] http::RecorderError),
    /// Binding `metrics.listen` (the error names the address and the key).
    #[error(transparent)]
    Metrics(std::io::Error),
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error(transparent)]
    Start(#[from] StartError),
}

/// What runs beside the pipeline: stopped after it, once, whatever ends the run.
struct Beside {
    metrics: Option<http::MetricsServer>,
    /// Where Kafka and S3 are; dropped before the embedded servers stop (its clients close).
    infra: Infra,
    servers: EmbeddedServers,
    /// Where `/readyz` and the admin endpoint find the running pipeline.
    operator: http::OperatorSlot,
}

impl Beside {
    /// The metrics endpoint (first: MSK IAM's first token, signed while the embedded servers
    /// start, already sets its gauges), then the embedded servers.
    async fn start(config: &Config) -> Result<Self, ServiceError> {
        let operator: http::OperatorSlot = Arc::new(RwLock::new(None));
        let metrics = match config.metrics.enabled {
            true => {
                let handle = http::recorder()?;
                let server =
                    http::MetricsServer::start(config.metrics.listen, handle, operator.clone(), config.metrics.admin)
                        .await
                        .map_err(ServiceError::Metrics)?;
                tracing::info!(
                    admin = config.metrics.admin,
                    "metrics at http://{}/metrics",
                    server.addr()
                );
                Some(server)
            }
            false => None,
        };
        let (infra, servers) = match crate::embedded::start(config).await {
            Ok(started) => started,
            Err(e) => {
                if let Some(m) = metrics {
                    m.stop().await;
                }
                return Err(e.into());
            }
        };
        let beside = Beside {
            metrics,
            infra,
            servers,
            operator,
        };
        beside.publish(Arc::new(Starting {
            reach: beside.infra.reachability.clone(),
        }));
        Ok(beside)
    }

    fn publish(&self, operator: Arc<dyn http::Operator>) {
        if let Ok(mut slot) = self.operator.write() {
            *slot = Some(operator);
        }
    }

    async fn stop(self) {
        if let Some(m) = self.metrics {
            m.stop().await;
        }
        drop(self.infra);
        self.servers.stop().await;
    }
}

/// Runs the pipeline `config` describes until `shutdown` resolves or the supervision tree
/// fails. `Err` only when it could not start (the cause is the error).
pub async fn run(
    config: &Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<Ending, ServiceError> {
    let beside = Beside::start(config).await?;
    let mut shutdown = std::pin::pin!(shutdown);
    let infra = &beside.infra;
    // Only the wait races the stop signal: once the pipeline starts, it starts whole (a stop
    // that arrives meanwhile is seen right after, and drains as usual).
    let started: Result<Option<Pipeline>, StartError> = tokio::select! {
        waited = wait_for_dependencies(config, infra) => match waited {
            Ok(()) => Pipeline::start(config, infra, options).await.map(Some),
            Err(e) => Err(e),
        },
        _ = &mut shutdown => Ok(None),
    };
    let pipeline = match started {
        Ok(Some(pipeline)) => pipeline,
        Ok(None) => {
            tracing::info!("stopped before the pipeline started");
            beside.stop().await;
            return Ok(Ending::Stopped);
        }
        Err(e) => {
            beside.stop().await;
            return Err(e.into());
        }
    };
    let ending = serve(config, pipeline, &beside, shutdown).await;
    beside.stop().await;
    Ok(ending)
}

/// The pipeline at work: ready for systemd and `/readyz`, progress lines, until `shutdown` or
/// a failure of the tree; then the stop that drains it.
async fn serve(config: &Config, mut pipeline: Pipeline, beside: &Beside, shutdown: impl Future<Output = ()>) -> Ending {
    tracing::info!(
        run_id = pipeline.options().run_id,
        seed = pipeline.options().seed,
        symbols = config.producer.symbols.len(),
        "pipeline started; Ctrl-C stops it cleanly"
    );
    let admin = pipeline.admin();
    beside.publish(admin.clone());
    let watchdog = systemd::ready_and_watch(admin);
    let progress = config
        .runtime
        .progress_interval()
        .map(|every| progress::spawn(pipeline.stats().clone(), every));
    let ending = tokio::select! {
        _ = shutdown => Ending::Stopped,
        _ = pipeline.failed() => Ending::Failed,
    };
    match ending {
        Ending::Stopped => tracing::info!("stopping: producers first, then the sinks flush, upload and commit"),
        Ending::Failed => tracing::error!("the supervision tree gave up (see the escalation above); stopping"),
    }
    systemd::stopping();
    watchdog.abort();
    let report = pipeline.shutdown().await;
    if let Some(p) = progress {
        p.abort();
    }
    let s = &report.stats;
    tracing::info!(
        produced = s.ticks_produced,
        acked = s.ticks_acked,
        consumed = s.records_consumed,
        files = s.files_uploaded,
        committed = ?report.committed,
        "stopped"
    );
    ending
}
