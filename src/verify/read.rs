//! Reading both sides of the audit: the topic and the bucket.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;

use crate::auth::cell::TokenCell;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::s3::keys::KeyLayout;
use crate::s3::{S3Error, S3SegmentStore, SegmentStore};

/// Partition → offset → value.
pub type TopicRecords = BTreeMap<i32, BTreeMap<i64, Vec<u8>>>;
/// Partition → start offset → the file's lines; plus keys that do not follow the layout.
#[derive(Debug, Default)]
pub struct Objects {
    pub files: BTreeMap<i32, BTreeMap<i64, Vec<Vec<u8>>>>,
    pub foreign_keys: Vec<String>,
}

/// Errors reading either side.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A Kafka request failed.
    #[error("kafka")]
    Kafka(#[source] rdkafka::error::KafkaError),
    /// Kafka answered, but not with what an audit needs.
    #[error("kafka: {0}")]
    Topic(String),
    /// MSK IAM: no token to read with.
    #[error("kafka")]
    Auth(#[from] crate::auth::AuthError),
    #[error(transparent)]
    S3(#[from] S3Error),
}

/// Reads every partition of `topic` from its low to its high watermark (as of the start).
/// `client` carries bootstrap servers and security; a throwaway group id is added.
pub fn read_topic(
    client: &ClientConfig,
    topic: &str,
    timeout: Duration,
    token: Option<&TokenCell>,
) -> Result<TopicRecords, ReadError> {
    let kafka = ReadError::Kafka;
    let mut config = client.clone();
    config
        .set(
            "group.id",
            format!("tickstream-verify-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    let consumer = crate::kafka::oauth::consumer(&config, token).map_err(kafka)?;
    let metadata = consumer.fetch_metadata(Some(topic), timeout).map_err(kafka)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(ReadError::Topic(format!(
            "topic {topic} has no partitions (does it exist?)"
        )));
    }
    let mut out = TopicRecords::new();
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, timeout).map_err(kafka)?;
        let mut records = BTreeMap::new();
        if high > low {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, p, Offset::Offset(low)).map_err(kafka)?;
            consumer.assign(&tpl).map_err(kafka)?;
            let deadline = Instant::now() + timeout;
            let mut next = low;
            while next < high {
                if Instant::now() > deadline {
                    return Err(ReadError::Topic(format!(
                        "partition {p}: read {next} of {high} within {timeout:?}; try a longer --timeout"
                    )));
                }
                match consumer.poll(Duration::from_millis(200)) {
                    Some(Ok(m)) => {
                        next = m.offset() + 1;
                        records.insert(m.offset(), m.payload().unwrap_or_default().to_vec());
                    }
                    Some(Err(e)) => return Err(kafka(e)),
                    None => {}
                }
            }
        }
        out.insert(p, records);
    }
    Ok(out)
}

/// Reads every object under the topic's prefix and sorts it into partitions by its key.
pub async fn read_objects(
    store: &S3SegmentStore,
    layout: &KeyLayout,
    partitions: &[i32],
) -> Result<Objects, ReadError> {
    let prefix = format!("{}/{}/", layout.topics_dir, layout.topic);
    let mut objects = Objects::default();
    for key in store.list(&prefix, None).await? {
        let Some((p, start)) = partitions
            .iter()
            .find_map(|p| layout.parse_start_offset(*p, &key).map(|s| (*p, s)))
        else {
            objects.foreign_keys.push(key);
            continue;
        };
        let body = store.get(&key).await?;
        let lines = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        objects.files.entry(p).or_default().insert(start, lines);
    }
    Ok(objects)
}
