//! Reading both sides of the audit: the topics (and the dead-letter topic), and the bucket.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::config::Topics;
use crate::format::dead_letter::DeadLine;
use crate::format::Reader;
use crate::kafka::oauth::AuthContext;
use crate::kafka::token::TokenCell;
use crate::record::avro::WriterSchema;
use crate::record::TopicPartition;
use crate::s3::keys::{DeadFile, KeyLayout};
use crate::s3::{S3Error, S3SegmentStore, SegmentStore};

/// Partition → offset → value (`None`: a tombstone).
pub type TopicRecords = BTreeMap<i32, BTreeMap<i64, Option<Vec<u8>>>>;
/// Partition → offset → the record's Kafka timestamp (ms), where it has one.
pub type Timestamps = BTreeMap<i32, BTreeMap<i64, i64>>;
/// Partition → dead-lettered offsets.
pub type DeadLetters = BTreeMap<i32, BTreeSet<i64>>;

/// One topic's files: partition → start offset → the file's records, and each file's
/// directory; plus keys under the topic's prefix that do not follow the layout.
#[derive(Debug, Default)]
pub struct Objects {
    pub files: BTreeMap<i32, BTreeMap<i64, Vec<Vec<u8>>>>,
    /// (Partition, start offset) of the files that are Parquet (their lines are rows).
    pub parquet: BTreeSet<(i32, i64)>,
    /// (Partition, start offset) → the partitioner's directory the file is in.
    pub dirs: BTreeMap<(i32, i64), String>,
    /// (Partition, start offset) of a second file starting at the same offset in another
    /// directory: a record in two files.
    pub clashes: Vec<(i32, i64)>,
    pub foreign_keys: Vec<String>,
    /// (Partition, start offset) → the writer schema of a file of records with a schema (Avro,
    /// Parquet written from Avro): records of another schema were projected onto it.
    pub schemas: BTreeMap<(i32, i64), Arc<WriterSchema>>,
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
    /// A data file that does not decompress (`….gz`, `….zst`) or is not Parquet (`….parquet`).
    #[error("s3")]
    Unreadable(#[from] crate::format::FormatError),
    /// The records' schemas could not be fetched.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}

type AuditConsumer = BaseConsumer<AuthContext>;

/// A consumer of its own throwaway group: it only assigns, never commits.
fn consumer(client: &ClientConfig, token: Option<&TokenCell>) -> Result<AuditConsumer, ReadError> {
    let mut config = client.clone();
    config
        .set(
            "group.id",
            format!("tickstream-verify-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    crate::kafka::oauth::consumer(&config, token).map_err(ReadError::Kafka)
}

/// The topics `wanted` names that exist (a pattern is matched against the cluster's topics).
pub fn topic_names(
    client: &ClientConfig,
    wanted: &Topics,
    timeout: Duration,
    token: Option<&TokenCell>,
) -> Result<Vec<String>, ReadError> {
    match wanted {
        Topics::List(l) => Ok(l.clone()),
        Topics::Pattern(_) => {
            let c = consumer(client, token)?;
            let metadata = c.fetch_metadata(None, timeout).map_err(ReadError::Kafka)?;
            let mut names: Vec<String> = metadata
                .topics()
                .iter()
                .map(|t| t.name().to_owned())
                .filter(|t| wanted.contains(t))
                .collect();
            names.sort();
            Ok(names)
        }
    }
}

/// Every record of every partition of `topic` from its low to its high watermark (as of the
/// start), handed to `each`.
fn consume(
    c: &AuditConsumer,
    topic: &str,
    timeout: Duration,
    mut each: impl FnMut(&BorrowedMessage<'_>),
) -> Result<Vec<i32>, ReadError> {
    let kafka = ReadError::Kafka;
    let metadata = c.fetch_metadata(Some(topic), timeout).map_err(kafka)?;
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
    for &p in &partitions {
        let (low, high) = crate::kafka::watermarks::read(c, topic, p, timeout).map_err(kafka)?;
        if high <= low {
            continue;
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, p, Offset::Offset(low)).map_err(kafka)?;
        c.assign(&tpl).map_err(kafka)?;
        let deadline = Instant::now() + timeout;
        let mut next = low;
        while next < high {
            if Instant::now() > deadline {
                return Err(ReadError::Topic(format!(
                    "{topic} partition {p}: read {next} of {high} within {timeout:?}; try a longer --timeout"
                )));
            }
            match c.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    next = m.offset() + 1;
                    each(&m);
                }
                Some(Err(e)) => return Err(kafka(e)),
                None => {}
            }
        }
    }
    Ok(partitions)
}

/// Reads every partition of `topic`, with each record's Kafka timestamp. `client` carries
/// bootstrap servers and security.
pub fn read_topic(
    client: &ClientConfig,
    topic: &str,
    timeout: Duration,
    token: Option<&TokenCell>,
) -> Result<(TopicRecords, Timestamps), ReadError> {
    let c = consumer(client, token)?;
    let (mut out, mut times) = (TopicRecords::new(), Timestamps::new());
    let partitions = consume(&c, topic, timeout, |m| {
        out.entry(m.partition())
            .or_default()
            .insert(m.offset(), m.payload().map(<[u8]>::to_vec));
        if let Some(ms) = m.timestamp().to_millis() {
            times.entry(m.partition()).or_default().insert(m.offset(), ms);
        }
    })?;
    for p in partitions {
        out.entry(p).or_default();
    }
    Ok((out, times))
}

/// The records the dead-letter topic accounts for, from Connect's `__connect.errors.topic`,
/// `…partition` and `…offset` headers.
pub fn read_dead_letter_topic(
    client: &ClientConfig,
    topic: &str,
    timeout: Duration,
    token: Option<&TokenCell>,
) -> Result<BTreeMap<TopicPartition, BTreeSet<i64>>, ReadError> {
    let c = consumer(client, token)?;
    let mut out: BTreeMap<TopicPartition, BTreeSet<i64>> = BTreeMap::new();
    consume(&c, topic, timeout, |m| {
        let Some(headers) = m.headers() else { return };
        let header = |name: &str| {
            headers
                .iter()
                .find(|h| h.key == name)
                .and_then(|h| std::str::from_utf8(h.value?).ok().map(str::to_owned))
        };
        let (Some(t), Some(p), Some(o)) = (
            header("__connect.errors.topic"),
            header("__connect.errors.partition").and_then(|p| p.parse().ok()),
            header("__connect.errors.offset").and_then(|o| o.parse().ok()),
        ) else {
            return;
        };
        out.entry(TopicPartition::new(&t, p)).or_default().insert(o);
    })?;
    Ok(out)
}

/// Reads every object under the topic's prefix and sorts it into partitions by its key.
pub async fn read_objects(
    store: &S3SegmentStore,
    layout: &KeyLayout,
    partitions: &[i32],
    reader: &Reader,
) -> Result<Objects, ReadError> {
    let mut objects = Objects::default();
    let mut parsed: std::collections::HashMap<Arc<str>, Arc<WriterSchema>> = std::collections::HashMap::new();
    for key in store.list(&layout.topic_prefix(), None).await? {
        let Some(file) = layout.parse_any(&key).filter(|f| partitions.contains(&f.partition)) else {
            objects.foreign_keys.push(key);
            continue;
        };
        let (p, start) = (file.partition, file.start);
        if objects.dirs.insert((p, start), file.dir).is_some() {
            objects.clashes.push((p, start));
        }
        if key.ends_with(crate::format::names::PARQUET_SUFFIX) {
            objects.parquet.insert((p, start));
        }
        let records = reader.read(&key, store.get(&key).await?)?;
        if let Some(text) = &records.schema {
            let parsed = match parsed.get(text) {
                Some(s) => Arc::clone(s),
                None => {
                    let s = WriterSchema::parse(None, text, &[])
                        .map(Arc::new)
                        .map_err(|e| ReadError::Topic(format!("{key}: its schema: {e}")))?;
                    parsed.insert(text.clone(), s.clone());
                    s
                }
            };
            objects.schemas.insert((p, start), parsed);
        }
        let records = records.iter().map(<[u8]>::to_vec).collect();
        objects.files.entry(p).or_default().insert(start, records);
    }
    Ok(objects)
}

/// The offsets the topic's dead-letter files in S3 account for: each line of a batch, or the
/// one record of an older single-record object.
pub async fn read_dead_letters(
    store: &S3SegmentStore,
    layout: &KeyLayout,
    partitions: &[i32],
) -> Result<DeadLetters, ReadError> {
    let mut out = DeadLetters::new();
    for &p in partitions {
        for key in store.list(&layout.dead_letter_prefix(p), None).await? {
            match layout.parse_dead_letter_offset(p, &key) {
                Some((offset, DeadFile::Single)) => {
                    out.entry(p).or_default().insert(offset);
                }
                Some((_, DeadFile::Batch)) => {
                    let lines = Reader::default().read(&key, store.get(&key).await?)?;
                    let offsets = lines
                        .iter()
                        .filter_map(|l| serde_json::from_slice::<DeadLine>(l).ok().map(|d| d.offset));
                    out.entry(p).or_default().extend(offsets);
                }
                None => {}
            }
        }
    }
    Ok(out)
}
