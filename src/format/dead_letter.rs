//! The dead-letter file format: one JSON line per record that could not be written, saying
//! everything about it, so the file stands alone (`verify` and resuming account for every offset
//! in it, and a person can replay it):
//!
//! ```text
//! {"topic":"t","partition":0,"offset":17,"timestamp":1733050000000,"error":"not JSON: …","value":"{oops","value_base64":"e29vcHM="}
//! ```
//!
//! `value` is the value as text when it is UTF-8 (`null` for a tombstone or other bytes);
//! `value_base64` is always the exact bytes (`null` for a tombstone).

use base64::Engine;
use bytes::Bytes;

use crate::record::Record;

/// One record that could not be written, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    /// The value as produced (`None`: a tombstone).
    pub value: Option<Bytes>,
    pub reason: String,
}

impl DeadLetter {
    pub fn of(rec: &Record, reason: String) -> Self {
        Self {
            offset: rec.offset,
            timestamp_ms: rec.timestamp_ms,
            value: rec.value.clone(),
            reason,
        }
    }

    /// Its line in a dead-letter file (without the newline).
    pub fn line(&self, topic: &str, partition: i32) -> Vec<u8> {
        let text = self.value.as_deref().and_then(|v| std::str::from_utf8(v).ok());
        let b64 = self
            .value
            .as_deref()
            .map(|v| base64::engine::general_purpose::STANDARD.encode(v));
        let line = serde_json::json!({
            "topic": topic,
            "partition": partition,
            "offset": self.offset,
            "timestamp": self.timestamp_ms,
            "error": self.reason,
            "value": text,
            "value_base64": b64,
        });
        serde_json::to_vec(&line).unwrap_or_default()
    }
}

/// One line of a dead-letter file, read back (`verify`).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct DeadLine {
    pub offset: i64,
    pub error: String,
    pub value_base64: Option<String>,
}

impl DeadLine {
    /// The value's exact bytes (`None`: a tombstone, or not base64).
    pub fn value(&self) -> Option<Vec<u8>> {
        let b = self.value_base64.as_deref()?;
        base64::engine::general_purpose::STANDARD.decode(b).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_keeps_the_exact_bytes_and_the_reason_and_reads_back() {
        let rec = Record {
            offset: 17,
            value: Some(Bytes::from_static(b"{oops\xff")),
            timestamp_ms: Some(1_733_050_000_000),
            extra: None,
        };
        let line = DeadLetter::of(&rec, "not JSON: EOF".into()).line("t", 2);
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["offset"], 17);
        assert_eq!(v["partition"], 2);
        assert_eq!(v["value"], serde_json::Value::Null, "not UTF-8: no text");
        let back: DeadLine = serde_json::from_slice(&line).unwrap();
        assert_eq!(back.value().unwrap(), b"{oops\xff");
        assert_eq!(back.error, "not JSON: EOF");
    }
}
