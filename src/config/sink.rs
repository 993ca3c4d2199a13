//! `[sink]`: the Confluent S3 Sink Connector's property names, and how records are read,
//! checked and dead-lettered (Kafka Connect's names where Connect has the concept).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Compression, ErrorsTolerance, NullValues, ValueConverter, ValueSchema};

/// `[sink]`: Confluent S3 Sink Connector property names.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    /// Run the S3 sink in this process.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The topics to sink, comma-separated (Connect's `topics`). Each (topic, partition) gets
    /// its own sink actor, its own files and its own dead letters.
    #[serde(default = "default_topic")]
    pub topics: String,
    /// A pattern of topics to sink instead of a list (Connect's `topics.regex`; the whole name
    /// must match). New topics that match are picked up as they appear.
    #[serde(rename = "topics.regex", default)]
    pub topics_regex: Option<super::TopicPattern>,
    /// Records per file: a partition's buffer is written when it holds this many.
    #[serde(rename = "flush.size", default = "default_flush_size")]
    pub flush_size: u64,
    /// A buffer is also written this long after its first record arrived, even if no more come.
    #[serde(rename = "rotate.interval.ms", default = "default_rotate_interval_ms")]
    pub rotate_interval_ms: u64,
    /// Every open file also closes at each multiple of this on the wall clock of `timezone`
    /// (3600000: on the hour), whether or not records arrive; -1 (default) for none.
    /// Exactly once still holds across crashes (a resume starts from the files in S3).
    #[serde(rename = "rotate.schedule.interval.ms", default = "unscheduled")]
    pub rotate_schedule_interval_ms: i64,
    /// The key prefix: objects go to `<topics.dir>/<topic>/partition=<p>/…`.
    #[serde(rename = "topics.dir", default = "default_topics_dir")]
    pub topics_dir: String,
    /// The bucket. Env: `TICKSTREAM_S3_BUCKET`.
    #[serde(rename = "s3.bucket.name", default = "default_bucket")]
    pub bucket: String,
    /// Digits of the start offset in a file name (zero padded).
    #[serde(rename = "filename.offset.zero.pad.width", default = "default_pad_width")]
    pub offset_pad_width: usize,
    /// Records a partition may hold in memory (buffered plus uploading) before it pauses
    /// consumption; default 4 × `flush.size`, at least 1,000. Bounds memory during an S3 outage.
    #[serde(rename = "max.buffered.records", default)]
    pub max_buffered_records: Option<u64>,
    /// Bytes a partition may hold in memory (its open files, plus the files uploading) before it
    /// pauses consumption; an open file reaching half of it is written out. Bounds memory
    /// whatever the records' size (tickstream's own: Connect has no such setting).
    #[serde(rename = "max.buffered.bytes", default = "default_max_buffered_bytes")]
    pub max_buffered_bytes: u64,
    /// Uploads of one partition's consecutive files that may run at once (commits stay in
    /// order). More hides S3 latency; fewer keeps commits close behind the uploads.
    #[serde(rename = "max.inflight.uploads", default = "default_max_inflight_uploads")]
    pub max_inflight_uploads: usize,
    /// While its uploads keep coming, a partition commits at most once per this interval (the
    /// newest uploaded offset); it commits at once after a quiet interval or when no other
    /// upload is under way. Commits still only follow uploads; 0 commits after every file. One
    /// commit per file at flush.size 100 costs the group coordinator more than the files cost
    /// us (see `sink::commit_pace`).
    #[serde(rename = "offset.flush.interval.ms", default = "default_offset_flush_interval_ms")]
    pub offset_flush_interval_ms: u64,
    /// How record values are read (Connect's `value.converter`): `json` (default: any valid
    /// JSON, written as produced, folded onto one line), `string` (UTF-8 text, written as a JSON
    /// string), `bytes` (raw values, written as they are, `format.bytearray.separator` between
    /// them, in `.bin` files), `avro` (Confluent's `AvroConverter`: the Schema Registry wire
    /// format, each record decoded with its writer schema, fetched by id from
    /// `value.converter.schema.registry.url`). Connect's converter class names are accepted too.
    #[serde(rename = "value.converter", default)]
    pub value_converter: ValueConverter,
    /// How record keys are read for keys files (Connect's `key.converter`): `string` (default:
    /// UTF-8 text, written as a JSON string), `json` (any JSON, written as produced), `bytes`
    /// (written as a base64 string, as JsonConverter writes bytes). Connect's class names too.
    #[serde(rename = "key.converter", default)]
    pub key_converter: super::KeyConverter,
    /// Write each data file's record keys to a file beside it, line for line (Connect's
    /// `store.kafka.keys`): `<name>.keys.json` beside `<name>.json`, uploaded before it. A record
    /// without a key, or whose key does not convert, follows `errors.tolerance`.
    #[serde(rename = "store.kafka.keys", default)]
    pub store_keys: bool,
    /// Write each record's headers beside its data file the same way (`<name>.headers.json`,
    /// Connect's `store.kafka.headers`): `[{"key": …, "value": …}]` per record, values as text
    /// (base64 when not UTF-8), `[]` for a record without headers (Connect refuses it).
    #[serde(rename = "store.kafka.headers", default)]
    pub store_headers: bool,
    /// Write each record's offset and Kafka timestamp beside its data file the same way
    /// (`<name>.metadata.json`, tickstream's own: Connect's files carry neither):
    /// `{"offset": 17, "CreateTime": ms}` (or `LogAppendTime`) per record. The ingestion watcher
    /// puts the timestamp into RECORD_METADATA as the Snowflake Kafka connector does, and gives
    /// rows of `field` and `time` partitioned files their offsets (so a record in two files
    /// loads once).
    #[serde(rename = "store.kafka.metadata", default)]
    pub store_metadata: bool,
    /// The format of keys files: `json` (Connect's JsonFormat; the default here, where
    /// Connect's default is AvroFormat).
    #[serde(rename = "keys.format.class", default)]
    pub keys_format_class: super::CompanionFormat,
    /// The format of headers files: `json` (Connect's JsonFormat).
    #[serde(rename = "headers.format.class", default)]
    pub headers_format_class: super::CompanionFormat,
    /// `value.converter = "json"` only: each value is JsonConverter's `{"schema", "payload"}`
    /// envelope; the payload is written, typed by its schema (as an Avro record's is).
    #[serde(rename = "value.converter.schemas.enable", default)]
    pub schemas_enable: bool,
    /// `value.converter = "avro"`: the Schema Registry, one URL or several comma-separated (the
    /// next is tried when one does not answer). `https://` URLs are checked against the system's
    /// CA certificates (and `value.converter.schema.registry.ssl.ca.location`'s).
    /// Env: `TICKSTREAM_SCHEMA_REGISTRY_URL`.
    #[serde(rename = "value.converter.schema.registry.url", default)]
    pub registry_url: Option<super::RegistryUrls>,
    /// Where the registry's basic-auth credentials come from: `USER_INFO` (default:
    /// `value.converter.basic.auth.user.info`, when set) or `URL` (the URL's `user:password@`).
    #[serde(rename = "value.converter.basic.auth.credentials.source", default)]
    pub registry_auth_source: super::AuthSource,
    /// `user:password` for the registry (never logged). Env:
    /// `TICKSTREAM_SCHEMA_REGISTRY_USER_INFO`, to keep it out of the file.
    #[serde(rename = "value.converter.basic.auth.user.info", default)]
    pub registry_user_info: Option<super::Secret>,
    /// A PEM file of CA certificates the registry's TLS certificate may chain to, besides the
    /// system's (a Java truststore converts with `keytool -exportcert -rfc`).
    #[serde(rename = "value.converter.schema.registry.ssl.ca.location", default)]
    pub registry_ca_location: Option<PathBuf>,
    /// The subject a topic's value schemas are registered under, for their versions
    /// (`schema.compatibility` other than `NONE`): `TopicNameStrategy` (`<topic>-value`,
    /// default), `RecordNameStrategy`, `TopicRecordNameStrategy` (Confluent's class names too).
    #[serde(rename = "value.converter.value.subject.name.strategy", default)]
    pub subject_name_strategy: crate::record::avro::compat::SubjectNames,
    /// Records with schemas (Avro, envelopes): `NONE` (default) closes a file when the writer
    /// schema changes; `BACKWARD`/`FULL` close it at a newer version and project older records
    /// onto the file's schema; `FORWARD` the other way round. Confluent's rules.
    #[serde(rename = "schema.compatibility", default)]
    pub schema_compatibility: crate::record::avro::compat::Compatibility,
    /// `format.class = "avro"`: how an Avro file's blocks are compressed: `null` (default),
    /// `deflate`, `snappy` or `zstandard`.
    #[serde(rename = "avro.codec", default)]
    pub avro_codec: super::AvroCodec,
    /// JSON files of records with schemas: decimals as `BASE64` of their unscaled bytes
    /// (default, as Connect writes them) or as `NUMERIC` numbers.
    #[serde(rename = "json.decimal.format", default)]
    pub json_decimal_format: crate::record::avro::json::DecimalFormat,
    /// What goes between records in a `bytes` file (Confluent's ByteArrayFormat); default a
    /// newline.
    #[serde(rename = "format.bytearray.separator", default = "default_separator")]
    pub bytearray_separator: String,
    /// What a `json` record must be: `none` (default: any JSON), `tick` (tickstream's tick, every
    /// field of its type), or the path of a JSON Schema file. A record that fails is a dead
    /// letter with the validator's reason.
    #[serde(rename = "value.schema", default)]
    pub value_schema: ValueSchema,
    /// `all` (default here: a record that cannot be written is dead-lettered and the partition
    /// goes on) or `none` (the partition stops at that record, nothing is committed past it,
    /// and `tickstream_sink_halted` is 1 until the process restarts). Connect's default is `none`.
    #[serde(rename = "errors.tolerance", default)]
    pub errors_tolerance: ErrorsTolerance,
    /// Dead letters go to this Kafka topic, with Connect's `__connect.errors.*` headers, instead
    /// of to S3 under `dlq/`.
    #[serde(rename = "errors.deadletterqueue.topic.name", default)]
    pub dlq_topic: Option<String>,
    /// What a tombstone (a null value) does: `fail` (default: it is a dead letter, or stops the
    /// partition under `errors.tolerance = none`), `ignore` (skipped), `write` (a JSON `null`).
    #[serde(rename = "behavior.on.null.values", default)]
    pub null_values: NullValues,
    /// Larger values are dead letters (a JSON-lines file of huge lines stalls every loader
    /// downstream).
    #[serde(rename = "max.record.bytes", default = "default_max_record_bytes")]
    pub max_record_bytes: usize,
    /// Data files compressed (Confluent's `s3.compression.type`): `none` (default), `gzip`
    /// (keys end `.json.gz`, `.bin.gz` for raw values) or `zstd` (`.json.zst`; not in
    /// Confluent's sink). Dead-letter files stay plain.
    #[serde(rename = "s3.compression.type", default)]
    pub compression: Compression,
    /// The level, -1 for the codec's default (gzip 6, zstd 3), or gzip 1 (fastest) to 9
    /// (smallest), zstd 1 to 22; Confluent's `s3.compression.level`.
    #[serde(rename = "s3.compression.level", default = "default_compression_level")]
    pub compression_level: i32,
    /// A file larger than this is uploaded in parts of this size (S3's multipart upload, still
    /// conditional: an existing file is never overwritten); 5 MiB to 5 GiB, default Connect's
    /// 25 MiB.
    #[serde(rename = "s3.part.size", default = "default_part_size")]
    pub part_size: u64,
    /// Server-side encryption of every file (Confluent's `s3.ssea.name`): `AES256` (S3's keys,
    /// or SSE-C with `s3.sse.customer.key`), `aws:kms` or `aws:kms:dsse`; default `""`, the
    /// bucket's own.
    #[serde(rename = "s3.ssea.name", default)]
    pub sse: super::ServerSideEncryption,
    /// `aws:kms` and `aws:kms:dsse`: the KMS key (ARN, id or alias); default the account's
    /// `aws/s3` key.
    #[serde(rename = "s3.sse.kms.key.id", default)]
    pub sse_kms_key_id: Option<String>,
    /// `AES256` only: a base64 256-bit key for SSE-C; every write and read of a file sends it
    /// (never logged). Env: `TICKSTREAM_S3_SSE_CUSTOMER_KEY`, to keep it out of the file.
    #[serde(rename = "s3.sse.customer.key", default)]
    pub sse_customer_key: Option<super::Secret>,
    /// A canned ACL sent with every file, e.g. `bucket-owner-full-control` for another
    /// account's bucket; default none (the bucket's Object Ownership decides).
    #[serde(rename = "s3.acl.canned", default)]
    pub acl_canned: Option<super::CannedAcl>,
    /// The storage class of every file (S3's default is `STANDARD`); classes whose objects
    /// need a restore before a read are refused.
    #[serde(rename = "s3.storage.class", default)]
    pub storage_class: Option<super::StorageClass>,
    /// Tag every file with `startOffset`, `endOffset` (its last record's offset) and
    /// `recordCount`, as the Confluent sink does; set in the file's own PUT, so no file is
    /// ever without them.
    #[serde(rename = "s3.object.tagging", default)]
    pub object_tagging: bool,
    /// More tags for every file: `key:value` pairs, comma-separated (S3 keeps ten tags, three
    /// of them `s3.object.tagging`'s).
    #[serde(rename = "s3.object.tagging.key.value.pairs", default)]
    pub object_tag_pairs: super::TagPairs,
    /// What a data file is (Confluent's `format.class`): `json` (default), `parquet` (the
    /// topic's typed columns, `[warehouse] columns`, with their types; records with a schema:
    /// their schema's columns), `bytearray` (raw values, with `value.converter = "bytes"`), or
    /// `avro` (container files of the records' writer schema, `avro.codec`; records with a
    /// schema). Confluent's class names are accepted too.
    #[serde(rename = "format.class", default)]
    pub format_class: super::FormatClass,
    /// Parquet page compression: `snappy` (default), `zstd`, `gzip` or `none`; keys end
    /// `.snappy.parquet`, `.zstd.parquet`, `.gz.parquet`, `.parquet` as Confluent names them.
    #[serde(rename = "parquet.codec", default)]
    pub parquet_codec: super::ParquetCodec,
    /// Whether a Parquet file also holds each record's JSON text (column `RECORD_CONTENT`):
    /// `auto` (default: only for a topic without typed columns), `always`, `never`.
    #[serde(rename = "parquet.record.content", default)]
    pub parquet_record_content: super::RecordContent,
    /// Which directory a record's file goes to (Confluent's `partitioner.class`): `default`
    /// (`partition=<p>/`), `field` (`partition.field.name`), `time` (`path.format`,
    /// `partition.duration.ms`, `timestamp.extractor`), or `hourly` / `daily`. Confluent's
    /// class names are accepted too.
    #[serde(rename = "partitioner.class", default)]
    pub partitioner_class: super::PartitionerClass,
    /// `field`: the record's fields that name its directory, comma-separated
    /// (`symbol` → `symbol=AAPL/`; `exchange,symbol` → `exchange=NASDAQ/symbol=AAPL/`).
    #[serde(rename = "partition.field.name", default)]
    pub partition_field_name: Option<super::FieldNames>,
    /// `time`: the directory of a time, Joda style (`'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH`;
    /// numeric fields YYYY yyyy YY MM dd HH mm ss, literals in single quotes).
    #[serde(rename = "path.format", default)]
    pub path_format: Option<super::PathFormat>,
    /// `time`: the length of one time partition (3600000 for hours).
    #[serde(rename = "partition.duration.ms", default)]
    pub partition_duration_ms: Option<i64>,
    /// `time`: `Record` (the Kafka timestamp; default), `RecordField` (`timestamp.field`) or
    /// `Wallclock` (the sink's clock; not exactly once across restarts: docs/formats.md says what it keeps).
    #[serde(rename = "timestamp.extractor", default)]
    pub timestamp_extractor: super::TimestampExtractor,
    /// `RecordField`: the field holding the time (RFC 3339 text, or epoch milliseconds).
    #[serde(rename = "timestamp.field", default)]
    pub timestamp_field: Option<String>,
    /// `time`: the zone `path.format` is written in, and the clock `rotate.schedule.interval.ms`
    /// is aligned to (an IANA name such as `UTC` or `America/New_York`); default UTC.
    #[serde(default)]
    pub timezone: super::TimeZone,
    /// `time`: Confluent's `locale`; accepted for pasted configs, unused (`path.format` has only
    /// numeric fields, which no locale changes).
    #[serde(default)]
    pub locale: Option<String>,
    /// Files a Kafka partition keeps open at once under `field` and `time`, one per directory;
    /// at the cap the oldest is written out to make room.
    #[serde(rename = "max.open.files.per.partition", default = "default_max_open_files")]
    pub max_open_files_per_partition: usize,
}

impl SinkConfig {
    /// The effective `max.buffered.records`.
    pub fn max_buffered(&self) -> u64 {
        self.max_buffered_records
            .unwrap_or_else(|| (self.flush_size.saturating_mul(4)).max(1_000))
    }

    /// `rotate.interval.ms`.
    pub fn rotate_interval(&self) -> Duration {
        Duration::from_millis(self.rotate_interval_ms)
    }

    /// `rotate.schedule.interval.ms` as a length, when set.
    pub fn rotate_schedule_interval(&self) -> Option<Duration> {
        (self.rotate_schedule_interval_ms > 0).then(|| Duration::from_millis(self.rotate_schedule_interval_ms as u64))
    }

    /// `offset.flush.interval.ms`.
    pub fn commit_interval(&self) -> Duration {
        Duration::from_millis(self.offset_flush_interval_ms)
    }

    /// What the data files are: `value.converter = "bytes"` always writes raw values.
    pub fn format(&self) -> super::FormatClass {
        match self.value_converter {
            ValueConverter::Bytes => super::FormatClass::ByteArray,
            _ => self.format_class,
        }
    }

    /// The topics the sink reads: `topics.regex`, or else the list `topics`.
    pub fn topic_set(&self) -> super::Topics {
        match &self.topics_regex {
            Some(p) => super::Topics::Pattern(p.clone()),
            None => super::Topics::List(self.topic_list()),
        }
    }

    /// The topics of `topics`, trimmed, in order (empty when `topics.regex` is used).
    pub fn topic_list(&self) -> Vec<String> {
        if self.topics_regex.is_some() {
            return Vec::new();
        }
        self.topics
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

fn yes() -> bool {
    true
}
pub(super) fn default_topic() -> String {
    "stock-market-data".into()
}
fn default_flush_size() -> u64 {
    100
}
fn default_part_size() -> u64 {
    25 * 1024 * 1024
}

fn unscheduled() -> i64 {
    -1
}

fn default_rotate_interval_ms() -> u64 {
    60_000
}
fn default_topics_dir() -> String {
    "topics".into()
}
fn default_bucket() -> String {
    "kafka-msk-snowflake-bucket".into()
}
fn default_pad_width() -> usize {
    10
}
fn default_max_inflight_uploads() -> usize {
    4
}
fn default_offset_flush_interval_ms() -> u64 {
    100
}
fn default_separator() -> String {
    "\n".into()
}
/// Today's cap: a tick is ~200 bytes.
fn default_max_buffered_bytes() -> u64 {
    64 * 1024 * 1024
}

fn default_max_record_bytes() -> usize {
    64 * 1024
}

fn default_max_open_files() -> usize {
    1_000
}

fn default_compression_level() -> i32 {
    -1
}

default_from_serde!(SinkConfig);
