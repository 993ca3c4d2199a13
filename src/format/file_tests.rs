use super::*;
use crate::format::Converted;

fn written(format: &FileFormat, lines: &[&[u8]]) -> Vec<u8> {
    let first = Converted::Line(lines[0].into(), None);
    let mut body = format.open(&first, 0, 100, false).unwrap();
    for line in lines {
        let record = Converted::Line((*line).into(), None);
        let mut row = Row::default();
        format.encode(&record, &mut row).unwrap();
        format.append(&mut body, &record, &row);
    }
    format.finish(body).unwrap()
}

#[test]
fn each_format_reads_back_the_records_it_wrote() {
    let config = |toml: &str| crate::config::parse_str(toml).unwrap();
    let lines: [&[u8]; 2] = [br#"{"symbol":"A","price":1.5}"#, br#"{"symbol":"B","price":2}"#];
    for (toml, key) in [
        ("", "t+0+0.json"),
        ("[sink]\n\"s3.compression.type\" = \"gzip\"", "t+0+0.json.gz"),
        ("[sink]\n\"s3.compression.type\" = \"zstd\"", "t+0+0.json.zst"),
        (
            "[sink]\n\"value.converter\" = \"bytes\"\n\"format.bytearray.separator\" = \"|\"",
            "t+0+0.bin",
        ),
    ] {
        let c = config(toml);
        let file = written(&FileFormats::from_config(&c).for_topic("t"), &lines);
        let read = Reader::of(&c.sink).read(key, file.into()).unwrap();
        assert_eq!(read.iter().collect::<Vec<_>>(), lines, "{toml}");
    }
    let parquet = config("[sink]\n\"format.class\" = \"parquet\"\n[warehouse]\ncolumns = []\n");
    let file = written(&FileFormats::from_config(&parquet).for_topic("t"), &lines);
    let read = Reader::default().read("t+0+0.snappy.parquet", file.into()).unwrap();
    assert_eq!(read.iter().collect::<Vec<_>>(), lines, "RECORD_CONTENT, as written");
}

#[test]
fn a_parquet_row_names_the_column_a_value_cannot_take() {
    let c = crate::config::parse_str(
        "[sink]\n\"format.class\" = \"parquet\"\n[[warehouse.columns]]\nname = \"price\"\ntype = \"REAL\"\n",
    )
    .unwrap();
    let format = FileFormats::from_config(&c).for_topic("t");
    let record = Converted::Line(br#"{"price":"high"}"#[..].into(), None);
    let mut row = Row::default();
    let why = format.encode(&record, &mut row).unwrap_err().to_string();
    assert!(why.contains("price"), "{why}");
}
