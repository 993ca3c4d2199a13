//! `[sink]`'s partitioners: Confluent's `partitioner.class` and `timestamp.extractor` (their
//! class names accepted as aliases). What they do is [`crate::partitioner`].

use serde::Deserialize;

/// `partitioner.class`: which directory under `<topics.dir>/<topic>/` a record's file goes to.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
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

/// `timestamp.extractor`: whose time a time partitioner files a record under.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub enum TimestampExtractor {
    /// The Kafka record's timestamp (default here; Confluent's default is Wallclock, which
    /// cannot keep exactly once: see the README).
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

#[cfg(test)]
mod tests {
    use super::*;

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
