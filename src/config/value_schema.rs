//! `value.schema`: what a plain JSON value must be (a tick, or a JSON Schema read and compiled
//! with the configuration).

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// `value.schema`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(try_from = "String", into = "String")]
pub enum ValueSchema {
    #[default]
    None,
    Tick,
    /// A JSON Schema file, read and compiled when the configuration is.
    Json(JsonSchema),
}

impl TryFrom<String> for ValueSchema {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "none" => Self::None,
            "tick" => Self::Tick,
            path => Self::Json(JsonSchema::read(path.as_ref())?),
        })
    }
}

impl From<ValueSchema> for String {
    fn from(s: ValueSchema) -> String {
        match s {
            ValueSchema::None => "none".into(),
            ValueSchema::Tick => "tick".into(),
            ValueSchema::Json(j) => j.path.display().to_string(),
        }
    }
}

/// A compiled JSON Schema and the file it came from.
#[derive(Clone)]
pub struct JsonSchema {
    pub path: PathBuf,
    pub validator: Arc<jsonschema::Validator>,
}

impl JsonSchema {
    /// Reads and compiles the schema at `path`, or says what is wrong with the file.
    pub fn read(path: &std::path::Path) -> Result<Self, String> {
        let shown = path.display();
        let text = std::fs::read(path).map_err(|e| format!("reading {shown}: {e}"))?;
        let doc: serde_json::Value = serde_json::from_slice(&text).map_err(|e| format!("{shown} is not JSON: {e}"))?;
        let validator =
            jsonschema::validator_for(&doc).map_err(|e| format!("{shown} is not a valid JSON Schema: {e}"))?;
        Ok(Self {
            path: path.to_owned(),
            validator: Arc::new(validator),
        })
    }
}

impl std::fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchema")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PartialEq for JsonSchema {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}
