//! A record projected onto another schema of its type (`schema.compatibility` other than
//! `NONE`): Avro's schema resolution (fields matched by name, the reader's defaults for those
//! the record lacks, the others dropped, numbers promoted, enum symbols and union branches
//! matched), by apache-avro.
//!
//! apache-avro refuses a `bytes` decimal whose value takes fewer bytes than its precision
//! could need (a small price, `decimal(18, 6)` in three bytes): resolution checks the length,
//! not the value. So decimals are widened to 32 bytes (the room of precision 76) before, and
//! narrowed to their minimal bytes after; the values are the same.

use apache_avro::types::Value;
use apache_avro::Decimal;

use super::{AvroRecord, WriterSchema};
use std::sync::Arc;

/// `record` as a value of schema `to`, or why it does not fit.
pub fn project(record: &AvroRecord<'_>, to: &Arc<WriterSchema>) -> Result<AvroRecord<'static>, String> {
    let mut value = record.value.clone();
    decimals(&mut value, widen);
    let mut value = value.resolve(to.schema()).map_err(|e| e.to_string())?;
    decimals(&mut value, super::json::minimal);
    Ok(AvroRecord {
        schema: to.clone(),
        datum: None,
        value,
    })
}

/// `bytes` (two's complement) sign-extended to 32 bytes.
fn widen(bytes: &[u8]) -> Vec<u8> {
    let sign = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut out = vec![sign; 32usize.saturating_sub(bytes.len())];
    out.extend_from_slice(bytes);
    out
}

/// Rewrites every decimal in `v` with `f` of its bytes.
fn decimals(v: &mut Value, f: impl Fn(&[u8]) -> Vec<u8> + Copy) {
    match v {
        Value::Decimal(d) => {
            if let Ok(bytes) = <Vec<u8>>::try_from(&*d) {
                *d = Decimal::from(f(&bytes));
            }
        }
        Value::Union(_, inner) => decimals(inner, f),
        Value::Array(items) => items.iter_mut().for_each(|x| decimals(x, f)),
        Value::Map(entries) => entries.values_mut().for_each(|x| decimals(x, f)),
        Value::Record(fields) => fields.iter_mut().for_each(|(_, x)| decimals(x, f)),
        _ => {}
    }
}
