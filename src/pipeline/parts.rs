//! The parts the supervision tree starts, built from the configuration: the producers (with
//! the one Kafka producer they share) and the warehouse's watcher or monitor. The sink side is
//! `sink_side`.

use std::sync::Arc;
use std::time::Duration;

use supervisors::ChildSpec;

use super::{tree, Infra, RunOptions, StartError};
use crate::config::source::{CsvSourceConfig, PacingKind, Source};
use crate::config::websocket::WebsocketSourceConfig;
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

/// Why the producers cannot start.
pub(super) enum ProducersError {
    Kafka(rdkafka::error::KafkaError),
    /// The CSV replay's files (named in the message).
    Csv(String),
    /// The live feed's token (its variable or file named in the message).
    Feed(String),
}

impl From<ProducersError> for StartError {
    fn from(e: ProducersError) -> Self {
        match e {
            ProducersError::Kafka(e) => StartError::Producer(e),
            ProducersError::Csv(e) => StartError::CsvSource(e),
            ProducersError::Feed(e) => StartError::FeedSource(e),
        }
    }
}

/// The shared producer and a producer actor per symbol, when producers run here.
pub(super) fn producers(
    config: &Config,
    infra: &Infra,
    options: &RunOptions,
    stats: &Arc<PipelineStats>,
) -> Result<Option<Producers>, ProducersError> {
    if !config.producer.enabled {
        return Ok(None);
    }
    let mut cc = client_config::producer(&config.kafka, &infra.bootstrap_servers);
    if config.producer.source == Source::Websocket {
        // A live feed's trades are sent as they come: 1 ms of batching instead of 5 (receive →
        // ack latency over batch size). While Kafka is slow they wait in the feed's buffer (40
        // bytes a trade, bounded, drops counted) rather than as encoded records in librdkafka's
        // queue (hundreds of bytes each): the queue holds a second of them at 10,000 a second.
        // `[kafka.librdkafka]` still decides both.
        for (key, value) in [("linger.ms", "1"), ("queue.buffering.max.messages", "10000")] {
            if !config.kafka.librdkafka.contains_key(key) {
                cc.set(key, value);
            }
        }
    }
    let token = infra.kafka_auth.as_ref().map(|a| a.token.clone());
    let producer = Arc::new(
        TickProducer::new(&cc, stats.clone(), token, infra.reachability.clone()).map_err(ProducersError::Kafka)?,
    );
    if let (Source::Csv, Some(csv)) = (config.producer.source, &config.producer.csv) {
        let spec = csv_feed(config, csv, &producer, stats).map_err(ProducersError::Csv)?;
        return Ok(Some(Producers {
            producer,
            specs: vec![spec],
        }));
    }
    if let (Source::Websocket, Some(ws)) = (config.producer.source, &config.producer.websocket) {
        let spec = websocket_feed(config, ws, options, &producer, stats).map_err(ProducersError::Feed)?;
        return Ok(Some(Producers {
            producer,
            specs: vec![spec],
        }));
    }
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

/// The CSV replay's feed actor (it starts a producer actor per symbol it meets). Every file is
/// opened and its header checked here, so a wrong path or column mapping stops the start with
/// the file named.
fn csv_feed(
    config: &Config,
    csv: &CsvSourceConfig,
    producer: &Arc<TickProducer>,
    stats: &Arc<PipelineStats>,
) -> Result<ChildSpec, String> {
    use crate::producer::csv::{acks::Acks, files, pacing::Pacing, reader, FeedActor, FeedArgs};
    let files = files::resolve(&csv.path)?;
    for f in &files {
        reader::open_file(f, &csv.columns)?;
    }
    let acks = Arc::new(Acks::default());
    let told = acks.clone();
    producer.on_delivery(Arc::new(move |id, ok| told.delivered(id, ok)));
    let pacing = match csv.pacing {
        PacingKind::Max => Pacing::Max,
        PacingKind::Rate => Pacing::Rate(csv.rate),
        PacingKind::Original => Pacing::Original { speed: csv.speed },
        PacingKind::Sample => Pacing::Sample(csv.rate),
    };
    let args = Arc::new(FeedArgs {
        csv: csv.clone(),
        pacing,
        files,
        checkpoint: csv
            .checkpoint
            .clone()
            .unwrap_or_else(|| config.runtime.data_dir.join("csv-replay.json")),
        topic: config.producer.topic.clone(),
        exchange: config.producer.exchange.clone(),
        producer: producer.clone(),
        stats: stats.clone(),
        acks,
    });
    Ok(ChildSpec::new("csv-feed", "producer", tree::PRODUCER, move |sup| {
        let args = args.clone();
        async move {
            ractor::Actor::spawn_linked(None, FeedActor, args, sup)
                .await
                .map(|(a, _)| a.get_cell())
        }
    }))
}

/// The live feed's actor (it starts a producer actor per symbol of `[producer] symbols`). The
/// token is read here, so a missing variable or file stops the start with its name.
fn websocket_feed(
    config: &Config,
    ws: &WebsocketSourceConfig,
    options: &RunOptions,
    producer: &Arc<TickProducer>,
    stats: &Arc<PipelineStats>,
) -> Result<ChildSpec, String> {
    use crate::producer::websocket::{buffer::Buffer, connection, WsFeedActor, WsFeedArgs};
    use crate::telemetry::feed_events;
    let tls = crate::tls::client_config(crate::tls::host_roots()).map_err(|e| format!("TLS: {e}"))?;
    let endpoint = connection::Endpoint {
        url: ws.url.clone(),
        token: connection::token(ws)?,
        token_param: ws.token_param.clone(),
        tls: Arc::new(tls),
        max_frame_bytes: usize::try_from(ws.max_frame_bytes).unwrap_or(usize::MAX),
        ping_every: Duration::from_secs(ws.ping_interval_secs),
        dead_after: Duration::from_secs(ws.dead_after_secs),
    };
    let symbols = config.producer.symbols.clone();
    let clock = tokio::time::Instant::now();
    producer.on_delivery(Arc::new(move |id, ok| {
        if ok {
            let received = Duration::from_micros(id.saturating_sub(1) as u64);
            feed_events::acked_after(clock.elapsed().saturating_sub(received));
        }
    }));
    feed_events::feed_started();
    let args = Arc::new(WsFeedArgs {
        ws: ws.clone(),
        endpoint,
        topic: config.producer.topic.clone(),
        exchange: config.producer.exchange.clone(),
        run_id: options.run_id.clone(),
        producer: producer.clone(),
        stats: stats.clone(),
        buffer: Arc::new(Buffer::new(symbols.len(), ws.buffer_bytes)),
        clock,
        progress: symbols.iter().map(|_| Arc::default()).collect(),
        metrics: symbols.iter().map(|s| feed_events::SymbolMetrics::new(s)).collect(),
        symbols,
    });
    Ok(ChildSpec::new(
        "websocket-feed",
        "producer",
        tree::PRODUCER,
        move |sup| {
            let args = args.clone();
            async move {
                ractor::Actor::spawn_linked(None, WsFeedActor, args, sup)
                    .await
                    .map(|(a, _)| a.get_cell())
            }
        },
    ))
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
