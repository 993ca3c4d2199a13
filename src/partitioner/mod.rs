//! Which directory a record's file goes to: Confluent's partitioners, as one pure function of
//! the record (and, for `Wallclock`, of the clock).
//!
//! - `default`: `partition=<kafka partition>`.
//! - `field`: `<field>=<value>` for each of `partition.field.name`, joined by `/`.
//! - `time` (`hourly`, `daily`): the record's time, floored to `partition.duration.ms` in
//!   `timezone`, written by `path.format` ([`path_format`]). The time is the Kafka timestamp
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

pub mod path_format;

use std::str::FromStr;

use chrono::{DateTime, Offset, TimeZone};

use crate::config::{FormatClass, PartitionerClass, SinkConfig, TimestampExtractor, ValueConverter};
use crate::record::fields::{value, Fields};
use path_format::PathFormat;

/// A setting that does not make a partitioner.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("sink.{field}: {message}")]
pub struct PartitionerError {
    /// The `[sink]` key at fault.
    pub field: &'static str,
    pub message: String,
}

/// The configured partitioner.
#[derive(Clone, Debug, Default)]
pub struct Partitioner {
    kind: Kind,
}

#[derive(Clone, Debug, Default)]
enum Kind {
    #[default]
    Default,
    Field(Vec<String>),
    Time(Box<Time>),
}

#[derive(Clone, Debug)]
struct Time {
    format: PathFormat,
    duration_ms: i64,
    extractor: TimestampExtractor,
    field: String,
    zone: chrono_tz::Tz,
}

const HOURLY: &str = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";
const DAILY: &str = "'year'=YYYY/'month'=MM/'day'=dd";

impl Partitioner {
    /// The partitioner `[sink]` describes, or the first setting that does not make one.
    pub fn from_config(sink: &SinkConfig) -> Result<Self, PartitionerError> {
        let err = |field: &'static str, message: String| PartitionerError { field, message };
        let json_records = sink.format() != FormatClass::ByteArray && sink.value_converter == ValueConverter::Json;
        if sink.max_open_files_per_partition == 0 {
            return Err(err("max.open.files.per.partition", "must be at least 1".into()));
        }
        let (pattern, duration) = match sink.partitioner_class {
            PartitionerClass::Default => return Ok(Self::default()),
            PartitionerClass::Field => {
                let fields: Vec<String> = sink
                    .partition_field_name
                    .as_deref()
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect();
                if fields.is_empty() {
                    return Err(err(
                        "partition.field.name",
                        "partitioner.class = field needs the fields that name a directory, e.g. \"symbol\"".into(),
                    ));
                }
                if !json_records {
                    return Err(err(
                        "partitioner.class",
                        "field reads fields of JSON records: it needs value.converter = \"json\"".into(),
                    ));
                }
                return Ok(Self {
                    kind: Kind::Field(fields),
                });
            }
            PartitionerClass::Hourly => (HOURLY.to_owned(), 3_600_000),
            PartitionerClass::Daily => (DAILY.to_owned(), 86_400_000),
            PartitionerClass::Time => (
                sink.path_format.clone().ok_or_else(|| {
                    err(
                        "path.format",
                        format!("partitioner.class = time needs it, e.g. \"{HOURLY}\""),
                    )
                })?,
                sink.partition_duration_ms.ok_or_else(|| {
                    err(
                        "partition.duration.ms",
                        "partitioner.class = time needs it, e.g. 3600000".into(),
                    )
                })?,
            ),
        };
        if duration <= 0 {
            return Err(err(
                "partition.duration.ms",
                format!("must be positive, got {duration}"),
            ));
        }
        let format = PathFormat::parse(&pattern).map_err(|m| err("path.format", m))?;
        let zone = chrono_tz::Tz::from_str(sink.timezone.trim()).map_err(|_| {
            err(
                "timezone",
                format!(
                    "{:?} is not an IANA time zone (e.g. \"UTC\", \"America/New_York\")",
                    sink.timezone
                ),
            )
        })?;
        let field = match sink.timestamp_extractor {
            TimestampExtractor::RecordField => {
                let f = sink.timestamp_field.clone().unwrap_or_default();
                if f.trim().is_empty() {
                    return Err(err(
                        "timestamp.field",
                        "timestamp.extractor = RecordField needs the field holding the time".into(),
                    ));
                }
                if !json_records {
                    return Err(err(
                        "timestamp.extractor",
                        "RecordField reads a field of JSON records: it needs value.converter = \"json\"".into(),
                    ));
                }
                f.trim().to_owned()
            }
            _ => String::new(),
        };
        Ok(Self {
            kind: Kind::Time(Box::new(Time {
                format,
                duration_ms: duration,
                extractor: sink.timestamp_extractor,
                field,
                zone,
            })),
        })
    }

    /// A partitioner by `fields` (tests).
    pub fn field(fields: &[&str]) -> Self {
        Self {
            kind: Kind::Field(fields.iter().map(|f| (*f).to_owned()).collect()),
        }
    }

    /// Files hold consecutive offsets, one open at a time: `default`, and `Wallclock` (whose
    /// directory only moves forward).
    pub fn consecutive(&self) -> bool {
        match &self.kind {
            Kind::Default => true,
            Kind::Field(_) => false,
            Kind::Time(t) => t.extractor == TimestampExtractor::Wallclock,
        }
    }

    /// The default partitioner (`partition=<p>` directories).
    pub fn is_default(&self) -> bool {
        matches!(self.kind, Kind::Default)
    }

    /// Whether a record's directory follows from the record alone (not under `Wallclock`).
    pub fn deterministic(&self) -> bool {
        !matches!(&self.kind, Kind::Time(t) if t.extractor == TimestampExtractor::Wallclock)
    }

    /// The directory (no leading or trailing `/`) of a record of Kafka `partition` with
    /// Kafka timestamp `timestamp_ms`, written as `line`, at `now_ms`; or why it has none.
    pub fn encode(
        &self,
        partition: i32,
        timestamp_ms: Option<i64>,
        line: &[u8],
        now_ms: i64,
    ) -> Result<String, String> {
        match &self.kind {
            Kind::Default => Ok(format!("partition={partition}")),
            Kind::Field(names) => {
                let fields = Fields::parse(line)?;
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
            Kind::Time(t) => {
                let ms = match t.extractor {
                    TimestampExtractor::Record => {
                        timestamp_ms.ok_or("timestamp.extractor = Record: the record has no Kafka timestamp")?
                    }
                    TimestampExtractor::Wallclock => now_ms,
                    TimestampExtractor::RecordField => {
                        let fields = Fields::parse(line)?;
                        let raw = fields
                            .get(&t.field)
                            .map(|raw| raw.text)
                            .ok_or_else(|| format!("timestamp.field: the record has no field {:?}", t.field))?;
                        crate::record::cell::timestamp_ms(&value(raw)?).ok_or_else(|| {
                            format!(
                                "timestamp.field {:?}: {raw} is not a time (RFC 3339 or epoch ms)",
                                t.field
                            )
                        })?
                    }
                };
                Ok(t.directory(ms))
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
            Kind::Field(f) => Some(f),
            _ => None,
        }
    }

    /// How a `time` partitioner's directories are projected.
    pub fn time_projection(&self) -> Option<TimeProjection> {
        let Kind::Time(t) = &self.kind else {
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
            first: t.directory(1_577_836_800_000),
        })
    }
}

impl Time {
    /// Confluent's rule: floor the local time to the duration, then write it.
    fn directory(&self, utc_ms: i64) -> String {
        let utc = DateTime::from_timestamp_millis(utc_ms).unwrap_or_default();
        let offset_ms = i64::from(
            self.zone
                .offset_from_utc_datetime(&utc.naive_utc())
                .fix()
                .local_minus_utc(),
        ) * 1000;
        let local = (utc_ms + offset_ms).div_euclid(self.duration_ms) * self.duration_ms;
        let naive = DateTime::from_timestamp_millis(local).unwrap_or_default().naive_utc();
        self.format.render(naive)
    }
}

/// A field's value as a directory name: strings as they are, numbers and booleans as written.
fn field_text(fields: &Fields<'_>, name: &str) -> Result<String, String> {
    let raw = fields
        .get(name)
        .map(|raw| raw.text)
        .ok_or_else(|| format!("partition.field.name: the record has no field {name:?}"))?;
    match value(raw)? {
        serde_json::Value::String(s) if s.is_empty() => Err(format!("partition.field.name: field {name:?} is empty")),
        serde_json::Value::String(s) if s.contains('/') || s.chars().any(char::is_control) => Err(format!(
            "partition.field.name: field {name:?} is {s:?}: a '/' or a control character cannot name a directory"
        )),
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!(
            "partition.field.name: field {name:?} is {other}, not a string, number or boolean"
        )),
    }
}

#[cfg(test)]
mod tests;
