//! Keys, headers and metadata files: one JSON line per record of a data file, in the data
//! file's order, in a file named beside it as the Confluent sink names its keys and headers
//! files (Connect's `store.kafka.keys`, `store.kafka.headers`):
//! `<topic>+<p>+<offset>.keys.json` and `.headers.json` beside `<topic>+<p>+<offset>.json` (or
//! `.snappy.parquet`, `.avro`), compressed as `s3.compression.type` says (`.keys.json.gz`).
//! `.metadata.json` (`store.kafka.metadata`) is tickstream's own, named the same way.
//!
//! A key line is the key as `key.converter` reads it: a JSON string of its text (`string`), the
//! JSON as produced (`json`), or a base64 string (`bytes`, as JsonConverter writes bytes). A
//! headers line is Connect's HeaderRecordView as JSON: `[{"key": "k", "value": "v"}]`, each value
//! as text (base64 when it is not UTF-8, `null` when null). A metadata line is the record's
//! offset and Kafka timestamp, named as the Snowflake Kafka connector names them in
//! RECORD_METADATA: `{"offset": 17, "CreateTime": 1733050000000}` (`LogAppendTime` on a topic
//! whose broker stamps records; no timestamp for a record without one). Under `field` and `time`
//! partitioners a file's records are not consecutive offsets: these lines are where a reader
//! (the ingestion watcher) learns each row's offset.

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
    /// `store.kafka.metadata`.
    metadata: bool,
    compression: Compression,
    level: i32,
}

/// One thing per companion file: its name, its lines, its body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Beside<T> {
    pub keys: T,
    pub headers: T,
    pub metadata: T,
}

impl<T> Beside<T> {
    /// Each companion's part of the name (between the data file's stem and `.json`) with its
    /// thing, in the order they are written.
    pub fn named(self) -> [(&'static str, T); 3] {
        [(KEYS, self.keys), (HEADERS, self.headers), (METADATA, self.metadata)]
    }
}

/// One record's lines of its companion files (`None` where a file is not written).
pub type Lines = Beside<Option<Vec<u8>>>;

/// The companion files' bodies of one open data file.
pub type Bodies = Beside<Vec<u8>>;

impl Bodies {
    pub fn bytes(&self) -> u64 {
        (self.keys.len() + self.headers.len() + self.metadata.len()) as u64
    }
}

/// The part of a keys file's name between the data file's stem and its extension.
pub const KEYS: &str = ".keys";
/// The same for a headers file.
pub const HEADERS: &str = ".headers";
/// The same for a metadata file.
pub const METADATA: &str = ".metadata";

impl Companions {
    /// What `sink` writes beside its data files, or `None` when nothing.
    pub fn from_config(sink: &SinkConfig) -> Option<Self> {
        (sink.store_keys || sink.store_headers || sink.store_metadata).then(|| Self {
            keys: sink.store_keys.then_some(sink.key_converter),
            headers: sink.store_headers,
            metadata: sink.store_metadata,
            compression: sink.compression,
            level: sink.compression_level,
        })
    }

    /// Whether records must carry their keys.
    pub fn wants_keys(&self) -> bool {
        self.keys.is_some()
    }

    pub fn wants_headers(&self) -> bool {
        self.headers
    }

    pub fn wants_metadata(&self) -> bool {
        self.metadata
    }

    fn written(&self) -> Beside<bool> {
        Beside {
            keys: self.keys.is_some(),
            headers: self.headers,
            metadata: self.metadata,
        }
    }

    fn suffix(&self) -> &'static str {
        match self.compression {
            Compression::None => "",
            Compression::Gzip => GZIP_SUFFIX,
            Compression::Zstd => ZSTD_SUFFIX,
        }
    }

    /// The companion files beside the data file `data_key` (each `None` when not written), as
    /// [`Self::finish`] names them.
    pub fn names_beside(&self, data_key: &str) -> Beside<Option<String>> {
        let Some(stem) = super::names::data_stem(data_key) else {
            return Beside::default();
        };
        let suffix = self.suffix();
        let [keys, headers, metadata] = self
            .written()
            .named()
            .map(|(which, want)| want.then(|| format!("{stem}{which}.json{suffix}")));
        Beside {
            keys,
            headers,
            metadata,
        }
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
        let metadata = self
            .metadata
            .then(|| metadata_line(rec.offset, rec.timestamp_ms, extra.is_some_and(|e| e.log_append_time)));
        Ok(Lines {
            keys: key,
            headers,
            metadata,
        })
    }

    /// Appends one record's lines.
    pub fn append(&self, bodies: &mut Bodies, lines: Lines) {
        for (body, line) in [
            (&mut bodies.keys, lines.keys),
            (&mut bodies.headers, lines.headers),
            (&mut bodies.metadata, lines.metadata),
        ] {
            if let Some(line) = line {
                body.extend_from_slice(&line);
                body.push(b'\n');
            }
        }
    }

    /// The finished files beside the data file `data_key` (whose extension is `extension`):
    /// each key and body.
    pub fn finish(
        &self,
        bodies: Bodies,
        data_key: &str,
        extension: &str,
    ) -> Result<Vec<(String, Bytes)>, super::FormatError> {
        let stem = data_key
            .strip_suffix(extension)
            .and_then(|s| s.strip_suffix('.'))
            .unwrap_or(data_key);
        let suffix = self.suffix();
        let written = self.written().named();
        let mut out = Vec::new();
        for ((which, want), (_, body)) in written.into_iter().zip(bodies.named()) {
            if want {
                let body = compress(body, self.compression, self.level).map_err(super::FormatError::Compress)?;
                out.push((format!("{stem}{which}.json{suffix}"), Bytes::from(body)));
            }
        }
        Ok(out)
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

/// An offset and a timestamp as the Snowflake Kafka connector names them in RECORD_METADATA.
fn metadata_line(offset: i64, timestamp_ms: Option<i64>, log_append_time: bool) -> Vec<u8> {
    match (timestamp_ms, log_append_time) {
        (None, _) => format!("{{\"offset\":{offset}}}").into_bytes(),
        (Some(ms), false) => format!("{{\"offset\":{offset},\"CreateTime\":{ms}}}").into_bytes(),
        (Some(ms), true) => format!("{{\"offset\":{offset},\"LogAppendTime\":{ms}}}").into_bytes(),
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
#[path = "companions_tests.rs"]
mod tests;
