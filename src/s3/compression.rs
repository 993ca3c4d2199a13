//! Compression of data files, Confluent's `s3.compression.type`: `gzip` writes each file as one
//! gzip member and names it `….json.gz` (`….bin.gz` for raw values). Readers (`verify`, the
//! ingestion watcher) decide by the key, so files written before a change of setting stay
//! readable.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::{read::MultiGzDecoder, write::GzEncoder};

use crate::config::Compression;

/// The suffix a compressed file's key carries after its format's extension.
pub const GZIP_SUFFIX: &str = ".gz";

/// `body` as the file to upload: gzip at `level` (1–9; -1 is zlib's default, 6), or as it is.
pub fn compress(body: Vec<u8>, compression: Compression, level: i32) -> Vec<u8> {
    match compression {
        Compression::None => body,
        Compression::Gzip => {
            let level = u32::try_from(level).map_or(flate2::Compression::default(), flate2::Compression::new);
            // Writing into a Vec cannot fail; a gzip of n bytes of ticks is about n/10.
            let mut out = GzEncoder::new(Vec::with_capacity(body.len() / 8 + 64), level);
            let _ = out.write_all(&body);
            out.finish().unwrap_or_default()
        }
    }
}

/// The records of the file at `key`: gunzipped when its key ends `.gz`.
pub fn decode(key: &str, body: Bytes) -> Result<Bytes, std::io::Error> {
    if !key.ends_with(GZIP_SUFFIX) {
        return Ok(body);
    }
    let mut out = Vec::with_capacity(body.len() * 8);
    MultiGzDecoder::new(&body[..]).read_to_end(&mut out)?;
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gzip_file_reads_back_byte_for_byte_and_a_plain_one_is_left_alone() {
        let lines = b"{\"a\":1}\n{\"b\":2}\n".repeat(100);
        let gz = compress(lines.clone(), Compression::Gzip, 6);
        assert!(gz.len() < lines.len() / 4, "{} of {}", gz.len(), lines.len());
        assert_eq!(&gz[..2], [0x1f, 0x8b], "a gzip member");
        assert_eq!(
            decode("t+0+0.json.gz", Bytes::from(gz)).unwrap(),
            Bytes::from(lines.clone())
        );
        assert_eq!(compress(lines.clone(), Compression::None, 6), lines);
        assert_eq!(decode("t+0+0.json", Bytes::from(lines.clone())).unwrap(), lines);
    }

    #[test]
    fn the_same_records_make_the_same_bytes() {
        // A retried upload compares its bytes with what S3 holds: compression must be stable.
        let lines = b"{\"a\":1}\n".repeat(1000);
        assert_eq!(
            compress(lines.clone(), Compression::Gzip, -1),
            compress(lines, Compression::Gzip, -1)
        );
    }

    #[test]
    fn a_corrupt_gzip_file_is_an_error_not_a_panic() {
        assert!(decode("x.json.gz", Bytes::from_static(b"not gzip")).is_err());
        let mut gz = compress(b"{\"a\":1}\n".repeat(100), Compression::Gzip, 6);
        gz.truncate(gz.len() / 2);
        assert!(decode("x.json.gz", Bytes::from(gz)).is_err());
    }
}
