//! Kafka Connect's `JsonConverter` envelope (`value.converter.schemas.enable = true`):
//! `{"schema": {...}, "payload": ...}`. The schema becomes the Avro schema Confluent's
//! `AvroData` makes of it, and the payload a value of that schema, so an envelope's record is
//! written (typed Parquet columns, an Avro file, JSON) exactly as an Avro record would be.
//!
//! Connect types: `int8`/`int16`/`int32` → `int`, `int64` → `long`, `float32` → `float`,
//! `float64` → `double`, `boolean`, `string`, `bytes` (base64 in the payload), `array`,
//! `map` (string keys → `map`; other keys → an array of `{key, value}` records), `struct` →
//! `record` (its `name`, or `ConnectDefault`, `ConnectDefault2`, …); `optional` → a union
//! with `null` (default `null`). Logical: `Decimal` → `decimal` (`scale` parameter; precision
//! `connect.decimal.precision`, else 64), `Date` → `date`, `Time` → `time-millis`,
//! `Timestamp` → `timestamp-millis`.

use std::collections::HashMap;

use apache_avro::types::Value;
use apache_avro::Schema;
use base64::Engine;
use serde_json::{json, Value as J};

use super::WriterSchema;

const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
const DATE: &str = "org.apache.kafka.connect.data.Date";
const TIME: &str = "org.apache.kafka.connect.data.Time";
const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";

/// The Avro schema of an envelope's Connect schema, with the envelope's `version`.
pub fn schema(connect: &J) -> Result<WriterSchema, String> {
    let mut names = Names::default();
    let avro = to_avro(connect, &mut names, "schema")?;
    let schema = Schema::parse(&avro).map_err(|e| format!("schema: not one Avro can take: {e}"))?;
    let version = connect
        .get("version")
        .and_then(J::as_i64)
        .and_then(|v| i32::try_from(v).ok());
    Ok(WriterSchema::from_schema(None, schema)
        .map_err(|e| format!("schema: {e}"))?
        .with_version(version))
}

/// Names given to unnamed structs, as Connect's `AvroData` numbers them.
#[derive(Default)]
struct Names(u32);

impl Names {
    fn next(&mut self) -> String {
        self.0 += 1;
        match self.0 {
            1 => "ConnectDefault".into(),
            n => format!("ConnectDefault{n}"),
        }
    }
}

fn to_avro(s: &J, names: &mut Names, at: &str) -> Result<J, String> {
    let kind = s
        .get("type")
        .and_then(J::as_str)
        .ok_or_else(|| format!("{at}: no \"type\""))?;
    let name = s.get("name").and_then(J::as_str);
    let base = match (kind, name) {
        ("bytes", Some(DECIMAL)) => {
            let param = |k: &str| {
                s.pointer(&format!("/parameters/{k}"))
                    .and_then(|v| v.as_str().and_then(|t| t.parse::<u64>().ok()).or(v.as_u64()))
            };
            let scale = param("scale").ok_or_else(|| format!("{at}: Decimal without a scale parameter"))?;
            let precision = param("connect.decimal.precision").unwrap_or(64);
            json!({"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale})
        }
        ("int32", Some(DATE)) => json!({"type": "int", "logicalType": "date"}),
        ("int32", Some(TIME)) => json!({"type": "int", "logicalType": "time-millis"}),
        ("int64", Some(TIMESTAMP)) => json!({"type": "long", "logicalType": "timestamp-millis"}),
        ("int8" | "int16" | "int32", _) => json!("int"),
        ("int64", _) => json!("long"),
        ("float32", _) => json!("float"),
        ("float64", _) => json!("double"),
        ("boolean" | "string" | "bytes", _) => json!(kind),
        ("array", _) => {
            let items = s.get("items").ok_or_else(|| format!("{at}: array without \"items\""))?;
            json!({"type": "array", "items": to_avro(items, names, &format!("{at}.items"))?})
        }
        ("map", _) => {
            let keys = s.get("keys").ok_or_else(|| format!("{at}: map without \"keys\""))?;
            let values = s.get("values").ok_or_else(|| format!("{at}: map without \"values\""))?;
            let values = to_avro(values, names, &format!("{at}.values"))?;
            match keys.get("type").and_then(J::as_str) == Some("string") && keys.get("optional") != Some(&J::Bool(true))
            {
                true => json!({"type": "map", "values": values}),
                false => {
                    let keys = to_avro(keys, names, &format!("{at}.keys"))?;
                    json!({"type": "array", "items": {"type": "record", "name": names.next(), "fields": [
                        {"name": "key", "type": keys}, {"name": "value", "type": values}]}})
                }
            }
        }
        ("struct", _) => {
            let fields = s
                .get("fields")
                .and_then(J::as_array)
                .ok_or_else(|| format!("{at}: struct without \"fields\""))?;
            let record_name = name.map_or_else(|| names.next(), str::to_owned);
            let mut out = Vec::with_capacity(fields.len());
            for f in fields {
                let field = f
                    .get("field")
                    .and_then(J::as_str)
                    .ok_or_else(|| format!("{at}: a field without \"field\""))?;
                let mut avro = json!({"name": field, "type": to_avro(f, names, &format!("{at}.{field}"))?});
                if optional(f) {
                    avro["default"] = J::Null;
                }
                out.push(avro);
            }
            json!({"type": "record", "name": record_name, "fields": out})
        }
        (other, _) => return Err(format!("{at}: type {other:?} is not a Connect type")),
    };
    Ok(match optional(s) {
        true => json!(["null", base]),
        false => base,
    })
}

fn optional(s: &J) -> bool {
    s.get("optional").and_then(J::as_bool).unwrap_or(false)
}

/// The payload as a value of `schema` (made by [`schema`]).
pub fn payload(payload: &J, schema: &WriterSchema) -> Result<Value, String> {
    value(payload, schema.schema(), schema, "payload")
}

fn value(p: &J, s: &Schema, root: &WriterSchema, at: &str) -> Result<Value, String> {
    let wrong = |what: &str| format!("{at}: {} is not {what}", cut(p));
    let s = root.deref(s);
    Ok(match (s, p) {
        (Schema::Union(u), _) => {
            let null = u.variants().iter().position(|v| matches!(v, Schema::Null));
            match (p, null) {
                (J::Null, Some(i)) => Value::Union(i as u32, Box::new(Value::Null)),
                _ => {
                    let (i, branch) = u
                        .variants()
                        .iter()
                        .enumerate()
                        .find(|(_, v)| !matches!(v, Schema::Null))
                        .ok_or_else(|| wrong("null"))?;
                    Value::Union(i as u32, Box::new(value(p, branch, root, at)?))
                }
            }
        }
        (_, J::Null) => return Err(format!("{at}: null, but the field is not optional")),
        (Schema::Boolean, J::Bool(b)) => Value::Boolean(*b),
        (Schema::Int, _) => Value::Int(int(p).ok_or_else(|| wrong("a 32-bit integer"))?),
        (Schema::Date, _) => Value::Date(int(p).ok_or_else(|| wrong("a date (days)"))?),
        (Schema::TimeMillis, _) => Value::TimeMillis(int(p).ok_or_else(|| wrong("a time (ms)"))?),
        (Schema::Long, _) => Value::Long(p.as_i64().ok_or_else(|| wrong("an integer"))?),
        (Schema::TimestampMillis, _) => Value::TimestampMillis(p.as_i64().ok_or_else(|| wrong("a timestamp (ms)"))?),
        (Schema::Float, _) => Value::Float(p.as_f64().ok_or_else(|| wrong("a number"))? as f32),
        (Schema::Double, _) => Value::Double(p.as_f64().ok_or_else(|| wrong("a number"))?),
        (Schema::String, J::String(t)) => Value::String(t.clone()),
        (Schema::Bytes, J::String(t)) => Value::Bytes(unbase64(t).ok_or_else(|| wrong("base64"))?),
        (Schema::Decimal(_), J::String(t)) => {
            Value::Decimal(unbase64(t).ok_or_else(|| wrong("a base64 decimal"))?.into())
        }
        (Schema::Decimal(d), J::Number(n)) => Value::Decimal(
            unscaled(&n.to_string(), d.scale)
                .ok_or_else(|| wrong("a decimal"))?
                .into(),
        ),
        (Schema::Array(a), J::Array(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| value(v, &a.items, root, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        (Schema::Map(m), J::Object(o)) => Value::Map(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), value(v, &m.types, root, &format!("{at}.{k}"))?)))
                .collect::<Result<HashMap<_, _>, String>>()?,
        ),
        (Schema::Record(r), J::Object(o)) => Value::Record(
            r.fields
                .iter()
                .map(|f| {
                    let v = o.get(&f.name).unwrap_or(&J::Null);
                    Ok((f.name.clone(), value(v, &f.schema, root, &format!("{at}.{}", f.name))?))
                })
                .collect::<Result<_, String>>()?,
        ),
        // A map with non-string keys: Connect writes it as an array of [key, value] pairs.
        (Schema::Record(r), J::Array(pair)) if pair.len() == 2 && r.fields.len() == 2 => Value::Record(vec![
            (
                "key".into(),
                value(&pair[0], &r.fields[0].schema, root, &format!("{at}.key"))?,
            ),
            (
                "value".into(),
                value(&pair[1], &r.fields[1].schema, root, &format!("{at}.value"))?,
            ),
        ]),
        (Schema::Boolean, _) => return Err(wrong("a boolean")),
        (Schema::String, _) => return Err(wrong("a string")),
        (Schema::Bytes, _) => return Err(wrong("base64 bytes")),
        (Schema::Array(_), _) => return Err(wrong("an array")),
        (Schema::Map(_) | Schema::Record(_), _) => return Err(wrong("an object")),
        (other, _) => return Err(format!("{at}: schema {other:?} is not one an envelope makes")),
    })
}

fn int(p: &J) -> Option<i32> {
    p.as_i64().and_then(|n| i32::try_from(n).ok())
}

fn unbase64(t: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(t).ok()
}

/// A decimal number's text as its unscaled value's two's-complement bytes at `scale`.
fn unscaled(text: &str, scale: usize) -> Option<Vec<u8>> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if frac.len() > scale || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let all = format!("{int}{frac}{}", "0".repeat(scale - frac.len()));
    let n: i128 = all.parse().ok()?;
    let n = if neg { -n } else { n };
    Some(super::json::minimal(&n.to_be_bytes()))
}

fn cut(v: &J) -> String {
    let text = v.to_string();
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
