use bytes::Bytes;

use parquet::basic::Encoding;

use super::writer::RowBatch;
use super::*;
use crate::config::tick_columns;
use crate::record::avro::json::Style;

fn write(spec: &ParquetSpec, lines: &[&str]) -> Vec<u8> {
    let mut batch = RowBatch::new(spec, lines.len());
    for l in lines {
        batch.push(&spec.row(l.as_bytes()).expect("a row"));
    }
    assert_eq!(batch.rows(), lines.len());
    batch.finish(spec).expect("a Parquet file")
}

const TICK: &str = r#"{"symbol":"AAPL","price":189.12,"volume":300,"change":-0.25,"timestamp":"2026-12-01T10:00:00.123Z","exchange":"NASDAQ","run_id":"r1","seq":7}"#;

#[test]
fn a_tick_file_reads_back_as_the_lines_verify_expects() {
    for codec in [
        ParquetCodec::Snappy,
        ParquetCodec::Zstd,
        ParquetCodec::Gzip,
        ParquetCodec::None,
    ] {
        let spec = ParquetSpec::new(&tick_columns(), RecordContent::Auto, codec);
        assert!(!spec.content, "typed columns: no RECORD_CONTENT by default");
        let file = write(&spec, &[TICK, r#"{"symbol":"MSFT"}"#]);
        assert_eq!(&file[..4], b"PAR1");
        let reader::JsonLines {
            lines,
            by_column_name: by_name,
            ..
        } = reader::json_lines(Bytes::from(file), Style::default()).expect("reads");
        assert!(by_name);
        let want = [
            spec.expected(TICK.as_bytes()).unwrap(),
            spec.expected(br#"{"symbol":"MSFT"}"#).unwrap(),
        ]
        .map(|l| String::from_utf8(l).unwrap() + "\n")
        .concat();
        assert_eq!(String::from_utf8(lines).unwrap(), want, "{codec:?}");
    }
    let spec = ParquetSpec::new(&tick_columns(), RecordContent::Auto, ParquetCodec::Snappy);
    let line: serde_json::Value = serde_json::from_slice(&spec.expected(TICK.as_bytes()).unwrap()).unwrap();
    assert_eq!(line["timestamp"], "2026-12-01T10:00:00.123Z");
    assert_eq!(line["seq"], 7);
    assert_eq!(line["price"], 189.12);
}

#[test]
fn timestamps_are_parquet_timestamps_and_numbers_keep_their_types() {
    let spec = ParquetSpec::new(&tick_columns(), RecordContent::Never, ParquetCodec::Zstd);
    let file = write(&spec, &[TICK]);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file)).unwrap();
    let schema = reader.schema().clone();
    let ty = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(
        ty("timestamp"),
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    assert_eq!(ty("price"), DataType::Float64);
    assert_eq!(ty("seq"), DataType::Int64);
    assert_eq!(ty("symbol"), DataType::Utf8);
    let parquet_schema = reader.parquet_schema();
    let ts = parquet_schema
        .columns()
        .iter()
        .find(|c| c.name() == "timestamp")
        .unwrap();
    assert_eq!(ts.physical_type(), parquet::basic::Type::INT64);
    assert_eq!(reader.metadata().num_row_groups(), 1, "one file, one row group");
}

#[test]
fn a_value_that_cannot_take_its_type_is_refused_with_the_column_named() {
    let spec = ParquetSpec::new(&tick_columns(), RecordContent::Auto, ParquetCodec::Snappy);
    let e = spec
        .row(br#"{"symbol":"AAPL","price":"high"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("column price (REAL)"), "{e}");
    assert!(spec.row(b"not json").unwrap_err().to_string().starts_with("not JSON"));
}

#[test]
fn without_typed_columns_the_record_text_is_the_column_and_reads_back_as_written() {
    let spec = ParquetSpec::new(&[], RecordContent::Auto, ParquetCodec::Snappy);
    assert!(spec.content);
    let lines = [r#"{"stock":"AAPL","price":150.25}"#, r#""a string""#, "[1,2]"];
    let reader::JsonLines {
        lines: back,
        by_column_name: by_name,
        ..
    } = reader::json_lines(Bytes::from(write(&spec, &lines)), Style::default()).unwrap();
    assert!(!by_name);
    assert_eq!(String::from_utf8(back).unwrap(), lines.join("\n") + "\n");
    assert_eq!(spec.expected(lines[0].as_bytes()).unwrap(), lines[0].as_bytes());
}

#[test]
fn the_record_content_column_costs_bytes() {
    let ticks: Vec<String> = (0..1_000)
        .map(|i| {
            TICK.replace("\"seq\":7", &format!("\"seq\":{i}"))
                .replace("189.12", &format!("{}.{}", 180 + i % 7, i % 100))
        })
        .collect();
    let refs: Vec<&str> = ticks.iter().map(String::as_str).collect();
    let typed = write(
        &ParquetSpec::new(&tick_columns(), RecordContent::Never, ParquetCodec::Zstd),
        &refs,
    );
    let with_text = write(
        &ParquetSpec::new(&tick_columns(), RecordContent::Always, ParquetCodec::Zstd),
        &refs,
    );
    assert!(
        with_text.len() > typed.len() * 3 / 2,
        "{} vs {}",
        with_text.len(),
        typed.len()
    );
}

#[test]
fn a_foreign_file_that_is_not_parquet_is_an_error() {
    assert!(reader::json_lines(Bytes::from_static(b"{\"a\":1}\n"), Style::default())
        .unwrap_err()
        .to_string()
        .starts_with("not a Parquet file"));
}

#[test]
fn the_same_rows_make_the_same_bytes() {
    // A retried or re-planned upload rebuilds the file from the same records: its bytes must
    // match the object already in S3 (the conditional PUT compares them).
    let spec = ParquetSpec::new(&tick_columns(), RecordContent::Auto, ParquetCodec::Snappy);
    assert_eq!(write(&spec, &[TICK, TICK]), write(&spec, &[TICK, TICK]));
}

#[test]
fn a_file_whose_rows_take_more_than_the_cap_is_not_read() {
    let spec = ParquetSpec::new(&tick_columns(), RecordContent::Auto, ParquetCodec::Zstd);
    let file = Bytes::from(write(&spec, &[TICK; 1_000]));
    let lines = reader::json_lines(file.clone(), Style::default()).unwrap().lines.len();
    let stated = parquet::file::reader::FileReader::metadata(
        &parquet::file::serialized_reader::SerializedFileReader::new(file.clone()).unwrap(),
    )
    .row_groups()
    .iter()
    .map(|g| g.total_byte_size() as usize)
    .sum::<usize>();
    assert!(stated < lines, "{stated} bytes of columns, {lines} of JSON lines");
    let read = |max| reader::json_lines_within(file.clone(), Style::default(), max);
    assert_eq!(read(lines).unwrap().lines.len(), lines, "exactly at the cap");
    for max in [lines - 1, stated - 1] {
        let e = read(max).unwrap_err();
        assert_eq!(e.to_string(), format!("its rows take more than {max} bytes: not read"));
    }
}

/// Text (a few symbols, exchanges, runs) is dictionary-encoded; numbers are not: integers and
/// timestamps go delta-encoded, reals plain (a price walk has nearly as many values as rows, so
/// a dictionary only added a page and an index per value, and cost a hash of each).
#[test]
fn text_columns_have_a_dictionary_and_number_columns_none() {
    let spec = ParquetSpec::new(&tick_columns(), RecordContent::Never, ParquetCodec::Zstd);
    let file = write(&spec, &[TICK, TICK, r#"{"symbol":"MSFT","price":1.5}"#]);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file)).unwrap();
    let group = reader.metadata().row_group(0);
    for column in group.columns() {
        let (name, encodings) = (column.column_path().string(), column.encodings().collect::<Vec<_>>());
        let dictionary = column.dictionary_page_offset().is_some();
        match spec.columns.iter().find(|c| c.name == name).map(|c| c.kind) {
            Some(ColumnType::Text) => assert!(dictionary, "{name}: {encodings:?}"),
            Some(ColumnType::Real) => {
                assert!(
                    !dictionary && encodings.contains(&Encoding::PLAIN),
                    "{name}: {encodings:?}"
                )
            }
            Some(ColumnType::Integer | ColumnType::Timestamp) => assert!(
                !dictionary && encodings.contains(&Encoding::DELTA_BINARY_PACKED),
                "{name}: {encodings:?}"
            ),
            other => panic!("{name}: {other:?}"),
        }
    }
}
