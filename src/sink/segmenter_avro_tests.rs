//! The segmenter with records that carry a schema: files cut (or records projected) at a schema
//! change as `schema.compatibility` says, a schema fetched before its record is taken, and the
//! records the wire format or the registry refuse dead-lettered with the reason.

use std::sync::Arc;

use apache_avro::types::Value;
use bytes::Bytes;

use super::*;
use crate::format::Reader;
use crate::record::avro::{encode::encode, wire, Known, WriterSchema};

const V1: &str = r#"{"type": "record", "name": "Quote", "namespace": "m", "fields": [
  {"name": "symbol", "type": "string"}, {"name": "bid", "type": "double"}]}"#;
const V2: &str = r#"{"type": "record", "name": "Quote", "namespace": "m", "fields": [
  {"name": "symbol", "type": "string"}, {"name": "bid", "type": "double"},
  {"name": "venue", "type": "string", "default": "XNAS"}]}"#;

fn rules(toml: &str) -> (Rules, KeyLayout) {
    let config = crate::config::parse_str(&format!(
        "[sink]\n\"value.converter\" = \"avro\"\n\"value.converter.schema.registry.url\" = \"http://r:8081\"\n\
         {toml}"
    ))
    .expect("config parses");
    let rules = Rules::from_config(&config).expect("rules");
    let layout = KeyLayout::of(&config.sink, "t");
    for (id, text, version) in [(1, V1, 1), (2, V2, 2)] {
        let schema = WriterSchema::parse(Some(id), text, &[])
            .unwrap()
            .with_versions(vec![("t-value".into(), version)]);
        rules.converter.schemas().insert(id, Known::Found(Arc::new(schema)));
    }
    (rules, layout)
}

/// A quote of schema `id` (1 or 2) at `offset`, in the wire format.
fn quote(id: u32, offset: i64) -> Record {
    let (text, mut fields) = match id {
        1 => (V1, vec![]),
        _ => (V2, vec![("venue".to_owned(), Value::String("ARCX".into()))]),
    };
    fields.insert(0, ("bid".into(), Value::Double(offset as f64)));
    fields.insert(0, ("symbol".into(), Value::String(format!("S{offset}"))));
    let schema = WriterSchema::parse(Some(id), text, &[]).unwrap();
    let mut datum = Vec::new();
    encode(&Value::Record(fields), &schema, &mut datum).unwrap();
    raw(offset, wire::frame(id, &datum))
}

fn raw(offset: i64, value: Vec<u8>) -> Record {
    Record {
        offset,
        value: Some(Bytes::from(value)),
        timestamp_ms: None,
        extra: None,
    }
}

fn run((rules, layout): (Rules, KeyLayout), records: Vec<Record>) -> (Segmenter, Vec<Segment>) {
    let mut s = Segmenter::new(layout, 0, rules, 0, vec![], vec![]);
    let mut out = Vec::new();
    for r in &records {
        s.push(r, &mut out);
    }
    s.close(&mut out);
    (s, out)
}

/// Each data file's records, as read back.
fn files(out: &[Segment]) -> Vec<(String, Vec<String>)> {
    out.iter()
        .filter(|s| !s.dead_letter)
        .map(|s| {
            let read = Reader::default().read(&s.key, s.body.clone()).expect("reads back");
            let lines = read.iter().map(|l| String::from_utf8(l.to_vec()).unwrap()).collect();
            (s.key.clone(), lines)
        })
        .collect()
}

#[test]
fn under_none_a_new_schema_closes_the_file() {
    let (_, out) = run(
        rules("\"format.class\" = \"avro\"\n\"avro.codec\" = \"deflate\"\n"),
        vec![quote(1, 0), quote(1, 1), quote(2, 2), quote(1, 3)],
    );
    let written = files(&out);
    assert_eq!(
        written.iter().map(|(k, l)| (k.as_str(), l.len())).collect::<Vec<_>>(),
        [
            ("topics/t/partition=0/t+0+0000000000.avro", 2),
            ("topics/t/partition=0/t+0+0000000002.avro", 1),
            ("topics/t/partition=0/t+0+0000000003.avro", 1)
        ]
    );
    assert_eq!(written[1].1[0], r#"{"symbol":"S2","bid":2.0,"venue":"ARCX"}"#);
}

#[test]
fn under_backward_an_older_record_is_projected_and_a_newer_one_closes_the_file() {
    let (_, out) = run(
        rules("\"format.class\" = \"avro\"\n\"schema.compatibility\" = \"BACKWARD\"\n"),
        vec![quote(2, 0), quote(1, 1), quote(1, 2), quote(2, 3)],
    );
    let written = files(&out);
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(
        written[0].1,
        [
            r#"{"symbol":"S0","bid":0.0,"venue":"ARCX"}"#,
            r#"{"symbol":"S1","bid":1.0,"venue":"XNAS"}"#,
            r#"{"symbol":"S2","bid":2.0,"venue":"XNAS"}"#,
            r#"{"symbol":"S3","bid":3.0,"venue":"ARCX"}"#
        ],
        "v1 records take v2's default; the file stays open"
    );
    let (_, out) = run(
        rules("\"format.class\" = \"avro\"\n\"schema.compatibility\" = \"BACKWARD\"\n"),
        vec![quote(1, 0), quote(2, 1)],
    );
    assert_eq!(files(&out).len(), 2, "a newer version opens a file of its own");
}

#[test]
fn a_record_waits_for_its_schema_and_is_not_taken_until_then() {
    let (r, layout) = rules("");
    let mut s = Segmenter::new(layout, 0, r.clone(), 0, vec![], vec![]);
    let mut out = Vec::new();
    let unknown = {
        let mut q = quote(1, 0);
        let mut v = q.value.take().unwrap().to_vec();
        v[4] = 9; // schema id 9, not fetched yet
        Record {
            value: Some(Bytes::from(v)),
            ..q
        }
    };
    assert_eq!(s.push(&unknown, &mut out).0, Pushed::NeedsSchema(9));
    assert_eq!((s.next_offset(), s.buffered()), (0, 0), "nothing taken");
    let v1 = WriterSchema::parse(Some(9), V1, &[]).unwrap();
    r.converter.schemas().insert(9, Known::Found(Arc::new(v1)));
    assert_eq!(s.push(&unknown, &mut out).0, Pushed::Buffered { opened: Some(0) });
}

#[test]
fn what_the_wire_format_or_the_registry_refuses_is_a_dead_letter_saying_why() {
    let (r, layout) = rules("");
    r.converter.schemas().insert(
        5,
        Known::Unusable("not in the registry (Schema not found (error 40403))".into()),
    );
    let mut garbled = wire::frame(1, &[]);
    garbled.extend_from_slice(&[0x05, b'A', b'B']); // a 2-byte string where 5 bytes are promised
    let (_, out) = run(
        (r, layout),
        vec![
            raw(0, br#"{"symbol":"A"}"#.to_vec()),
            raw(1, wire::frame(5, b"\x02A")),
            raw(2, garbled),
            quote(1, 3),
        ],
    );
    let dead = out.iter().find(|s| s.dead_letter).expect("a dead-letter batch");
    let reasons: Vec<&str> = dead.dead.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(reasons.len(), 3);
    assert!(reasons[0].contains("magic byte 0x7b"), "{reasons:?}");
    assert!(
        reasons[1].starts_with("schema id 5: not in the registry"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with("does not decode with schema id 1"),
        "{reasons:?}"
    );
    assert_eq!(files(&out).len(), 1, "the good record is written");
}

#[test]
fn json_and_parquet_files_of_avro_records_hold_the_same_records() {
    let records = || vec![quote(2, 0), quote(2, 1)];
    let (_, json) = run(rules(""), records());
    let (_, parquet) = run(rules("\"format.class\" = \"parquet\"\n"), records());
    let (json, parquet) = (files(&json), files(&parquet));
    assert!(parquet[0].0.ends_with(".snappy.parquet"), "{:?}", parquet[0].0);
    assert_eq!(json[0].1, parquet[0].1);
    assert_eq!(json[0].1[1], r#"{"symbol":"S1","bid":1.0,"venue":"ARCX"}"#);
}

#[test]
fn after_a_crash_at_any_file_a_replay_writes_every_record_once_across_schema_changes() {
    let records: Vec<Record> = (0..20)
        .map(|o| quote(if (o / 4) % 2 == 0 { 1 } else { 2 }, o))
        .collect();
    let config = "\"format.class\" = \"avro\"\n\"flush.size\" = 3\n";
    let (_, first) = run(rules(config), records.clone());
    let data: Vec<&Segment> = first.iter().filter(|s| !s.dead_letter).collect();
    // Files 0..uploaded reached S3; those before committed were committed too.
    for uploaded in 0..=data.len() {
        for committed in 0..=uploaded {
            let start = data.get(committed).map_or(20, |s| s.meta.start_offset);
            let existing: Vec<Span> = data[committed..uploaded]
                .iter()
                .map(|s| Span {
                    start: s.meta.start_offset,
                    end: s.meta.end_offset,
                })
                .collect();
            let (r, layout) = rules(config);
            let mut s = Segmenter::new(layout, 0, r, start, existing, vec![]);
            let mut out = Vec::new();
            for rec in &records[start as usize..] {
                s.push(rec, &mut out);
            }
            s.close(&mut out);
            let mut covered = vec![0; 20];
            for seg in data[..uploaded].iter().copied().chain(out.iter()) {
                for o in seg.meta.start_offset..seg.meta.end_offset {
                    covered[o as usize] += 1;
                }
                let read = Reader::default().read(&seg.key, seg.body.clone()).unwrap();
                assert_eq!(
                    read.count() as i64,
                    seg.meta.end_offset - seg.meta.start_offset,
                    "{}",
                    seg.key
                );
            }
            assert!(
                covered.iter().all(|n| *n == 1),
                "uploaded {uploaded}, committed {committed}: {covered:?}"
            );
        }
    }
}
