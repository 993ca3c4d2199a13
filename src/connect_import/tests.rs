use super::*;

/// An MSK Connect CreateConnector request for the Confluent S3 sink, as the AWS CLI takes it.
const MSK_CONNECTOR: &str = r#"{
  "connectorName": "stock-s3-sink",
  "kafkaConnectVersion": "2.7.1",
  "capacity": {"provisionedCapacity": {"mcuCount": 1, "workerCount": 1}},
  "connectorConfiguration": {
    "connector.class": "io.confluent.connect.s3.S3SinkConnector",
    "tasks.max": "2",
    "topics": "stock-market-data",
    "s3.region": "us-east-1",
    "s3.bucket.name": "kafka-msk-snowflake-bucket",
    "flush.size": "100",
    "rotate.interval.ms": "60000",
    "storage.class": "io.confluent.connect.s3.storage.S3Storage",
    "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
    "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false",
    "schema.compatibility": "NONE",
    "errors.tolerance": "all",
    "errors.deadletterqueue.topic.name": "stock-market-data-dlq"
  },
  "kafkaCluster": {"apacheKafkaCluster": {
    "bootstrapServers": "b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com:9098,b-2.demo.abc123.c2.kafka.us-east-1.amazonaws.com:9098",
    "vpc": {"securityGroups": ["sg-1"], "subnets": ["subnet-1"]}}},
  "kafkaClusterClientAuthentication": {"authenticationType": "IAM"},
  "kafkaClusterEncryptionInTransit": {"encryptionType": "TLS"},
  "plugins": [{"customPlugin": {"customPluginArn": "arn:aws:kafkaconnect:us-east-1:123456789012:custom-plugin/confluent-s3/1", "revision": 1}}],
  "serviceExecutionRoleArn": "arn:aws:iam::123456789012:role/msk-connect"
}"#;

fn imported(path: &str, text: &str) -> (Imported, crate::config::Config) {
    let out = convert(&read(path, text).expect("reads"));
    let config = crate::config::parse_str(&out.toml).unwrap_or_else(|p| panic!("{p:?}\n{}", out.toml));
    (out, config)
}

#[test]
fn an_msk_connect_request_becomes_an_equivalent_valid_configuration() {
    let (out, c) = imported("connector.json", MSK_CONNECTOR);
    assert!(out.unsupported.is_empty(), "{:?}", out.unsupported);
    assert_eq!(c.sink.topics, "stock-market-data");
    assert_eq!((c.sink.flush_size, c.sink.rotate_interval_ms), (100, 60_000));
    assert_eq!(c.sink.bucket, "kafka-msk-snowflake-bucket");
    assert_eq!(c.sink.value_converter, crate::config::ValueConverter::Json);
    assert_eq!(c.sink.dlq_topic.as_deref(), Some("stock-market-data-dlq"));
    assert_eq!(c.kafka.mode, crate::config::KafkaMode::MskIam);
    assert_eq!(c.kafka.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        c.kafka.consumer_group, "connect-stock-s3-sink",
        "Connect's own group: resume where it committed"
    );
    assert!(!c.producer.enabled);
    assert_eq!(c.s3.mode, crate::config::S3Mode::Aws);
    assert_eq!(c.s3.region, "us-east-1");
    let problems = crate::config::validate(&c);
    assert!(problems.is_empty(), "{problems:?}\n{}", out.toml);
    assert!(out.ignored.iter().any(|i| i.starts_with("tasks.max")));
}

#[test]
fn a_properties_file_with_what_cannot_be_honoured_names_each_setting() {
    let props = "\
# the connector's worker file
name=trades-s3
connector.class=io.confluent.connect.s3.S3SinkConnector
topics=finnhub-trades, csv-replay
format.class=io.confluent.connect.s3.format.parquet.ParquetFormat
partitioner.class=io.confluent.connect.storage.partitioner.TimeBasedPartitioner
path.format='year'=YYYY/'month'=MM
partition.duration.ms=3600000
locale=en-US
timezone=UTC
rotate.schedule.interval.ms=600000
transforms=unwrap
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
parquet.codec=zstd
s3.compression.type=gzip
store.url=http://127.0.0.1:9000
s3.bucket.name=trades
flush.size=1000
";
    let out = convert(&read("s3-sink.properties", props).unwrap());
    let joined = out.unsupported.join("\n");
    assert!(joined.contains("transforms = \"unwrap\""), "named: {joined}");
    for honoured in [
        "rotate.schedule.interval.ms",
        "partitioner.class",
        "path.format",
        "partition.duration.ms",
        "locale",
        "timezone",
    ] {
        assert!(!joined.contains(honoured), "{honoured} is honoured: {joined}");
    }
    assert!(!joined.contains("format.class"), "Parquet is honoured: {joined}");
    assert!(
        out.ignored.iter().any(|i| i.starts_with("s3.compression.type")),
        "Connect ignores it for Parquet: {:?}",
        out.ignored
    );
    let c = crate::config::parse_str(&out.toml).expect("still valid TOML");
    assert_eq!(c.sink.format_class, crate::config::FormatClass::Parquet);
    assert_eq!(c.sink.parquet_codec, crate::config::ParquetCodec::Zstd);
    assert_eq!(c.sink.compression, crate::config::Compression::None);
    assert_eq!(c.sink.topic_list(), vec!["finnhub-trades", "csv-replay"]);
    assert_eq!(c.s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(c.kafka.consumer_group, "connect-trades-s3");
    use crate::config::{PartitionerClass, TimestampExtractor};
    assert_eq!(c.sink.partitioner_class, PartitionerClass::Time);
    assert_eq!(
        c.sink.path_format.as_ref().map(|p| p.as_str()),
        Some("'year'=YYYY/'month'=MM")
    );
    assert_eq!(c.sink.partition_duration_ms, Some(3_600_000));
    assert_eq!(
        c.sink.timestamp_extractor,
        TimestampExtractor::Wallclock,
        "Connect's default extractor, kept"
    );
}

#[test]
fn a_field_partitioner_by_symbol_imports_clean() {
    let props = "name=f\nconnector.class=io.confluent.connect.s3.S3SinkConnector\ntopics=t\n\
                 partitioner.class=io.confluent.connect.storage.partitioner.FieldPartitioner\n\
                 partition.field.name=symbol\ns3.bucket.name=lake\nflush.size=10\n";
    let out = convert(&read("f.properties", props).unwrap());
    assert!(out.unsupported.is_empty(), "{:?}", out.unsupported);
    let c = crate::config::parse_str(&out.toml).expect("valid TOML");
    assert_eq!(c.sink.partitioner_class, crate::config::PartitionerClass::Field);
    assert_eq!(c.sink.partition_field_name, Some("symbol".into()));
    assert!(crate::config::validate(&c).is_empty(), "{}", out.toml);
    let hourly = "name=h\nconnector.class=io.confluent.connect.s3.S3SinkConnector\ntopics=t\n\
                  partitioner.class=io.confluent.connect.storage.partitioner.HourlyPartitioner\n\
                  timestamp.extractor=RecordField\ntimestamp.field=ts\nlocale=en\ntimezone=UTC\n";
    let c = crate::config::parse_str(&convert(&read("h.properties", hourly).unwrap()).toml).unwrap();
    assert_eq!(
        (
            c.sink.partitioner_class,
            c.sink.timestamp_extractor,
            c.sink.timestamp_field.as_deref()
        ),
        (
            crate::config::PartitionerClass::Hourly,
            crate::config::TimestampExtractor::RecordField,
            Some("ts")
        )
    );
}

#[test]
fn a_json_connector_with_gzip_imports_clean() {
    let props = "name=g\nconnector.class=io.confluent.connect.s3.S3SinkConnector\ntopics=t\n\
                 format.class=io.confluent.connect.s3.format.json.JsonFormat\ns3.compression.type=gzip\n\
                 s3.compression.level=9\ns3.bucket.name=my-lake\nflush.size=10\n";
    let out = convert(&read("g.properties", props).unwrap());
    assert!(out.unsupported.is_empty(), "{:?}", out.unsupported);
    let c = crate::config::parse_str(&out.toml).expect("valid TOML");
    assert_eq!(
        (c.sink.compression, c.sink.compression_level),
        (crate::config::Compression::Gzip, 9)
    );
    let problems = crate::config::validate(&c);
    assert!(problems.is_empty(), "{problems:?}\n{}", out.toml);
}

#[test]
fn properties_continuations_comments_and_separators_are_read() {
    let p = properties("! comment\na = 1\nb: two\nc=x\\\n  y\n\n# d=4\n");
    assert_eq!(p.get("a").map(String::as_str), Some("1"));
    assert_eq!(p.get("b").map(String::as_str), Some("two"));
    assert_eq!(p.get("c").map(String::as_str), Some("xy"));
    assert!(!p.contains_key("d"));
}

#[test]
fn another_connector_or_an_unknown_setting_is_refused() {
    let out = convert(
        &read(
            "x.json",
            r#"{"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "frobnicate": "1"}"#,
        )
        .unwrap(),
    );
    assert_eq!(out.unsupported.len(), 2, "{:?}", out.unsupported);
    assert!(read("x.json", "{not json")
        .unwrap_err()
        .to_string()
        .starts_with("x.json: not JSON"));
}

#[test]
fn an_avro_connector_through_schema_registry_imports_clean_without_its_secret() {
    let props = "name=trades-avro\nconnector.class=io.confluent.connect.s3.S3SinkConnector\ntopics=trades\n\
                 format.class=io.confluent.connect.s3.format.avro.AvroFormat\navro.codec=snappy\n\
                 value.converter=io.confluent.connect.avro.AvroConverter\n\
                 value.converter.schema.registry.url=https://sr-1.example:8081,https://sr-2.example:8081\n\
                 value.converter.basic.auth.credentials.source=USER_INFO\n\
                 value.converter.basic.auth.user.info=sink:hunter2\n\
                 value.converter.schema.registry.ssl.truststore.location=/etc/kafka/truststore.jks\n\
                 value.converter.auto.register.schemas=false\n\
                 schema.compatibility=BACKWARD\ns3.compression.type=gzip\ns3.bucket.name=lake\nflush.size=1000\n";
    let out = convert(&read("avro.properties", props).unwrap());
    assert!(
        !out.toml.contains("hunter2"),
        "the secret stays out of the file:\n{}",
        out.toml
    );
    assert!(out
        .ignored
        .iter()
        .any(|i| i.contains("TICKSTREAM_SCHEMA_REGISTRY_USER_INFO")));
    assert_eq!(out.unsupported.len(), 1, "{:?}", out.unsupported);
    assert!(
        out.unsupported[0].contains("keytool -exportcert"),
        "{:?}",
        out.unsupported
    );
    let c = crate::config::parse_str(&out.toml).expect("valid TOML");
    assert_eq!(c.sink.value_converter, crate::config::ValueConverter::Avro);
    assert_eq!(c.sink.format_class, crate::config::FormatClass::Avro);
    assert_eq!(c.sink.avro_codec, crate::config::AvroCodec::Snappy);
    assert_eq!(
        c.sink.compression,
        crate::config::Compression::None,
        "Connect ignores it for Avro"
    );
    assert_eq!(
        c.sink.schema_compatibility,
        crate::record::avro::compat::Compatibility::Backward
    );
    let urls: Vec<&str> = c
        .sink
        .registry_url
        .iter()
        .flat_map(|u| &u.0)
        .map(|u| u.base.as_str())
        .collect();
    assert_eq!(urls, ["https://sr-1.example:8081", "https://sr-2.example:8081"]);
    assert!(crate::config::validate(&c).is_empty(), "{}", out.toml);
}

/// The production connector of "a production connector config runs as is" (issue 28).
const PRODUCTION: &str = r#"{"connector.class": "io.confluent.connect.s3.S3SinkConnector", "tasks.max": "2",
 "topics": "stock-market-data", "s3.region": "us-east-1", "s3.bucket.name": "kafka-msk-snowflake-bucket",
 "flush.size": "100", "rotate.interval.ms": "60000",
 "storage.class": "io.confluent.connect.s3.storage.S3Storage",
 "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
 "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
 "key.converter": "org.apache.kafka.connect.storage.StringConverter",
 "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
 "schema.compatibility": "NONE", "s3.ssea.name": "aws:kms",
 "s3.sse.kms.key.id": "arn:aws:kms:us-east-1:111122223333:key/abcd", "s3.part.size": "5242880",
 "s3.acl.canned": "bucket-owner-full-control", "store.kafka.keys": "true",
 "keys.format.class": "io.confluent.connect.s3.format.json.JsonFormat",
 "behavior.on.null.values": "ignore", "errors.tolerance": "all", "errors.log.enable": "true"}"#;

#[test]
fn a_production_connector_imports_with_nothing_refused_and_behaves_the_same() {
    let (out, c) = imported("connector.json", PRODUCTION);
    assert!(out.unsupported.is_empty(), "{:?}", out.unsupported);
    assert_eq!(c.sink.sse, crate::config::ServerSideEncryption::Kms);
    assert_eq!(
        c.sink.sse_kms_key_id.as_deref(),
        Some("arn:aws:kms:us-east-1:111122223333:key/abcd")
    );
    assert_eq!(
        c.sink.acl_canned.as_ref().map(|a| a.0.as_str()),
        Some("bucket-owner-full-control")
    );
    assert!(c.sink.store_keys && !c.sink.store_headers);
    assert_eq!(c.sink.key_converter, crate::config::KeyConverter::String);
    assert_eq!(c.sink.null_values, crate::config::NullValues::Ignore);
    assert!(crate::config::validate(&c).is_empty(), "{}", out.toml);
    // Connect writes Avro keys files when keys.format.class is not set: tickstream says so.
    let unset = PRODUCTION.replace(
        r#""keys.format.class": "io.confluent.connect.s3.format.json.JsonFormat","#,
        "",
    );
    let out = convert(&read("connector.json", &unset).expect("reads"));
    assert_eq!(out.unsupported.len(), 1, "{:?}", out.unsupported);
    assert!(out.unsupported[0]
        .starts_with("keys.format.class (not set): with store.kafka.keys = true Connect writes AvroFormat"));
}

#[test]
fn no_secret_and_no_value_of_an_unknown_key_is_shown() {
    let json = r#"{"connector.class": "io.confluent.connect.s3.S3SinkConnector", "topics": "t",
      "s3.sse.customer.key": "c2VjcmV0LWtleQ==", "s3.proxy.password": "pr0xy-pass",
      "value.converter.basic.auth.user.info": "bob:b0b-pass", "key.converter.basic.auth.user.info": "al:al-pass",
      "value.converter.schema.registry.ssl.truststore.password": "trust-pass",
      "consumer.override.sasl.jaas.config": "password=jaas-pass", "my.vault.password": "vault-pass"}"#;
    let out = convert(&read("connector.json", json).expect("reads"));
    let shown = format!("{}{:?}{:?}", out.toml, out.ignored, out.unsupported);
    for secret in [
        "c2VjcmV0LWtleQ",
        "pr0xy-pass",
        "b0b-pass",
        "al-pass",
        "trust-pass",
        "jaas-pass",
        "vault-pass",
    ] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
    }
    assert!(out
        .unsupported
        .iter()
        .any(|u| u.starts_with("my.vault.password: not a setting")));
}
