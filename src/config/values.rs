//! What `[sink]`'s enumerated values mean: converters of values and keys, compression, error
//! tolerance, tombstones, and the formats of keys and headers files.

use serde::{Deserialize, Serialize};

/// `value.converter`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum ValueConverter {
    #[default]
    Json,
    String,
    Bytes,
    Avro,
}

impl TryFrom<String> for ValueConverter {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "json" | "org.apache.kafka.connect.json.JsonConverter" => Self::Json,
            "string" | "org.apache.kafka.connect.storage.StringConverter" => Self::String,
            "bytes" | "org.apache.kafka.connect.converters.ByteArrayConverter" => Self::Bytes,
            "avro" | "io.confluent.connect.avro.AvroConverter" => Self::Avro,
            other => {
                return Err(format!(
                    "{other:?} is not a converter: json, string, bytes or avro (or Connect's JsonConverter, \
                     StringConverter, ByteArrayConverter, AvroConverter class names)"
                ))
            }
        })
    }
}

impl From<ValueConverter> for String {
    fn from(c: ValueConverter) -> String {
        format!("{c:?}").to_ascii_lowercase()
    }
}

/// `s3.compression.type`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
}

/// `errors.tolerance`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorsTolerance {
    #[default]
    All,
    None,
}

/// `behavior.on.null.values`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NullValues {
    #[default]
    Fail,
    Ignore,
    Write,
}

/// `key.converter`: how a record's key becomes a line of its keys file.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum KeyConverter {
    #[default]
    String,
    Json,
    Bytes,
}

impl TryFrom<String> for KeyConverter {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "string" | "org.apache.kafka.connect.storage.StringConverter" => Self::String,
            "json" | "org.apache.kafka.connect.json.JsonConverter" => Self::Json,
            "bytes" | "org.apache.kafka.connect.converters.ByteArrayConverter" => Self::Bytes,
            other => {
                return Err(format!(
                    "{other:?} is not a key converter: string, json or bytes (or Connect's StringConverter, \
                     JsonConverter, ByteArrayConverter class names)"
                ))
            }
        })
    }
}

impl From<KeyConverter> for String {
    fn from(c: KeyConverter) -> String {
        format!("{c:?}").to_ascii_lowercase()
    }
}

/// `keys.format.class` and `headers.format.class`: what a keys or headers file is.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum CompanionFormat {
    /// JSON lines, compressed as `s3.compression.type` says (`.keys.json`, `.keys.json.gz`).
    #[default]
    Json,
}

impl TryFrom<String> for CompanionFormat {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "json" | "io.confluent.connect.s3.format.json.JsonFormat" => Ok(Self::Json),
            other => Err(format!(
                "{other:?}: keys and headers files are written as JSON lines only (json, or Connect's JsonFormat)"
            )),
        }
    }
}

impl From<CompanionFormat> for String {
    fn from(_: CompanionFormat) -> String {
        "json".into()
    }
}
