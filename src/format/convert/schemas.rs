//! Records with a schema: Avro in the Schema Registry wire format (`value.converter = "avro"`)
//! and JsonConverter envelopes (`value.converter.schemas.enable = true`).
//!
//! An Avro record names its schema by id; a schema not fetched yet is asked for
//! ([`Verdict::NeedsSchema`]: the caller fetches it from the registry and converts the record
//! again), so a registry that is down holds records back instead of dead-lettering them. A
//! wrong magic byte, an id the registry does not have, and bytes that do not decode are dead
//! letters, with that reason.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Converted, Verdict};
use crate::record::avro::{envelope, wire, AvroRecord, Known, SchemaCache, WriterSchema};
use crate::record::RecordError;

/// An Avro record in the wire format, decoded with its writer schema.
pub(super) fn avro<'a>(value: &'a [u8], schemas: &SchemaCache) -> Verdict<'a> {
    let (id, datum) = match wire::split(value) {
        Ok(split) => split,
        Err(e) => return Verdict::Reject(e),
    };
    let schema = match schemas.get(id) {
        None => return Verdict::NeedsSchema(id),
        Some(Known::Unusable(reason)) => return Verdict::Reject(RecordError::UnusableSchema { id, reason }),
        Some(Known::Found(schema)) => schema,
    };
    match schema.decode(datum) {
        Ok(value) => Verdict::Write(Converted::Avro(AvroRecord {
            schema,
            datum: Some(datum),
            value,
        })),
        Err(reason) => Verdict::Reject(RecordError::NotAvro { id, reason }),
    }
}

/// The most envelope schemas kept (Connect's `schemas.cache.size`); past it the cache starts
/// over.
const ENVELOPE_SCHEMAS: usize = 1_000;

/// Envelopes' schemas made Avro schemas, by their JSON text (each record repeats its schema:
/// it is converted once).
#[derive(Clone, Debug, Default)]
pub struct Envelopes(Arc<RwLock<HashMap<Box<str>, Arc<WriterSchema>>>>);

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    schema: Option<&'a RawValue>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

impl Envelopes {
    /// A JsonConverter envelope: its payload, as a value of its schema.
    pub(super) fn convert<'a>(&self, value: &'a [u8]) -> Verdict<'a> {
        let not = |why: String| Verdict::Reject(RecordError::NotEnvelope(why));
        let e: Envelope<'a> = match serde_json::from_slice(value) {
            Ok(e) => e,
            Err(e) => return not(format!("{e}")),
        };
        let Some(payload) = e.payload else {
            return not("no \"payload\"".into());
        };
        let schema = match e.schema.map(RawValue::get).filter(|s| s.trim() != "null") {
            // `"schema": null`: a schemaless payload, written as its JSON.
            None => {
                let text = payload.get().as_bytes();
                let start = text.as_ptr() as usize - value.as_ptr() as usize;
                let bytes = &value[start..start + text.len()];
                return Verdict::Write(Converted::Line(
                    match bytes.contains(&b'\n') || bytes.contains(&b'\r') {
                        true => Cow::Owned(super::fold(bytes)),
                        false => Cow::Borrowed(bytes),
                    },
                    None,
                ));
            }
            Some(text) => match self.schema(text) {
                Ok(s) => s,
                Err(why) => return not(why),
            },
        };
        let payload: serde_json::Value = match serde_json::from_str(payload.get()) {
            Ok(p) => p,
            Err(e) => return not(format!("payload: {e}")),
        };
        match envelope::payload(&payload, &schema) {
            Ok(value) => Verdict::Write(Converted::Avro(AvroRecord {
                schema,
                datum: None,
                value,
            })),
            Err(why) => not(why),
        }
    }

    fn schema(&self, text: &str) -> Result<Arc<WriterSchema>, String> {
        if let Some(s) = self.0.read().ok().and_then(|m| m.get(text).cloned()) {
            return Ok(s);
        }
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("schema: {e}"))?;
        let schema = Arc::new(envelope::schema(&doc)?);
        if let Ok(mut m) = self.0.write() {
            if m.len() >= ENVELOPE_SCHEMAS {
                m.clear();
            }
            m.insert(text.into(), schema.clone());
        }
        Ok(schema)
    }
}
