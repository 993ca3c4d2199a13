//! `[sink]`'s file formats (Confluent's `format.class` and `parquet.codec`) and tickstream's
//! `parquet.record.content`.

use serde::{Deserialize, Serialize};

/// `format.class`: what a data file is.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum FormatClass {
    /// JSON lines (`.json`, `.json.gz`, `.json.zst`).
    #[default]
    Json,
    /// One Parquet file of the topic's typed columns (`.snappy.parquet`, …).
    Parquet,
    /// Raw values between separators (`.bin`); needs `value.converter = "bytes"`.
    ByteArray,
    /// Avro container files of the records' writer schema (`.avro`); needs records with a
    /// schema (`value.converter = "avro"`, or JSON envelopes).
    Avro,
}

impl TryFrom<String> for FormatClass {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "json" | "io.confluent.connect.s3.format.json.JsonFormat" => Self::Json,
            "parquet" | "io.confluent.connect.s3.format.parquet.ParquetFormat" => Self::Parquet,
            "bytearray" | "io.confluent.connect.s3.format.bytearray.ByteArrayFormat" => Self::ByteArray,
            "avro" | "io.confluent.connect.s3.format.avro.AvroFormat" => Self::Avro,
            other => {
                return Err(format!(
                    "{other:?} is not a format: json, parquet, bytearray or avro (or Confluent's JsonFormat, \
                     ParquetFormat, ByteArrayFormat, AvroFormat class names)"
                ))
            }
        })
    }
}

impl From<FormatClass> for String {
    fn from(f: FormatClass) -> String {
        match f {
            FormatClass::Json => "json",
            FormatClass::Parquet => "parquet",
            FormatClass::ByteArray => "bytearray",
            FormatClass::Avro => "avro",
        }
        .into()
    }
}

/// `avro.codec`: how an Avro file's blocks are compressed.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum AvroCodec {
    #[default]
    Null,
    Deflate,
    Snappy,
    Zstandard,
}

impl TryFrom<String> for AvroCodec {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "null" => Self::Null,
            "deflate" => Self::Deflate,
            "snappy" => Self::Snappy,
            "zstandard" => Self::Zstandard,
            "bzip2" | "xz" => return Err(format!("{s} is not supported: null, deflate, snappy or zstandard")),
            other => {
                return Err(format!(
                    "{other:?} is not an Avro codec: null, deflate, snappy or zstandard"
                ))
            }
        })
    }
}

impl From<AvroCodec> for String {
    fn from(c: AvroCodec) -> String {
        format!("{c:?}").to_ascii_lowercase()
    }
}

/// `parquet.codec`: how a Parquet file's pages are compressed.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ParquetCodec {
    #[default]
    Snappy,
    Zstd,
    Gzip,
    None,
}

impl ParquetCodec {
    /// The key's extension, as parquet-mr (and so Confluent's sink) names it:
    /// `snappy.parquet`, `zstd.parquet`, `gz.parquet`, `parquet`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Snappy => "snappy.parquet",
            Self::Zstd => "zstd.parquet",
            Self::Gzip => "gz.parquet",
            Self::None => "parquet",
        }
    }
}

/// `parquet.record.content`: whether a Parquet file also keeps each record's JSON text, in a
/// column named `RECORD_CONTENT` (about three times the bytes of a tick file's typed columns).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RecordContent {
    /// Only for a topic that declares no typed columns (its files would have none otherwise).
    #[default]
    Auto,
    Always,
    Never,
}
