//! `tickstream verify`: proves (or disproves) that S3 holds every record of the sink's topics
//! exactly once, by (topic, partition, offset), whatever the records are.
//!
//! - [`read`]: reads every partition of each topic from its earliest offset, every object under
//!   the topic's prefix, and the dead letters (S3 `dlq/` or the dead-letter topic's headers)
//!   (pure I/O, no judgement).
//! - [`check`](mod@check): compares them (pure): per partition, records in Kafka and in S3, missing and
//!   duplicated offsets, overlapping files, records that differ from what the converter makes of
//!   them, committed offset vs what S3 accounts for; and, for the records that carry `run_id`,
//!   `symbol` and `seq` (tickstream's ticks), seq gaps and duplicates per (run_id, symbol).
//! - [`report`]: the table an operator reads and the JSON a machine reads.

pub mod check;
pub mod read;
pub mod report;

pub use check::{check, PartitionReport, SymbolReport, TopicAudit, VerifyReport};
pub use read::{read_dead_letters, read_objects, read_topic, DeadLetters, Objects, Timestamps, TopicRecords};

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

use crate::auth::setup::KafkaAuth;
use crate::config::Topics;
use crate::config::{Config, KafkaMode};
use crate::format::convert::Converter;
use crate::kafka::token::TokenCell;
use crate::kafka::{client_config, oauth};
use crate::s3::client::{self, S3Endpoint};
use crate::s3::keys::KeyLayout;
use crate::s3::S3SegmentStore;
pub use read::ReadError;

/// Reads the sink's topics, the bucket, the dead letters and the group's committed offsets,
/// and checks them against each other.
pub async fn audit(
    config: &Config,
    bootstrap_servers: &str,
    s3: &S3Endpoint,
    timeout: Duration,
) -> Result<VerifyReport, ReadError> {
    let sink = &config.sink;
    let converter = Converter::new(sink);
    let client = client_config::base(&config.kafka, bootstrap_servers);
    let token = match config.kafka.mode {
        KafkaMode::MskIam => Some(KafkaAuth::msk_iam(&config.kafka).await?.token),
        _ => None,
    };
    let wanted = sink.topic_set();
    let kafka = {
        let (client, group, dlq) = (
            client.clone(),
            config.kafka.consumer_group.clone(),
            sink.dlq_topic.clone(),
        );
        tokio::task::spawn_blocking(move || {
            read_kafka(&client, &wanted, &group, dlq.as_deref(), timeout, token.as_ref())
        })
        .await
        .map_err(|e| ReadError::Topic(format!("the reading thread stopped: {e}")))??
    };
    fetch_schemas(config, &converter, &kafka).await?;
    let store = S3SegmentStore::for_sink(client::build(s3).await, sink);
    let reader = crate::format::Reader::of(sink);
    let mut sides = Vec::new();
    let partitioner =
        crate::partitioner::Partitioner::new(sink.partitioner().map_err(|e| ReadError::Topic(e.to_string()))?);
    for (topic, records, timestamps, committed) in kafka.topics {
        let layout = KeyLayout::of(sink, &topic);
        let partitions: Vec<i32> = records.keys().copied().collect();
        let objects = read_objects(&store, &layout, &partitions, &reader).await?;
        // Dead letters in S3 always count: with a dead-letter topic too, those it refused for
        // good (too large for it) are set aside there.
        let mut dead_letters = read_dead_letters(&store, &layout, &partitions).await?;
        if let Some(dlq) = &kafka.dead_letter_topic {
            for (tp, offsets) in dlq.iter().filter(|(tp, _)| *tp.topic == *topic) {
                dead_letters
                    .entry(tp.partition)
                    .or_default()
                    .extend(offsets.iter().copied());
            }
        }
        let parquet = crate::format::parquet::ParquetSpec::new(
            config.warehouse.columns_for(&topic),
            sink.parquet_record_content,
            sink.parquet_codec,
        );
        sides.push((topic, records, timestamps, objects, dead_letters, committed, parquet));
    }
    let audits: Vec<TopicAudit<'_>> = sides
        .iter()
        .map(
            |(topic, records, timestamps, objects, dead_letters, committed, parquet)| TopicAudit {
                topic,
                records,
                timestamps,
                partitioner: &partitioner,
                objects,
                dead_letters,
                committed,
                parquet,
            },
        )
        .collect();
    Ok(check(&audits, &converter))
}

/// Fetches the schema of every Avro record read into the converter's cache (each id once).
async fn fetch_schemas(config: &Config, converter: &Converter, kafka: &KafkaSide) -> Result<(), ReadError> {
    let reach = std::sync::Arc::new(crate::telemetry::reachability::Reachability::default());
    let Some(registry) = crate::registry::Registry::from_config(&config.sink, converter.schemas().clone(), reach)?
    else {
        return Ok(());
    };
    let ids: std::collections::BTreeSet<u32> = kafka
        .topics
        .iter()
        .flat_map(|(_, records, _, _)| records.values().flat_map(BTreeMap::values))
        .filter_map(|v| crate::record::avro::wire::split(v.as_deref()?).ok().map(|(id, _)| id))
        .collect();
    for id in ids {
        registry.fetch(id).await?;
    }
    Ok(())
}

/// Partition → the group's committed offset (`None`: never committed).
type Committed = BTreeMap<i32, Option<i64>>;

/// What the audit reads from Kafka.
struct KafkaSide {
    /// Each topic's records and the group's committed offsets.
    topics: Vec<(String, TopicRecords, Timestamps, Committed)>,
    /// What the dead-letter topic accounts for, when dead letters go to one.
    dead_letter_topic: Option<BTreeMap<crate::record::TopicPartition, std::collections::BTreeSet<i64>>>,
}

fn read_kafka(
    client: &rdkafka::ClientConfig,
    wanted: &Topics,
    group: &str,
    dlq: Option<&str>,
    timeout: Duration,
    token: Option<&TokenCell>,
) -> Result<KafkaSide, ReadError> {
    let names = read::topic_names(client, wanted, timeout, token)?;
    if names.is_empty() {
        return Err(ReadError::Topic(
            "no topic matches sink.topics.regex: nothing to verify".into(),
        ));
    }
    let mut topics = Vec::new();
    for topic in names {
        let (records, times) = read_topic(client, &topic, timeout, token)?;
        let partitions: Vec<i32> = records.keys().copied().collect();
        let committed = read_committed(client, group, &topic, &partitions, timeout, token)?;
        topics.push((topic, records, times, committed));
    }
    let dead_letter_topic = dlq
        .map(|t| read::read_dead_letter_topic(client, t, timeout, token))
        .transpose()?;
    Ok(KafkaSide {
        topics,
        dead_letter_topic,
    })
}

/// The group's committed offset per partition (`None`: never committed).
fn read_committed(
    client: &rdkafka::ClientConfig,
    group: &str,
    topic: &str,
    partitions: &[i32],
    timeout: Duration,
    token: Option<&TokenCell>,
) -> Result<BTreeMap<i32, Option<i64>>, ReadError> {
    let kafka = ReadError::Kafka;
    let mut config = client.clone();
    config.set("group.id", group).set("enable.auto.commit", "false");
    let consumer = oauth::consumer(&config, token).map_err(kafka)?;
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        tpl.add_partition(topic, *p);
    }
    let tpl = consumer.committed_offsets(tpl, timeout).map_err(kafka)?;
    Ok(partitions
        .iter()
        .map(|p| {
            let offset = match tpl.find_partition(topic, *p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) if o >= 0 => Some(o),
                _ => None,
            };
            (*p, offset)
        })
        .collect())
}
