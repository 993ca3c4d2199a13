use std::collections::HashMap;

use apache_avro::types::Value;
use arrow_schema::{DataType, TimeUnit};
use bytes::Bytes;

use super::*;
use crate::config::ParquetCodec;
use crate::format::parquet::{reader, writer};
use crate::record::avro::json::{to_line, Style};

const SCHEMA: &str = r#"{"type": "record", "name": "Order", "namespace": "m", "fields": [
  {"name": "id", "type": "long"},
  {"name": "symbol", "type": "string"},
  {"name": "px", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 4}},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}], "default": null},
  {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}},
  {"name": "tag", "type": ["null", "int", "string"], "default": null},
  {"name": "legs", "type": {"type": "array", "items": {"type": "record", "name": "Leg", "fields": [
      {"name": "venue", "type": "string"}, {"name": "qty", "type": ["null", "double"]}]}}},
  {"name": "attrs", "type": {"type": "map", "values": "boolean"}},
  {"name": "raw", "type": {"type": "fixed", "name": "Four", "size": 4}},
  {"name": "next", "type": ["null", "Leg"], "default": null}
]}"#;

fn order(i: i64) -> Value {
    let leg = |venue: &str, qty: Option<f64>| {
        Value::Record(vec![
            ("venue".into(), Value::String(venue.into())),
            (
                "qty".into(),
                match qty {
                    Some(q) => Value::Union(1, Box::new(Value::Double(q))),
                    None => Value::Union(0, Box::new(Value::Null)),
                },
            ),
        ])
    };
    Value::Record(vec![
        ("id".into(), Value::Long(i)),
        ("symbol".into(), Value::String(format!("SYM{i}"))),
        ("px".into(), Value::Decimal(vec![0x01, 0xe2, 0x40].into())),
        ("at".into(), Value::TimestampMillis(1_764_000_000_000 + i)),
        (
            "day".into(),
            match i % 2 {
                0 => Value::Union(1, Box::new(Value::Date(20_000))),
                _ => Value::Union(0, Box::new(Value::Null)),
            },
        ),
        (
            "side".into(),
            Value::Enum((i % 2) as u32, ["BUY", "SELL"][(i % 2) as usize].into()),
        ),
        (
            "tag".into(),
            match i % 3 {
                0 => Value::Union(0, Box::new(Value::Null)),
                1 => Value::Union(1, Box::new(Value::Int(7))),
                _ => Value::Union(2, Box::new(Value::String("seven".into()))),
            },
        ),
        (
            "legs".into(),
            Value::Array(vec![leg("XNAS", Some(1.5)), leg("ARCX", None)]),
        ),
        (
            "attrs".into(),
            Value::Map(HashMap::from([
                ("b".into(), Value::Boolean(true)),
                ("a".into(), Value::Boolean(false)),
            ])),
        ),
        ("raw".into(), Value::Fixed(4, vec![0, 1, 2, i as u8])),
        (
            "next".into(),
            match i % 2 {
                0 => Value::Union(1, Box::new(leg("BATS", Some(2.0)))),
                _ => Value::Union(0, Box::new(Value::Null)),
            },
        ),
    ])
}

fn schema() -> Arc<WriterSchema> {
    Arc::new(WriterSchema::parse(Some(9), SCHEMA, &[]).unwrap())
}

#[test]
fn columns_follow_parquet_avro_types() {
    let arrow = arrow_schema(&schema()).unwrap();
    let t = |name: &str| arrow.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(t("px"), DataType::Decimal128(12, 4));
    assert_eq!(t("at"), DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())));
    assert_eq!(t("day"), DataType::Date32);
    assert!(arrow.field_with_name("day").unwrap().is_nullable());
    assert!(!arrow.field_with_name("id").unwrap().is_nullable());
    assert_eq!(t("side"), DataType::Utf8);
    let DataType::Struct(members) = t("tag") else {
        panic!("{:?}", t("tag"))
    };
    assert_eq!(
        members.iter().map(|f| f.name().as_str()).collect::<Vec<_>>(),
        ["member0", "member1"]
    );
    assert!(matches!(t("legs"), DataType::List(_)));
    assert!(matches!(t("attrs"), DataType::Map(_, false)));
    assert_eq!(t("raw"), DataType::FixedSizeBinary(4));
}

#[test]
fn a_file_reads_back_as_the_records_it_was_written_from() {
    let schema = schema();
    let mut rows = AvroRows::new(schema.clone(), arrow_schema(&schema).unwrap());
    let records: Vec<Value> = (0..6).map(order).collect();
    for r in &records {
        rows.push(r, 100);
    }
    assert_eq!(rows.rows(), 6);
    let file = writer::finish_avro(rows, ParquetCodec::Zstd).unwrap();
    let reader::JsonLines {
        lines,
        by_column_name: by_name,
        avro_schema: text,
    } = reader::json_lines(Bytes::from(file), Style::default()).unwrap();
    assert!(!by_name, "rendered records, read by source like JSON");
    assert_eq!(
        text.as_deref(),
        Some(SCHEMA),
        "the writer schema travels in parquet.avro.schema"
    );
    let expected: Vec<u8> = records
        .iter()
        .flat_map(|r| {
            let mut l = to_line(r, &schema, Style::default());
            l.push(b'\n');
            l
        })
        .collect();
    assert_eq!(String::from_utf8(lines).unwrap(), String::from_utf8(expected).unwrap());
}

#[test]
fn a_schema_without_columns_is_refused_naming_why() {
    let string = WriterSchema::parse(Some(3), r#""string""#, &[]).unwrap();
    assert_eq!(
        arrow_schema(&string).unwrap_err().to_string(),
        "format.class = parquet cannot write it: schema id 3 is not a record"
    );
    let list = r#"{"type": "record", "name": "Node", "fields": [
        {"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]}"#;
    let e = arrow_schema(&WriterSchema::parse(Some(4), list, &[]).unwrap()).unwrap_err();
    assert!(e.to_string().contains("Node refers to itself"), "{e}");
}
