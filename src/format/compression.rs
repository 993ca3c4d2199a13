//! Compression of data files. Confluent's `s3.compression.type`: `gzip` writes each file as one
//! gzip member named `….json.gz` (`….bin.gz` for raw values); `zstd` (an extension Confluent
//! does not have) one zstd frame named `….json.zst`. Readers (`verify`, the ingestion watcher,
//! resuming) decide by the key, so files written before a change of setting stay readable.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::{read::MultiGzDecoder, write::GzEncoder};

use super::names::{GZIP_SUFFIX, ZSTD_SUFFIX};
use crate::config::Compression;

/// zstd's level when `s3.compression.level` is -1 (the codec's default).
const ZSTD_DEFAULT_LEVEL: i32 = 3;

/// `body` as the file to upload, compressed at `level` (-1: the codec's default, gzip 6 and
/// zstd 3), or as it is. Deterministic: the same records make the same bytes.
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
        Compression::Zstd => {
            let level = if level < 1 { ZSTD_DEFAULT_LEVEL } else { level.min(22) };
            // With a level in zstd's range, compressing a buffer in memory cannot fail (its
            // only error is an out-of-memory, which aborts the process first).
            zstd::bulk::compress(&body, level).unwrap_or(body)
        }
    }
}

/// The most a compressed object is decompressed to: past it the object is not read (an error
/// names it). tickstream's own files are far smaller (`flush.size` records); this stops a foreign
/// object in the prefix, or a decompression bomb, from taking the process's memory.
pub const MAX_DECODED_BYTES: usize = 1 << 30;

/// The records of the file at `key`: decompressed when its key ends `.gz` or `.zst`, up to
/// [`MAX_DECODED_BYTES`].
pub fn decode(key: &str, body: Bytes) -> Result<Bytes, std::io::Error> {
    decode_within(key, body, MAX_DECODED_BYTES)
}

/// [`decode`] with a cap of `max` bytes.
fn decode_within(key: &str, body: Bytes, max: usize) -> Result<Bytes, std::io::Error> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(8).min(max));
    // One byte past the cap tells a file of exactly `max` bytes from a longer one.
    let limit = max as u64 + 1;
    if key.ends_with(GZIP_SUFFIX) {
        MultiGzDecoder::new(&body[..]).take(limit).read_to_end(&mut out)?;
    } else if key.ends_with(ZSTD_SUFFIX) {
        zstd::stream::read::Decoder::new(&body[..])?
            .take(limit)
            .read_to_end(&mut out)?;
    } else {
        return Ok(body);
    }
    if out.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "decompresses to more than {max} bytes ({} compressed): not read",
                body.len()
            ),
        ));
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compressed_file_reads_back_byte_for_byte_and_a_plain_one_is_left_alone() {
        let lines = b"{\"a\":1}\n{\"b\":2}\n".repeat(100);
        let gz = compress(lines.clone(), Compression::Gzip, 6);
        assert!(gz.len() < lines.len() / 4, "{} of {}", gz.len(), lines.len());
        assert_eq!(&gz[..2], [0x1f, 0x8b], "a gzip member");
        assert_eq!(
            decode("t+0+0.json.gz", Bytes::from(gz)).unwrap(),
            Bytes::from(lines.clone())
        );
        let zst = compress(lines.clone(), Compression::Zstd, -1);
        assert!(zst.len() < lines.len() / 4, "{} of {}", zst.len(), lines.len());
        assert_eq!(&zst[..4], [0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");
        assert_eq!(
            decode("t+0+0.json.zst", Bytes::from(zst)).unwrap(),
            Bytes::from(lines.clone())
        );
        assert_eq!(compress(lines.clone(), Compression::None, 6), lines);
        assert_eq!(decode("t+0+0.json", Bytes::from(lines.clone())).unwrap(), lines);
    }

    #[test]
    fn decompression_stops_at_the_cap_and_says_so() {
        let zeros = vec![0u8; 1 << 20];
        for (key, c) in [
            ("t+0+0.json.gz", Compression::Gzip),
            ("t+0+0.json.zst", Compression::Zstd),
        ] {
            let packed = Bytes::from(compress(zeros.clone(), c, -1));
            assert!(packed.len() < 20_000, "a million zeros pack small: {}", packed.len());
            assert_eq!(
                decode_within(key, packed.clone(), 1 << 20).unwrap().len(),
                1 << 20,
                "{key}: at the cap"
            );
            let e = decode_within(key, packed, (1 << 20) - 1).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{key}");
            assert!(e.to_string().contains("decompresses to more than 1048575 bytes"), "{e}");
        }
    }

    #[test]
    fn the_same_records_make_the_same_bytes() {
        // A retried upload compares its bytes with what S3 holds: compression must be stable.
        let lines = b"{\"a\":1}\n".repeat(1000);
        for c in [Compression::Gzip, Compression::Zstd] {
            assert_eq!(compress(lines.clone(), c, -1), compress(lines.clone(), c, -1), "{c:?}");
        }
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_panic() {
        assert!(decode("x.json.gz", Bytes::from_static(b"not gzip")).is_err());
        assert!(decode("x.json.zst", Bytes::from_static(b"not zstd")).is_err());
        for (c, key) in [(Compression::Gzip, "x.json.gz"), (Compression::Zstd, "x.json.zst")] {
            let mut body = compress(b"{\"a\":1}\n".repeat(100), c, 6);
            body.truncate(body.len() / 2);
            assert!(decode(key, Bytes::from(body)).is_err(), "{c:?}");
        }
    }
}
