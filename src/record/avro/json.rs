//! An Avro value as JSON, the way Kafka Connect's `JsonConverter` (`schemas.enable = false`)
//! writes what `AvroConverter` read, so a JSON file of Avro records holds what Confluent's
//! `JsonFormat` writes:
//! - records are objects of their fields in schema order; maps are objects (keys sorted, so
//!   the same record always makes the same bytes); arrays are arrays;
//! - `bytes` and `fixed` are base64 strings; enums are their symbol;
//! - a union with `null` is its value or `null`; any other union is an object with one field
//!   per non-null branch (named by its type: `int`, `string`, a record's name, …), the branch
//!   taken holding the value and the others `null` (Connect's union struct);
//! - logical types are their underlying numbers (`date`: days, `time-millis`: ms,
//!   `timestamp-millis`: epoch ms, `timestamp-micros`: epoch µs), except `decimal`: base64 of
//!   the unscaled value's two's-complement bytes (`json.decimal.format = BASE64`), or a plain
//!   number (`NUMERIC`); and `uuid`, a string.
//!
//! The same rendering, with unions as `member0`, `member1`, … (parquet-avro's names), is how
//! a Parquet file written from Avro reads back, so both compare with the records they hold.

use std::io::Write;

use apache_avro::schema::UnionSchema;
use apache_avro::types::Value;
use apache_avro::Schema;
use base64::Engine;

use super::WriterSchema;

/// `json.decimal.format`: how decimals are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DecimalFormat {
    /// Base64 of the unscaled value's big-endian two's-complement bytes (Connect's default).
    #[default]
    Base64,
    /// A JSON number with the schema's scale.
    Numeric,
}

/// How a union with several non-null branches is named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unions {
    /// By each branch's type (Connect's union struct).
    #[default]
    ByType,
    /// `member0`, `member1`, … (parquet-avro's group).
    Members,
}

/// How values are rendered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub decimals: DecimalFormat,
    pub unions: Unions,
}

/// Appends `value` (of `schema`'s root type) to `out` as one line of JSON, without a newline.
pub fn render(value: &Value, schema: &WriterSchema, style: Style, out: &mut Vec<u8>) {
    Renderer { schema, style }.value(value, schema.schema(), out);
}

/// Appends `value`, of type `at` (a type within `schema`), to `out`.
pub fn render_at(value: &Value, at: &Schema, schema: &WriterSchema, style: Style, out: &mut Vec<u8>) {
    Renderer { schema, style }.value(value, at, out);
}

/// `value` as one line of JSON.
pub fn to_line(value: &Value, schema: &WriterSchema, style: Style) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    render(value, schema, style, &mut out);
    out
}

struct Renderer<'a> {
    schema: &'a WriterSchema,
    style: Style,
}

impl Renderer<'_> {
    fn value(&self, value: &Value, schema: &Schema, out: &mut Vec<u8>) {
        let schema = self.schema.deref(schema);
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(n) | Value::Date(n) | Value::TimeMillis(n) => integer(i64::from(*n), out),
            Value::Long(n)
            | Value::TimeMicros(n)
            | Value::TimestampMillis(n)
            | Value::TimestampMicros(n)
            | Value::TimestampNanos(n)
            | Value::LocalTimestampMillis(n)
            | Value::LocalTimestampMicros(n)
            | Value::LocalTimestampNanos(n) => integer(*n, out),
            Value::Float(f) => float(f64::from(*f), *f, out),
            Value::Double(d) => float(*d, *d, out),
            Value::Bytes(b) | Value::Fixed(_, b) => base64(b, out),
            Value::String(s) | Value::Enum(_, s) => string(s, out),
            Value::Uuid(u) => string(&u.hyphenated().to_string(), out),
            Value::Duration(d) => base64(&<[u8; 12]>::from(*d), out),
            Value::Decimal(d) => {
                let bytes = <Vec<u8>>::try_from(d).unwrap_or_default();
                let scale = match schema {
                    Schema::Decimal(s) => s.scale,
                    _ => 0,
                };
                decimal(&minimal(&bytes), scale, self.style.decimals, out);
            }
            Value::BigDecimal(b) => string(&b.to_string(), out),
            Value::Array(_) | Value::Map(_) | Value::Record(_) => self.container(value, schema, out),
            Value::Union(index, inner) => match schema {
                Schema::Union(u) => self.union(u, *index as usize, inner, out),
                other => self.value(inner, other, out),
            },
        }
    }

    /// Arrays, maps (keys sorted) and records (fields in schema order).
    fn container(&self, value: &Value, schema: &Schema, out: &mut Vec<u8>) {
        match value {
            Value::Array(items) => {
                let item = match schema {
                    Schema::Array(a) => &*a.items,
                    other => other,
                };
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.value(v, item, out);
                }
                out.push(b']');
            }
            Value::Map(entries) => {
                let item = match schema {
                    Schema::Map(m) => &*m.types,
                    other => other,
                };
                let mut keys: Vec<&String> = entries.keys().collect();
                keys.sort_unstable();
                out.push(b'{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    string(k, out);
                    out.push(b':');
                    self.value(&entries[k], item, out);
                }
                out.push(b'}');
            }
            Value::Record(fields) => {
                let schemas = match schema {
                    Schema::Record(r) => Some(&r.fields),
                    _ => None,
                };
                out.push(b'{');
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    string(name, out);
                    out.push(b':');
                    let field = schemas.and_then(|f| f.get(i)).map_or(&Schema::Null, |f| &f.schema);
                    self.value(v, field, out);
                }
                out.push(b'}');
            }
            _ => {}
        }
    }

    fn union(&self, u: &UnionSchema, index: usize, inner: &Value, out: &mut Vec<u8>) {
        let branches = u.variants();
        let branch = branches.get(index).unwrap_or(&Schema::Null);
        let non_null: Vec<(usize, &Schema)> = branches
            .iter()
            .enumerate()
            .filter(|(_, s)| !matches!(s, Schema::Null))
            .collect();
        if matches!(branch, Schema::Null) || matches!(inner, Value::Null) && non_null.len() <= 1 {
            out.extend_from_slice(b"null");
            return;
        }
        if non_null.len() == 1 {
            self.value(inner, branch, out);
            return;
        }
        out.push(b'{');
        for (n, (i, s)) in non_null.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            match self.style.unions {
                Unions::ByType => string(&self.branch_name(s), out),
                Unions::Members => string(&format!("member{n}"), out),
            }
            out.push(b':');
            match *i == index {
                true => self.value(inner, s, out),
                false => out.extend_from_slice(b"null"),
            }
        }
        out.push(b'}');
    }

    /// Connect's name for a union branch: a named type's name, else its Avro type.
    fn branch_name(&self, schema: &Schema) -> String {
        branch_name(self.schema.deref(schema))
    }
}

/// Connect's name for a union branch of `schema` (already dereferenced).
pub fn branch_name(schema: &Schema) -> String {
    let named = |n: &apache_avro::schema::Name| n.name().to_owned();
    match schema {
        Schema::Record(r) => named(&r.name),
        Schema::Enum(e) => named(&e.name),
        Schema::Fixed(f) | Schema::Duration(f) => named(&f.name),
        Schema::Ref { name } => named(name),
        Schema::Decimal(d) => match &d.inner {
            apache_avro::schema::InnerDecimalSchema::Fixed(f) => named(&f.name),
            apache_avro::schema::InnerDecimalSchema::Bytes => "bytes".into(),
        },
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int | Schema::Date | Schema::TimeMillis => "int".into(),
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes | Schema::BigDecimal => "bytes".into(),
        Schema::String | Schema::Uuid(_) => "string".into(),
        Schema::Array(_) => "array".into(),
        Schema::Map(_) => "map".into(),
        Schema::Union(_) => "union".into(),
    }
}

fn integer(n: i64, out: &mut Vec<u8>) {
    let _ = write!(out, "{n}");
}

/// A finite float as the shortest text that reads back as it (`f32` as an `f32`); NaN and the
/// infinities, which JSON cannot write, as `null`.
fn float<T: serde::Serialize>(check: f64, f: T, out: &mut Vec<u8>) {
    match check.is_finite() {
        true => {
            let _ = serde_json::to_writer(&mut *out, &f);
        }
        false => out.extend_from_slice(b"null"),
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn base64(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes());
    out.push(b'"');
}

/// Two's-complement bytes without redundant sign bytes (Java's `BigInteger.toByteArray`).
pub fn minimal(bytes: &[u8]) -> Vec<u8> {
    let mut start = 0;
    while start + 1 < bytes.len() {
        let (b, next) = (bytes[start], bytes[start + 1]);
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    match bytes.is_empty() {
        true => vec![0],
        false => bytes[start..].to_vec(),
    }
}

fn decimal(unscaled: &[u8], scale: usize, format: DecimalFormat, out: &mut Vec<u8>) {
    if format == DecimalFormat::Base64 || unscaled.len() > 16 {
        return base64(unscaled, out);
    }
    let negative = unscaled[0] & 0x80 != 0;
    let mut full = [if negative { 0xff } else { 0 }; 16];
    full[16 - unscaled.len()..].copy_from_slice(unscaled);
    let n = i128::from_be_bytes(full);
    let digits = n.unsigned_abs().to_string();
    if negative {
        out.push(b'-');
    }
    match scale {
        0 => out.extend_from_slice(digits.as_bytes()),
        s if digits.len() > s => {
            let (int, frac) = digits.split_at(digits.len() - s);
            let _ = write!(out, "{int}.{frac}");
        }
        s => {
            let _ = write!(out, "0.{}{digits}", "0".repeat(s - digits.len()));
        }
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
