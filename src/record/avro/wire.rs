//! The Confluent wire format: a magic byte 0, the schema's registry id (4 bytes, big-endian),
//! then the Avro binary datum.

use crate::record::RecordError;

/// The first byte of every record in the wire format.
pub const MAGIC: u8 = 0;

/// The header's length: the magic byte and the id.
pub const HEADER: usize = 5;

/// The schema id and the datum of a record in the wire format.
pub fn split(value: &[u8]) -> Result<(u32, &[u8]), RecordError> {
    match value {
        [MAGIC, a, b, c, d, datum @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), datum)),
        [MAGIC, ..] => Err(RecordError::NotWireFormat(format!(
            "{} bytes, shorter than the 5-byte header (magic byte and schema id)",
            value.len()
        ))),
        [first, ..] => Err(RecordError::NotWireFormat(format!(
            "magic byte 0x{first:02x}, not 0x00 (not written by a Schema Registry serializer)"
        ))),
        [] => Err(RecordError::NotWireFormat("an empty value".into())),
    }
}

/// `datum` framed for schema `id` (tests and the bench's producer).
pub fn frame(id: u32, datum: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + datum.len());
    out.push(MAGIC);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(datum);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_gives_the_id_and_the_rest_is_the_datum() {
        assert_eq!(split(&[0, 0, 0, 1, 2, 9, 9]).unwrap(), (258, &[9u8, 9][..]));
        assert_eq!(split(&frame(7, b"")).unwrap(), (7, &[][..]));
    }

    #[test]
    fn a_wrong_magic_byte_or_a_short_header_is_named() {
        let e = split(b"{\"a\":1}").unwrap_err().to_string();
        assert!(e.contains("magic byte 0x7b"), "{e}");
        let e = split(&[0, 0, 1]).unwrap_err().to_string();
        assert!(e.contains("3 bytes, shorter than the 5-byte header"), "{e}");
        assert!(split(b"").unwrap_err().to_string().contains("empty"));
    }
}
