//! The Schema Registry client (`value.converter = "avro"`): writer schemas fetched by id,
//! once per process, into the cache every converter reads records with.
//!
//! - `GET /schemas/ids/{id}`: the schema (its `references` from
//!   `GET /subjects/{s}/versions/{v}`); an id the registry does not have (404), a schema that
//!   is not Avro or does not parse is *unusable*: its records are dead letters with the reason.
//! - `GET /schemas/ids/{id}/versions`: its version under each subject, only when
//!   `schema.compatibility` compares versions.
//! - A registry that does not answer (down, a 5xx, a timeout, refused credentials) is an
//!   error: nothing is cached, the caller's records wait and it asks again later. Each URL of
//!   `value.converter.schema.registry.url` is tried in turn.
//!
//! Fetches of one id are made once however many partitions ask at the same moment.

mod http;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::config::{SinkConfig, ValueConverter};
use crate::error::ErrorClass;
use crate::record::avro::compat::Compatibility;
use crate::record::avro::{Known, SchemaCache, WriterSchema};
use crate::telemetry::reachability::{Dependency, Reachability};
pub use http::REQUEST_TIMEOUT;

/// How deep schema references may nest.
const MAX_REFERENCE_DEPTH: usize = 16;

/// Why the registry did not give an answer (the records wait and ask again).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The settings cannot make a client.
    #[error("schema registry: {0}")]
    Config(String),
    /// No connection, no answer in time, a TLS failure.
    #[error("schema registry at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// A 5xx or 429.
    #[error("schema registry at {url}: HTTP {status}: {message}")]
    Server { url: String, status: u16, message: String },
    /// 401 or 403: the credentials are wrong or lack access.
    #[error("schema registry at {url} refused the credentials (HTTP {status}: {message}); check value.converter.basic.auth.*")]
    Refused { url: String, status: u16, message: String },
    /// Any other answer that is not the schema.
    #[error("schema registry at {url}: unexpected HTTP {status} for {path}: {message}")]
    Unexpected {
        url: String,
        path: String,
        status: u16,
        message: String,
    },
}

impl RegistryError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Unreachable { .. } | Self::Server { .. } => ErrorClass::Transient,
            Self::Config(_) | Self::Refused { .. } | Self::Unexpected { .. } => ErrorClass::NeedsPerson,
        }
    }
}

/// A registry and the cache it fills.
pub struct Registry {
    http: http::Http,
    cache: SchemaCache,
    /// Fetch each schema's versions (`schema.compatibility` other than `NONE`).
    versions: bool,
    /// One lock per id being fetched: concurrent askers wait for the first.
    inflight: tokio::sync::Mutex<HashMap<u32, Arc<tokio::sync::Mutex<()>>>>,
    reach: Arc<Reachability>,
}

#[derive(Deserialize)]
struct SchemaAnswer {
    schema: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<Reference>,
}

#[derive(Deserialize)]
struct Reference {
    subject: String,
    version: i32,
}

#[derive(Deserialize)]
struct SubjectVersion {
    subject: String,
    version: i32,
}

impl Registry {
    /// The registry `[sink]` names (`None` when values are not Avro), filling `cache`;
    /// failures to reach it are reported into `reach`.
    pub fn from_config(
        sink: &SinkConfig,
        cache: SchemaCache,
        reach: Arc<Reachability>,
    ) -> Result<Option<Self>, RegistryError> {
        if sink.value_converter != ValueConverter::Avro {
            return Ok(None);
        }
        let http = http::Http::new(sink)?;
        reach.register(Dependency::SchemaRegistry, http.addresses());
        crate::telemetry::registry_events::registry_started(&http.addresses());
        Ok(Some(Self {
            http,
            cache,
            versions: sink.schema_compatibility != Compatibility::None,
            inflight: tokio::sync::Mutex::default(),
            reach,
        }))
    }

    /// The cache this registry fills.
    pub fn cache(&self) -> &SchemaCache {
        &self.cache
    }

    /// Puts schema `id` into the cache: found, or unusable (with why); an error when the
    /// registry did not answer (nothing is cached: ask again later).
    pub async fn fetch(&self, id: u32) -> Result<(), RegistryError> {
        if self.cache.get(id).is_some() {
            return Ok(());
        }
        let lock = self.inflight.lock().await.entry(id).or_default().clone();
        let _one_at_a_time = lock.lock().await;
        if self.cache.get(id).is_some() {
            return Ok(()); // another asker fetched it meanwhile
        }
        let result = self.lookup(id).await;
        self.inflight.lock().await.remove(&id);
        match result {
            Ok(known) => {
                self.reach.answered(Dependency::SchemaRegistry);
                crate::telemetry::registry_events::schema_fetched(id, &known);
                self.cache.insert(id, known);
                Ok(())
            }
            Err(e) => {
                self.reach.failed(Dependency::SchemaRegistry, &e.to_string());
                crate::telemetry::registry_events::fetch_failed(id, &e.to_string(), e.class());
                Err(e)
            }
        }
    }

    async fn lookup(&self, id: u32) -> Result<Known, RegistryError> {
        let path = format!("/schemas/ids/{id}");
        let r = self.http.get(&path).await?;
        let answer: SchemaAnswer = match r.status {
            200 => match serde_json::from_slice(&r.body) {
                Ok(a) => a,
                Err(e) => return Err(unexpected(&r, &path, format!("not a schema: {e}"))),
            },
            404 => {
                return Ok(Known::Unusable(format!(
                    "not in the registry ({})",
                    http::message(&r.body)
                )))
            }
            _ => return Err(refused_or_unexpected(&r, &path)),
        };
        if let Some(t) = answer
            .schema_type
            .as_deref()
            .filter(|t| !t.eq_ignore_ascii_case("AVRO"))
        {
            return Ok(Known::Unusable(format!(
                "a {t} schema, not Avro (value.converter = avro reads Avro only)"
            )));
        }
        let mut references = Vec::new();
        self.references(&answer.references, &mut references, 0).await?;
        let schema = match WriterSchema::parse(Some(id), &answer.schema, &references) {
            Ok(s) => s,
            Err(e) => return Ok(Known::Unusable(e.to_string())),
        };
        let schema = match self.versions {
            true => schema.with_versions(self.subject_versions(id).await?),
            false => schema,
        };
        Ok(Known::Found(Arc::new(schema)))
    }

    /// The referenced schemas' texts, those they reference first.
    fn references<'a>(
        &'a self,
        refs: &'a [Reference],
        out: &'a mut Vec<String>,
        depth: usize,
    ) -> futures::future::BoxFuture<'a, Result<(), RegistryError>> {
        Box::pin(async move {
            for r in refs {
                if depth >= MAX_REFERENCE_DEPTH {
                    return Err(RegistryError::Config(format!(
                        "schema references nest deeper than {MAX_REFERENCE_DEPTH} (at {} version {})",
                        r.subject, r.version
                    )));
                }
                let subject = percent_encoding::utf8_percent_encode(&r.subject, percent_encoding::NON_ALPHANUMERIC);
                let path = format!("/subjects/{subject}/versions/{}", r.version);
                let resp = self.http.get(&path).await?;
                if resp.status != 200 {
                    return Err(refused_or_unexpected(&resp, &path));
                }
                let answer: SchemaAnswer = serde_json::from_slice(&resp.body)
                    .map_err(|e| unexpected(&resp, &path, format!("not a schema: {e}")))?;
                self.references(&answer.references, out, depth + 1).await?;
                out.push(answer.schema);
            }
            Ok(())
        })
    }

    async fn subject_versions(&self, id: u32) -> Result<Vec<(String, i32)>, RegistryError> {
        let path = format!("/schemas/ids/{id}/versions");
        let r = self.http.get(&path).await?;
        match r.status {
            200 => serde_json::from_slice::<Vec<SubjectVersion>>(&r.body)
                .map(|v| v.into_iter().map(|s| (s.subject, s.version)).collect())
                .map_err(|e| unexpected(&r, &path, format!("not a list of subject versions: {e}"))),
            404 => Ok(Vec::new()),
            _ => Err(refused_or_unexpected(&r, &path)),
        }
    }
}

fn unexpected(r: &http::Response, path: &str, message: String) -> RegistryError {
    RegistryError::Unexpected {
        url: r.url.clone(),
        path: path.to_owned(),
        status: r.status,
        message,
    }
}

fn refused_or_unexpected(r: &http::Response, path: &str) -> RegistryError {
    match r.status {
        401 | 403 => RegistryError::Refused {
            url: r.url.clone(),
            status: r.status,
            message: http::message(&r.body),
        },
        _ => unexpected(r, path, http::message(&r.body)),
    }
}
