//! A Parquet file of Avro records read back as the records: each row's columns made the value
//! of the schema in its `parquet.avro.schema` again (by field name), so it renders as the same
//! JSON as the record it came from. Files of other parquet-avro writers (Confluent's sink) read
//! the same way.

use std::collections::HashMap;

use apache_avro::schema::{Schema, UnionSchema};
use apache_avro::types::Value;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Decimal256Type, Float32Type, Float64Type, Int32Type, Int64Type, Time32MillisecondType,
    Time64MicrosecondType, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

use super::super::reader::ParquetReadError;
use crate::record::avro::WriterSchema;

/// Row `row` of `batch` as a record of `schema`.
pub fn record(batch: &RecordBatch, row: usize, schema: &WriterSchema) -> Result<Value, ParquetReadError> {
    let Schema::Record(r) = schema.deref(schema.schema()) else {
        return Err(mismatch("(the file)", "a record schema"));
    };
    let mut fields = Vec::with_capacity(r.fields.len());
    for f in &r.fields {
        let column = batch
            .column_by_name(&f.name)
            .ok_or_else(|| mismatch(&f.name, "a column of the schema's field"))?;
        fields.push((f.name.clone(), value(column.as_ref(), row, &f.schema, schema, &f.name)?));
    }
    Ok(Value::Record(fields))
}

fn mismatch(column: &str, wanted: &str) -> ParquetReadError {
    ParquetReadError::Column {
        column: column.to_owned(),
        data_type: format!("not {wanted}"),
    }
}

fn value(a: &dyn Array, row: usize, s: &Schema, ws: &WriterSchema, at: &str) -> Result<Value, ParquetReadError> {
    let s = ws.deref(s);
    if let Schema::Union(u) = s {
        return union(a, row, u, ws, at);
    }
    if a.is_null(row) {
        return Ok(Value::Null);
    }
    match s {
        Schema::Array(_) | Schema::Map(_) | Schema::Record(_) => nested(a, row, s, ws, at),
        _ => scalar(a, row, s).ok_or_else(|| {
            mismatch(
                at,
                &format!(
                    "{:?} for Avro {:?}",
                    a.data_type(),
                    apache_avro::schema::SchemaKind::from(s)
                ),
            )
        }),
    }
}

/// A union: null, its one other branch, or the member (`member0`, …) that is set.
fn union(a: &dyn Array, row: usize, u: &UnionSchema, ws: &WriterSchema, at: &str) -> Result<Value, ParquetReadError> {
    let null = u.variants().iter().position(|v| matches!(v, Schema::Null)).unwrap_or(0) as u32;
    if a.is_null(row) {
        return Ok(Value::Union(null, Box::new(Value::Null)));
    }
    let non_null: Vec<(usize, &Schema)> = u
        .variants()
        .iter()
        .enumerate()
        .filter(|(_, v)| !matches!(v, Schema::Null))
        .collect();
    if let [(i, only)] = non_null.as_slice() {
        return Ok(Value::Union(*i as u32, Box::new(value(a, row, only, ws, at)?)));
    }
    let members = a
        .as_struct_opt()
        .ok_or_else(|| mismatch(at, "a struct of union members"))?;
    for (k, (i, branch)) in non_null.iter().enumerate() {
        let child = members.column(k);
        if !child.is_null(row) {
            return Ok(Value::Union(
                *i as u32,
                Box::new(value(child.as_ref(), row, branch, ws, at)?),
            ));
        }
    }
    Ok(Value::Union(null, Box::new(Value::Null)))
}

/// An array, a map or a record.
fn nested(a: &dyn Array, row: usize, s: &Schema, ws: &WriterSchema, at: &str) -> Result<Value, ParquetReadError> {
    let wrong = || {
        mismatch(
            at,
            &format!(
                "{:?} for Avro {:?}",
                a.data_type(),
                apache_avro::schema::SchemaKind::from(s)
            ),
        )
    };
    Ok(match s {
        Schema::Array(items) => {
            let values = a.as_list_opt::<i32>().ok_or_else(wrong)?.value(row);
            Value::Array(
                (0..values.len())
                    .map(|i| value(values.as_ref(), i, &items.items, ws, at))
                    .collect::<Result<_, _>>()?,
            )
        }
        Schema::Map(m) => {
            let entries = a.as_map_opt().ok_or_else(wrong)?.value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut out = HashMap::with_capacity(entries.len());
            for i in 0..entries.len() {
                let k = text(keys.as_ref(), i).ok_or_else(wrong)?;
                out.insert(k, value(values.as_ref(), i, &m.types, ws, at)?);
            }
            Value::Map(out)
        }
        Schema::Record(r) => {
            let s = a.as_struct_opt().ok_or_else(wrong)?;
            let mut fields = Vec::with_capacity(r.fields.len());
            for f in &r.fields {
                let here = format!("{at}.{}", f.name);
                let child = s
                    .column_by_name(&f.name)
                    .ok_or_else(|| mismatch(&here, "a field of the record"))?;
                fields.push((f.name.clone(), value(child.as_ref(), row, &f.schema, ws, &here)?));
            }
            Value::Record(fields)
        }
        _ => return Err(wrong()),
    })
}

/// A value of a type that nests nothing; `None` when the column is not of its type.
fn scalar(a: &dyn Array, row: usize, s: &Schema) -> Option<Value> {
    Some(match s {
        Schema::Null => Value::Null,
        Schema::Boolean => Value::Boolean(a.as_boolean_opt()?.value(row)),
        Schema::Int => Value::Int(i32::try_from(int(a, row)?).ok()?),
        Schema::Long => Value::Long(int(a, row)?),
        Schema::Float => Value::Float(a.as_primitive_opt::<Float32Type>()?.value(row)),
        Schema::Double => Value::Double(a.as_primitive_opt::<Float64Type>()?.value(row)),
        Schema::Bytes => Value::Bytes(bytes(a, row)?),
        Schema::String | Schema::BigDecimal => Value::String(text(a, row)?),
        Schema::Uuid(_) => {
            let t = text(a, row)?;
            t.parse().map(Value::Uuid).unwrap_or(Value::String(t))
        }
        Schema::Enum(e) => {
            let symbol = text(a, row)?;
            let i = e.symbols.iter().position(|x| *x == symbol)?;
            Value::Enum(i as u32, symbol)
        }
        Schema::Fixed(f) => Value::Fixed(f.size, bytes(a, row)?),
        Schema::Duration(_) => Value::Duration(<[u8; 12]>::try_from(bytes(a, row)?).ok()?.into()),
        Schema::Date => Value::Date(a.as_primitive_opt::<Date32Type>()?.value(row)),
        Schema::TimeMillis => Value::TimeMillis(a.as_primitive_opt::<Time32MillisecondType>()?.value(row)),
        Schema::TimeMicros => Value::TimeMicros(a.as_primitive_opt::<Time64MicrosecondType>()?.value(row)),
        Schema::TimestampMillis => Value::TimestampMillis(instant(a, row, TimeUnit::Millisecond)?),
        Schema::TimestampMicros => Value::TimestampMicros(instant(a, row, TimeUnit::Microsecond)?),
        Schema::TimestampNanos => Value::TimestampNanos(instant(a, row, TimeUnit::Nanosecond)?),
        Schema::LocalTimestampMillis => Value::LocalTimestampMillis(instant(a, row, TimeUnit::Millisecond)?),
        Schema::LocalTimestampMicros => Value::LocalTimestampMicros(instant(a, row, TimeUnit::Microsecond)?),
        Schema::LocalTimestampNanos => Value::LocalTimestampNanos(instant(a, row, TimeUnit::Nanosecond)?),
        Schema::Decimal(_) => {
            let be = match a.data_type() {
                DataType::Decimal128(..) => a.as_primitive::<Decimal128Type>().value(row).to_be_bytes().to_vec(),
                DataType::Decimal256(..) => a.as_primitive::<Decimal256Type>().value(row).to_be_bytes().to_vec(),
                _ => bytes(a, row)?,
            };
            Value::Decimal(crate::record::avro::json::minimal(&be).into())
        }
        _ => return None,
    })
}

fn int(a: &dyn Array, row: usize) -> Option<i64> {
    match a.data_type() {
        DataType::Int32 => Some(i64::from(a.as_primitive::<Int32Type>().value(row))),
        DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(row)),
        _ => None,
    }
}

fn text(a: &dyn Array, row: usize) -> Option<String> {
    match a.data_type() {
        DataType::Utf8 => Some(a.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Some(a.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Some(a.as_string_view().value(row).to_owned()),
        DataType::Binary => String::from_utf8(a.as_binary::<i32>().value(row).to_vec()).ok(),
        _ => None,
    }
}

fn bytes(a: &dyn Array, row: usize) -> Option<Vec<u8>> {
    match a.data_type() {
        DataType::Binary => Some(a.as_binary::<i32>().value(row).to_vec()),
        DataType::LargeBinary => Some(a.as_binary::<i64>().value(row).to_vec()),
        DataType::BinaryView => Some(a.as_binary_view().value(row).to_vec()),
        DataType::FixedSizeBinary(_) => Some(a.as_fixed_size_binary().value(row).to_vec()),
        _ => None,
    }
}

/// A timestamp column's value at `row`, in `unit`.
fn instant(a: &dyn Array, row: usize, unit: TimeUnit) -> Option<i64> {
    let DataType::Timestamp(have, _) = a.data_type() else {
        return match a.data_type() {
            DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(row)),
            _ => None,
        };
    };
    let v = match have {
        TimeUnit::Second => a.as_primitive::<TimestampSecondType>().value(row),
        TimeUnit::Millisecond => a.as_primitive::<TimestampMillisecondType>().value(row),
        TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().value(row),
    };
    let per_second = |u: &TimeUnit| match u {
        TimeUnit::Second => 1i64,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let (from, to) = (per_second(have), per_second(&unit));
    Some(if to >= from {
        v.checked_mul(to / from)?
    } else {
        v.div_euclid(from / to)
    })
}
