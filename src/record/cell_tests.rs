use super::*;
use serde_json::json;

fn col(name: &str, kind: ColumnType, source: Option<&str>) -> Column {
    Column {
        name: name.into(),
        kind,
        source: source.map(str::to_owned),
    }
}

#[test]
fn timestamps_of_every_shape_are_normalised_to_utc_millis() {
    for (given, want) in [
        (json!("2026-12-01T10:00:00.123Z"), "2026-12-01T10:00:00.123Z"),
        (json!("2026-12-01T11:00:00.123+01:00"), "2026-12-01T10:00:00.123Z"),
        (json!("2026-12-01T10:00:00.123456"), "2026-12-01T10:00:00.123Z"),
        (json!("2026-12-01 10:00:00"), "2026-12-01T10:00:00.000Z"),
        (json!("2013-02-08"), "2013-02-08T00:00:00.000Z"),
        (json!(1733050000), "2024-12-01T10:46:40.000Z"),
        (json!(1733050000123_i64), "2024-12-01T10:46:40.123Z"),
        (json!(1733050000123456_i64), "2024-12-01T10:46:40.123Z"),
        (json!("1733050000123"), "2024-12-01T10:46:40.123Z"),
    ] {
        assert_eq!(timestamp(&given).as_deref(), Some(want), "{given}");
    }
    assert_eq!(timestamp(&json!("yesterday")), None);
    assert_eq!(timestamp(&json!(true)), None);
}

#[test]
fn the_fast_utc_reading_agrees_with_chrono_or_leaves_the_text_to_it() {
    let mut x: u64 = 42;
    for _ in 0..20_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let ms = (x >> 20) as i64 % 253_402_300_799_000; // 1970 .. 9999
        let t = Utc.timestamp_millis_opt(ms).unwrap();
        for text in [
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            format!("{}Z", &t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()[..21]),
        ] {
            let chrono = DateTime::parse_from_rfc3339(&text).unwrap().timestamp_millis();
            assert_eq!(utc_millis(&text), Some(chrono), "{text}");
        }
    }
    for other in [
        "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-12-01T24:00:00Z",
        "2026-12-01T10:00:60Z",
        "1969-12-31T23:59:59Z",
        "2026-12-01T10:00:00.Z",
        "2026-12-01T10:00:00+00:00",
        "2026-12-01 10:00:00Z",
        "2026-12-01T10:00:0xZ",
    ] {
        assert_eq!(utc_millis(other), None, "{other}");
    }
    assert_eq!(text_timestamp_ms("2024-02-29T12:00:00.5Z"), Some(1_709_208_000_500));
}

#[test]
fn fields_match_by_name_case_insensitively_or_by_source() {
    let trade = json!({"s": "AAPL", "p": 189.12, "v": 100, "t": 1733050000000_i64, "c": ["1"]});
    assert_eq!(
        cell(&trade, &col("symbol", ColumnType::Text, Some("s")), false).unwrap(),
        Cell::Text("AAPL".into())
    );
    assert_eq!(
        cell(&trade, &col("timestamp", ColumnType::Timestamp, Some("t")), false).unwrap(),
        Cell::Timestamp(1_733_050_000_000)
    );
    let row = json!({"Date": "2013-02-08", "Close": 14.75, "Volume": 8407500, "Name": "AAL"});
    assert_eq!(
        cell(&row, &col("close", ColumnType::Real, None), false).unwrap(),
        Cell::Real(14.75)
    );
    assert_eq!(
        cell(&row, &col("volume", ColumnType::Integer, None), false).unwrap(),
        Cell::Integer(8407500)
    );
    assert_eq!(
        cell(&row, &col("price", ColumnType::Real, None), false).unwrap(),
        Cell::Null,
        "missing"
    );
    assert_eq!(
        cell(&json!({"c": ["1"]}), &col("c", ColumnType::Text, None), false).unwrap(),
        Cell::Text("[\"1\"]".into()),
        "an array in a TEXT column is its JSON"
    );
}

#[test]
fn a_value_that_cannot_take_the_type_names_the_column_and_the_value() {
    let e = cell(&json!({"price": "high"}), &col("price", ColumnType::Real, None), false).unwrap_err();
    assert_eq!(e.to_string(), "column price (REAL): \"high\" is not a number");
    assert!(cell(
        &json!({"volume": 1.5}),
        &col("volume", ColumnType::Integer, None),
        false
    )
    .is_err());
    assert!(cell(&json!({"t": "soon"}), &col("t", ColumnType::Timestamp, None), false).is_err());
    assert_eq!(
        cell(
            &json!({"volume": 100.0}),
            &col("volume", ColumnType::Integer, None),
            false
        )
        .unwrap(),
        Cell::Integer(100)
    );
}

#[test]
fn by_name_reads_the_column_name_whatever_its_source() {
    let row = json!({"price": 1.5});
    let price = col("price", ColumnType::Real, Some("p"));
    assert_eq!(
        cell(&row, &price, false).unwrap(),
        Cell::Null,
        "the source p is missing"
    );
    assert_eq!(cell(&row, &price, true).unwrap(), Cell::Real(1.5));
}

#[test]
fn cells_as_json_keep_their_type_and_a_timestamp_reads_as_text() {
    assert_eq!(
        Cell::Timestamp(1_733_050_000_123).to_json(),
        json!("2024-12-01T10:46:40.123Z")
    );
    assert_eq!(Cell::Real(f64::NAN).to_json(), Value::Null);
    assert_eq!(Cell::Integer(7).to_json(), json!(7));
    assert_eq!(Cell::Boolean(true).to_json(), json!(true));
}
