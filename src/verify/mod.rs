//! `tickstream verify`: proves (or disproves) that S3 holds every record of the topic exactly once.
//!
//! - [`read`]: reads every partition of the topic from its earliest offset, and every object under
//!   the topic's prefix (pure I/O, no judgement).
//! - [`check`]: compares the two (pure): per partition, records in Kafka and in S3, missing and
//!   duplicated offsets, overlapping files, records that differ, committed offset vs S3 end; per
//!   (run_id, symbol), seq gaps and duplicates.
//! - [`report`]: the table an operator reads and the JSON a machine reads.

pub mod check;
pub mod read;
pub mod report;

pub use check::{check, PartitionReport, SymbolReport, VerifyReport};
pub use read::{read_objects, read_topic, Objects, TopicRecords};

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

use crate::auth::cell::TokenCell;
use crate::auth::setup::KafkaAuth;
use crate::config::{Config, KafkaMode};
use crate::kafka::{client_config, oauth};
use crate::s3::client::{self, S3Endpoint};
use crate::s3::keys::KeyLayout;
use crate::s3::{S3SegmentStore, SegmentStore};
pub use read::ReadError;

/// Reads the sink topic, the bucket, the dead letters and the group's committed offsets, and
/// checks them against each other.
pub async fn audit(
    config: &Config,
    bootstrap_servers: &str,
    s3: &S3Endpoint,
    timeout: Duration,
) -> Result<VerifyReport, ReadError> {
    let topic = config.sink.topics.clone();
    let client = client_config::base(&config.kafka, bootstrap_servers);
    let token = match config.kafka.mode {
        KafkaMode::MskIam => Some(KafkaAuth::msk_iam(&config.kafka).await?.token),
        _ => None,
    };
    let (records, committed) = {
        let (client, topic, group) = (client.clone(), topic.clone(), config.kafka.consumer_group.clone());
        tokio::task::spawn_blocking(move || {
            let records = read_topic(&client, &topic, timeout, token.as_ref())?;
            let partitions: Vec<i32> = records.keys().copied().collect();
            let committed = read_committed(&client, &group, &topic, &partitions, timeout, token.as_ref())?;
            Ok::<_, ReadError>((records, committed))
        })
        .await
        .map_err(|e| ReadError::Topic(format!("the reading thread stopped: {e}")))??
    };
    let store = S3SegmentStore::new(client::build(s3).await, config.sink.bucket.clone());
    let layout = KeyLayout {
        topics_dir: config.sink.topics_dir.clone(),
        topic: topic.clone(),
        pad_width: config.sink.offset_pad_width,
    };
    let partitions: Vec<i32> = records.keys().copied().collect();
    let objects = read_objects(&store, &layout, &partitions).await?;
    let mut dead_letters: BTreeMap<i32, BTreeSet<i64>> = BTreeMap::new();
    for key in store.list(&format!("dlq/{topic}/"), None).await? {
        if let Some((p, o)) = partitions
            .iter()
            .find_map(|p| layout.parse_dead_letter_offset(*p, &key).map(|o| (*p, o)))
        {
            dead_letters.entry(p).or_default().insert(o);
        }
    }
    Ok(check(&records, &objects, &dead_letters, &committed))
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
