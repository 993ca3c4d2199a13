//! Keys and headers files (Connect's `store.kafka.keys`, `store.kafka.headers`): one JSON line
//! per record of a data file, in the data file's order, in a file named beside it as the
//! Confluent sink names it: `<topic>+<p>+<offset>.keys.json` and `.headers.json` beside
//! `<topic>+<p>+<offset>.json` (or `.snappy.parquet`, `.avro`), compressed as
//! `s3.compression.type` says (`.keys.json.gz`).
//!
//! A key line is the key as `key.converter` reads it: a JSON string of its text (`string`), the
//! JSON as produced (`json`), or a base64 string (`bytes`, as JsonConverter writes bytes). A
//! headers line is Connect's HeaderRecordView as JSON: `[{"key": "k", "value": "v"}]`, each value
//! as text (base64 when it is not UTF-8, `null` when null).

use base64::Engine;
use bytes::Bytes;

use super::compression::compress;
use super::names::{GZIP_SUFFIX, ZSTD_SUFFIX};
use crate::config::{Compression, KeyConverter, SinkConfig};
use crate::record::{Record, RecordError};

/// What a sink writes beside its data files, from `[sink]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Companions {
    /// `store.kafka.keys`, with `key.converter`.
    keys: Option<KeyConverter>,
    /// `store.kafka.headers`.
    headers: bool,
    compression: Compression,
    level: i32,
}

/// One record's lines of its keys and headers files.
#[derive(Debug, Default)]
pub struct Lines {
    key: Option<Vec<u8>>,
    headers: Option<Vec<u8>>,
}

/// The keys and headers files of one open data file.
#[derive(Debug, Default)]
pub struct Bodies {
    keys: Vec<u8>,
    headers: Vec<u8>,
}

impl Bodies {
    pub fn bytes(&self) -> u64 {
        (self.keys.len() + self.headers.len()) as u64
    }
}

/// The part of a keys file's name between the data file's stem and its extension.
pub const KEYS: &str = ".keys";
/// The same for a headers file.
pub const HEADERS: &str = ".headers";

impl Companions {
    /// What `sink` writes beside its data files, or `None` when neither keys nor headers.
    pub fn from_config(sink: &SinkConfig) -> Option<Self> {
        (sink.store_keys || sink.store_headers).then(|| Self {
            keys: sink.store_keys.then_some(sink.key_converter),
            headers: sink.store_headers,
            compression: sink.compression,
            level: sink.compression_level,
        })
    }

    /// Whether records must carry their keys and headers.
    pub fn wants_keys(&self) -> bool {
        self.keys.is_some()
    }

    pub fn wants_headers(&self) -> bool {
        self.headers
    }

    /// The keys and headers files beside the data file `data_key` (each `None` when not
    /// written), as [`Self::finish`] names them.
    pub fn names_beside(&self, data_key: &str) -> (Option<String>, Option<String>) {
        let Some(stem) = super::names::data_stem(data_key) else {
            return (None, None);
        };
        let suffix = match self.compression {
            Compression::None => "",
            Compression::Gzip => GZIP_SUFFIX,
            Compression::Zstd => ZSTD_SUFFIX,
        };
        let name = |which: &str| format!("{stem}{which}.json{suffix}");
        (
            self.keys.is_some().then(|| name(KEYS)),
            self.headers.then(|| name(HEADERS)),
        )
    }

    /// `rec`'s lines, or why its key cannot be written (checked before its value is appended,
    /// so a data file and its keys file never differ by a record).
    pub fn lines(&self, rec: &Record) -> Result<Lines, RecordError> {
        let extra = rec.extra.as_deref();
        let key = match self.keys {
            None => None,
            Some(converter) => {
                let key = extra
                    .and_then(|e| e.key.as_deref())
                    .ok_or_else(|| RecordError::Key("the record has no key".into()))?;
                Some(key_line(converter, key)?)
            }
        };
        let headers = self
            .headers
            .then(|| headers_line(extra.map_or(&[][..], |e| &e.headers[..])));
        Ok(Lines { key, headers })
    }

    /// Appends one record's lines.
    pub fn append(&self, bodies: &mut Bodies, lines: Lines) {
        for (body, line) in [(&mut bodies.keys, lines.key), (&mut bodies.headers, lines.headers)] {
            if let Some(line) = line {
                body.extend_from_slice(&line);
                body.push(b'\n');
            }
        }
    }

    /// The finished files beside the data file `data_key` (whose extension is `extension`):
    /// each key and body.
    pub fn finish(&self, bodies: Bodies, data_key: &str, extension: &str) -> Vec<(String, Bytes)> {
        let stem = data_key
            .strip_suffix(extension)
            .and_then(|s| s.strip_suffix('.'))
            .unwrap_or(data_key);
        let suffix = match self.compression {
            Compression::None => "",
            Compression::Gzip => GZIP_SUFFIX,
            Compression::Zstd => ZSTD_SUFFIX,
        };
        let mut out = Vec::new();
        for (want, which, body) in [
            (self.keys.is_some(), KEYS, bodies.keys),
            (self.headers, HEADERS, bodies.headers),
        ] {
            if want {
                let body = compress(body, self.compression, self.level);
                out.push((format!("{stem}{which}.json{suffix}"), Bytes::from(body)));
            }
        }
        out
    }
}

/// The lines of a keys or headers file read back, each a JSON value.
pub fn read_lines(key: &str, body: Bytes) -> Result<Vec<serde_json::Value>, super::FormatError> {
    let unreadable = |source: Box<dyn std::error::Error + Send + Sync>| super::FormatError::Unreadable {
        key: key.to_owned(),
        what: "JSON lines",
        source,
    };
    let plain = super::compression::decode(key, body).map_err(|e| unreadable(Box::new(e)))?;
    plain
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).map_err(|e| unreadable(Box::new(e))))
        .collect()
}

/// A key as `converter` reads it, as one JSON value.
fn key_line(converter: KeyConverter, key: &[u8]) -> Result<Vec<u8>, RecordError> {
    match converter {
        KeyConverter::String => {
            let text = std::str::from_utf8(key)
                .map_err(|e| RecordError::Key(format!("key.converter = string: not UTF-8 text: {e}")))?;
            Ok(serde_json::to_vec(text).unwrap_or_default())
        }
        KeyConverter::Json => {
            serde_json::from_slice::<serde::de::IgnoredAny>(key)
                .map_err(|e| RecordError::Key(format!("key.converter = json: not JSON: {e}")))?;
            Ok(match key.contains(&b'\n') || key.contains(&b'\r') {
                true => super::convert::fold(key),
                false => key.to_vec(),
            })
        }
        KeyConverter::Bytes => {
            let text = base64::engine::general_purpose::STANDARD.encode(key);
            Ok(serde_json::to_vec(&text).unwrap_or_default())
        }
    }
}

/// Headers as Connect's HeaderRecordView writes them in JSON.
fn headers_line(headers: &[(String, Option<Bytes>)]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = headers
        .iter()
        .map(|(k, v)| {
            let value = v.as_deref().map(|v| match std::str::from_utf8(v) {
                Ok(text) => text.to_owned(),
                Err(_) => base64::engine::general_purpose::STANDARD.encode(v),
            });
            serde_json::json!({"key": k, "value": value})
        })
        .collect();
    serde_json::to_vec(&list).unwrap_or_default()
}

#[cfg(test)]
mod tests {
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
        let c = companions(
            "\"store.kafka.keys\" = true\n\"store.kafka.headers\" = true\n\"s3.compression.type\" = \"gzip\"",
        );
        let mut bodies = Bodies::default();
        c.append(&mut bodies, c.lines(&rec(Some(b"A"), &[("h", Some(b"1"))])).unwrap());
        for data in [
            "d/t+0+0000000007.json.gz",
            "d/t+0+0000000007.zstd.parquet",
            "d/t+0+0000000007.avro",
        ] {
            let (keys, headers) = c.names_beside(data);
            assert_eq!(keys.as_deref(), Some("d/t+0+0000000007.keys.json.gz"), "{data}");
            assert_eq!(headers.as_deref(), Some("d/t+0+0000000007.headers.json.gz"), "{data}");
        }
        let files = c.finish(bodies, "d/t+0+0000000007.avro", "avro");
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
    fn compressed_companions_are_compressed_like_json_files() {
        let c = companions("\"store.kafka.keys\" = true\n\"s3.compression.type\" = \"gzip\"");
        let mut bodies = Bodies::default();
        c.append(&mut bodies, c.lines(&rec(Some(b"A"), &[])).unwrap());
        let files = c.finish(bodies, "d/t+0+0000000007.json.gz", "json.gz");
        assert_eq!(files[0].0, "d/t+0+0000000007.keys.json.gz");
        let plain = super::super::compression::decode(&files[0].0, files[0].1.clone()).unwrap();
        assert_eq!(&plain[..], b"\"A\"\n");
    }
}
