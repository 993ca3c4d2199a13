//! `tickstream connect import`: a Confluent S3 sink connector's configuration (the JSON MSK
//! Connect takes, Connect's REST body, or a `.properties` file) turned into tickstream's TOML.
//!
//! Each setting is honoured (mapped to its tickstream key, mostly under the same name), ignored
//! with a reason (it has no meaning here: `tasks.max`, the key converter), or **unsupported**:
//! tickstream cannot do it yet (an Avro format, wall-clock scheduled rotation), and
//! the import says so and fails rather than write a configuration that would behave differently.
//!
//! The consumer group becomes Connect's own, `connect-<name>`: tickstream resumes where the
//! connector's committed offsets and files end (it reads the end of a Connect file from its
//! lines), so a migration neither re-writes nor skips a record.

use std::collections::BTreeMap;

/// What the import made of a connector configuration.
#[derive(Debug, Default)]
pub struct Imported {
    /// The TOML, with a comment per mapped setting.
    pub toml: String,
    /// Settings read but meaningless here, each with why.
    pub ignored: Vec<String>,
    /// Settings tickstream cannot honour yet, each with why: the import fails when any.
    pub unsupported: Vec<String>,
}

/// Why the file could not be read as a connector configuration.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: not JSON: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {reason}")]
    Shape { path: String, reason: String },
}

/// A connector's settings, and what MSK Connect's request says besides.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub name: Option<String>,
    pub settings: BTreeMap<String, String>,
    /// `kafkaCluster.apacheKafkaCluster.bootstrapServers` (MSK Connect).
    pub bootstrap_servers: Option<String>,
    /// `kafkaClusterClientAuthentication.authenticationType` is `IAM` (MSK Connect).
    pub msk_iam: bool,
}

/// Reads `text` from `path`: JSON when it starts with `{`, Java properties otherwise.
pub fn read(path: &str, text: &str) -> Result<Source, ImportError> {
    if text.trim_start().starts_with('{') {
        from_json(path, text)
    } else {
        let settings = properties(text);
        Ok(Source {
            name: settings.get("name").cloned(),
            settings,
            ..Source::default()
        })
    }
}

fn from_json(path: &str, text: &str) -> Result<Source, ImportError> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|source| ImportError::Json {
        path: path.to_owned(),
        source,
    })?;
    let shape = |reason: &str| ImportError::Shape {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    // MSK Connect's CreateConnector request, Connect's REST body, or the bare settings.
    let (settings, name) = if let Some(c) = doc.get("connectorConfiguration") {
        (c, doc.get("connectorName"))
    } else if let Some(c) = doc.get("config") {
        (c, doc.get("name"))
    } else {
        (&doc, doc.get("name"))
    };
    let settings = settings
        .as_object()
        .ok_or_else(|| shape("the connector settings are not an object"))?;
    let mut out = BTreeMap::new();
    for (k, v) in settings {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => v.to_string(),
            _ => return Err(shape(&format!("setting {k:?} is not a string"))),
        };
        out.insert(k.clone(), v);
    }
    let name = name
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .or_else(|| out.get("name").cloned());
    let bootstrap_servers = doc
        .pointer("/kafkaCluster/apacheKafkaCluster/bootstrapServers")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let msk_iam = doc
        .pointer("/kafkaClusterClientAuthentication/authenticationType")
        .and_then(|v| v.as_str())
        .is_some_and(|t| t.eq_ignore_ascii_case("IAM"));
    Ok(Source {
        name,
        settings: out,
        bootstrap_servers,
        msk_iam,
    })
}

/// Java properties: `key=value` or `key: value`, `#`/`!` comments, `\` line continuations.
pub fn properties(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                continue;
            }
            None => pending.push_str(line),
        }
        let entry = std::mem::take(&mut pending);
        let split = entry.find(['=', ':']).unwrap_or(entry.len());
        let (k, v) = entry.split_at(split);
        let v = v.get(1..).unwrap_or("").trim();
        out.insert(k.trim().to_owned(), v.to_owned());
    }
    out
}

/// The AWS region in an MSK bootstrap host (`b-1.c.x.kafka.us-east-1.amazonaws.com:9098`).
fn region_of(bootstrap: &str) -> Option<String> {
    let host = bootstrap.split(',').next()?.trim().split(':').next()?;
    let (_, rest) = host.split_once(".kafka.")?;
    rest.split('.').next().map(str::to_owned)
}

/// One TOML section being written: `key = value` lines, each with a comment.
#[derive(Default)]
struct Section(Vec<String>);

impl Section {
    fn set(&mut self, key: &str, value: toml::Value, why: &str) {
        let key = match key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            true => key.to_owned(),
            false => format!("{key:?}"),
        };
        self.0.push(format!("# {why}\n{key} = {value}"));
    }
}

/// The equivalent TOML of `src`.
pub fn convert(src: &Source) -> Imported {
    let mut out = Imported::default();
    let (mut kafka, mut sink, mut s3) = (Section::default(), Section::default(), Section::default());
    let s = &src.settings;
    let str_value = |v: &str| toml::Value::String(v.to_owned());
    let int_value = |k: &str, v: &str, out: &mut Imported| match v.trim().parse::<i64>() {
        Ok(n) => Some(toml::Value::Integer(n)),
        Err(_) => {
            out.unsupported.push(format!("{k} = {v:?}: not a number"));
            None
        }
    };
    for (k, v) in s {
        let connect = format!("Connect's {k}");
        match k.as_str() {
            "connector.class" => {
                if !v.ends_with("S3SinkConnector") {
                    out.unsupported.push(format!(
                        "connector.class = {v:?}: tickstream replaces the Confluent S3 sink (io.confluent.connect.s3.S3SinkConnector) only"
                    ));
                }
            }
            "topics" => sink.set("topics", str_value(v), &connect),
            "topics.regex" => sink.set("topics.regex", str_value(v), &connect),
            "topics.dir" => sink.set("topics.dir", str_value(v), &connect),
            "s3.bucket.name" => sink.set("s3.bucket.name", str_value(v), &connect),
            "flush.size" | "rotate.interval.ms" | "filename.offset.zero.pad.width" => {
                if let Some(n) = int_value(k, v, &mut out) {
                    sink.set(k, n, &connect);
                }
            }
            "s3.region" => s3.set("region", str_value(v), &connect),
            "store.url" => {
                s3.set("mode", str_value("endpoint"), "Connect's store.url: an S3-compatible endpoint");
                s3.set("endpoint", str_value(v), &connect);
            }
            "value.converter" => sink.set("value.converter", str_value(v), &connect),
            "value.converter.schemas.enable" if v.trim() == "true" => out.unsupported.push(
                "value.converter.schemas.enable = true: records in JsonConverter's schema/payload envelope are written as produced, not unwrapped".into(),
            ),
            "value.converter.schemas.enable" => {}
            "format.class" => match v.rsplit('.').next().unwrap_or(v) {
                "JsonFormat" => {}
                "ByteArrayFormat" => sink.set(k, str_value("bytearray"), &connect),
                "ParquetFormat" => sink.set(
                    k,
                    str_value("parquet"),
                    "Connect's format.class ParquetFormat: the columns are [warehouse] columns (the tick's \
                     by default), typed; declare your records' fields there",
                ),
                other => out.unsupported.push(format!(
                    "format.class = {v:?}: {other} files are not written yet (JSON lines, Parquet and raw bytes are)"
                )),
            },
            "parquet.codec" => match v.trim() {
                "none" | "snappy" | "gzip" | "zstd" => sink.set(k, str_value(v.trim()), &connect),
                other => out.unsupported.push(format!(
                    "parquet.codec = {other:?}: tickstream writes snappy, zstd, gzip or uncompressed Parquet"
                )),
            },
            "format.bytearray.separator" => sink.set("format.bytearray.separator", str_value(v), &connect),
            "partitioner.class" => match crate::config::PartitionerClass::try_from(v.trim().to_owned()) {
                Ok(crate::config::PartitionerClass::Default) => {}
                Ok(class) => {
                    let name = format!("{class:?}").to_lowercase();
                    sink.set(k, str_value(&name), &connect);
                    let time_based = !matches!(class, crate::config::PartitionerClass::Field);
                    if time_based && !s.contains_key("timestamp.extractor") {
                        sink.set(
                            "timestamp.extractor",
                            str_value("Wallclock"),
                            "Connect's default extractor, kept so paths stay the same; Record (tickstream's \
                             default) files by the record's time and keeps exactly once across restarts",
                        );
                    }
                }
                Err(e) => out.unsupported.push(format!("partitioner.class: {e}")),
            },
            "path.format" | "timestamp.field" | "partition.field.name" | "locale" | "timezone" => {
                sink.set(k, str_value(v.trim()), &connect)
            }
            "partition.duration.ms" => {
                if let Some(n) = int_value(k, v, &mut out) {
                    sink.set(k, n, &connect);
                }
            }
            "timestamp.extractor" => match crate::config::TimestampExtractor::try_from(v.trim().to_owned()) {
                Ok(e) => sink.set(k, str_value(&format!("{e:?}")), &connect),
                Err(e) => out.unsupported.push(format!("timestamp.extractor: {e}")),
            },
            "rotate.schedule.interval.ms" => out.unsupported.push(format!(
                "rotate.schedule.interval.ms = {v}: wall-clock rotation is not supported; rotate.interval.ms rotates by record time"
            )),
            "s3.compression.type" | "s3.compression.level"
                if s.get("format.class").is_some_and(|f| f.ends_with("ParquetFormat")) =>
            {
                out.ignored.push(format!(
                    "{k} = {v}: Connect applies it to JSON and bytes files only; Parquet pages are compressed by parquet.codec"
                ))
            }
            "s3.compression.type" => match v.trim() {
                "none" | "gzip" => sink.set(k, str_value(v.trim()), &connect),
                other => out.unsupported.push(format!(
                    "s3.compression.type = {other:?}: tickstream compresses with gzip or not at all"
                )),
            },
            "s3.compression.level" => {
                if let Some(n) = int_value(k, v, &mut out) {
                    sink.set(k, n, &connect);
                }
            }
            "storage.class" if !v.ends_with("S3Storage") => {
                out.unsupported.push(format!("storage.class = {v:?}: tickstream writes to S3 only"))
            }
            "errors.tolerance" => sink.set("errors.tolerance", str_value(v), &connect),
            "errors.deadletterqueue.topic.name" => sink.set(k, str_value(v), &connect),
            "behavior.on.null.values" => sink.set(k, str_value(v), &connect),
            "aws.access.key.id" | "aws.secret.access.key" => out.ignored.push(format!(
                "{k}: not copied; tickstream takes AWS credentials from the environment, profile or instance role"
            )),
            "tasks.max" => out.ignored.push(format!(
                "tasks.max = {v}: tickstream runs one sink actor per partition, in one process"
            )),
            "key.converter" | "key.converter.schemas.enable" | "header.converter" => {
                out.ignored.push(format!("{k}: keys and headers are not written to S3 (as with JsonFormat)"))
            }
            "name" => {}
            "storage.class" | "schema.compatibility" | "s3.part.size"
            | "s3.acl.canned" | "errors.log.enable" | "errors.log.include.messages"
            | "errors.deadletterqueue.context.headers.enable" | "errors.deadletterqueue.topic.replication.factor" => {
                out.ignored.push(format!("{k} = {v}: has no tickstream equivalent and changes nothing here"))
            }
            other => out.unsupported.push(format!("{other} = {v:?}: not known to tickstream")),
        }
    }
    if s.contains_key("store.url") {
        if !s.contains_key("s3.region") {
            s3.set(
                "region",
                str_value("us-east-1"),
                "the endpoint's region (Connect's default)",
            );
        }
    } else {
        s3.set("mode", str_value("aws"), "Amazon S3 (Connect's default storage)");
    }
    if let Some(name) = &src.name {
        kafka.set(
            "consumer_group",
            str_value(&format!("connect-{name}")),
            "Connect's group for this connector: tickstream resumes where it committed",
        );
    }
    if let Some(b) = &src.bootstrap_servers {
        kafka.set("bootstrap_servers", str_value(b), "MSK Connect's kafkaCluster");
    }
    if src.msk_iam {
        kafka.set("mode", str_value("msk_iam"), "MSK Connect's IAM client authentication");
        kafka.set(
            "create_topics",
            toml::Value::Boolean(false),
            "topics exist on MSK already",
        );
        if let Some(region) = src.bootstrap_servers.as_deref().and_then(region_of) {
            kafka.set("region", str_value(&region), "the region in the bootstrap servers");
        }
    } else if src.bootstrap_servers.is_some() {
        kafka.set("mode", str_value("plaintext"), "MSK Connect without IAM authentication");
    }
    let mut toml = format!(
        "# tickstream configuration imported from a Confluent S3 sink connector{}.\n\
         # Check it with: tickstream check-config FILE\n",
        src.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
    );
    let sections = [
        ("kafka", kafka),
        ("producer", {
            let mut p = Section::default();
            p.set(
                "enabled",
                toml::Value::Boolean(false),
                "your producers keep writing the topics",
            );
            p
        }),
        ("sink", sink),
        ("s3", s3),
    ];
    for (name, section) in sections {
        if section.0.is_empty() {
            continue;
        }
        toml.push_str(&format!("\n[{name}]\n{}\n", section.0.join("\n")));
    }
    out.toml = toml;
    out
}

#[cfg(test)]
#[path = "connect_import_tests.rs"]
mod tests;
