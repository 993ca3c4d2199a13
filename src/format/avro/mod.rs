//! Avro data files (`format.class = "avro"`, Confluent's `AvroFormat`): object container files
//! of the records' writer schema, `avro.codec` null, deflate, snappy or zstandard.

pub mod container;

use crate::record::avro::json::{self, Style};
use crate::record::avro::WriterSchema;
pub use container::{Codec, ContainerError, ContainerWriter};

/// Why an Avro file cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum AvroReadError {
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error("its avro.schema: {0}")]
    Schema(String),
    #[error("record {index} does not decode with the file's schema: {reason}")]
    Datum { index: u64, reason: String },
}

/// An Avro file's records as JSON lines (each ending in a newline), rendered in `style`, and
/// its schema's JSON.
pub fn json_lines(body: &[u8], style: Style) -> Result<(Vec<u8>, String), AvroReadError> {
    let file = container::read(body)?;
    let schema = WriterSchema::parse(None, &file.schema, &[]).map_err(|e| AvroReadError::Schema(e.to_string()))?;
    let mut out = Vec::with_capacity(file.datums.len() * 2);
    let mut rest = &file.datums[..];
    for index in 0..file.count {
        let value = schema
            .decode_next(&mut rest)
            .map_err(|reason| AvroReadError::Datum { index, reason })?;
        json::render(&value, &schema, style, &mut out);
        out.push(b'\n');
    }
    Ok((out, file.schema))
}

/// A file's sync marker, from what identifies it (its topic, partition and first offset): the
/// same records make the same bytes, and files differ from one another.
pub fn sync_marker(seed: &[u8]) -> [u8; 16] {
    // FNV-1a folds the seed into SplitMix64's state; two draws make the 16 bytes.
    let state = seed.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = crate::rng::SplitMix64(state);
    let mut marker = [0u8; 16];
    marker[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    marker[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    marker
}
