//! A top-level field of an Avro record as the partitioners read it: strings, enums, numbers and
//! booleans as JSON values; a timestamp (any logical timestamp, or `date`) as epoch
//! milliseconds; a union as the value it holds.

use apache_avro::types::Value;

use super::json::{self, Style};
use super::WriterSchema;

/// The field `name` of `record` (`None`: not a record, or no such field).
pub fn field(record: &Value, schema: &WriterSchema, name: &str) -> Option<serde_json::Value> {
    let Value::Record(fields) = unwrap(record) else {
        return None;
    };
    let i = fields.iter().position(|(n, _)| n == name)?;
    let at = match schema.deref(schema.schema()) {
        apache_avro::Schema::Record(r) => r.fields.get(i).map(|f| &f.schema),
        _ => None,
    };
    Some(as_json(&fields[i].1, at, schema))
}

fn unwrap(v: &Value) -> &Value {
    match v {
        Value::Union(_, inner) => unwrap(inner),
        other => other,
    }
}

fn as_json(v: &Value, at: Option<&apache_avro::Schema>, schema: &WriterSchema) -> serde_json::Value {
    use serde_json::Value as J;
    match unwrap(v) {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Int(n) | Value::TimeMillis(n) => J::from(*n),
        Value::Long(n) | Value::TimeMicros(n) => J::from(*n),
        Value::TimestampMillis(n) | Value::LocalTimestampMillis(n) => J::from(*n),
        Value::TimestampMicros(n) | Value::LocalTimestampMicros(n) => J::from(n.div_euclid(1_000)),
        Value::TimestampNanos(n) | Value::LocalTimestampNanos(n) => J::from(n.div_euclid(1_000_000)),
        Value::Date(days) => J::from(i64::from(*days) * 86_400_000),
        Value::Float(f) => serde_json::Number::from_f64(f64::from(*f)).map_or(J::Null, J::Number),
        Value::Double(d) => serde_json::Number::from_f64(*d).map_or(J::Null, J::Number),
        Value::String(s) | Value::Enum(_, s) => J::String(s.clone()),
        Value::Uuid(u) => J::String(u.hyphenated().to_string()),
        _ => {
            // Composite values: as the JSON format writes them (the partitioners refuse them,
            // naming the value).
            let mut line = Vec::new();
            let at = at.unwrap_or(&apache_avro::Schema::Null);
            json::render_at(v, at, schema, Style::default(), &mut line);
            serde_json::from_slice(&line).unwrap_or(J::Null)
        }
    }
}
