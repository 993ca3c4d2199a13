//! How a sink's segmenter writes and what it tolerates, from `[sink]` (and `[warehouse]`'s typed
//! columns for Parquet files).

use crate::format::companions::Companions;
use crate::format::{Converter, FileFormats};
use crate::partitioner::Partitioner;
use crate::record::avro::compat::{Compatibility, SubjectNames};
use crate::s3::key_limits::KeyLimits;

/// How the segmenter writes and what it tolerates.
#[derive(Clone, Debug)]
pub struct Rules {
    pub flush_size: u64,
    pub converter: Converter,
    /// What each topic's data files are (`format.class`, compression, Parquet columns).
    pub files: FileFormats,
    /// `errors.tolerance = none`: halt at the first record that cannot be written.
    pub halt_on_error: bool,
    /// Dead letters go to a Kafka topic: no dead-letter file body is built.
    pub dead_to_kafka: bool,
    /// `partitioner.class` and its settings: which directory each record's file goes to.
    pub partitioner: Partitioner,
    /// `max.open.files.per.partition` (under `field` and `time`).
    pub max_open_files: usize,
    /// `max.buffered.records`: under `field` and `time`, open files holding half of it in all
    /// are written out oldest first (the other half is room for uploads), so the memory bound
    /// never waits for their timers.
    pub max_buffered: u64,
    /// `max.buffered.bytes`: an open file holding half of it is written out (the other half is
    /// room for uploads).
    pub max_buffered_bytes: u64,
    /// `schema.compatibility`: which records with schemas share a file.
    pub compatibility: Compatibility,
    /// `value.subject.name.strategy`: the subject whose versions `compatibility` compares.
    pub subjects: SubjectNames,
    /// `store.kafka.keys`, `store.kafka.headers`: files written beside each data file.
    pub companions: Option<Companions>,
    /// What the store takes as a key: a record whose directory would make a key it refuses is
    /// a dead letter before any upload.
    pub key_limits: KeyLimits,
}

impl Rules {
    /// The rules `[sink]` describes, with `[warehouse]`'s typed columns for Parquet files
    /// (`Err`: the partitioner's settings do not fit together; a loaded configuration's do).
    pub fn from_config(config: &crate::config::Config) -> Result<Self, crate::config::Problem> {
        let sink = &config.sink;
        Ok(Self {
            flush_size: sink.flush_size,
            converter: Converter::new(sink),
            files: FileFormats::from_config(config),
            halt_on_error: sink.errors_tolerance == crate::config::ErrorsTolerance::None,
            dead_to_kafka: sink.dlq_topic.is_some(),
            partitioner: Partitioner::new(sink.partitioner()?),
            max_open_files: sink.max_open_files_per_partition,
            max_buffered: sink.max_buffered(),
            max_buffered_bytes: sink.max_buffered_bytes,
            compatibility: sink.schema_compatibility,
            subjects: sink.subject_name_strategy,
            companions: Companions::from_config(sink),
            key_limits: match config.s3.mode {
                crate::config::S3Mode::Embedded => KeyLimits::FILES,
                _ => KeyLimits::S3,
            },
        })
    }

    /// JSON lines of any JSON, dead letters to S3 (tests).
    pub fn json(flush_size: u64) -> Self {
        Self {
            flush_size,
            converter: Converter::json(),
            files: FileFormats::json(),
            halt_on_error: false,
            dead_to_kafka: false,
            partitioner: Partitioner::default(),
            max_open_files: 1_000,
            max_buffered: flush_size.saturating_mul(4).max(1_000),
            max_buffered_bytes: 64 * 1024 * 1024,
            compatibility: Compatibility::None,
            subjects: SubjectNames::TopicName,
            companions: None,
            key_limits: KeyLimits::S3,
        }
    }

    /// How far a file's offsets may spread: a file whose first offset is this far behind the
    /// partition's newest record is written out. It bounds what a resume lists (files that
    /// may hold records at or after the resume offset start at most this far before it), and
    /// how far the commit can lag behind a slow directory.
    pub fn span_limit(&self) -> i64 {
        let span = self.flush_size.saturating_mul(self.max_open_files as u64);
        i64::try_from(span).unwrap_or(i64::MAX).max(1)
    }
}
