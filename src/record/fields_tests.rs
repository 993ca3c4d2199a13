use super::*;
use crate::record::tick_scan::{plain_tick, Plain};

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

/// `n` mutations of a tick (none, one or two edits each, of bytes JSON and ticks are made of),
/// from a seeded generator so that a failure reproduces.
fn mutated_ticks(seed: u64, n: usize) -> impl Iterator<Item = Vec<u8>> {
    const TICK: &str = r#"{"symbol":"AAPL","price":189.51,"volume":120,"change":-0.01,"timestamp":"2026-11-22T01:02:03.456Z","exchange":"NASDAQ","run_id":"0a1b","seq":0}"#;
    const ALPHABET: &[u8] = b"{}:,\" -.0123456789eEaZ\\\n";
    let mut rng = crate::record::testing::Rng(seed);
    (0..n).map(move |i| crate::record::testing::mutated(&mut rng, TICK.as_bytes(), i % 3, ALPHABET))
}

/// A plain tick's fields come from the tick check's spans: they must be what the one-pass scan
/// reads from the same text, on ticks and on random mutations of one.
#[test]
fn a_plain_tick_reads_as_the_one_pass_scan_reads_it() {
    let mut fast = 0;
    for v in mutated_ticks(0x2545_F491_4F6C_DD1D, 50_000) {
        let Ok(text) = std::str::from_utf8(&v) else { continue };
        let mut tick = Fields::default();
        if tick.plain_tick(text).is_none() {
            continue;
        }
        fast += 1;
        let mut scanned = FieldList::new();
        assert!(flat(text, &mut scanned).is_some(), "{text}");
        assert_eq!(tick.0, scanned, "{text}");
    }
    assert!(fast > 20_000, "the tick path read {fast} of 50,000");
}

/// The converter's check hands a Parquet row the spans it found: reading the fields there is
/// reading the line alone; spans that do not fit the line read it alone too.
#[test]
fn a_tick_read_at_the_checks_spans_is_the_line_read_alone() {
    let mut spanned = 0;
    for v in mutated_ticks(0x9E37_79B9_7F4A_7C15, 20_000) {
        let Some(Plain::ProducerOrder(spans)) = plain_tick(&v) else {
            continue;
        };
        spanned += 1;
        let text = std::str::from_utf8(&v).expect("a plain tick is ASCII");
        let (mut at, mut alone) = (Fields::default(), Fields::default());
        at.read_tick(text, &spans).expect("a plain tick reads");
        alone.read(text).expect("a plain tick reads");
        assert_eq!((&at.0, at.1), (&alone.0, alone.1), "{text}");
    }
    assert!(spanned > 5_000, "{spanned} of 20,000 in the producer's order");
    let (mut at, mut alone) = (Fields::default(), Fields::default());
    at.read_tick(r#"{"a":1}"#, &[(0, 1_000); 8]).expect("JSON");
    alone.read(r#"{"a":1}"#).expect("JSON");
    assert_eq!((&at.0, at.1), (&alone.0, alone.1));
    assert!(at.read_tick("{", &[(0, 1_000); 8]).is_err());
}

#[test]
fn a_field_looked_up_where_its_column_is_is_the_one_get_finds() {
    let tick = br#"{"symbol":"AAPL","price":189.51,"volume":120,"change":-0.01,"timestamp":"t","exchange":"X","run_id":"r","seq":7}"#;
    let fields = Fields::parse(tick).unwrap();
    let text = |raw: Option<Raw<'_>>| raw.map(|r| r.text.to_owned());
    for (at, want) in [(1, "price"), (0, "price"), (7, "seq"), (3, "nope"), (99, "symbol")] {
        assert_eq!(text(fields.get_at(want, at)), text(fields.get(want)), "{want} at {at}");
    }
    assert_eq!(text(fields.get_at("price", 1)).as_deref(), Some("189.51"));
    // Keys twice: the last one, whatever the place asked first.
    let twice = Fields::parse(br#"{"a":1,"a":2}"#).unwrap();
    assert_eq!(text(twice.get_at("a", 0)).as_deref(), Some("2"));
}
