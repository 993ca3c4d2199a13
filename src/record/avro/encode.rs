//! A value written back as an Avro binary datum (a record projected onto another schema, or an
//! envelope's payload, going into an Avro file). Deterministic: a map's entries are written in
//! key order, so the same record always makes the same bytes.

use apache_avro::schema::{InnerDecimalSchema, UuidSchema};
use apache_avro::types::Value;
use apache_avro::Schema;

use super::WriterSchema;

/// Appends `value`, of `schema`'s root type, to `out`.
pub fn encode(value: &Value, schema: &WriterSchema, out: &mut Vec<u8>) -> Result<(), String> {
    Encoder { schema }.value(value, schema.schema(), out)
}

struct Encoder<'a> {
    schema: &'a WriterSchema,
}

impl Encoder<'_> {
    fn value(&self, value: &Value, schema: &Schema, out: &mut Vec<u8>) -> Result<(), String> {
        let schema = self.schema.deref(schema);
        match (value, schema) {
            (Value::Null, _) => {}
            (Value::Boolean(b), _) => out.push(u8::from(*b)),
            (Value::Int(n) | Value::Date(n) | Value::TimeMillis(n), _) => long(i64::from(*n), out),
            (
                Value::Long(n)
                | Value::TimeMicros(n)
                | Value::TimestampMillis(n)
                | Value::TimestampMicros(n)
                | Value::TimestampNanos(n)
                | Value::LocalTimestampMillis(n)
                | Value::LocalTimestampMicros(n)
                | Value::LocalTimestampNanos(n),
                _,
            ) => long(*n, out),
            (Value::Float(f), _) => out.extend_from_slice(&f.to_le_bytes()),
            (Value::Double(d), _) => out.extend_from_slice(&d.to_le_bytes()),
            (Value::Bytes(b), Schema::Fixed(_)) => out.extend_from_slice(b),
            (Value::Bytes(b), _) => bytes(b, out),
            (Value::String(s), _) => bytes(s.as_bytes(), out),
            (Value::Fixed(_, b), _) => out.extend_from_slice(b),
            (Value::Enum(i, _), _) => long(i64::from(*i), out),
            (Value::Uuid(u), Schema::Uuid(UuidSchema::Fixed(_))) => out.extend_from_slice(u.as_bytes()),
            (Value::Uuid(u), Schema::Uuid(UuidSchema::Bytes)) => bytes(u.as_bytes(), out),
            (Value::Uuid(u), _) => bytes(u.hyphenated().to_string().as_bytes(), out),
            (Value::Duration(d), _) => out.extend_from_slice(&<[u8; 12]>::from(*d)),
            (Value::Decimal(_) | Value::Union(..) | Value::Array(_) | Value::Map(_) | Value::Record(_), _) => {
                return self.composite(value, schema, out)
            }
            (other, schema) => return Err(mismatch(other, schema)),
        }
        Ok(())
    }

    /// Decimals, unions, arrays, maps and records.
    fn composite(&self, value: &Value, schema: &Schema, out: &mut Vec<u8>) -> Result<(), String> {
        match (value, schema) {
            (Value::Decimal(d), Schema::Decimal(s)) => {
                let raw = <Vec<u8>>::try_from(d).map_err(|e| e.to_string())?;
                match &s.inner {
                    InnerDecimalSchema::Bytes => bytes(&raw, out),
                    InnerDecimalSchema::Fixed(f) => {
                        let minimal = super::json::minimal(&raw);
                        let pad = f
                            .size
                            .checked_sub(minimal.len())
                            .ok_or_else(|| format!("a decimal of {} bytes in fixed({})", minimal.len(), f.size))?;
                        let sign = if minimal[0] & 0x80 != 0 { 0xff } else { 0 };
                        out.extend(std::iter::repeat_n(sign, pad));
                        out.extend_from_slice(&minimal);
                    }
                }
            }
            (Value::Union(i, inner), Schema::Union(u)) => {
                let branch = u
                    .variants()
                    .get(*i as usize)
                    .ok_or_else(|| format!("union branch {i} of {}", u.variants().len()))?;
                long(i64::from(*i), out);
                self.value(inner, branch, out)?;
            }
            (Value::Array(items), Schema::Array(a)) => {
                if !items.is_empty() {
                    long(items.len() as i64, out);
                    for v in items {
                        self.value(v, &a.items, out)?;
                    }
                }
                out.push(0);
            }
            (Value::Map(entries), Schema::Map(m)) => {
                if !entries.is_empty() {
                    long(entries.len() as i64, out);
                    let mut keys: Vec<&String> = entries.keys().collect();
                    keys.sort_unstable();
                    for k in keys {
                        bytes(k.as_bytes(), out);
                        self.value(&entries[k], &m.types, out)?;
                    }
                }
                out.push(0);
            }
            (Value::Record(fields), Schema::Record(r)) => {
                if fields.len() != r.fields.len() {
                    return Err(format!(
                        "a record of {} fields for {} ({} fields)",
                        fields.len(),
                        r.name.fullname(None),
                        r.fields.len()
                    ));
                }
                for ((_, v), f) in fields.iter().zip(&r.fields) {
                    self.value(v, &f.schema, out)?;
                }
            }
            (other, schema) => return Err(mismatch(other, schema)),
        }
        Ok(())
    }
}

/// Avro's `long`: zig-zag, then 7 bits a byte, low first.
pub fn long(n: i64, out: &mut Vec<u8>) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    long(b.len() as i64, out);
    out.extend_from_slice(b);
}

/// Why `value` cannot be encoded with `schema`: their kinds.
fn mismatch(value: &Value, schema: &Schema) -> String {
    format!(
        "a value of kind {:?} for a schema of kind {:?}",
        apache_avro::schema::SchemaKind::from(value),
        apache_avro::schema::SchemaKind::from(schema)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type": "record", "name": "T", "fields": [
      {"name": "s", "type": "string"}, {"name": "n", "type": "long"}, {"name": "f", "type": "float"},
      {"name": "u", "type": ["null", "int", "string"]},
      {"name": "d", "type": {"type": "fixed", "name": "D4", "size": 4, "logicalType": "decimal", "precision": 8, "scale": 2}},
      {"name": "a", "type": {"type": "array", "items": "boolean"}},
      {"name": "m", "type": {"type": "map", "values": "bytes"}},
      {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["X", "Y"]}}]}"#;

    fn value() -> Value {
        Value::Record(vec![
            ("s".into(), Value::String("é".into())),
            ("n".into(), Value::Long(-300)),
            ("f".into(), Value::Float(2.5)),
            ("u".into(), Value::Union(2, Box::new(Value::String("x".into())))),
            ("d".into(), Value::Decimal(vec![0xfe].into())),
            (
                "a".into(),
                Value::Array(vec![Value::Boolean(true), Value::Boolean(false)]),
            ),
            (
                "m".into(),
                Value::Map([("k".to_owned(), Value::Bytes(vec![1, 2]))].into()),
            ),
            ("e".into(), Value::Enum(1, "Y".into())),
        ])
    }

    #[test]
    fn a_value_encodes_as_the_avro_library_does_and_decodes_back() {
        let schema = WriterSchema::parse(None, SCHEMA, &[]).unwrap();
        let mut ours = Vec::new();
        encode(&value(), &schema, &mut ours).unwrap();
        #[allow(deprecated)]
        let theirs = apache_avro::to_avro_datum(schema.schema(), value()).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(schema.decode(&ours).unwrap(), value());
        // The fixed decimal is sign-extended to its size.
        assert!(ours.windows(4).any(|w| w == [0xff, 0xff, 0xff, 0xfe]));
    }

    #[test]
    fn longs_are_zig_zag_varints() {
        for (n, bytes) in [
            (0, vec![0]),
            (-1, vec![1]),
            (1, vec![2]),
            (-64, vec![127]),
            (64, vec![128, 1]),
        ] {
            let mut out = Vec::new();
            long(n, &mut out);
            assert_eq!(out, bytes, "{n}");
        }
    }

    #[test]
    fn a_value_of_another_shape_is_refused_not_written() {
        let schema = WriterSchema::parse(None, SCHEMA, &[]).unwrap();
        let e = encode(&Value::Record(vec![]), &schema, &mut Vec::new()).unwrap_err();
        assert!(e.contains("a record of 0 fields for T (8 fields)"), "{e}");
        assert!(schema.decode(&[0x02]).is_err());
    }
}
