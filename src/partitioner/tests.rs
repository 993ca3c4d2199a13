use super::*;
use crate::config::{parse_str, SinkConfig};

fn sink(toml: &str) -> SinkConfig {
    parse_str(&format!("[sink]\n{toml}")).expect("config parses").sink
}

fn of(toml: &str) -> Result<Partitioner, crate::config::Problem> {
    sink(toml).partitioner().map(Partitioner::new)
}

/// `encode` of a JSON line.
trait EncodeJson {
    fn encode_json(&self, partition: i32, ts: Option<i64>, line: &[u8], now: i64) -> Result<String, RecordError>;
}

impl EncodeJson for Partitioner {
    fn encode_json(&self, partition: i32, ts: Option<i64>, line: &[u8], now: i64) -> Result<String, RecordError> {
        self.encode(partition, ts, &RecordView::Json(line), now)
    }
}

const TICK: &[u8] =
    br#"{"symbol":"AAPL","price":1.5,"exchange":"NASDAQ","volume":7,"timestamp":"2026-03-07T09:41:12.5-05:00"}"#;
/// 2026-03-07T14:41:12Z
const KAFKA_MS: i64 = 1_772_894_472_000;

#[test]
fn default_names_the_kafka_partition() {
    let p = of("").unwrap();
    assert!(p.is_default() && p.consecutive() && p.deterministic());
    assert_eq!(p.encode_json(2, None, b"not even json", 0).unwrap(), "partition=2");
}

#[test]
fn field_writes_each_field_in_order_and_rejects_a_record_without_one() {
    let p = of("\"partitioner.class\" = \"field\"\n\"partition.field.name\" = \"exchange, symbol\"").unwrap();
    assert!(!p.consecutive() && p.deterministic());
    assert_eq!(p.encode_json(0, None, TICK, 0).unwrap(), "exchange=NASDAQ/symbol=AAPL");
    let vol = Partitioner::field(&["volume"]);
    assert_eq!(vol.encode_json(0, None, TICK, 0).unwrap(), "volume=7");
    let missing = p
        .encode_json(0, None, br#"{"symbol":"AAPL"}"#, 0)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("no field \"exchange\""), "{missing}");
    let nested = Partitioner::field(&["symbol"])
        .encode_json(0, None, br#"{"symbol":{"a":1}}"#, 0)
        .unwrap_err()
        .to_string();
    assert!(nested.contains("not a string, number or boolean"), "{nested}");
    let slash = Partitioner::field(&["symbol"])
        .encode_json(0, None, br#"{"symbol":"BRK/B"}"#, 0)
        .unwrap_err()
        .to_string();
    assert!(slash.contains("cannot name a directory"), "{slash}");
    assert!(Partitioner::field(&["symbol"])
        .encode_json(0, None, b"[1,2]", 0)
        .is_err());
}

#[test]
fn hourly_floors_the_kafka_timestamp_in_the_zone() {
    let p = of("\"partitioner.class\" = \"io.confluent.connect.storage.partitioner.HourlyPartitioner\"").unwrap();
    assert!(!p.consecutive() && p.deterministic());
    assert_eq!(
        p.encode_json(0, Some(KAFKA_MS), TICK, 0).unwrap(),
        "year=2026/month=03/day=07/hour=14"
    );
    let ny = of("\"partitioner.class\" = \"hourly\"\ntimezone = \"America/New_York\"").unwrap();
    assert_eq!(
        ny.encode_json(0, Some(KAFKA_MS), TICK, 0).unwrap(),
        "year=2026/month=03/day=07/hour=09"
    );
    let err = p.encode_json(0, None, TICK, 0).unwrap_err().to_string();
    assert!(err.contains("no Kafka timestamp"), "{err}");
}

#[test]
fn time_with_a_duration_and_a_record_field() {
    let p = of(concat!(
        "\"partitioner.class\" = \"time\"\n\"path.format\" = \"YYYY/MM/dd/HH/mm\"\n",
        "\"partition.duration.ms\" = 900000\n\"timestamp.extractor\" = \"RecordField\"\n",
        "\"timestamp.field\" = \"timestamp\""
    ))
    .unwrap();
    // 09:41:12.5-05:00 is 14:41:12.5Z: the quarter hour starting 14:30.
    assert_eq!(p.encode_json(0, None, TICK, 0).unwrap(), "2026/03/07/14/30");
    let epoch = p.encode_json(0, None, br#"{"timestamp":1772894472000}"#, 0).unwrap();
    assert_eq!(epoch, "2026/03/07/14/30");
    let bad = p
        .encode_json(0, None, br#"{"timestamp":"soon"}"#, 0)
        .unwrap_err()
        .to_string();
    assert!(bad.contains("not a time"), "{bad}");
}

#[test]
fn wallclock_uses_the_clock_and_keeps_files_consecutive() {
    let p = of("\"partitioner.class\" = \"daily\"\n\"timestamp.extractor\" = \"Wallclock\"").unwrap();
    assert!(p.consecutive() && !p.deterministic());
    assert_eq!(
        p.encode_json(0, Some(0), TICK, KAFKA_MS).unwrap(),
        "year=2026/month=03/day=07"
    );
}

#[test]
fn an_avro_record_is_placed_by_its_fields_and_its_logical_timestamp() {
    use crate::record::avro::WriterSchema;
    use apache_avro::types::Value;
    let schema = WriterSchema::parse(
        Some(1),
        r#"{"type": "record", "name": "T", "fields": [
            {"name": "symbol", "type": ["null", "string"]},
            {"name": "side", "type": {"type": "enum", "name": "S", "symbols": ["BUY", "SELL"]}},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "legs", "type": {"type": "array", "items": "int"}}]}"#,
        &[],
    )
    .unwrap();
    let value = Value::Record(vec![
        ("symbol".into(), Value::Union(1, Box::new(Value::String("AAPL".into())))),
        ("side".into(), Value::Enum(1, "SELL".into())),
        ("at".into(), Value::TimestampMicros(KAFKA_MS * 1_000 + 999)),
        ("legs".into(), Value::Array(vec![Value::Int(1)])),
    ]);
    let view = RecordView::Avro(&value, &schema);
    let by_field = of("\"partitioner.class\" = \"field\"\n\"partition.field.name\" = \"symbol,side\"").unwrap();
    assert_eq!(by_field.encode(0, None, &view, 0).unwrap(), "symbol=AAPL/side=SELL");
    let hourly = of("\"partitioner.class\" = \"hourly\"\n\"timestamp.extractor\" = \"RecordField\"\n\"timestamp.field\" = \"at\"\nlocale = \"en\"\ntimezone = \"UTC\"").unwrap();
    assert_eq!(
        hourly.encode(0, None, &view, 0).unwrap(),
        "year=2026/month=03/day=07/hour=14",
        "timestamp-micros read as a point in time"
    );
    let legs = of("\"partitioner.class\" = \"field\"\n\"partition.field.name\" = \"legs\"").unwrap();
    let e = legs.encode(0, None, &view, 0).unwrap_err().to_string();
    assert!(
        e.contains("field \"legs\" is [1], not a string, number or boolean"),
        "{e}"
    );
}
