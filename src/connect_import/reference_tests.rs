//! Every key of the Confluent S3 sink's configuration reference (its own, storage-common's,
//! the partitioner's, and Kafka Connect's that a sink connector takes) is honoured, ignored with
//! a reason, or refused with a reason: never "not known". `docs/connect-keys.md` is that table,
//! rendered from the import itself; run with `TICKSTREAM_BLESS=1` to write it after a change:
//!
//! ```sh
//! TICKSTREAM_BLESS=1 cargo test --lib connect_import::reference
//! ```

use super::*;

/// Each key with a value a production connector might hold (not always the default).
const KEYS: &[(&str, &str)] = &[
    // Kafka Connect
    ("name", "stock-s3-sink"),
    ("connector.class", "io.confluent.connect.s3.S3SinkConnector"),
    ("tasks.max", "2"),
    ("topics", "stock-market-data"),
    ("topics.regex", "stock-.*"),
    ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
    ("key.converter.schemas.enable", "false"),
    ("value.converter", "io.confluent.connect.avro.AvroConverter"),
    ("value.converter.schemas.enable", "false"),
    ("value.converter.schema.registry.url", "https://registry:8081"),
    ("value.converter.basic.auth.credentials.source", "USER_INFO"),
    ("value.converter.basic.auth.user.info", "user:secret"),
    (
        "value.converter.value.subject.name.strategy",
        "io.confluent.kafka.serializers.subject.TopicNameStrategy",
    ),
    (
        "value.converter.schema.registry.ssl.truststore.location",
        "/etc/ssl/registry.jks",
    ),
    ("value.converter.schema.registry.ssl.truststore.password", "secret"),
    (
        "header.converter",
        "org.apache.kafka.connect.storage.SimpleHeaderConverter",
    ),
    ("config.action.reload", "restart"),
    ("transforms", ""),
    ("predicates", ""),
    ("errors.retry.timeout", "0"),
    ("errors.retry.delay.max.ms", "60000"),
    ("errors.tolerance", "all"),
    ("errors.log.enable", "true"),
    ("errors.log.include.messages", "false"),
    ("errors.deadletterqueue.topic.name", "stock-market-data-dlq"),
    ("errors.deadletterqueue.topic.replication.factor", "3"),
    ("errors.deadletterqueue.context.headers.enable", "true"),
    ("consumer.override.auto.offset.reset", "earliest"),
    // The S3 sink's own
    ("s3.bucket.name", "kafka-msk-snowflake-bucket"),
    ("s3.region", "us-east-1"),
    ("s3.part.size", "5242880"),
    ("s3.wan.mode", "false"),
    ("s3.ssea.name", "aws:kms"),
    ("s3.sse.kms.key.id", "arn:aws:kms:us-east-1:111122223333:key/abcd"),
    ("s3.sse.customer.key", "c2VjcmV0"),
    ("s3.acl.canned", "bucket-owner-full-control"),
    ("s3.object.tagging", "true"),
    ("s3.object.tagging.key.value.pairs", "team:market-data"),
    ("s3.object.behavior.on.tagging.error", "ignore"),
    (
        "s3.credentials.provider.class",
        "com.amazonaws.auth.DefaultAWSCredentialsProviderChain",
    ),
    ("aws.access.key.id", "AKIA..."),
    ("aws.secret.access.key", "secret"),
    ("s3.compression.type", "gzip"),
    ("s3.compression.level", "6"),
    ("s3.send.digest", "false"),
    ("s3.part.retries", "3"),
    ("s3.retry.backoff.ms", "200"),
    ("s3.proxy.url", "http://proxy:3128"),
    ("s3.proxy.user", "proxy"),
    ("s3.proxy.password", "secret"),
    ("s3.http.send.expect.continue", "true"),
    ("s3.path.style.access.enabled", "true"),
    ("s3.schema.partition.affix.type", "NONE"),
    ("format.bytearray.extension", ".bin"),
    ("format.bytearray.separator", ";"),
    ("behavior.on.null.values", "ignore"),
    ("json.decimal.format", "NUMERIC"),
    ("store.kafka.keys", "false"),
    ("store.kafka.headers", "false"),
    ("keys.format.class", "io.confluent.connect.s3.format.json.JsonFormat"),
    ("headers.format.class", "io.confluent.connect.s3.format.json.JsonFormat"),
    ("enable.conditional.writes", "true"),
    ("max.files.scan.limit", "1000"),
    ("partitioner.max.open.files", "100"),
    // storage-common
    ("storage.class", "io.confluent.connect.s3.storage.S3Storage"),
    ("store.url", "https://s3.example.com"),
    ("topics.dir", "topics"),
    ("directory.delim", "/"),
    ("file.delim", "+"),
    ("flush.size", "100"),
    ("rotate.interval.ms", "60000"),
    ("rotate.schedule.interval.ms", "3600000"),
    ("schema.compatibility", "NONE"),
    ("format.class", "io.confluent.connect.s3.format.json.JsonFormat"),
    ("retry.backoff.ms", "5000"),
    ("shutdown.timeout.ms", "3000"),
    ("filename.offset.zero.pad.width", "10"),
    ("avro.codec", "snappy"),
    ("parquet.codec", "snappy"),
    ("enhanced.avro.schema.support", "true"),
    ("connect.meta.data", "true"),
    ("allow.optional.map.keys", "false"),
    ("hive.integration", "false"),
    ("hive.metastore.uris", "thrift://hive:9083"),
    ("hive.database", "default"),
    // the partitioner
    (
        "partitioner.class",
        "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
    ),
    ("partition.field.name", "symbol"),
    ("path.format", "'year'=YYYY/'month'=MM/'day'=dd"),
    ("partition.duration.ms", "86400000"),
    ("locale", "en-US"),
    ("timezone", "UTC"),
    ("timestamp.extractor", "Record"),
    ("timestamp.field", "timestamp"),
];

const DOC: &str = "docs/connect-keys.md";

/// What the import makes of `key = value` alone: its outcome and why.
fn outcome(key: &str, value: &str) -> (&'static str, String) {
    let mut settings = std::collections::BTreeMap::new();
    settings.insert(
        "connector.class".to_owned(),
        "io.confluent.connect.s3.S3SinkConnector".to_owned(),
    );
    settings.insert(key.to_owned(), value.to_owned());
    let out = convert(&Source {
        settings,
        ..Source::default()
    });
    let mentions = |lines: &[String]| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{key} ")) || l.starts_with(&format!("{key}:")))
            .cloned()
    };
    if let Some(why) = mentions(&out.unsupported) {
        return ("refused", why);
    }
    if let Some(why) = mentions(&out.ignored) {
        return ("ignored", why);
    }
    let mapped = out
        .toml
        .lines()
        .skip_while(|l| !l.contains(&format!("Connect's {key}")))
        .nth(1)
        .map(str::to_owned);
    match mapped {
        Some(line) => ("honoured", format!("`{line}`")),
        None if key == "connector.class" || key == "name" => (
            "honoured",
            "the connector; `name` gives the consumer group `connect-<name>`".into(),
        ),
        None => ("honoured", "Connect's default is tickstream's: nothing to write".into()),
    }
}

fn render() -> String {
    let mut doc = String::from(
        "# Confluent S3 sink keys in tickstream\n\n\
         What `tickstream connect import` does with each key of the Confluent S3 sink's configuration \
         (its own keys, storage-common's, the partitioner's, and Kafka Connect's): **honoured** (the \
         TOML line it writes, under the same name where tickstream has the concept), **ignored** (it \
         changes nothing here, and why) or **refused** (tickstream cannot do what it asks: the import \
         exits 1 rather than write a configuration that behaves differently). A key not in this table \
         is refused without its value being shown (it may be a password).\n\n\
         Generated from the import itself by `src/connect_import/reference_tests.rs`, for the example \
         value shown; some keys' outcome depends on the value (a refused `transforms` is ignored when \
         empty).\n\n| key | example | outcome | what tickstream does |\n|---|---|---|---|\n",
    );
    for (key, value) in KEYS {
        let (what, why) = outcome(key, value);
        // "key = value: why" or "key: why": the table has its own key and value columns.
        let why = match why.strip_prefix(key).and_then(|rest| rest.split_once(": ")) {
            Some((_, reason)) => reason.to_owned(),
            None => why,
        };
        let why = why.replace('|', "\\|").replace('\n', " ");
        let value = match value.replace('\n', "\\n") {
            v if v.is_empty() => "\"\"".to_owned(),
            v => v,
        };
        doc.push_str(&format!("| `{key}` | `{value}` | {what} | {why} |\n"));
    }
    doc
}

#[test]
fn every_key_of_the_confluent_reference_is_honoured_ignored_or_refused_with_a_reason() {
    for (key, value) in KEYS {
        let (_, why) = outcome(key, value);
        assert!(!why.contains("not a setting"), "{key}: {why}");
    }
}

#[test]
fn the_keys_table_in_docs_is_the_imports_own() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let doc = render();
    if std::env::var_os("TICKSTREAM_BLESS").is_some() {
        std::fs::write(&path, &doc).expect("write the table");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == doc,
        "{DOC} is stale: run TICKSTREAM_BLESS=1 cargo test --lib connect_import::reference"
    );
}
