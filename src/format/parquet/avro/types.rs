//! The Arrow (and so Parquet) types of an Avro schema, as parquet-avro gives them.

use std::sync::Arc;

use apache_avro::schema::{Schema, UnionSchema};
use arrow_schema::{DataType, Field, Fields, Schema as ArrowSchema, SchemaRef, TimeUnit};

use crate::record::avro::WriterSchema;
use crate::record::RecordError;

/// The file metadata key parquet-avro keeps the Avro schema under.
pub const AVRO_SCHEMA_KEY: &str = "parquet.avro.schema";

/// The Arrow schema of records of `schema`: one field per field of its record, or why it has
/// none (not a record, or a type that refers to itself).
pub fn arrow_schema(schema: &WriterSchema) -> Result<SchemaRef, RecordError> {
    let no = |why: String| RecordError::NoParquetColumns(why);
    let Schema::Record(r) = schema.deref(schema.schema()) else {
        return Err(no(format!(
            "schema {} is not a record",
            schema.id.map_or("of the envelope".to_owned(), |i| format!("id {i}"))
        )));
    };
    let mut seen = vec![r.name.fullname(None)];
    let fields = r
        .fields
        .iter()
        .map(|f| field(&f.name, &f.schema, schema, &mut seen))
        .collect::<Result<Vec<_>, _>>()
        .map_err(no)?;
    Ok(Arc::new(ArrowSchema::new(fields)))
}

fn field(name: &str, s: &Schema, ws: &WriterSchema, seen: &mut Vec<String>) -> Result<Field, String> {
    let (t, nullable) = data_type(s, ws, seen)?;
    Ok(Field::new(name, t, nullable))
}

/// The non-null branches of a union, and whether it has a null one.
pub(super) fn branches(u: &UnionSchema) -> (Vec<(usize, &Schema)>, bool) {
    let all = u.variants();
    let non_null = all
        .iter()
        .enumerate()
        .filter(|(_, s)| !matches!(s, Schema::Null))
        .collect();
    (non_null, all.iter().any(|s| matches!(s, Schema::Null)))
}

fn data_type(s: &Schema, ws: &WriterSchema, seen: &mut Vec<String>) -> Result<(DataType, bool), String> {
    let named = |n: &apache_avro::schema::Name| n.fullname(None);
    if let Schema::Ref { name } = s {
        let full = named(name);
        if seen.contains(&full) {
            return Err(format!(
                "type {full} refers to itself: Parquet columns cannot nest without end"
            ));
        }
    }
    let s = ws.deref(s);
    let ts = |unit, utc: bool| DataType::Timestamp(unit, utc.then(|| "UTC".into()));
    let t = match s {
        Schema::Null => return Ok((DataType::Null, true)),
        Schema::Boolean => DataType::Boolean,
        Schema::Int => DataType::Int32,
        Schema::Long => DataType::Int64,
        Schema::Float => DataType::Float32,
        Schema::Double => DataType::Float64,
        Schema::Bytes => DataType::Binary,
        Schema::String | Schema::Enum(_) | Schema::Uuid(_) | Schema::BigDecimal => DataType::Utf8,
        Schema::Fixed(f) | Schema::Duration(f) => DataType::FixedSizeBinary(f.size as i32),
        Schema::Date => DataType::Date32,
        Schema::TimeMillis => DataType::Time32(TimeUnit::Millisecond),
        Schema::TimeMicros => DataType::Time64(TimeUnit::Microsecond),
        Schema::TimestampMillis => ts(TimeUnit::Millisecond, true),
        Schema::TimestampMicros => ts(TimeUnit::Microsecond, true),
        Schema::TimestampNanos => ts(TimeUnit::Nanosecond, true),
        Schema::LocalTimestampMillis => ts(TimeUnit::Millisecond, false),
        Schema::LocalTimestampMicros => ts(TimeUnit::Microsecond, false),
        Schema::LocalTimestampNanos => ts(TimeUnit::Nanosecond, false),
        Schema::Decimal(d) if d.precision <= 38 => DataType::Decimal128(d.precision as u8, d.scale as i8),
        Schema::Decimal(d) if d.precision <= 76 => DataType::Decimal256(d.precision as u8, d.scale as i8),
        Schema::Decimal(d) => {
            return Err(format!(
                "a decimal of precision {} (Parquet holds up to 76)",
                d.precision
            ))
        }
        Schema::Array(a) => DataType::List(Arc::new(field("element", &a.items, ws, seen)?)),
        Schema::Map(m) => {
            let value = field("value", &m.types, ws, seen)?;
            let entries = Fields::from(vec![Field::new("key", DataType::Utf8, false), value]);
            DataType::Map(
                Arc::new(Field::new("key_value", DataType::Struct(entries), false)),
                false,
            )
        }
        Schema::Record(r) => {
            seen.push(named(&r.name));
            let fields = r
                .fields
                .iter()
                .map(|f| field(&f.name, &f.schema, ws, seen))
                .collect::<Result<Vec<_>, _>>();
            seen.pop();
            DataType::Struct(Fields::from(fields?))
        }
        Schema::Union(u) => {
            let (non_null, null) = branches(u);
            return match non_null.as_slice() {
                [] => Ok((DataType::Null, true)),
                [(_, only)] => Ok((data_type(only, ws, seen)?.0, true)),
                many => {
                    let members = many
                        .iter()
                        .enumerate()
                        .map(|(i, (_, b))| Ok(Field::new(format!("member{i}"), data_type(b, ws, seen)?.0, true)))
                        .collect::<Result<Vec<_>, String>>()?;
                    Ok((DataType::Struct(Fields::from(members)), null))
                }
            };
        }
        Schema::Ref { name } => return Err(format!("type {} is not defined", named(name))),
    };
    Ok((t, false))
}
