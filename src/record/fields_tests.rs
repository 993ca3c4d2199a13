use super::*;

#[test]
fn the_fast_path_gives_what_the_parsed_record_gives() {
    let kinds = [
        ColumnType::Text,
        ColumnType::Real,
        ColumnType::Integer,
        ColumnType::Boolean,
        ColumnType::Timestamp,
    ];
    let values = [
        r#""AAPL""#,
        r#""a\"b""#,
        r#""ü""#,
        "189.12",
        "-0.25",
        "300",
        "-7",
        "1e3",
        "1.5E-2",
        "12345678901234567890",
        "-0",
        "0.0",
        "true",
        "null",
        r#""2026-12-01T10:00:00.123Z""#,
        r#""2026-12-01T10:00:00.123456""#,
        "1733050000123",
        r#""1733050000""#,
        r#""12.5""#,
        r#"" 42 ""#,
        "[1,2]",
        r#"{"a":1}"#,
        r#""""#,
        r#""soon""#,
    ];
    for kind in kinds {
        let column = Column {
            name: "f".into(),
            kind,
            source: None,
        };
        for v in values {
            // The one-pass scan reads the first; the array sends the second to serde.
            for line in [format!(r#"{{"f":{v}}}"#), format!(r#"{{"f":{v},"z":[0]}}"#)] {
                let fields = Fields::parse(line.as_bytes()).unwrap();
                let record: serde_json::Value = serde_json::from_str(&line).unwrap();
                assert_eq!(
                    cell(fields.get("f"), &column).map(CellRef::into_owned),
                    crate::record::cell::cell(&record, &column, false),
                    "{line} as {kind:?}"
                );
            }
        }
    }
}

#[test]
fn the_one_pass_scan_reads_what_serde_reads_and_leaves_the_rest_to_it() {
    // Keys, raw values and their kinds (the scan's, or what Raw::of sees in serde's).
    let serde_fields = |line: &str| -> Vec<(String, String, RawKind)> {
        let mut de = serde_json::Deserializer::from_str(line);
        let mut f = FieldList::new();
        de.deserialize_map(FieldsVisitor(&mut f)).unwrap();
        f.into_iter()
            .map(|(k, v)| (k.into_owned(), v.text.to_owned(), v.kind))
            .collect()
    };
    for line in [
        r#"{"symbol":"AAPL","price":189.12,"volume":300,"change":-0.25,"ok":true,"x":null}"#,
        r#" { "a" : 1e5 , "b":-0.5E-3, "c":"ü 📈", "d":0, "e":-12.50, "f":-0 } "#,
        "{}",
        r#"{"a":"","b":false}"#,
    ] {
        let mut fast = FieldList::new();
        flat(line, &mut fast).expect(line);
        let fast: Vec<(String, String, RawKind)> = fast
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.text.to_owned(), v.kind))
            .collect();
        assert_eq!(fast, serde_fields(line), "{line}");
    }
    for line in [
        r#"{"a":"x\"y"}"#,
        r#"{"a\n":1}"#,
        r#"{"a":[1]}"#,
        r#"{"a":{"b":1}}"#,
        r#"{"a":01}"#,
        r#"{"a":1.}"#,
        r#"{"a":-}"#,
        r#"{"a":1,}"#,
        r#"{"a":1} x"#,
        r#"{"a":tru}"#,
        "{\"a\":\"\n\"}",
        r#"{"a" 1}"#,
        "[1]",
    ] {
        assert!(flat(line, &mut FieldList::new()).is_none(), "left to serde: {line}");
    }
}

#[test]
fn fields_are_found_as_in_a_parsed_record() {
    let line = br#"{"Price":1,"price":2,"PRICE":3,"x":1,"x":2}"#;
    let f = Fields::parse(line).unwrap();
    let record: serde_json::Value = serde_json::from_slice(line).unwrap();
    for want in ["price", "PRICE", "Price", "pRiCe", "x", "y"] {
        assert_eq!(
            f.get(want).map(|raw| raw.text.to_owned()),
            record.get(want).map(|v| v.to_string()).or_else(|| record
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(want))
                .map(|(_, v)| v.to_string())),
            "{want}"
        );
    }
    assert!(Fields::parse(b"[1,2]").unwrap().get("a").is_none());
    assert!(Fields::parse(b"{\"a\":").is_err());
}
