//! Each Connect setting honoured (its tickstream key), ignored with a reason, or refused, and
//! the TOML written from what was honoured.

use std::collections::BTreeMap;

use super::{Imported, Source};

/// The AWS region in an MSK bootstrap host (`b-1.c.x.kafka.us-east-1.amazonaws.com:9098`).
fn region_of(bootstrap: &str) -> Option<String> {
    let host = bootstrap.split(',').next()?.trim().split(':').next()?;
    let (_, rest) = host.split_once(".kafka.")?;
    rest.split('.').next().map(str::to_owned)
}

/// One TOML section being written: `key = value` lines, each with a comment.
#[derive(Default)]
pub(super) struct Section(Vec<String>);

impl Section {
    pub(super) fn set(&mut self, key: &str, value: toml::Value, why: &str) {
        let key = match key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            true => key.to_owned(),
            false => format!("{key:?}"),
        };
        self.0.push(format!("# {why}\n{key} = {value}"));
    }
}

/// The equivalent TOML of `src`.
pub fn convert(src: &Source) -> Imported {
    let mut d = Draft {
        settings: &src.settings,
        out: Imported::default(),
        kafka: Section::default(),
        sink: Section::default(),
        s3: Section::default(),
        runtime: Section::default(),
    };
    for (k, v) in &src.settings {
        let handled = d.sink_key(k, v)
            || d.file_key(k, v)
            || d.partitioner_key(k, v)
            || d.object_key(k, v)
            || d.framework_key(k, v);
        if !handled {
            // Its value is not shown: an unknown key may hold a password.
            d.out.unsupported.push(format!(
                "{k}: not a setting of the Confluent S3 sink that tickstream knows"
            ));
        }
    }
    d.storage();
    d.companions();
    d.cluster(src);
    d.render(src)
}

/// The TOML being written, and what could not be carried over.
pub(super) struct Draft<'a> {
    pub(super) settings: &'a BTreeMap<String, String>,
    pub(super) out: Imported,
    pub(super) kafka: Section,
    pub(super) sink: Section,
    pub(super) s3: Section,
    pub(super) runtime: Section,
}

pub(super) fn text(v: &str) -> toml::Value {
    toml::Value::String(v.to_owned())
}

pub(super) fn connect(k: &str) -> String {
    format!("Connect's {k}")
}

impl Draft<'_> {
    /// `v` as an integer, or `None` after noting that it is not one.
    pub(super) fn int(&mut self, k: &str, v: &str) -> Option<toml::Value> {
        match v.trim().parse::<i64>() {
            Ok(n) => Some(toml::Value::Integer(n)),
            Err(_) => {
                self.out.unsupported.push(format!("{k} = {v:?}: not a number"));
                None
            }
        }
    }

    /// `k = <integer v>` in `[sink]`.
    pub(super) fn sink_int(&mut self, k: &str, v: &str) {
        if let Some(n) = self.int(k, v) {
            self.sink.set(k, n, &connect(k));
        }
    }

    /// The connector, its topics, bucket, values and errors.
    fn sink_key(&mut self, k: &str, v: &str) -> bool {
        match k {
            "connector.class" if !v.ends_with("S3SinkConnector") => self.out.unsupported.push(format!(
                "connector.class = {v:?}: tickstream replaces the Confluent S3 sink (io.confluent.connect.s3.S3SinkConnector) only"
            )),
            "connector.class" | "name" => {}
            "topics" | "topics.regex" | "topics.dir" | "s3.bucket.name" | "value.converter"
            | "format.bytearray.separator" | "errors.tolerance" | "errors.deadletterqueue.topic.name"
            | "behavior.on.null.values" => self.sink.set(k, text(v), &connect(k)),
            "flush.size" | "rotate.interval.ms" | "rotate.schedule.interval.ms" | "filename.offset.zero.pad.width" => {
                self.sink_int(k, v)
            }
            "value.converter.schemas.enable" if v.trim() == "true" => {
                self.sink.set(k, toml::Value::Boolean(true), &connect(k))
            }
            "value.converter.schemas.enable" => {}
            "value.converter.schema.registry.url"
            | "value.converter.basic.auth.credentials.source"
            | "value.converter.value.subject.name.strategy"
            | "schema.compatibility"
            | "json.decimal.format"
            | "avro.codec" => self.sink.set(k, text(v.trim()), &connect(k)),
            "value.converter.basic.auth.user.info" => self.out.ignored.push(format!(
                "{k}: a secret, not copied into the file; set TICKSTREAM_SCHEMA_REGISTRY_USER_INFO in the service's environment"
            )),
            "value.converter.schema.registry.ssl.truststore.location" => self.out.unsupported.push(format!(
                "{k} = {v:?}: a Java truststore; export its CA as PEM (keytool -exportcert -rfc -keystore {v} -alias <ca> > ca.pem) \
                 and set value.converter.schema.registry.ssl.ca.location"
            )),
            "value.converter.schema.registry.ssl.truststore.password" => self.out.ignored.push(format!(
                "{k}: a secret, not copied; the CA file (value.converter.schema.registry.ssl.ca.location) needs none"
            )),
            "value.converter.schema.registry.ssl.truststore.type"
            | "value.converter.auto.register.schemas"
            | "value.converter.use.latest.version"
            | "value.converter.enhanced.avro.schema.support"
            | "value.converter.connect.meta.data"
            | "value.converter.schemas.cache.size" => self.out.ignored.push(format!(
                "{k} = {v}: records are decoded with their own writer schema; this setting changes nothing here"
            )),
            "s3.region" => self.s3.set("region", text(v), &connect(k)),
            "store.url" => {
                self.s3.set("mode", text("endpoint"), "Connect's store.url: an S3-compatible endpoint");
                self.s3.set("endpoint", text(v), &connect(k));
            }
            _ => return false,
        }
        true
    }

    /// What a file is: its format, codec and compression.
    fn file_key(&mut self, k: &str, v: &str) -> bool {
        let container = self
            .settings
            .get("format.class")
            .map(|f| f.rsplit('.').next().unwrap_or(f))
            .filter(|f| ["ParquetFormat", "AvroFormat"].contains(f));
        match k {
            "format.class" => match v.rsplit('.').next().unwrap_or(v) {
                "JsonFormat" => {}
                "ByteArrayFormat" => self.sink.set(k, text("bytearray"), &connect(k)),
                "ParquetFormat" => self.sink.set(
                    k,
                    text("parquet"),
                    "Connect's format.class ParquetFormat: records with a schema (Avro, JSON envelopes) take \
                     their schema's columns; plain JSON records the [warehouse] columns (the tick's by default), typed",
                ),
                "AvroFormat" => self.sink.set(k, text("avro"), &connect(k)),
                other => self.out.unsupported.push(format!(
                    "format.class = {v:?}: {other} files are not written (JSON lines, Avro, Parquet and raw bytes are)"
                )),
            },
            "parquet.codec" => match v.trim() {
                "none" | "snappy" | "gzip" | "zstd" => self.sink.set(k, text(v.trim()), &connect(k)),
                other => self.out.unsupported.push(format!(
                    "parquet.codec = {other:?}: tickstream writes snappy, zstd, gzip or uncompressed Parquet"
                )),
            },
            "s3.compression.type" | "s3.compression.level" if container.is_some() => self.out.ignored.push(format!(
                "{k} = {v}: Connect applies it to JSON and bytes files only; {} files are compressed by their own codec",
                container.unwrap_or_default()
            )),
            "s3.compression.type" => match v.trim() {
                "none" | "gzip" => self.sink.set(k, text(v.trim()), &connect(k)),
                other => self.out.unsupported.push(format!(
                    "s3.compression.type = {other:?}: tickstream compresses with gzip or not at all"
                )),
            },
            "s3.compression.level" => self.sink_int(k, v),
            _ => return false,
        }
        true
    }

    /// Which directory a file goes to.
    fn partitioner_key(&mut self, k: &str, v: &str) -> bool {
        match k {
            "partitioner.class" => match crate::config::PartitionerClass::try_from(v.trim().to_owned()) {
                Ok(crate::config::PartitionerClass::Default) => {}
                Ok(class) => {
                    let name = format!("{class:?}").to_lowercase();
                    self.sink.set(k, text(&name), &connect(k));
                    let time_based = !matches!(class, crate::config::PartitionerClass::Field);
                    if time_based && !self.settings.contains_key("timestamp.extractor") {
                        self.sink.set(
                            "timestamp.extractor",
                            text("Wallclock"),
                            "Connect's default extractor, kept so paths stay the same; Record (tickstream's \
                             default) files by the record's time and keeps exactly once across restarts",
                        );
                    }
                }
                Err(e) => self.out.unsupported.push(format!("partitioner.class: {e}")),
            },
            "path.format" | "timestamp.field" | "partition.field.name" | "locale" | "timezone" => {
                self.sink.set(k, text(v.trim()), &connect(k))
            }
            "partition.duration.ms" => self.sink_int(k, v),
            "timestamp.extractor" => match crate::config::TimestampExtractor::try_from(v.trim().to_owned()) {
                Ok(e) => self.sink.set(k, text(&format!("{e:?}")), &connect(k)),
                Err(e) => self.out.unsupported.push(format!("timestamp.extractor: {e}")),
            },
            _ => return false,
        }
        true
    }

    /// Where the objects go: Amazon S3, or the `store.url` endpoint (in its region).
    fn storage(&mut self) {
        if !self.settings.contains_key("store.url") {
            self.s3
                .set("mode", text("aws"), "Amazon S3 (Connect's default storage)");
        } else if !self.settings.contains_key("s3.region") {
            self.s3
                .set("region", text("us-east-1"), "the endpoint's region (Connect's default)");
        }
    }

    /// The cluster and the consumer group, from MSK Connect's request.
    fn cluster(&mut self, src: &Source) {
        if let Some(name) = &src.name {
            self.kafka.set(
                "consumer_group",
                text(&format!("connect-{name}")),
                "Connect's group for this connector: tickstream resumes where it committed",
            );
        }
        if let Some(b) = &src.bootstrap_servers {
            self.kafka
                .set("bootstrap_servers", text(b), "MSK Connect's kafkaCluster");
        }
        if src.msk_iam {
            self.kafka
                .set("mode", text("msk_iam"), "MSK Connect's IAM client authentication");
            self.kafka.set(
                "create_topics",
                toml::Value::Boolean(false),
                "topics exist on MSK already",
            );
            if let Some(region) = src.bootstrap_servers.as_deref().and_then(region_of) {
                self.kafka
                    .set("region", text(&region), "the region in the bootstrap servers");
            }
        } else if src.bootstrap_servers.is_some() {
            self.kafka
                .set("mode", text("plaintext"), "MSK Connect without IAM authentication");
        }
    }

    /// The TOML file, with a header.
    fn render(self, src: &Source) -> Imported {
        let mut toml = format!(
            "# tickstream configuration imported from a Confluent S3 sink connector{}.\n\
             # Check it with: tickstream check-config FILE\n",
            src.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
        );
        let mut producer = Section::default();
        producer.set(
            "enabled",
            toml::Value::Boolean(false),
            "your producers keep writing the topics",
        );
        for (name, section) in [
            ("kafka", self.kafka),
            ("producer", producer),
            ("sink", self.sink),
            ("s3", self.s3),
            ("runtime", self.runtime),
        ] {
            if !section.0.is_empty() {
                toml.push_str(&format!("\n[{name}]\n{}\n", section.0.join("\n")));
            }
        }
        Imported { toml, ..self.out }
    }
}
