//! Start-up's first step: wait until the Kafka cluster and the S3 bucket answer.
//!
//! A dependency that does not answer is named within seconds: one WARN line per dependency per
//! retry, with its address and the underlying error (connection refused, a name that does not
//! resolve, a TLS or SASL failure, HTTP 403 and its S3 error code). Retries back off from 1 s
//! to 8 s for up to `runtime.startup_timeout_ms`; after that start-up fails with the same
//! causes, which become the process's last line. The caller races this wait against the stop
//! signal, so a stop during the wait is prompt (nothing has started yet).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Infra, StartError};
use crate::config::{Config, S3Mode, WarehouseKind};
use crate::kafka::{client_config, diagnostics};
use crate::s3::S3SegmentStore;
use crate::telemetry::reachability::{Dependency, Reachability};

/// How long one metadata request may take before the attempt counts as failed.
const KAFKA_PROBE: Duration = Duration::from_secs(3);
/// How long one S3 request may take (no SDK retries inside it).
const S3_PROBE: Duration = Duration::from_secs(4);

/// What the pipeline configured by `config` depends on.
struct Needs {
    kafka: bool,
    s3: bool,
}

fn needs(config: &Config) -> Needs {
    let watcher = config.warehouse.enabled && config.warehouse.kind == WarehouseKind::Sqlite;
    Needs {
        kafka: config.producer.enabled || config.sink.enabled,
        s3: config.sink.enabled || watcher,
    }
}

/// Tells `infra`'s reachability record where Kafka and S3 are.
pub fn register(config: &Config, infra: &Infra) {
    let reach = &infra.reachability;
    reach.register(Dependency::Kafka, infra.bootstrap_servers.clone());
    reach.register(
        Dependency::S3,
        format!("{} (bucket {})", infra.s3.address(), config.sink.bucket),
    );
}

/// Waits until every dependency of `config` answers, or `runtime.startup_timeout_ms` passes.
pub async fn wait_for_dependencies(config: &Config, infra: &Infra) -> Result<(), StartError> {
    register(config, infra);
    let needs = needs(config);
    let limit = config.runtime.startup_timeout();
    let started = Instant::now();
    let store = if needs.s3 {
        let client = crate::s3::client::build(&infra.s3).await;
        Some(S3SegmentStore::for_sink(client, &config.sink).single_attempt())
    } else {
        None
    };
    let create_bucket = config.s3.create_bucket && config.s3.mode != S3Mode::Aws;
    let mut delays = supervisors::backoff::delays(Duration::from_secs(1), Duration::from_secs(8));
    loop {
        if let Some(token) = infra.kafka_auth.as_ref().and_then(|a| a.token.current()) {
            // The refresher starts with the pipeline; meanwhile the gauge still tells the truth.
            crate::telemetry::events::token_remaining(token.remaining(std::time::SystemTime::now()));
        }
        let (kafka, s3) = tokio::join!(
            async {
                match needs.kafka {
                    true => probe_kafka(config, infra).await.err(),
                    false => None,
                }
            },
            async {
                match &store {
                    Some(store) => probe_s3(store, create_bucket, &infra.reachability).await.err(),
                    None => None,
                }
            },
        );
        let failing: Vec<(Dependency, String)> = [(Dependency::Kafka, kafka), (Dependency::S3, s3)]
            .into_iter()
            .filter_map(|(dep, err)| err.map(|e| (dep, e)))
            .collect();
        if failing.is_empty() {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= limit {
            let reach = &infra.reachability;
            return Err(StartError::Unreachable {
                waited_s: waited.as_secs(),
                problems: failing
                    .iter()
                    .map(|(dep, cause)| format!("{dep} at {}: {cause}", reach.address(*dep)))
                    .collect(),
            });
        }
        let left = limit - waited;
        let delay = delays.next().unwrap_or(Duration::from_secs(8)).min(left);
        for (dep, cause) in &failing {
            infra.reachability.report(
                *dep,
                cause,
                &format!(
                    "retrying in {:.1} s; start-up gives up in {:.0} s (runtime.startup_timeout_ms)",
                    delay.as_secs_f64(),
                    left.as_secs_f64()
                ),
            );
        }
        tokio::time::sleep(delay).await;
    }
}

/// One metadata request on a client of its own; the cause librdkafka reported if it fails.
async fn probe_kafka(config: &Config, infra: &Infra) -> Result<(), String> {
    let mut client = client_config::base(&config.kafka, &infra.bootstrap_servers);
    // A silent address (packets dropped) fails the connection inside the probe's time, so
    // the attempt reports librdkafka's "timed out in state CONNECT" rather than nothing.
    client.set("socket.connection.setup.timeout.ms", "2500");
    let reach = infra.reachability.clone();
    let token = infra.kafka_auth.as_ref().map(|a| a.token.clone());
    tokio::task::spawn_blocking(move || diagnostics::probe(&client, &reach, token, KAFKA_PROBE))
        .await
        .map_err(|e| format!("the Kafka probe did not finish: {e}"))?
}

/// HeadBucket (creating the bucket when we may), one attempt.
async fn probe_s3(store: &S3SegmentStore, create: bool, reach: &Arc<Reachability>) -> Result<(), String> {
    let attempt = async {
        match create {
            true => store.ensure_bucket().await,
            false => store.check().await,
        }
    };
    match tokio::time::timeout(S3_PROBE, attempt).await {
        Ok(Ok(())) => {
            reach.answered(Dependency::S3);
            Ok(())
        }
        Ok(Err(e)) => Err(crate::error::chain(&e)),
        Err(_) => Err(format!("no answer within {} s", S3_PROBE.as_secs())),
    }
}
