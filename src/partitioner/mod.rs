//! Which directory a record's file goes to: Confluent's partitioners, as one pure function of
//! the record (and, for `Wallclock`, of the clock).
//!
//! - `default`: `partition=<kafka partition>`.
//! - `field`: `<field>=<value>` for each of `partition.field.name`, joined by `/`.
//! - `time` (`hourly`, `daily`): the record's time, floored to `partition.duration.ms` in
//!   `timezone`, written by `path.format` ([`crate::config::PathFormat`]). The time is the Kafka timestamp
//!   (`Record`), a field (`RecordField`) or the clock (`Wallclock`).
//!
//! A record the partitioner cannot place (no such field, no timestamp) is a dead letter with
//! the reason, like any record that cannot be written.
//!
//! Under `field` and `time` with `Record` or `RecordField`, routing depends only on the record,
//! so a restart can tell which directory a replayed record went to and skip it there, and
//! `verify` can tell which records a file must hold: a Kafka partition then keeps several files
//! open at once (see [`crate::sink::segmenter`]). Under `default` and `Wallclock` records are
//! written in offset order one file at a time, each file of consecutive offsets.

use chrono::{DateTime, Offset, TimeZone};

pub use crate::config::PartitionerSpec;
use crate::config::{TimeSpec, TimestampExtractor};
use crate::record::view::{FieldSource, RecordView};
use crate::record::RecordError;

/// The configured partitioner.
#[derive(Clone, Debug, Default)]
pub struct Partitioner {
    kind: PartitionerSpec,
}

impl Partitioner {
    /// The partitioner `spec` describes ([`crate::config::SinkConfig::partitioner`]).
    pub fn new(spec: PartitionerSpec) -> Self {
        Self { kind: spec }
    }

    /// A partitioner by `fields` (tests).
    pub fn field(fields: &[&str]) -> Self {
        Self::new(PartitionerSpec::Field(fields.iter().map(|f| (*f).to_owned()).collect()))
    }

    /// Files hold consecutive offsets, one open at a time: `default`, and `Wallclock` (whose
    /// directory only moves forward).
    pub fn consecutive(&self) -> bool {
        self.kind.consecutive()
    }

    /// The default partitioner (`partition=<p>` directories).
    pub fn is_default(&self) -> bool {
        matches!(self.kind, PartitionerSpec::Default)
    }

    /// Whether a record's directory follows from the record alone (not under `Wallclock`).
    pub fn deterministic(&self) -> bool {
        !matches!(&self.kind, PartitionerSpec::Time(t) if t.extractor == TimestampExtractor::Wallclock)
    }

    /// The directory (no leading or trailing `/`) of a record of Kafka `partition` with
    /// Kafka timestamp `timestamp_ms`, written as `record`, at `now_ms`; or why it has none.
    pub fn encode(
        &self,
        partition: i32,
        timestamp_ms: Option<i64>,
        record: &RecordView<'_>,
        now_ms: i64,
    ) -> Result<String, RecordError> {
        match &self.kind {
            PartitionerSpec::Default => Ok(format!("partition={partition}")),
            PartitionerSpec::Field(names) => {
                let fields = record.fields()?;
                let mut out = String::new();
                for name in names {
                    if !out.is_empty() {
                        out.push('/');
                    }
                    out.push_str(name);
                    out.push('=');
                    out.push_str(&field_text(&fields, name)?);
                }
                Ok(out)
            }
            PartitionerSpec::Time(t) => {
                let ms = match t.extractor {
                    TimestampExtractor::Record => timestamp_ms.ok_or_else(|| RecordError::Unplaceable {
                        setting: "timestamp.extractor = Record",
                        reason: "the record has no Kafka timestamp".into(),
                    })?,
                    TimestampExtractor::Wallclock => now_ms,
                    TimestampExtractor::RecordField => {
                        let unplaceable = |reason: String| RecordError::Unplaceable {
                            setting: "timestamp.field",
                            reason,
                        };
                        let (value, raw) = record
                            .fields()?
                            .get(&t.field)?
                            .ok_or_else(|| unplaceable(format!("the record has no field {:?}", t.field)))?;
                        crate::record::cell::timestamp_ms(&value).ok_or_else(|| {
                            unplaceable(format!("{:?} is {raw}, not a time (RFC 3339 or epoch ms)", t.field))
                        })?
                    }
                };
                Ok(directory(t, ms))
            }
        }
    }
}

/// What Athena's date projection needs of a time partitioner's directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeProjection {
    /// `path.format` as a Java `DateTimeFormatter` pattern.
    pub format: String,
    /// One partition's length, in `unit`s.
    pub interval: i64,
    /// `DAYS`, `HOURS`, `MINUTES`, `SECONDS` or `MILLISECONDS`.
    pub unit: &'static str,
    /// The directory of 2020-01-01T00:00Z, where the projected range starts.
    pub first: String,
}

impl Partitioner {
    /// The fields of a `field` partitioner.
    pub fn fields(&self) -> Option<&[String]> {
        match &self.kind {
            PartitionerSpec::Field(f) => Some(f),
            _ => None,
        }
    }

    /// How a `time` partitioner's directories are projected.
    pub fn time_projection(&self) -> Option<TimeProjection> {
        let PartitionerSpec::Time(t) = &self.kind else {
            return None;
        };
        let d = t.duration_ms;
        let (interval, unit) = [
            (86_400_000, "DAYS"),
            (3_600_000, "HOURS"),
            (60_000, "MINUTES"),
            (1_000, "SECONDS"),
        ]
        .into_iter()
        .find(|(ms, _)| d % ms == 0)
        .map_or((d, "MILLISECONDS"), |(ms, unit)| (d / ms, unit));
        Some(TimeProjection {
            format: t.format.java_pattern(),
            interval,
            unit,
            first: directory(t, 1_577_836_800_000),
        })
    }
}

/// Confluent's rule: floor the local time to the duration, then write it.
fn directory(t: &TimeSpec, utc_ms: i64) -> String {
    let utc = DateTime::from_timestamp_millis(utc_ms).unwrap_or_default();
    let offset_ms = i64::from(
        t.zone
            .offset_from_utc_datetime(&utc.naive_utc())
            .fix()
            .local_minus_utc(),
    ) * 1000;
    let local = (utc_ms + offset_ms).div_euclid(t.duration_ms) * t.duration_ms;
    let naive = DateTime::from_timestamp_millis(local).unwrap_or_default().naive_utc();
    t.format.render(naive)
}

/// A field's value as a directory name: strings as they are, numbers and booleans as written.
fn field_text(fields: &FieldSource<'_>, name: &str) -> Result<String, RecordError> {
    let unplaceable = |reason: String| RecordError::Unplaceable {
        setting: "partition.field.name",
        reason,
    };
    let (value, _) = fields
        .get(name)?
        .ok_or_else(|| unplaceable(format!("the record has no field {name:?}")))?;
    match value {
        serde_json::Value::String(s) if s.is_empty() => Err(unplaceable(format!("field {name:?} is empty"))),
        serde_json::Value::String(s) if s.contains('/') || s.chars().any(char::is_control) => Err(unplaceable(
            format!("field {name:?} is {s:?}: a '/' or a control character cannot name a directory"),
        )),
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(unplaceable(format!(
            "field {name:?} is {other}, not a string, number or boolean"
        ))),
    }
}

#[cfg(test)]
mod tests;
