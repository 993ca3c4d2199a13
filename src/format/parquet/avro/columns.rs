//! One column's values as records arrive, for every Avro type: leaves in Arrow builders, lists
//! and maps as offsets over their items, records and unions as structs of their fields.

use std::sync::Arc;

use apache_avro::schema::Schema;
use apache_avro::types::Value;
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Decimal256Builder, FixedSizeBinaryBuilder,
    Float32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder, Time32MillisecondBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder, TimestampMillisecondBuilder, TimestampNanosecondBuilder,
};
use arrow_array::{ArrayRef, ListArray, MapArray, NullArray, StructArray};
use arrow_buffer::{i256, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, FieldRef, Fields, TimeUnit};

use super::types::branches;
use crate::record::avro::WriterSchema;

/// One column's values so far.
pub(super) enum Col {
    Null(usize),
    Bool(BooleanBuilder),
    Int(Int32Builder),
    Long(Int64Builder),
    Float(Float32Builder),
    Double(Float64Builder),
    Bytes(BinaryBuilder),
    Text(StringBuilder),
    Fixed(FixedSizeBinaryBuilder, usize),
    Date(Date32Builder),
    TimeMs(Time32MillisecondBuilder),
    TimeUs(Time64MicrosecondBuilder),
    TsMs(TimestampMillisecondBuilder),
    TsUs(TimestampMicrosecondBuilder),
    TsNs(TimestampNanosecondBuilder),
    Dec128(Decimal128Builder),
    Dec256(Decimal256Builder),
    List {
        item: FieldRef,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        items: Box<Col>,
    },
    Map {
        entries: FieldRef,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        keys: StringBuilder,
        values: Box<Col>,
    },
    Struct {
        fields: Fields,
        nulls: NullBufferBuilder,
        children: Vec<Col>,
        /// A union of several branches: child `k` holds branch `members[k]`.
        members: Option<Vec<usize>>,
    },
}

impl Col {
    pub(super) fn new(t: &DataType, s: &Schema, ws: &WriterSchema) -> Self {
        let s = ws.deref(s);
        match (t, s) {
            (DataType::Struct(fields), Schema::Union(u)) if branches(u).0.len() > 1 => {
                let (non_null, _) = branches(u);
                let children = fields
                    .iter()
                    .zip(&non_null)
                    .map(|(f, (_, b))| Col::new(f.data_type(), b, ws))
                    .collect();
                Col::Struct {
                    fields: fields.clone(),
                    nulls: NullBufferBuilder::new(0),
                    children,
                    members: Some(non_null.iter().map(|(i, _)| *i).collect()),
                }
            }
            (_, Schema::Union(u)) => {
                let (non_null, _) = branches(u);
                match non_null.first() {
                    Some((_, only)) => Col::new(t, only, ws),
                    None => Col::Null(0),
                }
            }
            (DataType::Struct(fields), Schema::Record(r)) => Col::Struct {
                fields: fields.clone(),
                nulls: NullBufferBuilder::new(0),
                children: fields
                    .iter()
                    .zip(&r.fields)
                    .map(|(f, rf)| Col::new(f.data_type(), &rf.schema, ws))
                    .collect(),
                members: None,
            },
            (DataType::List(item), Schema::Array(a)) => Col::List {
                item: item.clone(),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(0),
                items: Box::new(Col::new(item.data_type(), &a.items, ws)),
            },
            (DataType::Map(entries, _), Schema::Map(m)) => {
                let value_type = match entries.data_type() {
                    DataType::Struct(f) => f[1].data_type().clone(),
                    other => other.clone(),
                };
                Col::Map {
                    entries: entries.clone(),
                    offsets: vec![0],
                    nulls: NullBufferBuilder::new(0),
                    keys: StringBuilder::new(),
                    values: Box::new(Col::new(&value_type, &m.types, ws)),
                }
            }
            (t, _) => Col::leaf(t),
        }
    }

    fn leaf(t: &DataType) -> Self {
        match t {
            DataType::Boolean => Col::Bool(BooleanBuilder::new()),
            DataType::Int32 => Col::Int(Int32Builder::new()),
            DataType::Int64 => Col::Long(Int64Builder::new()),
            DataType::Float32 => Col::Float(Float32Builder::new()),
            DataType::Float64 => Col::Double(Float64Builder::new()),
            DataType::Binary => Col::Bytes(BinaryBuilder::new()),
            DataType::Utf8 => Col::Text(StringBuilder::new()),
            DataType::FixedSizeBinary(n) => Col::Fixed(FixedSizeBinaryBuilder::new(*n), *n as usize),
            DataType::Date32 => Col::Date(Date32Builder::new()),
            DataType::Time32(_) => Col::TimeMs(Time32MillisecondBuilder::new()),
            DataType::Time64(_) => Col::TimeUs(Time64MicrosecondBuilder::new()),
            DataType::Timestamp(unit, tz) => match unit {
                TimeUnit::Microsecond => Col::TsUs(TimestampMicrosecondBuilder::new().with_timezone_opt(tz.clone())),
                TimeUnit::Nanosecond => Col::TsNs(TimestampNanosecondBuilder::new().with_timezone_opt(tz.clone())),
                _ => Col::TsMs(TimestampMillisecondBuilder::new().with_timezone_opt(tz.clone())),
            },
            DataType::Decimal128(p, s) => Col::Dec128(
                Decimal128Builder::new()
                    .with_precision_and_scale(*p, *s)
                    .unwrap_or_default(),
            ),
            DataType::Decimal256(p, s) => Col::Dec256(
                Decimal256Builder::new()
                    .with_precision_and_scale(*p, *s)
                    .unwrap_or_default(),
            ),
            _ => Col::Null(0),
        }
    }

    /// Appends `v`, a value of this column's Avro type (a record's values are decoded, or
    /// projected, with the file's schema, so their kinds always match).
    pub(super) fn push(&mut self, v: &Value) {
        if let (
            Col::Struct {
                members: Some(members), ..
            },
            Value::Union(i, inner),
        ) = (&mut *self, v)
        {
            return match members.iter().position(|m| *m == *i as usize) {
                Some(k) => self.push_member(k, inner),
                None => self.push_null(),
            };
        }
        let v = match v {
            Value::Union(_, inner) => inner,
            other => other,
        };
        match (self, v) {
            (col, Value::Null) => col.push_null(),
            (Col::Null(n), _) => *n += 1,
            (Col::Bool(b), Value::Boolean(x)) => b.append_value(*x),
            (Col::Int(b), Value::Int(x)) => b.append_value(*x),
            (Col::Long(b), Value::Long(x)) => b.append_value(*x),
            (Col::Float(b), Value::Float(x)) => b.append_value(*x),
            (Col::Double(b), Value::Double(x)) => b.append_value(*x),
            (Col::Bytes(b), Value::Bytes(x)) => b.append_value(x),
            (Col::Text(b), Value::String(x) | Value::Enum(_, x)) => b.append_value(x),
            (Col::Text(b), Value::Uuid(u)) => b.append_value(u.hyphenated().to_string()),
            (Col::Text(b), Value::BigDecimal(d)) => b.append_value(d.to_string()),
            (Col::Fixed(b, n), Value::Fixed(_, x)) if x.len() == *n => {
                let _ = b.append_value(x);
            }
            (Col::Fixed(b, 12), Value::Duration(d)) => {
                let _ = b.append_value(<[u8; 12]>::from(*d));
            }
            (Col::Date(b), Value::Date(x)) => b.append_value(*x),
            (Col::TimeMs(b), Value::TimeMillis(x)) => b.append_value(*x),
            (Col::TimeUs(b), Value::TimeMicros(x)) => b.append_value(*x),
            (Col::TsMs(b), Value::TimestampMillis(x) | Value::LocalTimestampMillis(x)) => b.append_value(*x),
            (Col::TsUs(b), Value::TimestampMicros(x) | Value::LocalTimestampMicros(x)) => b.append_value(*x),
            (Col::TsNs(b), Value::TimestampNanos(x) | Value::LocalTimestampNanos(x)) => b.append_value(*x),
            (Col::Dec128(b), Value::Decimal(d)) => match unscaled(d).and_then(|u| u.to_i128()) {
                Some(u) => b.append_value(u),
                None => b.append_null(),
            },
            (Col::Dec256(b), Value::Decimal(d)) => match unscaled(d) {
                Some(u) => b.append_value(u),
                None => b.append_null(),
            },
            (col @ (Col::List { .. } | Col::Map { .. } | Col::Struct { .. }), _) => col.push_nested(v),
            (col, _) => col.push_null(),
        }
    }

    /// An array, a map (entries in key order) or a record.
    fn push_nested(&mut self, v: &Value) {
        match (self, v) {
            (
                Col::List {
                    offsets, nulls, items, ..
                },
                Value::Array(values),
            ) => {
                values.iter().for_each(|x| items.push(x));
                offsets.push(offsets.last().copied().unwrap_or(0) + values.len() as i32);
                nulls.append_non_null();
            }
            (
                Col::Map {
                    offsets,
                    nulls,
                    keys,
                    values,
                    ..
                },
                Value::Map(entries),
            ) => {
                let mut sorted: Vec<(&String, &Value)> = entries.iter().collect();
                sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
                for (k, x) in sorted {
                    keys.append_value(k);
                    values.push(x);
                }
                offsets.push(offsets.last().copied().unwrap_or(0) + entries.len() as i32);
                nulls.append_non_null();
            }
            (
                Col::Struct {
                    nulls,
                    children,
                    members: None,
                    ..
                },
                Value::Record(fields),
            ) => {
                for (c, (_, x)) in children.iter_mut().zip(fields) {
                    c.push(x);
                }
                nulls.append_non_null();
            }
            (col, _) => col.push_null(),
        }
    }

    /// A union's value, in member `k`.
    fn push_member(&mut self, k: usize, v: &Value) {
        if let Col::Struct { nulls, children, .. } = self {
            for (j, c) in children.iter_mut().enumerate() {
                match j == k {
                    true => c.push(v),
                    false => c.push_null(),
                }
            }
            nulls.append_non_null();
        }
    }

    pub(super) fn push_null(&mut self) {
        match self {
            Col::Null(n) => *n += 1,
            Col::Bool(b) => b.append_null(),
            Col::Int(b) => b.append_null(),
            Col::Long(b) => b.append_null(),
            Col::Float(b) => b.append_null(),
            Col::Double(b) => b.append_null(),
            Col::Bytes(b) => b.append_null(),
            Col::Text(b) => b.append_null(),
            Col::Fixed(b, _) => b.append_null(),
            Col::Date(b) => b.append_null(),
            Col::TimeMs(b) => b.append_null(),
            Col::TimeUs(b) => b.append_null(),
            Col::TsMs(b) => b.append_null(),
            Col::TsUs(b) => b.append_null(),
            Col::TsNs(b) => b.append_null(),
            Col::Dec128(b) => b.append_null(),
            Col::Dec256(b) => b.append_null(),
            Col::List { offsets, nulls, .. } | Col::Map { offsets, nulls, .. } => {
                offsets.push(offsets.last().copied().unwrap_or(0));
                nulls.append_null();
            }
            Col::Struct { nulls, children, .. } => {
                children.iter_mut().for_each(Col::push_null);
                nulls.append_null();
            }
        }
    }

    pub(super) fn finish(&mut self) -> Result<ArrayRef, arrow_schema::ArrowError> {
        Ok(match self {
            Col::Null(n) => Arc::new(NullArray::new(std::mem::take(n))),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Int(b) => Arc::new(b.finish()),
            Col::Long(b) => Arc::new(b.finish()),
            Col::Float(b) => Arc::new(b.finish()),
            Col::Double(b) => Arc::new(b.finish()),
            Col::Bytes(b) => Arc::new(b.finish()),
            Col::Text(b) => Arc::new(b.finish()),
            Col::Fixed(b, _) => Arc::new(b.finish()),
            Col::Date(b) => Arc::new(b.finish()),
            Col::TimeMs(b) => Arc::new(b.finish()),
            Col::TimeUs(b) => Arc::new(b.finish()),
            Col::TsMs(b) => Arc::new(b.finish()),
            Col::TsUs(b) => Arc::new(b.finish()),
            Col::TsNs(b) => Arc::new(b.finish()),
            Col::Dec128(b) => Arc::new(b.finish()),
            Col::Dec256(b) => Arc::new(b.finish()),
            Col::List {
                item,
                offsets,
                nulls,
                items,
            } => Arc::new(ListArray::try_new(
                item.clone(),
                OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0]))),
                items.finish()?,
                nulls.finish(),
            )?),
            Col::Map {
                entries,
                offsets,
                nulls,
                keys,
                values,
            } => {
                let DataType::Struct(fields) = entries.data_type() else {
                    return Err(arrow_schema::ArrowError::SchemaError(
                        "map entries are not a struct".into(),
                    ));
                };
                let pairs =
                    StructArray::try_new(fields.clone(), vec![Arc::new(keys.finish()), values.finish()?], None)?;
                Arc::new(MapArray::try_new(
                    entries.clone(),
                    OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0]))),
                    pairs,
                    nulls.finish(),
                    false,
                )?)
            }
            Col::Struct {
                fields,
                nulls,
                children,
                ..
            } => {
                let arrays = children.iter_mut().map(Col::finish).collect::<Result<Vec<_>, _>>()?;
                let len = nulls.len();
                Arc::new(StructArray::try_new_with_length(
                    fields.clone(),
                    arrays,
                    nulls.finish(),
                    len,
                )?)
            }
        })
    }
}

/// A decimal's unscaled value.
fn unscaled(d: &apache_avro::Decimal) -> Option<i256> {
    let bytes = <Vec<u8>>::try_from(d).ok()?;
    let bytes = crate::record::avro::json::minimal(&bytes);
    if bytes.len() > 32 {
        return None;
    }
    let mut full = [if bytes[0] & 0x80 != 0 { 0xff } else { 0 }; 32];
    full[32 - bytes.len()..].copy_from_slice(&bytes);
    Some(i256::from_be_bytes(full))
}
