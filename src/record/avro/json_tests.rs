use std::collections::HashMap;

use apache_avro::types::Value;

use super::*;

const SCHEMA: &str = r#"{"type": "record", "name": "Trade", "namespace": "m", "fields": [
  {"name": "symbol", "type": "string"},
  {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
  {"name": "qty", "type": "int"},
  {"name": "ratio", "type": "float"},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}},
  {"name": "venue", "type": ["null", "string"], "default": null},
  {"name": "extra", "type": ["null", "long", "string"], "default": null},
  {"name": "raw", "type": "bytes"},
  {"name": "tags", "type": {"type": "map", "values": "long"}},
  {"name": "fills", "type": {"type": "array", "items": "double"}}
]}"#;

fn trade(extra: Value, price: Vec<u8>) -> Value {
    Value::Record(vec![
        ("symbol".into(), Value::String("AAPL \"A\"".into())),
        ("price".into(), Value::Decimal(price.into())),
        ("qty".into(), Value::Int(-3)),
        ("ratio".into(), Value::Float(0.1)),
        ("at".into(), Value::TimestampMillis(1_764_000_000_123)),
        ("at_us".into(), Value::TimestampMicros(1_764_000_000_123_456)),
        ("day".into(), Value::Date(20_000)),
        ("side".into(), Value::Enum(1, "SELL".into())),
        ("venue".into(), Value::Union(0, Box::new(Value::Null))),
        ("extra".into(), extra),
        ("raw".into(), Value::Bytes(vec![0, 1, 255])),
        (
            "tags".into(),
            Value::Map(HashMap::from([
                ("z".into(), Value::Long(1)),
                ("a".into(), Value::Long(2)),
                ("m".into(), Value::Long(3)),
            ])),
        ),
        (
            "fills".into(),
            Value::Array(vec![Value::Double(1.5), Value::Double(f64::NAN)]),
        ),
    ])
}

fn line(v: &Value, style: Style) -> String {
    let schema = WriterSchema::parse(Some(1), SCHEMA, &[]).unwrap();
    String::from_utf8(to_line(v, &schema, style)).unwrap()
}

#[test]
fn a_record_is_written_as_connects_json_converter_writes_it() {
    // 12345 (123.45 at scale 2) is 0x3039; the producer padded it to three bytes.
    let v = trade(
        Value::Union(2, Box::new(Value::String("x".into()))),
        vec![0, 0x30, 0x39],
    );
    assert_eq!(
        line(&v, Style::default()),
        concat!(
            r#"{"symbol":"AAPL \"A\"","price":"MDk=","qty":-3,"ratio":0.1,"at":1764000000123,"#,
            r#""at_us":1764000000123456,"day":20000,"side":"SELL","venue":null,"#,
            r#""extra":{"long":null,"string":"x"},"raw":"AAH/","tags":{"a":2,"m":3,"z":1},"fills":[1.5,null]}"#
        )
    );
}

#[test]
fn decimals_can_be_numbers_and_unions_parquet_avro_members() {
    let style = Style {
        decimals: DecimalFormat::Numeric,
        unions: Unions::Members,
    };
    let v = trade(Value::Union(1, Box::new(Value::Long(7))), vec![0xff, 0xff, 0xfe]);
    let text = line(&v, style);
    assert!(text.contains(r#""price":-0.02,"#), "{text}");
    assert!(text.contains(r#""extra":{"member0":7,"member1":null}"#), "{text}");
    let null = line(&trade(Value::Union(0, Box::new(Value::Null)), vec![1]), style);
    assert!(null.contains(r#""extra":null"#), "{null}");
    assert!(null.contains(r#""price":0.01,"#), "{null}");
}

#[test]
fn minimal_bytes_drop_only_redundant_sign_bytes() {
    assert_eq!(minimal(&[0, 0, 0x30, 0x39]), vec![0x30, 0x39]);
    assert_eq!(minimal(&[0, 0x80]), vec![0, 0x80]);
    assert_eq!(minimal(&[0xff, 0xff, 0xfe]), vec![0xfe]);
    assert_eq!(minimal(&[0xff, 0x7f]), vec![0xff, 0x7f]);
    assert_eq!(minimal(&[]), vec![0]);
}

#[test]
fn a_map_writes_the_same_bytes_whatever_its_insertion_order() {
    let a = trade(Value::Union(0, Box::new(Value::Null)), vec![1]);
    let mut b = a.clone();
    if let Value::Record(f) = &mut b {
        f[11].1 = Value::Map(HashMap::from([
            ("m".into(), Value::Long(3)),
            ("z".into(), Value::Long(1)),
            ("a".into(), Value::Long(2)),
        ]));
    }
    assert_eq!(line(&a, Style::default()), line(&b, Style::default()));
}
