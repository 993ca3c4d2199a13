//! Tests of [`super`]: names, lines and compression of the files beside a data file.

use super::*;
use crate::record::KeyHeaders;

fn companions(toml: &str) -> Companions {
    let sink = crate::config::parse_str(&format!("[sink]\n{toml}")).unwrap().sink;
    Companions::from_config(&sink).unwrap()
}

fn rec(key: Option<&[u8]>, headers: &[(&str, Option<&[u8]>)]) -> Record {
    Record {
        offset: 7,
        value: Some(Bytes::from_static(b"{}")),
        timestamp_ms: None,
        extra: Some(Box::new(KeyHeaders {
            key: key.map(Bytes::copy_from_slice),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.map(Bytes::copy_from_slice)))
                .collect(),
            log_append_time: false,
        })),
    }
}

fn written(c: &Companions, records: &[Record]) -> Vec<(String, String)> {
    let mut bodies = Bodies::default();
    for r in records {
        c.append(&mut bodies, c.lines(r).unwrap());
    }
    c.finish(
        bodies,
        "topics/t/partition=0/t+0+0000000007.snappy.parquet",
        "snappy.parquet",
    )
    .unwrap()
    .into_iter()
    .map(|(k, b)| (k, String::from_utf8_lossy(&b).into_owned()))
    .collect()
}

#[test]
fn keys_and_headers_files_are_named_beside_the_data_file_with_a_line_per_record() {
    let c = companions("\"store.kafka.keys\" = true\n\"store.kafka.headers\" = true");
    let files = written(
        &c,
        &[
            rec(Some(b"AAPL"), &[("source", Some(b"feed-1")), ("trace", None)]),
            rec(Some("Ünï".as_bytes()), &[]),
        ],
    );
    assert_eq!(
        files,
        vec![
            (
                "topics/t/partition=0/t+0+0000000007.keys.json".into(),
                "\"AAPL\"\n\"Ünï\"\n".into()
            ),
            (
                "topics/t/partition=0/t+0+0000000007.headers.json".into(),
                "[{\"key\":\"source\",\"value\":\"feed-1\"},{\"key\":\"trace\",\"value\":null}]\n[]\n".into()
            ),
        ]
    );
}

#[test]
fn each_key_converter_writes_one_json_value_and_says_why_it_cannot() {
    let json = companions("\"store.kafka.keys\" = true\n\"key.converter\" = \"json\"");
    assert_eq!(
        written(&json, &[rec(Some(b"{\n  \"id\": 1\n}"), &[])])[0].1,
        "{\"id\": 1}\n"
    );
    let bytes = companions("\"store.kafka.keys\" = true\n\"key.converter\" = \"bytes\"");
    assert_eq!(written(&bytes, &[rec(Some(&[0xff, 0x00]), &[])])[0].1, "\"/wA=\"\n");
    let string = companions("\"store.kafka.keys\" = true");
    let why = |c: &Companions, r: &Record| c.lines(r).unwrap_err().to_string();
    assert_eq!(why(&string, &rec(None, &[])), "store.kafka.keys: the record has no key");
    assert!(why(&string, &rec(Some(&[0xff]), &[])).contains("key.converter = string: not UTF-8"));
    assert!(why(&json, &rec(Some(b"AAPL"), &[])).contains("key.converter = json: not JSON"));
}

#[test]
fn a_reader_finds_the_files_beside_a_data_file_of_any_format_and_reads_their_lines() {
    let c =
        companions("\"store.kafka.keys\" = true\n\"store.kafka.headers\" = true\n\"s3.compression.type\" = \"gzip\"");
    let mut bodies = Bodies::default();
    c.append(&mut bodies, c.lines(&rec(Some(b"A"), &[("h", Some(b"1"))])).unwrap());
    for data in [
        "d/t+0+0000000007.json.gz",
        "d/t+0+0000000007.zstd.parquet",
        "d/t+0+0000000007.avro",
    ] {
        let names = c.names_beside(data);
        assert_eq!(names.keys.as_deref(), Some("d/t+0+0000000007.keys.json.gz"), "{data}");
        assert_eq!(
            names.headers.as_deref(),
            Some("d/t+0+0000000007.headers.json.gz"),
            "{data}"
        );
        assert_eq!(names.metadata, None, "{data}");
    }
    let files = c.finish(bodies, "d/t+0+0000000007.avro", "avro").unwrap();
    assert_eq!(
        read_lines(&files[0].0, files[0].1.clone()).unwrap(),
        vec![serde_json::json!("A")]
    );
    assert_eq!(
        read_lines(&files[1].0, files[1].1.clone()).unwrap(),
        vec![serde_json::json!([{"key": "h", "value": "1"}])]
    );
    assert!(read_lines("k.keys.json", Bytes::from_static(b"nope\n")).is_err());
}

#[test]
fn a_metadata_line_names_the_offset_and_timestamp_as_the_snowflake_connector_does() {
    let c = companions("\"store.kafka.metadata\" = true");
    let mut created = rec(None, &[]);
    created.timestamp_ms = Some(1_733_050_000_123);
    let mut appended = created.clone();
    appended.extra.as_mut().unwrap().log_append_time = true;
    let mut none = rec(None, &[]);
    none.extra = None;
    let files = written(&c, &[created, appended, none]);
    assert_eq!(
        files,
        vec![(
            "topics/t/partition=0/t+0+0000000007.metadata.json".into(),
            "{\"offset\":7,\"CreateTime\":1733050000123}\n{\"offset\":7,\"LogAppendTime\":1733050000123}\n{\"offset\":7}\n".into()
        )]
    );
    assert_eq!(
        c.names_beside("d/t+0+0000000007.json").metadata.as_deref(),
        Some("d/t+0+0000000007.metadata.json")
    );
}

#[test]
fn compressed_companions_are_compressed_like_json_files() {
    let c = companions("\"store.kafka.keys\" = true\n\"s3.compression.type\" = \"gzip\"");
    let mut bodies = Bodies::default();
    c.append(&mut bodies, c.lines(&rec(Some(b"A"), &[])).unwrap());
    let files = c.finish(bodies, "d/t+0+0000000007.json.gz", "json.gz").unwrap();
    assert_eq!(files[0].0, "d/t+0+0000000007.keys.json.gz");
    let plain = super::super::compression::decode(&files[0].0, files[0].1.clone()).unwrap();
    assert_eq!(&plain[..], b"\"A\"\n");
}
