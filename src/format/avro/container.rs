//! The Avro object container file: a header (`Obj\x01`, the metadata `avro.schema` and
//! `avro.codec`, a 16-byte sync marker), then blocks of datums (their count, their compressed
//! size, the bytes, the marker again). Blocks close at ~64 kB of datums, as Java's
//! `DataFileWriter` closes them; each is compressed as it closes, so an open file holds its
//! records compressed. Codecs: `null`, `deflate` (raw RFC 1951), `snappy` (with the CRC-32 of
//! the block after it) and `zstandard`.

use std::io::{Read, Write};

use crate::format::compression::MAX_DECODED_BYTES;
use crate::record::avro::encode::long;

/// A block closes once its datums reach this many bytes (Java's default sync interval).
pub const BLOCK_BYTES: usize = 64_000;

const MAGIC: &[u8; 4] = b"Obj\x01";

/// `avro.codec`: how a container's blocks are compressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Codec {
    #[default]
    Null,
    Deflate,
    Snappy,
    Zstandard,
}

impl Codec {
    /// The name in the file's `avro.codec` metadata.
    pub fn name(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Deflate => "deflate",
            Self::Snappy => "snappy",
            Self::Zstandard => "zstandard",
        }
    }

    fn from_name(name: &[u8]) -> Result<Self, ContainerError> {
        Ok(match name {
            b"null" => Self::Null,
            b"deflate" => Self::Deflate,
            b"snappy" => Self::Snappy,
            b"zstandard" => Self::Zstandard,
            other => return Err(ContainerError::Codec(String::from_utf8_lossy(other).into_owned())),
        })
    }

    fn compress(self, block: &[u8]) -> Vec<u8> {
        match self {
            Self::Null => block.to_vec(),
            Self::Deflate => {
                let mut out = flate2::write::DeflateEncoder::new(
                    Vec::with_capacity(block.len() / 4),
                    flate2::Compression::default(),
                );
                // Into a Vec: cannot fail.
                let _ = out.write_all(block);
                out.finish().unwrap_or_default()
            }
            Self::Snappy => {
                let mut out = snap::raw::Encoder::new().compress_vec(block).unwrap_or_default();
                out.extend_from_slice(&crc32fast::hash(block).to_be_bytes());
                out
            }
            // A level in range, into memory: cannot fail.
            Self::Zstandard => crate::format::compression::zstd_frame(block, 3).unwrap_or_default(),
        }
    }

    /// The block's datums, if they take at most `room` bytes.
    fn decompress(self, data: &[u8], room: usize) -> Result<Vec<u8>, ContainerError> {
        let corrupt = |e: std::io::Error| ContainerError::Block(format!("{}: {e}", self.name()));
        // One byte past the room tells a block that fills it exactly from a longer one.
        let limit = room as u64 + 1;
        let out = match self {
            Self::Null => data.to_vec(),
            Self::Deflate => {
                let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(room));
                flate2::read::DeflateDecoder::new(data)
                    .take(limit)
                    .read_to_end(&mut out)
                    .map_err(corrupt)?;
                out
            }
            Self::Snappy => {
                let (body, crc) = data
                    .split_at_checked(data.len().saturating_sub(4))
                    .ok_or_else(|| ContainerError::Block("snappy: no CRC".into()))?;
                // Snappy states the length first: a bomb is refused before any allocation.
                let claimed =
                    snap::raw::decompress_len(body).map_err(|e| ContainerError::Block(format!("snappy: {e}")))?;
                if claimed > room {
                    return Err(ContainerError::TooLarge(room));
                }
                let out = snap::raw::Decoder::new()
                    .decompress_vec(body)
                    .map_err(|e| ContainerError::Block(format!("snappy: {e}")))?;
                if crc32fast::hash(&out).to_be_bytes() != crc {
                    return Err(ContainerError::Block(
                        "snappy: the block's CRC-32 does not match".into(),
                    ));
                }
                out
            }
            Self::Zstandard => {
                let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(room));
                zstd::stream::read::Decoder::new(data)
                    .and_then(|d| d.take(limit).read_to_end(&mut out))
                    .map_err(corrupt)?;
                out
            }
        };
        match out.len() > room {
            true => Err(ContainerError::TooLarge(room)),
            false => Ok(out),
        }
    }
}

/// Why bytes are not an Avro container file.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("not an Avro container file (no Obj\\x01 magic)")]
    Magic,
    #[error("its header ends early")]
    Header,
    #[error("its header has no avro.schema")]
    NoSchema,
    #[error("avro.codec {0:?} is not one tickstream reads (null, deflate, snappy, zstandard)")]
    Codec(String),
    #[error("a block ends early or its sync marker is wrong")]
    Framing,
    #[error("a block does not decompress: {0}")]
    Block(String),
    /// Past the cap of this many bytes of datums.
    #[error("its blocks decompress to more than {0} bytes: not read")]
    TooLarge(usize),
}

/// An open container file: its header and closed blocks, and the datums of the block open.
#[derive(Debug)]
pub struct ContainerWriter {
    codec: Codec,
    sync: [u8; 16],
    out: Vec<u8>,
    block: Vec<u8>,
    count: u64,
}

impl ContainerWriter {
    /// A file of datums of `schema` (its JSON), its blocks compressed with `codec` and
    /// separated by `sync` (chosen by the caller: the same records make the same bytes).
    pub fn new(schema: &str, codec: Codec, sync: [u8; 16]) -> Self {
        let mut out = Vec::with_capacity(schema.len() + 64);
        out.extend_from_slice(MAGIC);
        long(2, &mut out);
        for (k, v) in [
            ("avro.codec", codec.name().as_bytes()),
            ("avro.schema", schema.as_bytes()),
        ] {
            long(k.len() as i64, &mut out);
            out.extend_from_slice(k.as_bytes());
            long(v.len() as i64, &mut out);
            out.extend_from_slice(v);
        }
        long(0, &mut out);
        out.extend_from_slice(&sync);
        Self {
            codec,
            sync,
            out,
            block: Vec::new(),
            count: 0,
        }
    }

    /// Appends one datum (already encoded with the file's schema).
    pub fn append(&mut self, datum: &[u8]) {
        self.block.extend_from_slice(datum);
        self.count += 1;
        if self.block.len() >= BLOCK_BYTES {
            self.close_block();
        }
    }

    /// Appends a datum written in place by `write` (into the open block).
    pub fn append_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.block);
        self.count += 1;
        if self.block.len() >= BLOCK_BYTES {
            self.close_block();
        }
    }

    /// Bytes held: the closed blocks (compressed) and the open block.
    pub fn bytes(&self) -> usize {
        self.out.len() + self.block.len()
    }

    fn close_block(&mut self) {
        if self.count == 0 {
            return;
        }
        let data = self.codec.compress(&self.block);
        long(self.count as i64, &mut self.out);
        long(data.len() as i64, &mut self.out);
        self.out.extend_from_slice(&data);
        self.out.extend_from_slice(&self.sync);
        self.block.clear();
        self.count = 0;
    }

    /// The finished file.
    pub fn finish(mut self) -> Vec<u8> {
        self.close_block();
        self.out
    }
}

/// A container file read back: its schema's JSON and its blocks decompressed.
#[derive(Debug)]
pub struct Container {
    pub schema: String,
    pub codec: Codec,
    /// Every block's datums, one after the other.
    pub datums: Vec<u8>,
    /// How many datums.
    pub count: u64,
}

/// Reads a container file whose blocks decompress to at most [`MAX_DECODED_BYTES`] in all (a
/// foreign object in the prefix, or a decompression bomb, does not take the process's memory).
pub fn read(body: &[u8]) -> Result<Container, ContainerError> {
    read_within(body, MAX_DECODED_BYTES)
}

/// [`read`] with a cap of `max` bytes of datums.
fn read_within(body: &[u8], max: usize) -> Result<Container, ContainerError> {
    let mut r = Cursor(body);
    if r.take(4).ok_or(ContainerError::Magic)? != MAGIC {
        return Err(ContainerError::Magic);
    }
    let (mut schema, mut codec) = (None, Codec::Null);
    loop {
        let mut n = r.long().ok_or(ContainerError::Header)?;
        if n == 0 {
            break;
        }
        if n < 0 {
            n = -n;
            r.long().ok_or(ContainerError::Header)?; // the block's size in bytes
        }
        for _ in 0..n {
            let k = r.bytes().ok_or(ContainerError::Header)?;
            let v = r.bytes().ok_or(ContainerError::Header)?;
            match k {
                b"avro.schema" => schema = Some(String::from_utf8_lossy(v).into_owned()),
                b"avro.codec" => codec = Codec::from_name(v)?,
                _ => {}
            }
        }
    }
    let sync = r.take(16).ok_or(ContainerError::Header)?;
    let (mut datums, mut count) = (Vec::new(), 0u64);
    while !r.0.is_empty() {
        let n = r.long().filter(|n| *n >= 0).ok_or(ContainerError::Framing)?;
        let data = r.bytes().ok_or(ContainerError::Framing)?;
        if r.take(16) != Some(sync) {
            return Err(ContainerError::Framing);
        }
        let block = codec.decompress(data, max - datums.len()).map_err(|e| match e {
            ContainerError::TooLarge(_) => ContainerError::TooLarge(max),
            e => e,
        })?;
        datums.extend_from_slice(&block);
        count += n as u64;
    }
    Ok(Container {
        schema: schema.ok_or(ContainerError::NoSchema)?,
        codec,
        datums,
        count,
    })
}

/// A reader of the header's and blocks' framing.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn long(&mut self) -> Option<i64> {
        let mut z: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.take(1)?.first()?;
            z |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some((z >> 1) as i64 ^ -((z & 1) as i64));
            }
        }
        None
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.long()?).ok()?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_past_the_cap_are_not_read_whatever_the_codec() {
        let datum = vec![0u8; 1_000];
        for codec in [Codec::Null, Codec::Deflate, Codec::Snappy, Codec::Zstandard] {
            let mut w = ContainerWriter::new("\"bytes\"", codec, [7; 16]);
            for _ in 0..100 {
                w.append(&datum);
            }
            let file = w.finish();
            let all = read(&file).unwrap().datums.len();
            assert_eq!(
                read_within(&file, all).unwrap().datums.len(),
                all,
                "{codec:?}: exactly at the cap"
            );
            let e = read_within(&file, all - 1).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("its blocks decompress to more than {} bytes: not read", all - 1),
                "{codec:?}"
            );
        }
    }

    #[test]
    fn a_file_reads_back_with_every_codec_across_several_blocks() {
        let datum: Vec<u8> = (0..200u8).collect();
        for codec in [Codec::Null, Codec::Deflate, Codec::Snappy, Codec::Zstandard] {
            let mut w = ContainerWriter::new("\"bytes\"", codec, [7; 16]);
            for _ in 0..1_000 {
                w.append(&datum);
            }
            let file = w.finish();
            let back = read(&file).unwrap();
            assert_eq!(back.schema, "\"bytes\"");
            assert_eq!(back.codec, codec);
            assert_eq!(back.count, 1_000);
            assert_eq!(back.datums, datum.repeat(1_000), "{codec:?}");
            // 200 kB of datums: several blocks, each ending in the marker.
            assert!(file.windows(16).filter(|w| *w == [7; 16]).count() >= 4, "{codec:?}");
        }
    }

    #[test]
    fn a_damaged_file_is_refused_naming_what_is_wrong() {
        assert!(matches!(read(b"PAR1"), Err(ContainerError::Magic)));
        let mut w = ContainerWriter::new("\"bytes\"", Codec::Snappy, [1; 16]);
        w.append(b"abc");
        let mut file = w.finish();
        let crc_at = file.len() - 17;
        file[crc_at] ^= 0xff;
        assert!(read(&file).unwrap_err().to_string().contains("CRC-32"));
        assert!(matches!(read(&file[..file.len() - 3]), Err(ContainerError::Framing)));
        assert!(matches!(read(&file[..10]), Err(ContainerError::Header)));
    }
}
