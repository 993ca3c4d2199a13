use super::*;
use crate::config::{Column, Config};

fn file(key: &str, partition: i32, start: i64, body: &str) -> FetchedFile {
    FetchedFile {
        key: key.into(),
        etag: None,
        tp: TopicPartition::new("t", partition),
        start,
        body: bytes::Bytes::from(body.to_owned()),
        companions: Default::default(),
    }
}

fn json_rules(on_error: OnError) -> LoadRules {
    LoadRules {
        reader: crate::format::Reader::lines(),
        on_error,
        positional_offsets: true,
        companions: None,
    }
}

fn db(layout: &TableLayout) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&crate::warehouse::schema::load_history_ddl("LOAD_HISTORY"))
        .unwrap();
    layout.ensure(&conn).unwrap();
    conn
}

fn ticks() -> TableLayout {
    TableLayout {
        table: "T".into(),
        ..TableLayout::for_topic(&Config::default(), "stock-market-data")
    }
}

fn load(conn: &mut Connection, layout: &TableLayout, rules: &LoadRules, files: &[FetchedFile]) -> Vec<Loaded> {
    let l = layout.clone();
    load_files(conn, &move |_| l.clone(), rules, files).unwrap()
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn any_json_lands_as_written_with_its_identity_and_the_columns_it_has() {
    let layout = ticks();
    let mut conn = db(&layout);
    let body = concat!(
        r#"{"symbol":"AAPL","price":150.25,"volume":10,"change":0.5,"timestamp":"2026-12-01T10:00:00.123456","exchange":"NASDAQ"}"#,
        "\n",
        r#"{"stock":"AAPL","price":150.25}"#,
        "\n",
        r#"{"nested":{"a":[1,2,{"b":"ü"}]},"Symbol":"MSFT"}"#,
        "\n",
        r#"[1,2,3]"#,
        "\n",
    );
    let loaded = load(
        &mut conn,
        &layout,
        &json_rules(OnError::SkipFile),
        &[file("k0", 0, 7, body)],
    );
    assert_eq!(
        loaded[0].outcome,
        LoadOutcome::Loaded {
            rows: 4,
            rejected: 0,
            first_error: None
        }
    );
    type Row = (i64, Option<String>, Option<f64>, Option<String>, String);
    let rows: Vec<Row> = conn
        .prepare("SELECT offset, symbol, price, timestamp, RECORD_CONTENT FROM T ORDER BY offset")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![7, 8, 9, 10]);
    assert_eq!(
        rows[0].3.as_deref(),
        Some("2026-12-01T10:00:00.123Z"),
        "a naive ISO time is UTC"
    );
    assert_eq!(
        (rows[1].1.as_deref(), rows[1].2),
        (None, Some(150.25)),
        "a missing field is NULL"
    );
    assert_eq!(
        rows[2].1.as_deref(),
        Some("MSFT"),
        "columns match field names case-insensitively"
    );
    assert_eq!(
        rows[2].4, r#"{"nested":{"a":[1,2,{"b":"ü"}]},"Symbol":"MSFT"}"#,
        "written as produced"
    );
    let b: String = conn
        .query_row(
            "SELECT RECORD_CONTENT ->> '$.nested.a[2].b' FROM T WHERE offset = 9",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(b, "ü", "SQLite's JSON functions query RECORD_CONTENT");
    assert_eq!(
        loaded[0].latencies_s.len(),
        1,
        "only the row with a timestamp has a latency"
    );
}

#[test]
fn finnhub_trades_map_onto_declared_columns_from_their_own_field_names() {
    let col = |name: &str, kind: &str, source: &str| Column {
        name: name.into(),
        kind: crate::config::ColumnType::try_from(kind.to_owned()).unwrap(),
        source: Some(source.into()),
    };
    let layout = TableLayout {
        table: "TRADES".into(),
        columns: vec![
            col("symbol", "TEXT", "s"),
            col("price", "REAL", "p"),
            col("volume", "INTEGER", "v"),
            col("timestamp", "TIMESTAMP", "t"),
        ],
    };
    let mut conn = db(&layout);
    let body = "{\"s\":\"AAPL\",\"p\":189.12,\"v\":100,\"t\":1733050000000,\"c\":[\"1\"]}\n";
    load(
        &mut conn,
        &layout,
        &json_rules(OnError::SkipFile),
        &[file("k", 0, 0, body)],
    );
    let row: (String, f64, i64, String) = conn
        .query_row("SELECT symbol, price, volume, timestamp FROM TRADES", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!(row, ("AAPL".into(), 189.12, 100, "2024-12-01T10:46:40.000Z".into()));
}

#[test]
fn a_value_that_cannot_take_its_type_skips_the_file_or_only_its_row() {
    let layout = ticks();
    let body =
        "{\"symbol\":\"A\",\"price\":1.0}\n{\"symbol\":\"B\",\"price\":\"a lot\"}\n{\"symbol\":\"C\",\"price\":3}\n";

    let mut conn = db(&layout);
    let loaded = load(
        &mut conn,
        &layout,
        &json_rules(OnError::SkipFile),
        &[file("k", 0, 0, body)],
    );
    match &loaded[0].outcome {
        LoadOutcome::Failed { first_error } => {
            assert!(first_error.starts_with("line 2: column price"), "{first_error}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM T"), 0);
    assert_eq!(
        count(
            &conn,
            "SELECT rows_rejected FROM LOAD_HISTORY WHERE status = 'LOAD_FAILED'"
        ),
        1
    );

    let mut conn = db(&layout);
    let loaded = load(
        &mut conn,
        &layout,
        &json_rules(OnError::Continue),
        &[file("k", 0, 0, body)],
    );
    assert!(matches!(
        &loaded[0].outcome,
        LoadOutcome::Loaded {
            rows: 2,
            rejected: 1,
            ..
        }
    ));
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM T WHERE offset IN (0, 2)"),
        2,
        "the others keep their offsets"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM LOAD_HISTORY WHERE status = 'PARTIALLY_LOADED'"
        ),
        1
    );
}

#[test]
fn a_file_loads_once_and_a_record_once_even_from_two_overlapping_files() {
    let layout = ticks();
    let mut conn = db(&layout);
    let line = |s: &str| format!("{{\"symbol\":\"{s}\"}}\n");
    let rules = json_rules(OnError::SkipFile);
    let first = [
        file("a", 0, 0, &(line("x") + &line("y"))),
        file("bad", 1, 0, "{not json\n"),
    ];
    let loaded = load(&mut conn, &layout, &rules, &first);
    assert!(
        matches!(&loaded[1].outcome, LoadOutcome::Failed { first_error } if first_error.starts_with("line 1: not JSON"))
    );
    let second = [file("a", 0, 0, &line("x")), file("b", 0, 1, &(line("y") + &line("z")))];
    let loaded = load(&mut conn, &layout, &rules, &second);
    assert_eq!(loaded[0].outcome, LoadOutcome::AlreadyLoaded);
    assert!(
        matches!(loaded[1].outcome, LoadOutcome::Loaded { rows: 1, .. }),
        "{:?}",
        loaded[1]
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM T"), 3);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM LOAD_HISTORY"), 3);
}

#[test]
fn raw_values_load_as_json_strings_between_their_separators() {
    let layout = TableLayout {
        table: "RAW".into(),
        columns: Vec::new(),
    };
    let mut conn = db(&layout);
    let rules = LoadRules {
        reader: crate::format::Reader::new(b"||"),
        on_error: OnError::SkipFile,
        positional_offsets: true,
        companions: None,
    };
    load(
        &mut conn,
        &layout,
        &rules,
        &[file(
            "topics/raw/partition=0/raw+0+0000000005.bin",
            0,
            5,
            "a,b||line\nwith newline||",
        )],
    );
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT offset, RECORD_CONTENT ->> '$' FROM RAW ORDER BY offset")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec![(5, "a,b".into()), (6, "line\nwith newline".into())]);
}

#[test]
fn a_gzip_file_loads_its_records_and_a_corrupt_one_is_load_failed() {
    use crate::config::Compression;
    let layout = ticks();
    let mut conn = db(&layout);
    let lines = "{\"symbol\":\"AAPL\",\"price\":1.5}\n{\"symbol\":\"MSFT\",\"price\":2.5}\n";
    let gz = crate::format::compression::compress(lines.as_bytes().to_vec(), Compression::Gzip, 6).unwrap();
    let good = FetchedFile {
        body: bytes::Bytes::from(gz.clone()),
        ..file("topics/t/partition=0/t+0+0000000000.json.gz", 0, 0, "")
    };
    let corrupt = FetchedFile {
        body: bytes::Bytes::from(gz[..gz.len() / 2].to_vec()),
        ..file("topics/t/partition=0/t+0+0000000002.json.gz", 0, 2, "")
    };
    let loaded = load(&mut conn, &layout, &json_rules(OnError::Continue), &[good, corrupt]);
    assert!(matches!(loaded[0].outcome, LoadOutcome::Loaded { rows: 2, .. }));
    assert!(
        matches!(&loaded[1].outcome, LoadOutcome::Failed { first_error } if first_error.starts_with("cannot be read")),
        "{:?}",
        loaded[1].outcome
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM T WHERE price IN (1.5, 2.5)"), 2);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM LOAD_HISTORY WHERE status = 'LOAD_FAILED'"),
        1
    );
}

#[test]
fn files_of_a_field_partitioner_load_with_no_offset_and_their_row_once() {
    let layout = ticks();
    let mut conn = db(&layout);
    let rules = LoadRules {
        positional_offsets: false,
        companions: None,
        ..json_rules(OnError::SkipFile)
    };
    // Two files of partition 0 whose offsets interleave (symbol=A holds 0, 2; symbol=B 1, 3).
    let a = file(
        "topics/t/symbol=A/t+0+0000000000.json",
        0,
        0,
        "{\"symbol\":\"A\"}\n{\"symbol\":\"A\"}\n",
    );
    let b = file(
        "topics/t/symbol=B/t+0+0000000001.json",
        0,
        1,
        "{\"symbol\":\"B\"}\n{\"symbol\":\"B\"}\n",
    );
    load(&mut conn, &layout, &rules, &[a.clone(), b]);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM T WHERE offset IS NULL"), 4);
    let meta: String = conn
        .query_row(
            "SELECT RECORD_METADATA FROM T WHERE symbol = 'A' AND RECORD_METADATA ->> '$.row' = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&meta).unwrap(),
        serde_json::json!({"topic": "t", "partition": 0, "offset": null, "s3_key": a.key, "row": 1})
    );
    let again = load(&mut conn, &layout, &rules, &[a]);
    assert_eq!(
        again[0].outcome,
        LoadOutcome::AlreadyLoaded,
        "a file loads once, by its key"
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM T"), 4);
}

#[test]
fn rows_of_field_partitioned_files_take_their_offsets_from_the_metadata_file_and_load_once() {
    let layout = ticks();
    let mut conn = db(&layout);
    let rules = LoadRules {
        positional_offsets: false,
        ..json_rules(OnError::SkipFile)
    };
    let with_metadata = |key: &str, start: i64, offsets: &[i64]| {
        let body: String = offsets
            .iter()
            .map(|o| format!("{{\"symbol\":\"A\",\"o\":{o}}}\n"))
            .collect();
        let mut f = file(key, 0, start, &body);
        f.companions.metadata = Some(offsets.iter().map(|o| serde_json::json!({"offset": o})).collect());
        f
    };
    // The documented worst case: offset 4 in two files of symbol=A (a file whose upload was
    // cut off was counted, not read, and the replay cut the next file elsewhere).
    let first = with_metadata("topics/t/symbol=A/t+0+0000000000.json", 0, &[0, 2, 4]);
    let second = with_metadata("topics/t/symbol=A/t+0+0000000004.json", 4, &[4, 6]);
    load(&mut conn, &layout, &rules, &[first, second]);
    let offsets: Vec<i64> = conn
        .prepare("SELECT offset FROM T ORDER BY offset")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(offsets, vec![0, 2, 4, 6], "each row with its offset, offset 4 once");
    // A metadata file that does not start at its data file's first offset is not its.
    let stray = {
        let mut f = with_metadata("topics/t/symbol=B/t+0+0000000010.json", 10, &[10, 11]);
        f.companions.metadata = Some(vec![serde_json::json!({"offset": 3}), serde_json::json!({"offset": 5})]);
        f
    };
    load(&mut conn, &layout, &rules, &[stray]);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM T WHERE offset IS NULL"), 2);
}

#[test]
fn keys_headers_and_timestamps_of_the_files_beside_go_into_record_metadata_when_their_lines_match() {
    let layout = ticks();
    let mut conn = db(&layout);
    let mut aligned = file(
        "topics/t/partition=0/t+0+0000000000.json",
        0,
        0,
        "{\"a\":1}\n{\"a\":2}\n",
    );
    aligned.companions.keys = Some(vec![serde_json::json!("K1"), serde_json::json!({"id": 2})]);
    aligned.companions.metadata = Some(vec![
        serde_json::json!({"offset": 0, "CreateTime": 1_733_050_000_123_i64}),
        serde_json::json!({"offset": 1}),
    ]);
    aligned.companions.headers = Some(vec![
        serde_json::json!([{"key": "h", "value": "1"}]),
        serde_json::json!([]),
    ]);
    let mut short = file(
        "topics/t/partition=1/t+1+0000000000.json",
        1,
        0,
        "{\"a\":3}\n{\"a\":4}\n",
    );
    short.companions.keys = Some(vec![serde_json::json!("only one")]);
    short.companions.metadata = Some(vec![serde_json::json!({"offset": 0, "CreateTime": 1})]);
    load(&mut conn, &layout, &json_rules(OnError::SkipFile), &[aligned, short]);
    let meta = |partition: i32, offset: i64| -> serde_json::Value {
        let text: String = conn
            .query_row(
                "SELECT RECORD_METADATA FROM T WHERE partition = ?1 AND offset = ?2",
                [partition as i64, offset],
                |r| r.get(0),
            )
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    assert_eq!(meta(0, 0)["key"], "K1");
    assert_eq!(meta(0, 0)["headers"], serde_json::json!({"h": "1"}));
    assert_eq!(meta(0, 1)["key"], serde_json::json!({"id": 2}));
    assert_eq!(meta(0, 1)["headers"], serde_json::json!({}));
    assert_eq!(meta(0, 0)["CreateTime"], 1_733_050_000_123_i64);
    assert_eq!(meta(0, 1).get("CreateTime"), None, "a record without a timestamp");
    assert_eq!(
        meta(1, 0).get("key"),
        None,
        "a keys file of another line count is not used"
    );
    assert_eq!(meta(1, 0).get("CreateTime"), None, "nor a metadata file");
}
