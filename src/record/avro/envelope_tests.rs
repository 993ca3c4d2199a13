use serde_json::json;

use super::*;
use crate::record::avro::json::{to_line, Style};

fn envelope() -> J {
    json!({
        "schema": {"type": "struct", "name": "com.example.Quote", "version": 3, "optional": false, "fields": [
            {"field": "symbol", "type": "string", "optional": false},
            {"field": "bid", "type": "float64", "optional": true},
            {"field": "size", "type": "int32", "optional": false},
            {"field": "at", "type": "int64", "optional": false, "name": TIMESTAMP, "version": 1},
            {"field": "px", "type": "bytes", "optional": false, "name": DECIMAL, "parameters": {"scale": "2"}},
            {"field": "legs", "type": "array", "optional": false, "items": {"type": "struct", "optional": false, "fields": [
                {"field": "venue", "type": "string", "optional": false}]}},
            {"field": "by_id", "type": "map", "optional": true, "keys": {"type": "int32", "optional": false},
             "values": {"type": "string", "optional": false}}
        ]},
        "payload": {"symbol": "AAPL", "bid": null, "size": 100, "at": 1_764_000_000_123_i64, "px": "MDk=",
                    "legs": [{"venue": "XNAS"}], "by_id": [[1, "one"]]}
    })
}

#[test]
fn an_envelope_becomes_the_avro_schema_and_value_connects_avro_data_makes() {
    let e = envelope();
    let schema = schema(&e["schema"]).unwrap();
    assert_eq!(schema.full_name().as_deref(), Some("com.example.Quote"));
    assert_eq!(schema.version("any-subject"), Some(3));
    let text: J = serde_json::from_str(&schema.text).unwrap();
    assert_eq!(text["fields"][1]["type"], json!(["null", "double"]));
    assert_eq!(text["fields"][3]["type"]["logicalType"], "timestamp-millis");
    assert_eq!(text["fields"][4]["type"]["scale"], 2);
    assert_eq!(text["fields"][5]["type"]["items"]["name"], "ConnectDefault");
    let value = payload(&e["payload"], &schema).unwrap();
    assert_eq!(
        String::from_utf8(to_line(&value, &schema, Style::default())).unwrap(),
        r#"{"symbol":"AAPL","bid":null,"size":100,"at":1764000000123,"px":"MDk=","legs":[{"venue":"XNAS"}],"by_id":[{"key":1,"value":"one"}]}"#
    );
}

#[test]
fn a_payload_its_schema_does_not_describe_is_refused_naming_the_field() {
    let e = envelope();
    let schema = schema(&e["schema"]).unwrap();
    let mut p = e["payload"].clone();
    p["size"] = json!("many");
    assert_eq!(
        payload(&p, &schema).unwrap_err(),
        "payload.size: \"many\" is not a 32-bit integer"
    );
    p["size"] = J::Null;
    assert!(payload(&p, &schema)
        .unwrap_err()
        .contains("payload.size: null, but the field is not optional"));
    let e = super::schema(&json!({"type": "struct", "fields": [{"field": "a", "type": "uint8"}]})).unwrap_err();
    assert!(e.contains("schema.a: type \"uint8\" is not a Connect type"), "{e}");
}
