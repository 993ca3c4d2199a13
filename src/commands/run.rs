//! `tickstream run`: the metrics endpoint, embedded servers, the wait for Kafka and S3, the
//! pipeline, progress; then a clean stop on SIGINT/SIGTERM, or a non-zero exit when supervision
//! gives up (systemd restarts the service).

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tickstream::config::Config;
use tickstream::pipeline::admin::Starting;
use tickstream::pipeline::startup::wait_for_dependencies;
use tickstream::pipeline::{Pipeline, RunOptions, StartError};
use tickstream::systemd;
use tickstream::telemetry::{http, progress};

use super::Outcome;

/// How `run` ended.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// Stopped on request after draining.
    Stopped,
    /// The supervision tree gave up: exit non-zero so systemd restarts the process.
    Failed,
}

/// `tickstream run --config FILE [--seed N]`: exit 0 after a requested stop, 1 when supervision
/// gave up or the pipeline could not start (the cause is the last line), 2 for a bad file.
pub fn run(file: &Path, seed: Option<u64>) -> Outcome {
    let config = super::load(file)?;
    let runtime = super::runtime()?;
    Ok(
        match runtime.block_on(run_until_stopped(config, seed, shutdown_signal())) {
            Ok(Ending::Stopped) => ExitCode::SUCCESS,
            Ok(Ending::Failed) => ExitCode::FAILURE,
            Err(e) => super::fail("tickstream", e.as_ref(), ExitCode::FAILURE),
        },
    )
}

/// Runs until `shutdown` resolves or the supervision tree fails.
async fn run_until_stopped(
    config: Config,
    seed: Option<u64>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<Ending> {
    // The recorder first: MSK IAM's first token (signed while the embedded servers start)
    // already sets its gauges.
    let operator: http::OperatorSlot = Arc::new(RwLock::new(None));
    let metrics = if config.metrics.enabled {
        let handle = http::recorder().map_err(anyhow::Error::msg)?;
        let server =
            http::MetricsServer::start(config.metrics.listen, handle, operator.clone(), config.metrics.admin).await?;
        tracing::info!(
            admin = config.metrics.admin,
            "metrics at http://{}/metrics",
            server.addr()
        );
        Some(server)
    } else {
        None
    };
    let (infra, servers) = match tickstream::embedded::start(&config).await {
        Ok(started) => started,
        Err(e) => {
            if let Some(m) = metrics {
                m.stop().await;
            }
            return Err(e.into());
        }
    };
    if let Ok(mut slot) = operator.write() {
        *slot = Some(Arc::new(Starting {
            reach: infra.reachability.clone(),
        }));
    }
    let mut shutdown = std::pin::pin!(shutdown);
    // Only the wait races the stop signal: once the pipeline starts, it starts whole (a stop
    // that arrives meanwhile is seen right after, and drains as usual).
    let started: Result<Option<Pipeline>, StartError> = tokio::select! {
        waited = wait_for_dependencies(&config, &infra) => match waited {
            Ok(()) => Pipeline::start(&config, &infra, RunOptions::new(seed.or(config.producer.seed)))
                .await
                .map(Some),
            Err(e) => Err(e),
        },
        _ = &mut shutdown => Ok(None),
    };
    let mut pipeline = match started {
        Ok(Some(pipeline)) => pipeline,
        not_started => {
            // Nothing runs yet: stop what did start, then say why (or that we were asked to).
            if let Some(m) = metrics {
                m.stop().await;
            }
            drop(infra);
            servers.stop().await;
            if not_started.is_ok() {
                tracing::info!("stopped before the pipeline started");
            }
            return not_started.map(|_| Ending::Stopped).map_err(Into::into);
        }
    };
    tracing::info!(
        run_id = pipeline.options().run_id,
        seed = pipeline.options().seed,
        symbols = config.producer.symbols.len(),
        "pipeline started; Ctrl-C stops it cleanly"
    );
    let admin = pipeline.admin();
    if let (c, Ok(mut slot)) = (&admin, operator.write()) {
        *slot = Some(c.clone());
    }
    let watchdog = Some(systemd::ready_and_watch(admin));
    let progress = (config.runtime.progress_interval_ms > 0).then(|| {
        progress::spawn(
            pipeline.stats().clone(),
            Duration::from_millis(config.runtime.progress_interval_ms),
        )
    });

    let outcome = tokio::select! {
        _ = &mut shutdown => Ending::Stopped,
        _ = pipeline.failed() => Ending::Failed,
    };
    if outcome == Ending::Stopped {
        tracing::info!("stopping: producers first, then the sinks flush, upload and commit");
    } else {
        tracing::error!("the supervision tree gave up (see the escalation above); stopping");
    }
    systemd::stopping();
    if let Some(w) = watchdog {
        w.abort();
    }
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
    if let Some(m) = metrics {
        m.stop().await;
    }
    drop(infra);
    servers.stop().await;
    Ok(outcome)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
