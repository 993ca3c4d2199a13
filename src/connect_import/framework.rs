//! Kafka Connect's own settings (tasks, converters of keys and headers, transforms, error
//! handling, consumer overrides) and the storage-common ones tickstream does without.

use super::translate::{connect, Draft};

impl Draft<'_> {
    /// Connect's framework settings: honoured, ignored with why, or refused with why.
    pub(super) fn framework_key(&mut self, k: &str, v: &str) -> bool {
        let value = v.trim();
        let out = &mut self.out;
        match k {
            "tasks.max" => out.ignored.push(format!(
                "{k} = {value}: tickstream runs one sink actor per partition; run more instances in the group to scale out"
            )),
            "config.action.reload" => out.ignored.push(format!(
                "{k} = {value}: tickstream reads its file at start; restart the service after changing it"
            )),
            "shutdown.timeout.ms" => {
                if let Some(n) = self.int(k, v) {
                    self.runtime.set("shutdown_timeout_ms", n, &connect(k));
                }
            }
            "errors.log.enable" | "errors.log.include.messages" => out.ignored.push(format!(
                "{k} = {value}: each dead letter keeps its reason with it (the dlq/ file's metadata, or Connect's \
                 __connect.errors.* headers) and is counted in tickstream_sink_dead_letters_total"
            )),
            "errors.deadletterqueue.context.headers.enable" => out.ignored.push(format!(
                "{k} = {value}: tickstream always adds Connect's __connect.errors.* headers to dead letters"
            )),
            "errors.deadletterqueue.topic.replication.factor" => out.ignored.push(format!(
                "{k} = {value}: create the dead-letter topic with the replication you want; tickstream writes to it"
            )),
            "errors.retry.timeout" | "errors.retry.delay.max.ms" => out.ignored.push(format!(
                "{k} = {value}: tickstream retries what may succeed later (S3, Kafka, the registry) without a limit, \
                 and dead-letters at once what cannot (a record that does not convert)"
            )),
            _ => return self.keys_key(k, v) || self.feature_key(k, v),
        }
        true
    }

    /// Connect features tickstream has otherwise or not at all: transforms, consumer overrides,
    /// Hive, scheduled rotation, other stores, credentials in the file.
    fn feature_key(&mut self, k: &str, v: &str) -> bool {
        let value = v.trim();
        let out = &mut self.out;
        match k {
            "transforms" | "predicates" if value.is_empty() => out.ignored.push(format!("{k}: none configured")),
            "transforms" => out.unsupported.push(format!(
                "{k} = {value:?}: tickstream applies no Single Message Transforms; files would hold the records \
                 untransformed"
            )),
            "predicates" => out
                .ignored
                .push(format!("{k}: predicates select transforms, which are not applied")),
            _ if k.starts_with("transforms.") || k.starts_with("predicates.") => out
                .ignored
                .push(format!("{k}: part of a transform or predicate (see transforms)")),
            _ if k.starts_with("consumer.override.") => out.unsupported.push(format!(
                "{k}: Connect's consumer settings do not carry over one to one; set librdkafka's equivalent under \
                 [kafka.librdkafka] if it has one"
            )),
            "hive.integration" if value != "true" => out.ignored.push(format!("{k} = {value}: off")),
            "hive.integration" => out.unsupported.push(format!(
                "{k} = true: tickstream registers no Hive tables (tickstream athena ddl writes the tables' DDL)"
            )),
            _ if k.starts_with("hive.") => out.ignored.push(format!("{k}: used only with hive.integration = true")),
            "storage.class" if !value.ends_with("S3Storage") => out
                .unsupported
                .push(format!("{k} = {value:?}: tickstream writes to S3 only")),
            "storage.class" => out.ignored.push(format!("{k}: S3, tickstream's only store")),
            "aws.access.key.id" | "aws.secret.access.key" => out.ignored.push(format!(
                "{k}: not copied; tickstream takes AWS credentials from the environment, profile or instance role"
            )),
            "partitioner.max.open.files" => {
                if let Some(n) = self.int(k, v) {
                    self.sink.set(
                        "max.open.files.per.partition",
                        n,
                        "Connect's partitioner.max.open.files: at the cap tickstream writes out the oldest file",
                    );
                }
            }
            "enhanced.avro.schema.support" | "connect.meta.data" | "allow.optional.map.keys" => {
                out.ignored.push(format!(
                    "{k} = {value}: Avro records are written with their own writer schema; this changes nothing here"
                ))
            }
            _ => return false,
        }
        true
    }
}
