//! Keys and headers files: `store.kafka.keys`, `store.kafka.headers`, their formats, and the
//! key and header converters they read with.

use super::translate::{connect, text, Draft};

const JSON_FORMAT: &str = "io.confluent.connect.s3.format.json.JsonFormat";

impl Draft<'_> {
    fn on(&self, k: &str) -> bool {
        self.settings.get(k).map(|v| v.trim()) == Some("true")
    }

    /// The keys and headers settings.
    pub(super) fn keys_key(&mut self, k: &str, v: &str) -> bool {
        let value = v.trim();
        let (keys, headers) = (self.on("store.kafka.keys"), self.on("store.kafka.headers"));
        match k {
            "store.kafka.keys" | "store.kafka.headers" if value == "true" => {
                self.sink.set(k, toml::Value::Boolean(true), &connect(k))
            }
            "store.kafka.keys" | "store.kafka.headers" => self
                .out
                .ignored
                .push(format!("{k} = {value}: off, as tickstream's default")),
            "keys.format.class" | "headers.format.class" if !(if k.starts_with("keys") { keys } else { headers }) => {
                let store = if k.starts_with("keys") {
                    "store.kafka.keys"
                } else {
                    "store.kafka.headers"
                };
                self.out.ignored.push(format!("{k}: used only with {store} = true"))
            }
            "keys.format.class" | "headers.format.class" if value == JSON_FORMAT || value == "json" => {
                self.sink.set(k, text("json"), &connect(k))
            }
            "keys.format.class" | "headers.format.class" => self.out.unsupported.push(format!(
                "{k} = {value:?}: keys and headers files are written as JSON lines only (JsonFormat)"
            )),
            "key.converter" if !keys => self
                .out
                .ignored
                .push(format!("{k}: keys are not written to S3 (store.kafka.keys is off)")),
            "key.converter" => match crate::config::KeyConverter::try_from(value.to_owned()) {
                Ok(_) => self.sink.set(k, text(value), &connect(k)),
                Err(_) => self.out.unsupported.push(format!(
                    "{k} = {value:?}: keys files are written from string, JSON or byte-array keys (StringConverter, \
                     JsonConverter, ByteArrayConverter)"
                )),
            },
            "key.converter.schemas.enable" if keys && value == "true" => self.out.unsupported.push(format!(
                "{k} = true: keys in JsonConverter envelopes are not unwrapped; tickstream reads keys as plain JSON"
            )),
            "header.converter" => self.out.ignored.push(format!(
                "{k}: tickstream writes each header's value as text (base64 when it is not UTF-8), as \
                 SimpleHeaderConverter reads it{}",
                if headers {
                    ""
                } else {
                    "; headers are not written to S3 (store.kafka.headers is off)"
                }
            )),
            _ if k.starts_with("key.converter.") || k.starts_with("header.converter.") => {
                self.out.ignored.push(format!("{k}: not copied; nothing here reads it"))
            }
            _ => return false,
        }
        true
    }

    /// Keys or headers files on without their format: Connect's default is AvroFormat.
    pub(super) fn companions(&mut self) {
        for (store, format) in [
            ("store.kafka.keys", "keys.format.class"),
            ("store.kafka.headers", "headers.format.class"),
        ] {
            if self.on(store) && !self.settings.contains_key(format) {
                self.out.unsupported.push(format!(
                    "{format} (not set): with {store} = true Connect writes AvroFormat files, and tickstream writes \
                     JSON lines only; set {format} = {JSON_FORMAT}"
                ));
            }
        }
    }
}
