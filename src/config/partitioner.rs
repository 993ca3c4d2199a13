//! `[sink]`'s partitioners: Confluent's `partitioner.class` and `timestamp.extractor` (their
//! class names accepted as aliases), each setting parsed as it is read, and the
//! [`PartitionerSpec`] they make together. What a partitioner does is [`crate::partitioner`].

use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use super::path_format::PathFormat;
use super::{FormatClass, Problem, SinkConfig, ValueConverter};

/// `partitioner.class`: which directory under `<topics.dir>/<topic>/` a record's file goes to.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum PartitionerClass {
    /// `partition=<kafka partition>/` (Confluent's DefaultPartitioner).
    #[default]
    Default,
    /// `<field>=<value>/…` of `partition.field.name` (FieldPartitioner).
    Field,
    /// The record's time formatted by `path.format` (TimeBasedPartitioner).
    Time,
    /// `time` with `partition.duration.ms` = 1 hour and
    /// `path.format` = `'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH` (HourlyPartitioner).
    Hourly,
    /// `time` by day, `'year'=YYYY/'month'=MM/'day'=dd` (DailyPartitioner).
    Daily,
}

impl TryFrom<String> for PartitionerClass {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        const P: &str = "io.confluent.connect.storage.partitioner.";
        let short = s.strip_prefix(P).unwrap_or(&s);
        Ok(match short {
            "default" | "DefaultPartitioner" => Self::Default,
            "field" | "FieldPartitioner" => Self::Field,
            "time" | "TimeBasedPartitioner" => Self::Time,
            "hourly" | "HourlyPartitioner" => Self::Hourly,
            "daily" | "DailyPartitioner" => Self::Daily,
            other => {
                return Err(format!(
                    "{other:?} is not a partitioner: default, field, time, hourly or daily (or \
                     Confluent's DefaultPartitioner, FieldPartitioner, TimeBasedPartitioner, \
                     HourlyPartitioner, DailyPartitioner class names)"
                ))
            }
        })
    }
}

impl From<PartitionerClass> for String {
    fn from(p: PartitionerClass) -> String {
        format!("{p:?}").to_ascii_lowercase()
    }
}

/// `timestamp.extractor`: whose time a time partitioner files a record under.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum TimestampExtractor {
    /// The Kafka record's timestamp (default here; Confluent's default is Wallclock, which
    /// cannot keep exactly once: see docs/formats.md).
    #[default]
    Record,
    /// A field of the record (`timestamp.field`): RFC 3339 text, or epoch milliseconds.
    RecordField,
    /// The sink's clock when it writes the record.
    Wallclock,
}

impl TryFrom<String> for TimestampExtractor {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        const P: &str = "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$";
        let short = s.strip_prefix(P).unwrap_or(&s);
        let short = short.strip_suffix("TimestampExtractor").unwrap_or(short);
        Ok(match short {
            "Record" => Self::Record,
            "RecordField" => Self::RecordField,
            "Wallclock" => Self::Wallclock,
            other => {
                return Err(format!(
                    "{other:?} is not a timestamp extractor: Record, RecordField or Wallclock"
                ))
            }
        })
    }
}

impl From<TimestampExtractor> for String {
    fn from(e: TimestampExtractor) -> String {
        format!("{e:?}")
    }
}

/// `partition.field.name`: the fields that name a directory, comma-separated.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(from = "String", into = "String")]
pub struct FieldNames(pub Vec<String>);

impl From<&str> for FieldNames {
    fn from(list: &str) -> Self {
        let names = list.split(',').map(str::trim).filter(|f| !f.is_empty());
        Self(names.map(str::to_owned).collect())
    }
}

impl From<String> for FieldNames {
    fn from(list: String) -> Self {
        Self::from(list.as_str())
    }
}

impl From<FieldNames> for String {
    fn from(f: FieldNames) -> String {
        f.0.join(",")
    }
}

/// `timezone`: an IANA zone (`UTC`, `America/New_York`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(pub chrono_tz::Tz);

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::Tz::UTC)
    }
}

impl TryFrom<String> for TimeZone {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        chrono_tz::Tz::from_str(name.trim())
            .map(Self)
            .map_err(|_| format!("{name:?} is not an IANA time zone (e.g. \"UTC\", \"America/New_York\")"))
    }
}

impl From<TimeZone> for String {
    fn from(z: TimeZone) -> String {
        z.0.name().to_owned()
    }
}

/// Which directory each record's file goes to, every setting checked against the others.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum PartitionerSpec {
    /// `partition=<kafka partition>`.
    #[default]
    Default,
    /// `<field>=<value>/…`, for these fields in order.
    Field(Vec<String>),
    /// The record's time, floored and written by its path format.
    Time(TimeSpec),
}

/// A time partitioner's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeSpec {
    pub format: PathFormat,
    /// `partition.duration.ms`, positive.
    pub duration_ms: i64,
    pub extractor: TimestampExtractor,
    /// `timestamp.field` under `RecordField` (empty otherwise).
    pub field: String,
    pub zone: chrono_tz::Tz,
}

impl PartitionerSpec {
    /// Files hold consecutive offsets, one open at a time: `default`, and `Wallclock` (whose
    /// directory only moves forward).
    pub fn consecutive(&self) -> bool {
        match self {
            Self::Default => true,
            Self::Field(_) => false,
            Self::Time(t) => t.extractor == TimestampExtractor::Wallclock,
        }
    }
}

const HOURLY: &str = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";
const DAILY: &str = "'year'=YYYY/'month'=MM/'day'=dd";

impl SinkConfig {
    /// The partitioner these settings make, or the first setting that does not make one (its
    /// key under `sink.`).
    pub fn partitioner(&self) -> Result<PartitionerSpec, Problem> {
        let err = |key: &str, message: String| Problem::new(format!("sink.{key}"), message);
        let json_records = self.format() != FormatClass::ByteArray && self.value_converter == ValueConverter::Json;
        if self.max_open_files_per_partition == 0 {
            return Err(err("max.open.files.per.partition", "must be at least 1".into()));
        }
        let (format, duration_ms) = match self.partitioner_class {
            PartitionerClass::Default => return Ok(PartitionerSpec::Default),
            PartitionerClass::Field => {
                let fields = self.partition_field_name.clone().unwrap_or_default().0;
                if fields.is_empty() {
                    let why = "partitioner.class = field needs the fields that name a directory, e.g. \"symbol\"";
                    return Err(err("partition.field.name", why.into()));
                }
                if !json_records {
                    let why = "field reads fields of JSON records: it needs value.converter = \"json\"";
                    return Err(err("partitioner.class", why.into()));
                }
                return Ok(PartitionerSpec::Field(fields));
            }
            PartitionerClass::Hourly => (fixed(HOURLY), 3_600_000),
            PartitionerClass::Daily => (fixed(DAILY), 86_400_000),
            PartitionerClass::Time => (
                self.path_format.clone().ok_or_else(|| {
                    err(
                        "path.format",
                        format!("partitioner.class = time needs it, e.g. \"{HOURLY}\""),
                    )
                })?,
                self.partition_duration_ms.ok_or_else(|| {
                    err(
                        "partition.duration.ms",
                        "partitioner.class = time needs it, e.g. 3600000".into(),
                    )
                })?,
            ),
        };
        if duration_ms <= 0 {
            return Err(err(
                "partition.duration.ms",
                format!("must be positive, got {duration_ms}"),
            ));
        }
        let field = match self.timestamp_extractor {
            TimestampExtractor::RecordField => {
                let f = self.timestamp_field.as_deref().unwrap_or("").trim();
                if f.is_empty() {
                    let why = "timestamp.extractor = RecordField needs the field holding the time";
                    return Err(err("timestamp.field", why.into()));
                }
                if !json_records {
                    let why = "RecordField reads a field of JSON records: it needs value.converter = \"json\"";
                    return Err(err("timestamp.extractor", why.into()));
                }
                f.to_owned()
            }
            _ => String::new(),
        };
        Ok(PartitionerSpec::Time(TimeSpec {
            format,
            duration_ms,
            extractor: self.timestamp_extractor,
            field,
            zone: self.timezone.0,
        }))
    }
}

/// A built-in pattern (it parses: its test says so).
fn fixed(pattern: &str) -> PathFormat {
    PathFormat::parse(pattern).unwrap_or_else(|_| unreachable!("the built-in pattern {pattern} parses"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_patterns_parse() {
        assert_eq!(fixed(HOURLY).as_str(), HOURLY);
        assert_eq!(fixed(DAILY).as_str(), DAILY);
    }

    #[test]
    fn each_bad_setting_is_named() {
        // A setting wrong on its own is refused as it is read; one that does not fit the
        // others when the partitioner is made. Either way the key is named.
        let field = |t: &str| {
            let key = match crate::config::parse_str(&format!("[sink]\n{t}")) {
                Ok(c) => c.sink.partitioner().unwrap_err().key,
                Err(parse) => parse.key,
            };
            key.strip_prefix("sink.").unwrap_or(&key).to_owned()
        };
        assert_eq!(field("\"partitioner.class\" = \"field\""), "partition.field.name");
        assert_eq!(
            field(
                "\"partitioner.class\" = \"field\"\n\"partition.field.name\" = \"s\"\n\"value.converter\" = \"bytes\""
            ),
            "partitioner.class"
        );
        assert_eq!(
            field("\"partitioner.class\" = \"time\"\n\"partition.duration.ms\" = 1"),
            "path.format"
        );
        assert_eq!(
            field("\"partitioner.class\" = \"time\"\n\"path.format\" = \"HH\""),
            "partition.duration.ms"
        );
        assert_eq!(
            field("\"partitioner.class\" = \"time\"\n\"path.format\" = \"HH\"\n\"partition.duration.ms\" = 0"),
            "partition.duration.ms"
        );
        assert_eq!(
            field("\"partitioner.class\" = \"hourly\"\ntimezone = \"Mars/Olympus\""),
            "timezone"
        );
        assert_eq!(
            field("\"partitioner.class\" = \"hourly\"\n\"timestamp.extractor\" = \"RecordField\""),
            "timestamp.field"
        );
        assert_eq!(
            field("\"max.open.files.per.partition\" = 0"),
            "max.open.files.per.partition"
        );
        assert_eq!(field("\"path.format\" = \"'month'=MMM\""), "path.format");
    }

    #[test]
    fn confluent_class_names_are_aliases() {
        let p = |s: &str| PartitionerClass::try_from(s.to_owned());
        assert_eq!(
            p("io.confluent.connect.storage.partitioner.HourlyPartitioner"),
            Ok(PartitionerClass::Hourly)
        );
        assert_eq!(p("field"), Ok(PartitionerClass::Field));
        assert!(p("Weekly").unwrap_err().contains("default, field, time"));
        let e = |s: &str| TimestampExtractor::try_from(s.to_owned());
        assert_eq!(e("RecordField"), Ok(TimestampExtractor::RecordField));
        assert_eq!(
            e("io.confluent.connect.storage.partitioner.TimeBasedPartitioner$WallclockTimestampExtractor"),
            Ok(TimestampExtractor::Wallclock)
        );
        assert!(e("Kafka").is_err());
    }
}
