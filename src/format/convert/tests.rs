use super::*;

const TICK: &str = r#"{"symbol":"AAPL","price":189.51,"volume":120,"change":0.01,"timestamp":"2026-11-22T01:02:03.456Z","exchange":"NASDAQ","run_id":"r","seq":0}"#;

fn written(v: Verdict<'_>) -> Vec<u8> {
    match v {
        Verdict::Write(Converted::Line(b, _)) => b.into_owned(),
        other => panic!("not written: {other:?}"),
    }
}

fn reason(v: Verdict<'_>) -> String {
    match v {
        Verdict::Reject(r) => r.to_string(),
        other => panic!("not rejected: {other:?}"),
    }
}

#[test]
fn any_json_is_written_as_produced_and_a_pretty_one_is_folded() {
    let c = Converter::json();
    assert_eq!(written(c.convert(Some(TICK.as_bytes()))), TICK.as_bytes());
    let seed = br#"{"symbol": "AAPL", "price": 150.25, "timestamp": "2026-12-01T10:00:00.123456"}"#;
    assert_eq!(written(c.convert(Some(seed))), seed, "the seed's own tick, as produced");
    for v in [
        &br#"{"stock":"AAPL","price":150.25}"#[..],
        b"[1,2,{\"a\":null}]",
        b"42",
        b"\"text\"",
    ] {
        assert_eq!(written(c.convert(Some(v))), v);
    }
    let pretty = "{\n  \"s\": \"AAPL\",\n  \"p\": [1, 2]\n}";
    assert_eq!(
        written(c.convert(Some(pretty.as_bytes()))),
        br#"{"s": "AAPL","p": [1, 2]}"#,
        "folded: line breaks and indentation go, every other byte stays"
    );
    let unicode = "{\"name\":\"Société Générale\",\"emoji\":\"📈\"}";
    assert_eq!(written(c.convert(Some(unicode.as_bytes()))), unicode.as_bytes());
}

#[test]
fn what_cannot_be_written_says_why() {
    let c = Converter::json();
    assert!(reason(c.convert(Some(b"{not json"))).starts_with("not JSON"));
    assert!(reason(c.convert(Some(b""))).starts_with("not JSON"));
    assert!(reason(c.convert(None)).contains("tombstone"));
    let big = format!("\"{}\"", "x".repeat(70_000));
    assert!(reason(c.convert(Some(big.as_bytes()))).contains("exceeds max.record.bytes (65536)"));
}

#[test]
fn the_tick_schema_is_todays_strict_check() {
    let c = Converter::ticks();
    assert_eq!(written(c.convert(Some(TICK.as_bytes()))), TICK.as_bytes());
    assert!(reason(c.convert(Some(br#"{"stock":"AAPL","price":150.25}"#))).starts_with("not a tick"));
}

/// A Parquet file's converter hands on where a producer-order tick's fields are; a JSON-lines
/// file's does not look for them; neither changes what is written.
#[test]
fn a_parquet_converter_keeps_a_ticks_spans_and_writes_the_same_bytes() {
    let parquet = Converter::new(&SinkConfig {
        format_class: FormatClass::Parquet,
        ..SinkConfig::default()
    });
    let json = Converter::new(&SinkConfig::default());
    let spans = |v: Verdict<'_>| match v {
        Verdict::Write(Converted::Line(_, spans)) => spans,
        other => panic!("not written: {other:?}"),
    };
    let found = spans(parquet.convert(Some(TICK.as_bytes()))).expect("a producer-order tick's spans");
    assert_eq!(&TICK[found[0].0..found[0].1], "\"AAPL\"");
    assert_eq!(&TICK[found[7].0..found[7].1], "0");
    assert_eq!(spans(json.convert(Some(TICK.as_bytes()))), None);
    let reordered = r#"{"price":189.51,"symbol":"AAPL","volume":120,"change":0.01,"timestamp":"2026-11-22T01:02:03.456Z","exchange":"NASDAQ","run_id":"r","seq":0}"#;
    assert_eq!(spans(parquet.convert(Some(reordered.as_bytes()))), None);
    for v in [TICK, reordered, r#"{"a":[1]}"#] {
        assert_eq!(
            written(parquet.convert(Some(v.as_bytes()))),
            written(json.convert(Some(v.as_bytes())))
        );
    }
}

#[test]
fn a_json_schema_names_what_does_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trade.schema.json");
    std::fs::write(
        &path,
        r#"{"type":"object","required":["s","p"],"properties":{"s":{"type":"string"},"p":{"type":"number"}}}"#,
    )
    .unwrap();
    let sink = SinkConfig {
        value_schema: ValueSchema::Json(crate::config::JsonSchema::read(&path).unwrap()),
        ..SinkConfig::default()
    };
    let c = Converter::new(&sink);
    assert!(matches!(
        c.convert(Some(br#"{"s":"AAPL","p":189.12}"#)),
        Verdict::Write(_)
    ));
    let why = reason(c.convert(Some(br#"{"s":"AAPL","p":"high"}"#)));
    assert!(why.starts_with("does not match the schema: /p: "), "{why}");
    assert!(reason(c.convert(Some(br#"{"p":1}"#))).contains("\"s\" is a required property"));
}

#[test]
fn strings_and_bytes_and_tombstones_follow_their_settings() {
    let strings = Converter {
        kind: ValueConverter::String,
        ..Converter::json()
    };
    assert_eq!(
        written(strings.convert(Some(b"plain \"text\""))),
        br#""plain \"text\"""#
    );
    assert!(reason(strings.convert(Some(b"\xff"))).starts_with("not UTF-8"));
    let bytes = Converter {
        kind: ValueConverter::Bytes,
        ..Converter::json()
    };
    assert_eq!(written(bytes.convert(Some(b"\x00\x01 raw"))), b"\x00\x01 raw");
    let ignore = Converter {
        null_values: NullValues::Ignore,
        ..Converter::json()
    };
    assert!(ignore.convert(None).is_skip());
    let write = Converter {
        null_values: NullValues::Write,
        ..Converter::json()
    };
    assert_eq!(written(write.convert(None)), b"null");
}

#[test]
fn an_envelope_gives_its_payload_typed_by_its_schema() {
    let sink = crate::config::parse_str("[sink]\n\"value.converter.schemas.enable\" = true\n")
        .unwrap()
        .sink;
    let c = Converter::new(&sink);
    assert!(c.has_schemas());
    let e = br#"{"schema":{"type":"struct","name":"q","fields":[{"field":"s","type":"string"},{"field":"n","type":"int64","optional":true}]},"payload":{"s":"A","n":null}}"#;
    let Verdict::Write(Converted::Avro(r)) = c.convert(Some(e)) else {
        panic!("not a record with a schema")
    };
    assert_eq!(
        Converted::Avro(r.clone()).line(c.style()).as_ref(),
        br#"{"s":"A","n":null}"#
    );
    assert_eq!(r.schema.full_name().as_deref(), Some("q"));
    // The same schema again is the same (cached) schema.
    let Verdict::Write(Converted::Avro(again)) = c.convert(Some(e)) else {
        panic!()
    };
    assert!(std::sync::Arc::ptr_eq(&r.schema, &again.schema));
    assert_eq!(
        written(c.convert(Some(br#"{"schema":null,"payload":{"free":"form"}}"#))),
        br#"{"free":"form"}"#
    );
    assert!(reason(c.convert(Some(br#"{"s":"A"}"#))).starts_with("not a JsonConverter envelope: no \"payload\""));
    assert!(reason(c.convert(Some(b"[1]"))).starts_with("not a JsonConverter envelope"));
}

#[test]
fn an_avro_value_names_its_schema_id_until_the_registry_gave_it() {
    let sink = crate::config::parse_str(
        "[sink]\n\"value.converter\" = \"avro\"\n\"value.converter.schema.registry.url\" = \"http://r\"\n",
    )
    .unwrap()
    .sink;
    let c = Converter::new(&sink);
    let record = crate::record::avro::wire::frame(42, b"\x02A");
    assert!(matches!(c.convert(Some(&record)), Verdict::NeedsSchema(42)));
    let schema = crate::record::avro::WriterSchema::parse(Some(42), r#""string""#, &[]).unwrap();
    c.schemas()
        .insert(42, crate::record::avro::Known::Found(std::sync::Arc::new(schema)));
    assert_eq!(
        match c.convert(Some(&record)) {
            Verdict::Write(w) => w.line(c.style()).into_owned(),
            other => panic!("{other:?}"),
        },
        br#""A""#
    );
    assert!(reason(c.convert(Some(b"\x01\x00"))).contains("magic byte 0x01"));
}
