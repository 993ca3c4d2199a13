//! A data file read back, whatever format wrote it: decided by its key, so files written before
//! a change of `format.class`, `parquet.codec` or `s3.compression.type` stay readable. `….gz`
//! and `….zst` are decompressed, `….parquet` is read as one JSON line per row
//! ([`super::parquet::reader`]), and the result is split into its records: JSON lines at each
//! newline, raw values (`….bin`) at each `format.bytearray.separator`. Resuming (a file without
//! metadata is counted), `verify` and the ingestion watcher all read files here.

use std::borrow::Cow;

use bytes::Bytes;

use super::names::{self, AVRO_SUFFIX, PARQUET_SUFFIX};
use super::FormatError;
use crate::record::avro::json::Style;

/// How files are split into records: what separates raw values (JSON lines always end in a
/// newline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    /// `format.bytearray.separator`.
    raw_separator: Cow<'static, [u8]>,
    /// How Avro records (of `.avro` files, and Parquet files written from Avro) are rendered
    /// (`json.decimal.format`).
    style: Style,
}

impl Default for Reader {
    fn default() -> Self {
        Self::lines()
    }
}

impl Reader {
    /// Raw values one per line (`format.bytearray.separator`'s default).
    pub const fn lines() -> Self {
        Self {
            raw_separator: Cow::Borrowed(b"\n"),
            style: Style {
                decimals: crate::record::avro::json::DecimalFormat::Base64,
                unions: crate::record::avro::json::Unions::ByType,
            },
        }
    }

    /// Raw values between `separator`s (`format.bytearray.separator`).
    pub fn new(separator: &[u8]) -> Self {
        Self {
            raw_separator: Cow::Owned(separator.to_vec()),
            ..Self::lines()
        }
    }

    /// The reader of the files `[sink]` describes.
    pub fn of(sink: &crate::config::SinkConfig) -> Self {
        Self {
            style: Style {
                decimals: sink.json_decimal_format,
                ..Self::lines().style
            },
            ..Self::new(sink.bytearray_separator.as_bytes())
        }
    }

    /// How Avro records are rendered.
    pub fn style(&self) -> Style {
        self.style
    }

    /// The records of the file at `key`.
    pub fn read(&self, key: &str, body: Bytes) -> Result<FileRecords, FormatError> {
        let corrupt = |what: &'static str| {
            move |source: std::io::Error| FormatError::Unreadable {
                key: key.to_owned(),
                what,
                source: Box::new(source),
            }
        };
        if key.ends_with(PARQUET_SUFFIX) {
            let read =
                super::parquet::reader::json_lines(body, self.style).map_err(|source| FormatError::Unreadable {
                    key: key.to_owned(),
                    what: "Parquet",
                    source: Box::new(source),
                })?;
            return Ok(FileRecords {
                body: Bytes::from(read.lines),
                separator: b"\n".to_vec(),
                raw: false,
                by_column_name: read.by_column_name,
                schema: read.avro_schema,
            });
        }
        if key.ends_with(AVRO_SUFFIX) {
            let (lines, schema) =
                super::avro::json_lines(&body, self.style).map_err(|source| FormatError::Unreadable {
                    key: key.to_owned(),
                    what: "Avro",
                    source: Box::new(source),
                })?;
            return Ok(FileRecords {
                body: Bytes::from(lines),
                separator: b"\n".to_vec(),
                raw: false,
                by_column_name: false,
                schema: Some(schema.into()),
            });
        }
        let body = super::compression::decode(key, body).map_err(corrupt("compressed"))?;
        let raw = names::strip_compression(key).ends_with(".bin");
        Ok(FileRecords {
            body,
            separator: match raw {
                true => self.raw_separator.to_vec(),
                false => b"\n".to_vec(),
            },
            raw,
            by_column_name: false,
            schema: None,
        })
    }
}

/// A data file's records, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRecords {
    /// The file as decompressed (a Parquet file's rows as JSON lines).
    body: Bytes,
    separator: Vec<u8>,
    /// The records are raw values (`….bin`), not JSON.
    pub raw: bool,
    /// The records are objects of a Parquet file's columns by name (its typed columns read
    /// them by name, not by `source`), not the records' own text.
    pub by_column_name: bool,
    /// The writer schema's JSON of a file of records with a schema (an Avro file's, or a
    /// Parquet file's `parquet.avro.schema`): its records are rendered from values of it.
    pub schema: Option<std::sync::Arc<str>>,
}

impl FileRecords {
    /// Each record's bytes (a trailing separator ends the last record; it does not start one).
    pub fn iter(&self) -> Split<'_> {
        Split {
            rest: &self.body,
            separator: &self.separator,
        }
    }

    /// How many records the file holds.
    pub fn count(&self) -> usize {
        self.iter().count()
    }
}

/// The records of a file, split at their separator.
pub struct Split<'a> {
    rest: &'a [u8],
    separator: &'a [u8],
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let sep = self.separator;
        let at = match sep.len() {
            0 => None,
            1 => self.rest.iter().position(|b| *b == sep[0]),
            n => self.rest.windows(n).position(|w| w == sep),
        };
        let (record, rest) = match at {
            Some(i) => (&self.rest[..i], &self.rest[i + sep.len()..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        self.rest = rest;
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Compression;

    fn records(r: &FileRecords) -> Vec<&[u8]> {
        r.iter().collect()
    }

    #[test]
    fn json_lines_split_at_each_newline_whatever_the_compression() {
        let lines = b"{\"a\":1}\n{\"b\":2}\n".to_vec();
        for (key, body) in [
            ("t+0+0.json", lines.clone()),
            (
                "t+0+0.json.gz",
                super::super::compression::compress(lines.clone(), Compression::Gzip, 6).unwrap(),
            ),
            (
                "t+0+0.json.zst",
                super::super::compression::compress(lines.clone(), Compression::Zstd, -1).unwrap(),
            ),
        ] {
            let read = Reader::new(b"||").read(key, Bytes::from(body)).unwrap();
            assert_eq!(records(&read), vec![&b"{\"a\":1}"[..], b"{\"b\":2}"], "{key}");
            assert!(!read.by_column_name);
        }
    }

    #[test]
    fn raw_values_split_at_the_configured_separator_and_an_empty_value_counts() {
        let read = Reader::new(b"||")
            .read("t+0+0.bin", Bytes::from_static(b"a\nb||||c||"))
            .unwrap();
        assert_eq!(records(&read), vec![&b"a\nb"[..], b"", b"c"]);
        assert_eq!(read.count(), 3);
        let no_separator = Reader::new(b"")
            .read("t+0+0.bin", Bytes::from_static(b"one\nvalue"))
            .unwrap();
        assert_eq!(no_separator.count(), 1);
        let last_unterminated = Reader::default()
            .read("t+0+0.bin", Bytes::from_static(b"a\nb"))
            .unwrap();
        assert_eq!(records(&last_unterminated), vec![&b"a"[..], b"b"]);
    }

    #[test]
    fn a_corrupt_file_names_its_key() {
        let e = Reader::default()
            .read("k.json.gz", Bytes::from_static(b"not gzip"))
            .unwrap_err();
        assert!(
            crate::error::chain(&e).starts_with("k.json.gz: not a valid compressed file"),
            "{e}"
        );
        let e = Reader::default()
            .read("k.snappy.parquet", Bytes::from_static(b"PAR1"))
            .unwrap_err();
        assert!(crate::error::chain(&e).contains("not a valid Parquet file"), "{e}");
    }
}
