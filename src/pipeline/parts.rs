//! The parts the supervision tree starts, built from the configuration: the producers (with
//! the one Kafka producer they share) and the warehouse's watcher or monitor. The sink side is
//! `sink_side`.

use std::sync::Arc;

use supervisors::ChildSpec;

use super::{tree, Infra, RunOptions, StartError};
use crate::config::{Config, WarehouseKind};
use crate::kafka::{client_config, TickProducer};
use crate::landed::LandedReceiver;
use crate::producer::{producer_specs, ProducerCommon};
use crate::telemetry::PipelineStats;
use crate::warehouse::watcher::WatcherHandle;

/// The Kafka producer the producer actors share, and their child specs.
pub(super) struct Producers {
    pub producer: Arc<TickProducer>,
    pub specs: Vec<ChildSpec>,
}

/// The shared producer and a producer actor per symbol, when producers run here.
pub(super) fn producers(
    config: &Config,
    infra: &Infra,
    options: &RunOptions,
    stats: &Arc<PipelineStats>,
) -> Result<Option<Producers>, rdkafka::error::KafkaError> {
    if !config.producer.enabled {
        return Ok(None);
    }
    let cc = client_config::producer(&config.kafka, &infra.bootstrap_servers);
    let token = infra.kafka_auth.as_ref().map(|a| a.token.clone());
    let producer = Arc::new(TickProducer::new(
        &cc,
        stats.clone(),
        token,
        infra.reachability.clone(),
    )?);
    let common = ProducerCommon {
        topic: config.producer.topic.clone(),
        exchange: config.producer.exchange.clone(),
        run_id: options.run_id.clone(),
        ticks_per_second: config.producer.ticks_per_second,
        max_ticks: config.producer.max_ticks_per_symbol,
        producer: producer.clone(),
        stats: stats.clone(),
    };
    let specs = producer_specs(&common, &config.producer.symbols, options.seed, tree::PRODUCER);
    Ok(Some(Producers { producer, specs }))
}

/// The ingestion watcher over SQLite (told of landed files by `landed`), or, in Snowflake mode,
/// the Snowpipe monitor; `None` when the warehouse is off.
pub(super) async fn warehouse(
    config: &Config,
    infra: &Infra,
    watcher: &WatcherHandle,
    landed: Option<LandedReceiver>,
) -> Result<Option<ChildSpec>, StartError> {
    if !config.warehouse.enabled {
        return Ok(None);
    }
    let reach = infra.reachability.clone();
    Ok(Some(match config.warehouse.kind {
        WarehouseKind::Sqlite => {
            let watcher = watcher.clone();
            crate::warehouse::watcher::sqlite_watcher(config, &infra.s3, watcher, landed, reach, tree::WAREHOUSE)
                .await?
        }
        // Snowpipe loads; this process watches the pipe through the SQL API.
        WarehouseKind::Snowflake => crate::warehouse::snowflake::monitor::monitor_spec(config, reach, tree::WAREHOUSE)?,
    }))
}
