//! A data file's records as bytes to split, whatever its format: decided by the key, so files
//! written before a change of `format.class`, `parquet.codec` or `s3.compression.type` stay
//! readable. `….gz` and `….zst` are decompressed, `….parquet` is read back as JSON lines
//! ([`crate::columnar::reader`]), anything else is taken as it is.

use bytes::Bytes;

/// A data file's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// JSON lines, or raw values between separators.
    pub body: Bytes,
    /// The lines are objects of a Parquet file's columns by name (the typed columns read them
    /// by name, not by `source`).
    pub by_column_name: bool,
}

/// The suffix of a Parquet file's key (after its codec's: `.snappy.parquet`).
pub const PARQUET_SUFFIX: &str = ".parquet";

/// The records of the file at `key`.
pub fn decode(key: &str, body: Bytes) -> Result<Decoded, std::io::Error> {
    if key.ends_with(PARQUET_SUFFIX) {
        let (lines, by_column_name) = crate::columnar::reader::json_lines(body)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        return Ok(Decoded {
            body: Bytes::from(lines),
            by_column_name,
        });
    }
    Ok(Decoded {
        body: super::compression::decode(key, body)?,
        by_column_name: false,
    })
}
