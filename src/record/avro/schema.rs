//! A writer schema: parsed once, with its names resolved and its datum reader built once, so a
//! record's decoding costs only the decoding.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{Name, ResolvedSchema};
use apache_avro::types::Value;
use apache_avro::Schema;
use ouroboros::self_referencing;

/// The schemas a schema is read with: the schema itself first, then those it references.
#[self_referencing]
struct Parsed {
    schemata: Vec<Schema>,
    #[borrows(schemata)]
    #[covariant]
    reader: GenericDatumReader<'this>,
    #[borrows(schemata)]
    #[covariant]
    resolved: ResolvedSchema<'this>,
}

/// The schema a record was written with: from the registry (by id), or from a JsonConverter
/// envelope.
pub struct WriterSchema {
    /// The registry's id; `None` for an envelope's schema.
    pub id: Option<u32>,
    /// The schema's JSON as the registry gave it (an Avro file's header and a Parquet file's
    /// `parquet.avro.schema` carry it).
    pub text: Arc<str>,
    /// Its version under each subject it is registered in (or the envelope's `version`, under
    /// any subject: key `None`).
    versions: Vec<(Option<String>, i32)>,
    parsed: Parsed,
}

impl std::fmt::Debug for WriterSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterSchema")
            .field("id", &self.id)
            .field("text", &self.text)
            .field("versions", &self.versions)
            .finish_non_exhaustive()
    }
}

/// The most memory one record's decoded value may take: a hostile record of a few bytes can
/// claim a block of millions of zero-byte items (`null`s), and the decoder refuses it instead
/// of filling memory. Far above any real record (a tick's value is ~600 bytes).
pub const MAX_DECODED_BYTES: usize = 64 * 1024 * 1024;

/// Why a schema cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadSchema(String);

impl WriterSchema {
    /// Parses `text`, with the schemas it references (by name) in `references`.
    pub fn parse(id: Option<u32>, text: &str, references: &[String]) -> Result<Self, BadSchema> {
        let bad = |e: apache_avro::Error| BadSchema(format!("not a valid Avro schema: {e}"));
        let schemata = match references.is_empty() {
            true => vec![Schema::parse_str(text).map_err(bad)?],
            false => {
                let (root, mut refs) = Schema::parse_str_with_list(text, references).map_err(bad)?;
                refs.insert(0, root);
                refs
            }
        };
        Self::from_schemata(id, text.into(), schemata)
    }

    /// A schema already parsed (an envelope's, converted).
    pub fn from_schema(id: Option<u32>, schema: Schema) -> Result<Self, BadSchema> {
        let text = serde_json::to_string(&schema).map_err(|e| BadSchema(e.to_string()))?;
        Self::from_schemata(id, text.into(), vec![schema])
    }

    fn from_schemata(id: Option<u32>, text: Arc<str>, schemata: Vec<Schema>) -> Result<Self, BadSchema> {
        // Process-wide and set once: before the first decoding, which needs a schema.
        apache_avro::util::max_allocation_bytes(MAX_DECODED_BYTES);
        let parsed = ParsedTryBuilder {
            schemata,
            reader_builder: |s: &Vec<Schema>| {
                let mut refs = s.iter();
                let root = refs.next().expect("the root schema is first");
                match s.len() {
                    1 => GenericDatumReader::builder(root).build(),
                    _ => GenericDatumReader::builder(root)
                        .writer_schemata(s.iter().collect())?
                        .build(),
                }
            },
            resolved_builder: |s: &Vec<Schema>| ResolvedSchema::new_with_schemata(s.iter().collect()),
        }
        .try_build()
        .map_err(|e| BadSchema(format!("its names do not resolve: {e}")))?;
        Ok(Self {
            id,
            text,
            versions: Vec::new(),
            parsed,
        })
    }

    /// With its version under each subject it is registered in.
    pub fn with_versions(mut self, versions: Vec<(String, i32)>) -> Self {
        self.versions = versions.into_iter().map(|(s, v)| (Some(s), v)).collect();
        self
    }

    /// With one version under any subject (an envelope's `version`).
    pub fn with_version(mut self, version: Option<i32>) -> Self {
        self.versions = version.map(|v| vec![(None, v)]).unwrap_or_default();
        self
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.parsed.borrow_schemata()[0]
    }

    /// Every named type the schema (and those it references) defines, by full name.
    pub fn names(&self) -> &HashMap<Name, &Schema> {
        self.parsed.borrow_resolved().get_names()
    }

    /// `schema`, or the named type it refers to.
    pub fn deref<'s>(&'s self, schema: &'s Schema) -> &'s Schema {
        match schema {
            Schema::Ref { name } => self.names().get(name).copied().unwrap_or(schema),
            other => other,
        }
    }

    /// Its version under `subject`, when the registry (or the envelope) gave one.
    pub fn version(&self, subject: &str) -> Option<i32> {
        self.versions
            .iter()
            .find(|(s, _)| s.as_deref().is_none_or(|s| s == subject))
            .map(|(_, v)| *v)
    }

    /// The record's full name (`namespace.Name`), for a record schema.
    pub fn full_name(&self) -> Option<String> {
        match self.schema() {
            Schema::Record(r) => Some(r.name.fullname(None)),
            _ => None,
        }
    }

    /// Whether records of `other` belong in the same file as records of this schema under
    /// `schema.compatibility = NONE`: the same registry id, or the same schema.
    pub fn same_as(&self, other: &WriterSchema) -> bool {
        match (self.id, other.id) {
            (Some(a), Some(b)) => a == b,
            _ => self.text == other.text,
        }
    }

    /// Decodes one datum, which must end where `datum` ends.
    pub fn decode(&self, datum: &[u8]) -> Result<Value, String> {
        let mut rest = datum;
        let value = self
            .parsed
            .borrow_reader()
            .read_value(&mut rest)
            .map_err(|e| e.to_string())?;
        match rest.len() {
            0 => Ok(value),
            n => Err(format!("{n} bytes left over after the datum")),
        }
    }

    /// Decodes the datum at the front of `rest` (one of several, as in an Avro file's block),
    /// leaving `rest` after it.
    pub fn decode_next(&self, rest: &mut &[u8]) -> Result<Value, String> {
        self.parsed.borrow_reader().read_value(rest).map_err(|e| e.to_string())
    }
}

/// What the registry said of an id.
#[derive(Clone, Debug)]
pub enum Known {
    Found(Arc<WriterSchema>),
    /// Not a schema tickstream can read records with (the registry has no such id, or it is
    /// not Avro, or it does not parse): every record that names it is a dead letter, for this
    /// reason.
    Unusable(String),
}

/// The schemas fetched so far, by id, shared by every sink of a process (filled by the
/// registry client, read by the converters).
#[derive(Clone, Debug, Default)]
pub struct SchemaCache(Arc<RwLock<HashMap<u32, Known>>>);

impl SchemaCache {
    pub fn get(&self, id: u32) -> Option<Known> {
        self.0.read().ok()?.get(&id).cloned()
    }

    pub fn insert(&self, id: u32, known: Known) {
        if let Ok(mut map) = self.0.write() {
            map.insert(id, known);
        }
    }

    /// How many ids are known.
    pub fn len(&self) -> usize {
        self.0.read().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every kind of type, nested: what a hostile record's bytes are decoded against.
    const SCHEMA: &str = r#"{"type": "record", "name": "R", "fields": [
      {"name": "s", "type": "string"}, {"name": "b", "type": "bytes"},
      {"name": "u", "type": ["null", "long", {"type": "array", "items": "R"}]},
      {"name": "m", "type": {"type": "map", "values": {"type": "array", "items": "null"}}},
      {"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 4}},
      {"name": "t", "type": {"type": "long", "logicalType": "timestamp-micros"}},
      {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
      {"name": "f", "type": {"type": "fixed", "name": "F", "size": 3}}]}"#;

    proptest! {
        #[test]
        fn any_bytes_decode_or_are_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let schema = WriterSchema::parse(Some(1), SCHEMA, &[]).unwrap();
            let _ = schema.decode(&bytes);
        }
    }

    #[test]
    fn a_huge_length_in_a_few_bytes_is_refused_not_allocated() {
        let schema = WriterSchema::parse(Some(1), r#"{"type": "array", "items": "null"}"#, &[]).unwrap();
        // A block of 2^22 nulls (~200 MB decoded) in 5 bytes: each takes no bytes, so only the
        // cap bounds it.
        let mut datum = Vec::new();
        super::super::encode::long(1 << 22, &mut datum);
        datum.push(0);
        let e = schema.decode(&datum).unwrap_err();
        assert!(e.contains("allocat"), "{e}");
        let mut under_the_cap = Vec::new();
        super::super::encode::long(1 << 10, &mut under_the_cap);
        under_the_cap.push(0);
        assert!(schema.decode(&under_the_cap).is_ok());
        let strings = WriterSchema::parse(Some(1), r#""string""#, &[]).unwrap();
        let mut datum = Vec::new();
        super::super::encode::long(1 << 40, &mut datum);
        assert!(strings.decode(&datum).is_err());
    }

    #[test]
    fn a_schema_that_does_not_parse_is_named() {
        let e = WriterSchema::parse(Some(1), r#"{"type": "record", "name": "R"}"#, &[]).unwrap_err();
        assert!(e.to_string().starts_with("not a valid Avro schema"), "{e}");
    }
}
