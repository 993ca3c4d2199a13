//! `schema.compatibility`: whether a record joins a file of another schema, as Confluent's
//! storage connectors decide it.
//!
//! - `NONE`: a file holds one schema; a record of any other closes it.
//! - `BACKWARD` (and `FULL`): a record of a newer version than the file's closes it (the new
//!   file takes the newer schema); one of an older or the same version is projected onto the
//!   file's schema (Avro's schema resolution: fields matched by name, defaults for the missing).
//! - `FORWARD`: the other way round: an older version closes the file, a newer one is
//!   projected.
//!
//! Versions are the registry's, under the subject `value.subject.name.strategy` names (or an
//! envelope's `version`). Where a projection fails (the schemas were not compatible after all)
//! the file is closed instead, so no record is lost to it. A file's schema is its first
//! record's: the decision depends only on the records since the file opened, so a replay after
//! a crash cuts the same files.

use super::WriterSchema;
use crate::record::RecordError;

/// `schema.compatibility`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compatibility {
    #[default]
    None,
    Backward,
    Forward,
    Full,
}

/// `value.subject.name.strategy`: the subject a topic's value schemas are registered under.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SubjectNames {
    /// `<topic>-value`.
    #[default]
    TopicName,
    /// The record's full name.
    RecordName,
    /// `<topic>-<record full name>`.
    TopicRecordName,
}

impl SubjectNames {
    /// The subject of `schema`'s values in `topic`.
    pub fn subject(self, topic: &str, schema: &WriterSchema) -> String {
        let name = || schema.full_name().unwrap_or_default();
        match self {
            Self::TopicName => format!("{topic}-value"),
            Self::RecordName => name(),
            Self::TopicRecordName => format!("{topic}-{}", name()),
        }
    }
}

/// What to do with a record of another schema than its file's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The same schema: append it as it is.
    Same,
    /// Project it onto the file's schema and append it.
    Project,
    /// Close the file; the record opens the next one, of its own schema.
    Rotate,
}

/// Decides for a record of schema `record` arriving at a file of schema `file`, in `topic`.
pub fn decide(
    compatibility: Compatibility,
    subjects: SubjectNames,
    topic: &str,
    file: &WriterSchema,
    record: &WriterSchema,
) -> Result<Decision, RecordError> {
    if file.same_as(record) {
        return Ok(Decision::Same);
    }
    if compatibility == Compatibility::None || file.full_name() != record.full_name() {
        return Ok(Decision::Rotate);
    }
    let version = |s: &WriterSchema| {
        let subject = subjects.subject(topic, s);
        s.version(&subject).ok_or_else(|| RecordError::NoSchemaVersion {
            id: s.id,
            subject,
            compatibility: format!("{compatibility:?}").to_uppercase(),
        })
    };
    let (file_v, record_v) = (version(file)?, version(record)?);
    let rotate = match compatibility {
        Compatibility::Forward => record_v < file_v,
        _ => record_v > file_v,
    };
    Ok(if rotate { Decision::Rotate } else { Decision::Project })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(id: u32, fields: &str, version: i32) -> WriterSchema {
        let text = format!(r#"{{"type": "record", "name": "Quote", "namespace": "m", "fields": [{fields}]}}"#);
        WriterSchema::parse(Some(id), &text, &[])
            .unwrap()
            .with_versions(vec![("t-value".into(), version)])
    }

    const V1: &str = r#"{"name": "a", "type": "long"}"#;
    const V2: &str = r#"{"name": "a", "type": "long"}, {"name": "b", "type": "string", "default": "-"}"#;
    /// A price in three bytes, of a precision that could need eight.
    const PRICED: &str =
        r#"{"name": "p", "type": {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 6}}"#;

    #[test]
    fn none_rotates_at_any_change_and_backward_only_at_a_newer_version() {
        let (v1, v2, v1_again) = (schema(1, V1, 1), schema(2, V2, 2), schema(1, V1, 1));
        let d =
            |c, file: &WriterSchema, rec: &WriterSchema| decide(c, SubjectNames::TopicName, "t", file, rec).unwrap();
        assert_eq!(d(Compatibility::None, &v1, &v1_again), Decision::Same);
        assert_eq!(d(Compatibility::None, &v2, &v1), Decision::Rotate);
        assert_eq!(d(Compatibility::Backward, &v1, &v2), Decision::Rotate);
        assert_eq!(d(Compatibility::Backward, &v2, &v1), Decision::Project);
        assert_eq!(d(Compatibility::Full, &v2, &v1), Decision::Project);
        assert_eq!(d(Compatibility::Forward, &v2, &v1), Decision::Rotate);
        assert_eq!(d(Compatibility::Forward, &v1, &v2), Decision::Project);
    }

    #[test]
    fn a_projection_fills_the_newer_schemas_defaults() {
        let (v1, v2) = (schema(1, V1, 1), schema(2, V2, 2));
        use apache_avro::types::Value;
        let record = super::super::AvroRecord {
            schema: std::sync::Arc::new(v1),
            datum: None,
            value: Value::Record(vec![("a".into(), Value::Long(21))]),
        };
        let projected = record.project(&std::sync::Arc::new(v2)).unwrap();
        assert_eq!(
            projected.value,
            Value::Record(vec![
                ("a".into(), Value::Long(21)),
                ("b".into(), Value::String("-".into()))
            ])
        );
    }

    #[test]
    fn a_small_decimal_of_a_large_precision_projects_to_the_same_value() {
        use apache_avro::types::Value;
        let (v1, v2) = (
            schema(1, PRICED, 1),
            schema(
                2,
                &format!(r#"{PRICED}, {{"name": "b", "type": "string", "default": "-"}}"#),
                2,
            ),
        );
        let record = super::super::AvroRecord {
            schema: std::sync::Arc::new(v1),
            datum: None,
            value: Value::Record(vec![("p".into(), Value::Decimal(vec![0x01, 0xe2, 0x40].into()))]),
        };
        let projected = record.project(&std::sync::Arc::new(v2)).expect("projects");
        let Value::Record(fields) = &projected.value else {
            panic!()
        };
        assert_eq!(fields[0].1, Value::Decimal(vec![0x01, 0xe2, 0x40].into()));
        assert_eq!(fields[1].1, Value::String("-".into()));
    }

    #[test]
    fn a_version_missing_under_the_subject_is_named() {
        let (v1, v2) = (schema(1, V1, 1), schema(2, V2, 2));
        let e = decide(Compatibility::Backward, SubjectNames::RecordName, "t", &v2, &v1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "schema.compatibility = BACKWARD needs the schema's version under subject \"m.Quote\", and schema id 2 has none there"
        );
        assert_eq!(SubjectNames::TopicRecordName.subject("t", &v1), "t-m.Quote");
    }
}
