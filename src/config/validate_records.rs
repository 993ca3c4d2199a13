//! Checks of how records are read and where they land: the sink's topics, converter, schema and
//! dead letters, and the warehouse's tables and columns.

use std::collections::HashSet;

use super::validate::{sql_identifier, topic_name, Problems};
use super::{Config, Problem, SinkConfig, ValueConverter, ValueSchema, WarehouseKind};

/// Columns every record table has; a typed column may not take one of these names.
const RESERVED_COLUMNS: [&str; 7] = [
    "RECORD_CONTENT",
    "RECORD_METADATA",
    "topic",
    "partition",
    "offset",
    "s3_key",
    "loaded_at",
];

/// The largest `max.record.bytes` (a broker's message limit is far below it).
const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// Every problem in the record settings of `c`, each naming its key.
pub fn validate_records(c: &Config) -> Vec<Problem> {
    let mut p = Problems::default();
    topics(&c.sink, &mut p);
    values(&c.sink, &mut p);
    files(c, &mut p);
    tables(c, &mut p);
    p.0
}

/// `topics`, `topics.regex` and the dead-letter topic.
fn topics(s: &SinkConfig, p: &mut Problems) {
    match &s.topics_regex {
        Some(_) => p.check(
            s.topics == super::sink::default_topic(),
            "sink.topics.regex",
            format!("set either topics or topics.regex, not both (topics is {:?})", s.topics),
        ),
        None => {
            let list = s.topic_list();
            p.check(
                !list.is_empty(),
                "sink.topics",
                "must name at least one topic (comma-separated), or use sink.topics.regex".into(),
            );
            let mut seen = HashSet::new();
            for t in &list {
                if let Err(e) = topic_name(t) {
                    p.check(false, "sink.topics", e);
                }
                p.check(seen.insert(t), "sink.topics", format!("{t} is listed twice"));
            }
        }
    }
    if let Some(dlq) = &s.dlq_topic {
        if let Err(e) = topic_name(dlq) {
            p.check(false, "sink.errors.deadletterqueue.topic.name", e);
        }
        p.check(
            !s.topic_list().contains(dlq),
            "sink.errors.deadletterqueue.topic.name",
            format!("{dlq} is one of the sink's topics: its dead letters would be sunk again"),
        );
    }
}

/// How values are read: the schema, their size, the compression level.
fn values(s: &SinkConfig, p: &mut Problems) {
    super::validate_schemas::schemas(s, p);
    match &s.value_schema {
        ValueSchema::None => {}
        _ if s.value_converter != ValueConverter::Json => p.check(
            false,
            "sink.value.schema",
            format!(
                "checks JSON values: it needs value.converter = \"json\", got {:?}",
                s.value_converter
            ),
        ),
        ValueSchema::Tick | ValueSchema::Json(_) => {}
    }
    p.check(
        (1..=MAX_RECORD_BYTES).contains(&s.max_record_bytes),
        "sink.max.record.bytes",
        format!("must be between 1 and {MAX_RECORD_BYTES}, got {}", s.max_record_bytes),
    );
    let (top, codec) = match s.compression {
        super::Compression::Zstd => (22, "zstd"),
        _ => (9, "gzip"),
    };
    p.check(
        s.compression_level == -1 || (1..=top).contains(&s.compression_level),
        "sink.s3.compression.level",
        format!(
            "must be -1 (the codec's default) or 1 to {top} for {codec}, got {}",
            s.compression_level
        ),
    );
}

/// The file format, the partitioner and the separator raw values need.
fn files(c: &Config, p: &mut Problems) {
    let (s, w) = (&c.sink, &c.warehouse);
    formats(c, p);
    if let Err(problem) = c.sink.partitioner() {
        p.check(false, &problem.key, problem.message);
    }
    p.check(
        !(s.value_converter == ValueConverter::Bytes
            && s.bytearray_separator.is_empty()
            && w.enabled
            && w.kind == WarehouseKind::Sqlite),
        "sink.format.bytearray.separator",
        "must not be empty while the warehouse loads the files: it splits them into records there".into(),
    );
}

/// The warehouse's tables and typed columns.
fn tables(c: &Config, p: &mut Problems) {
    let (s, w) = (&c.sink, &c.warehouse);
    for (topic, table) in &w.tables {
        p.check(
            sql_identifier(table),
            &format!("warehouse.tables.{topic}"),
            format!("must be an SQL identifier (a letter or _, then letters, digits, _), got {table:?}"),
        );
    }
    // SQLite takes any table name a topic maps to (quoted); Snowflake's DDL names it bare.
    let first = s.topic_list().into_iter().next();
    for topic in s
        .topic_list()
        .into_iter()
        .filter(|_| w.kind == WarehouseKind::Snowflake)
    {
        let table = w.table_for(&topic, first.as_deref());
        p.check(
            sql_identifier(&table),
            "warehouse.tables",
            format!("topic {topic}'s table would be {table:?}, not an SQL identifier: map it in warehouse.tables"),
        );
    }
    let lists = std::iter::once(("warehouse.columns".to_owned(), &w.columns)).chain(
        w.topic_columns
            .iter()
            .map(|(t, cols)| (format!("warehouse.topic_columns.{t}"), cols)),
    );
    for (key, cols) in lists {
        let mut names = HashSet::new();
        for (i, col) in cols.iter().enumerate() {
            let at = format!("{key}[{i}].name");
            p.check(
                sql_identifier(&col.name),
                &at,
                format!("must be an SQL identifier, got {:?}", col.name),
            );
            p.check(
                !RESERVED_COLUMNS.iter().any(|r| r.eq_ignore_ascii_case(&col.name)),
                &at,
                format!("{} is a column every record table has already", col.name),
            );
            p.check(
                names.insert(col.name.to_ascii_lowercase()),
                &at,
                format!("{} is declared twice", col.name),
            );
        }
    }
}

/// `format.class` against the converter, and a Parquet file's columns.
fn formats(c: &Config, p: &mut Problems) {
    use super::{FormatClass, RecordContent};
    let s = &c.sink;
    let (format, converter) = (s.format_class, s.value_converter);
    p.check(
        !(format == FormatClass::ByteArray && converter != ValueConverter::Bytes),
        "sink.format.class",
        format!("bytearray writes raw values: it needs value.converter = \"bytes\", got {converter:?}"),
    );
    p.check(
        !(format == FormatClass::Parquet && converter == ValueConverter::Bytes),
        "sink.format.class",
        "parquet writes typed columns of JSON records: value.converter = \"bytes\" has none".into(),
    );
    p.check(
        !(format == FormatClass::Parquet && s.compression != super::Compression::None),
        "sink.s3.compression.type",
        "applies to json and bytearray files; a Parquet file is compressed by parquet.codec".into(),
    );
    let schemas = converter == ValueConverter::Avro || s.schemas_enable;
    p.check(
        format != FormatClass::Avro || schemas,
        "sink.format.class",
        "avro writes each record's writer schema: it needs value.converter = \"avro\" or \
         value.converter.schemas.enable = true"
            .into(),
    );
    p.check(
        !(format == FormatClass::Avro && s.compression != super::Compression::None),
        "sink.s3.compression.type",
        "applies to json and bytearray files; an Avro file's blocks are compressed by avro.codec".into(),
    );
    p.check(
        !(schemas
            && matches!(format, FormatClass::Avro | FormatClass::Parquet)
            && s.null_values == super::NullValues::Write),
        "sink.behavior.on.null.values",
        "write has no value to put in a file of a schema's columns (avro, parquet of records with schemas): \
         use ignore or fail"
            .into(),
    );
    p.check(
        !(schemas && format == FormatClass::Parquet && s.parquet_record_content != RecordContent::Auto),
        "sink.parquet.record.content",
        "applies to Parquet files of JSON records' typed columns; records with a schema take their schema's columns"
            .into(),
    );
    if schemas {
        return;
    }
    if format != FormatClass::Parquet || s.parquet_record_content != RecordContent::Never {
        return;
    }
    let w = &c.warehouse;
    let lists = std::iter::once(("warehouse.columns".to_owned(), &w.columns)).chain(
        w.topic_columns
            .iter()
            .map(|(t, cols)| (format!("warehouse.topic_columns.{t}"), cols)),
    );
    for (key, cols) in lists {
        p.check(
            !cols.is_empty(),
            "sink.parquet.record.content",
            format!("is never, but {key} declares no typed columns: its Parquet files would have no column"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate::tests::problems_text as problems;

    #[test]
    fn a_list_of_topics_a_pattern_and_a_dead_letter_topic_are_checked() {
        assert_eq!(problems("[sink]\ntopics = \"a, b.c\"\n"), "");
        assert!(problems("[sink]\ntopics = \"a,a\"\n").contains("a is listed twice"));
        assert!(problems("[sink]\ntopics = \"a b\"\n").contains("sink.topics"));
        assert!(problems("[sink]\n\"topics.regex\" = \"trades-(\"\n").contains("is not a pattern"));
        let both = problems("[sink]\ntopics = \"a\"\n\"topics.regex\" = \"t.*\"\n");
        assert!(both.contains("not both"), "{both}");
        let dlq = problems("[sink]\ntopics = \"a\"\n\"errors.deadletterqueue.topic.name\" = \"a\"\n");
        assert!(dlq.contains("sunk again"), "{dlq}");
    }

    #[test]
    fn a_schema_needs_json_and_a_file_that_is_a_schema() {
        let bytes = problems("[sink]\n\"value.converter\" = \"bytes\"\n\"value.schema\" = \"tick\"\n");
        assert!(bytes.contains("needs value.converter = \"json\""), "{bytes}");
        let missing = problems("[sink]\n\"value.schema\" = \"/nonexistent/trade.json\"\n");
        assert!(
            missing.contains("sink.value.schema") && missing.contains("/nonexistent/trade.json"),
            "{missing}"
        );
        let class = problems("[sink]\n\"value.converter\" = \"org.apache.kafka.connect.storage.StringConverter\"\n");
        assert_eq!(class, "", "Connect's class names are accepted");
        let bad = problems("[sink]\n\"value.converter\" = \"protobuf\"\n");
        assert!(bad.contains("not a converter"), "{bad}");
    }

    #[test]
    fn columns_must_be_identifiers_not_reserved_and_declared_once() {
        let toml = "[[warehouse.columns]]\nname = \"offset\"\ntype = \"INTEGER\"\n[[warehouse.columns]]\nname = \"p rice\"\ntype = \"REAL\"\n";
        let out = problems(toml);
        assert!(
            out.contains("warehouse.columns[0].name") && out.contains("already"),
            "{out}"
        );
        assert!(out.contains("warehouse.columns[1].name"), "{out}");
        let typ = problems("[[warehouse.columns]]\nname = \"x\"\ntype = \"BLOB\"\n");
        assert!(typ.contains("not a column type"), "{typ}");
        let sqlite = problems("[sink]\ntopics = \"stock-market-data,9lives\"\n");
        assert_eq!(sqlite, "", "SQLite takes the quoted table 9LIVES");
        let snowflake = problems(
            "[sink]\ntopics = \"stock-market-data,9lives\"\n[warehouse]\nkind = \"snowflake\"\n[warehouse.snowflake]\naccount = \"a\"\nuser = \"u\"\nprivate_key_path = \"/k\"\n",
        );
        assert!(
            snowflake.contains("9LIVES"),
            "Snowflake's DDL names it bare: {snowflake}"
        );
    }

    #[test]
    fn formats_must_fit_the_converter_and_parquet_needs_columns() {
        let ok = problems("[sink]\n\"format.class\" = \"io.confluent.connect.s3.format.parquet.ParquetFormat\"\n\"parquet.codec\" = \"zstd\"\n");
        assert_eq!(ok, "", "Confluent's class name is accepted");
        let raw = problems("[sink]\n\"format.class\" = \"bytearray\"\n");
        assert!(
            raw.contains("sink.format.class") && raw.contains("value.converter"),
            "{raw}"
        );
        let gz = problems("[sink]\n\"format.class\" = \"parquet\"\n\"s3.compression.type\" = \"gzip\"\n");
        assert!(
            gz.contains("sink.s3.compression.type") && gz.contains("parquet.codec"),
            "{gz}"
        );
        let bytes = problems("[sink]\n\"format.class\" = \"parquet\"\n\"value.converter\" = \"bytes\"\n");
        assert!(bytes.contains("sink.format.class"), "{bytes}");
        let none = problems(
            "[sink]\n\"format.class\" = \"parquet\"\n\"parquet.record.content\" = \"never\"\n[warehouse]\ncolumns = []\n",
        );
        assert!(
            none.contains("sink.parquet.record.content") && none.contains("warehouse.columns"),
            "{none}"
        );
        let codec = problems("[sink]\n\"parquet.codec\" = \"lzo\"\n");
        assert!(codec.contains("parquet.codec"), "{codec}");
        let class = problems("[sink]\n\"format.class\" = \"orc\"\n");
        assert!(class.contains("json, parquet, bytearray or avro"), "{class}");
    }
}
