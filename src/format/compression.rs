//! Compression of data files. Confluent's `s3.compression.type`: `gzip` writes each file as one
//! gzip member named `….json.gz` (`….bin.gz` for raw values); `zstd` (an extension Confluent
//! does not have) one zstd frame named `….json.zst`. Readers (`verify`, the ingestion watcher,
//! resuming) decide by the key, so files written before a change of setting stay readable.

use std::cell::RefCell;
use std::io::{Read, Write};

use bytes::Bytes;
use flate2::{read::MultiGzDecoder, write::GzEncoder};

use super::names::{GZIP_SUFFIX, ZSTD_SUFFIX};
use crate::config::Compression;

/// zstd's level when `s3.compression.level` is -1 (the codec's default).
const ZSTD_DEFAULT_LEVEL: i32 = 3;

/// `body` as the file to upload, compressed at `level` (-1: the codec's default, gzip 6 and
/// zstd 3), or as it is. Deterministic: the same records make the same bytes. Compressing into
/// memory fails only when memory runs out.
pub fn compress(body: Vec<u8>, compression: Compression, level: i32) -> std::io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(body),
        Compression::Gzip => {
            let level = u32::try_from(level).map_or(flate2::Compression::default(), flate2::Compression::new);
            // A gzip of n bytes of ticks is about n/10.
            let mut out = GzEncoder::new(Vec::with_capacity(body.len() / 8 + 64), level);
            out.write_all(&body)?;
            out.finish()
        }
        Compression::Zstd => zstd_frame(&body, if level < 1 { ZSTD_DEFAULT_LEVEL } else { level.min(22) }),
    }
}

/// `body` as one zstd frame at `level` (1 to 22), made with this thread's compression context.
///
/// A context of its own for each file cost more than compressing a small one: creating it asks
/// the CPU for its features (`cpuid`, which a virtual machine's hypervisor answers: 4 µs each on
/// the bench machine) and allocates its tables afresh. A 100-record file of ticks took 30 µs
/// with a new context and 9 µs with the last file's (`benches/RESULTS.md`). The frame's bytes
/// are the same either way: each frame starts from the context's parameters alone. A worker
/// thread's context keeps its tables, sized for the files it compressed lately, between files;
/// zstd frees them once they have been three times what a file needed for 128 files.
pub fn zstd_frame(body: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static CONTEXT: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    }
    CONTEXT.with(|context| {
        let Ok(mut context) = context.try_borrow_mut() else {
            // Only a compression inside a compression would find it taken: never, but a
            // context of its own does the same work.
            return zstd::bulk::compress(body, level);
        };
        let compressor = match context.as_mut() {
            Some(kept) => {
                kept.set_compression_level(level)?;
                kept
            }
            None => context.insert(zstd::bulk::Compressor::new(level)?),
        };
        compressor.compress(body)
    })
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
        let gz = compress(lines.clone(), Compression::Gzip, 6).unwrap();
        assert!(gz.len() < lines.len() / 4, "{} of {}", gz.len(), lines.len());
        assert_eq!(&gz[..2], [0x1f, 0x8b], "a gzip member");
        assert_eq!(
            decode("t+0+0.json.gz", Bytes::from(gz)).unwrap(),
            Bytes::from(lines.clone())
        );
        let zst = compress(lines.clone(), Compression::Zstd, -1).unwrap();
        assert!(zst.len() < lines.len() / 4, "{} of {}", zst.len(), lines.len());
        assert_eq!(&zst[..4], [0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");
        assert_eq!(
            decode("t+0+0.json.zst", Bytes::from(zst)).unwrap(),
            Bytes::from(lines.clone())
        );
        assert_eq!(compress(lines.clone(), Compression::None, 6).unwrap(), lines);
        assert_eq!(decode("t+0+0.json", Bytes::from(lines.clone())).unwrap(), lines);
    }

    #[test]
    fn the_threads_kept_context_makes_the_bytes_a_context_of_its_own_makes() {
        // Files of different sizes and levels one after another on one thread, as partitions
        // that share a worker thread finish them: each frame is what a new context makes.
        let lines = |n: u64| -> Vec<u8> {
            (0..n)
                .flat_map(|i| {
                    format!(
                        "{{\"symbol\":\"S{}\",\"price\":{}.{:02}}}\n",
                        i % 7,
                        100 + i % 37,
                        i % 100
                    )
                    .into_bytes()
                })
                .collect()
        };
        for (records, level) in [
            (10_000, 3),
            (100, 3),
            (1, 19),
            (5_000, 1),
            (100, 3),
            (0, 3),
            (300, 22),
            (100, 3),
        ] {
            let body = lines(records);
            let kept = zstd_frame(&body, level).unwrap();
            assert_eq!(
                kept,
                zstd::bulk::compress(&body, level).unwrap(),
                "{records} records at level {level}"
            );
            assert_eq!(zstd::bulk::decompress(&kept, body.len()).unwrap(), body);
        }
    }

    #[test]
    fn decompression_stops_at_the_cap_and_says_so() {
        let zeros = vec![0u8; 1 << 20];
        for (key, c) in [
            ("t+0+0.json.gz", Compression::Gzip),
            ("t+0+0.json.zst", Compression::Zstd),
        ] {
            let packed = Bytes::from(compress(zeros.clone(), c, -1).unwrap());
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
            assert_eq!(
                compress(lines.clone(), c, -1).unwrap(),
                compress(lines.clone(), c, -1).unwrap(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_panic() {
        assert!(decode("x.json.gz", Bytes::from_static(b"not gzip")).is_err());
        assert!(decode("x.json.zst", Bytes::from_static(b"not zstd")).is_err());
        for (c, key) in [(Compression::Gzip, "x.json.gz"), (Compression::Zstd, "x.json.zst")] {
            let mut body = compress(b"{\"a\":1}\n".repeat(100), c, 6).unwrap();
            body.truncate(body.len() / 2);
            assert!(decode(key, Bytes::from(body)).is_err(), "{c:?}");
        }
    }
}
