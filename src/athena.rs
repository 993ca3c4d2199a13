//! `tickstream athena ddl`: the Glue/Athena `CREATE EXTERNAL TABLE` that queries a topic's
//! files where they are (seeds 002 and 004 query S3 with Glue and Athena).
//!
//! One table per topic over `s3://<bucket>/<topics.dir>/<topic>/`: the typed columns the
//! warehouse declares (`warehouse.columns` or `topic_columns`), read by the OpenX JSON SerDe,
//! case-insensitively and through `mapping.<column>` when a column has a `source` field (as the
//! SQLite warehouse and Snowpipe read them), and the Kafka partition as a partition column found
//! by partition projection, so no `MSCK REPAIR` or crawler is needed. Gzip files are read by
//! their `.gz` extension. A `TIMESTAMP` column is declared `string`: records may carry RFC 3339
//! with or without a zone or epoch numbers, which no one SerDe format parses; query it with
//! `from_iso8601_timestamp(…)` (tickstream's own ticks) or `from_unixtime(… / 1000)`.
//!
//! Under `format.class = "parquet"` the table is `STORED AS PARQUET`: the file's columns by name
//! with their Parquet types (a `TIMESTAMP` column is a `timestamp`), plus `record_content` when the
//! files keep each record's text.
//!
//! The partition columns follow `partitioner.class`: the Kafka partition (`partition=<p>/`), a
//! `p_<field>` column per `field` (injected projection: a query names the values it reads), or
//! one `dt` column of the time directories (date projection, `path.format` as its format).

use crate::config::{ColumnType, Config, FormatClass, ValueConverter};
use crate::warehouse::table::TableLayout;

fn athena_type(kind: ColumnType, parquet: bool) -> &'static str {
    match kind {
        ColumnType::Timestamp if parquet => "timestamp",
        ColumnType::Text | ColumnType::Timestamp => "string",
        ColumnType::Real => "double",
        ColumnType::Integer => "bigint",
        ColumnType::Boolean => "boolean",
    }
}

/// A Glue table name: lower case, `_` for anything but letters and digits.
fn table_name(table: &str) -> String {
    table
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => '_',
        })
        .collect()
}

/// The DDL for every topic of `config` in `database`, or why there is none.
pub fn ddl(config: &Config, database: &str) -> Result<String, String> {
    if config.sink.value_converter == ValueConverter::Bytes {
        return Err("value.converter = \"bytes\" writes raw values, not JSON: no JSON table to declare".into());
    }
    if config.sink.value_converter == ValueConverter::Avro || config.sink.schemas_enable {
        return Err(
            "records with a schema (value.converter = \"avro\", or JSON envelopes) take their columns from their \
             writer schema, which lives in the registry, not in the configuration: let a Glue crawler read the \
             files' schema (Avro and Parquet files carry it)"
                .into(),
        );
    }
    let topics = config.sink.topic_list();
    if config.sink.topics_regex.is_some() || topics.is_empty() {
        return Err("topics.regex names no topics in advance: set topics to the ones to declare".into());
    }
    let mut out = format!(
        "-- tickstream: Athena tables over s3://{}/{}/ (run in the Athena query editor)\n\
         CREATE DATABASE IF NOT EXISTS `{database}`;\n",
        config.sink.bucket, config.sink.topics_dir
    );
    for topic in &topics {
        out.push('\n');
        out.push_str(&table_ddl(config, database, topic));
    }
    Ok(out)
}

fn table_ddl(config: &Config, database: &str, topic: &str) -> String {
    let layout = TableLayout::for_topic(config, topic);
    let location = format!("s3://{}/{}/{topic}/", config.sink.bucket, config.sink.topics_dir);
    let parquet = config.sink.format() == FormatClass::Parquet;
    let mut columns: Vec<String> = layout
        .columns
        .iter()
        .map(|c| format!("  `{}` {}", c.name.to_ascii_lowercase(), athena_type(c.kind, parquet)))
        .collect();
    if parquet {
        let spec = crate::format::parquet::ParquetSpec::new(
            &layout.columns,
            config.sink.parquet_record_content,
            config.sink.parquet_codec,
        );
        if spec.content {
            columns.push(format!(
                "  `{}` string",
                crate::format::parquet::RECORD_CONTENT.to_ascii_lowercase()
            ));
        }
    }
    let (partitioned_by, projection, about) = projection(config, &location);
    if parquet {
        return format!(
            "-- topic {topic}: its Parquet files ({codec}); {about}
CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (
{columns}
)
PARTITIONED BY ({partitioned_by})
STORED AS PARQUET
LOCATION '{location}'
{projection}
",
            codec = config.sink.parquet_codec.extension(),
            table = table_name(&layout.table),
            columns = columns.join(",\n"),
        );
    }
    let mut serde = vec!["  'case.insensitive' = 'TRUE'".to_owned()];
    for c in &layout.columns {
        if let Some(source) = &c.source {
            serde.push(format!("  'mapping.{}' = '{source}'", c.name.to_ascii_lowercase()));
        }
    }
    format!(
        "-- topic {topic}: its files, gzip or not; {about}
CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (
{columns}
)
PARTITIONED BY ({partitioned_by})
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
{serde}
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '{location}'
{projection}
",
        table = table_name(&layout.table),
        columns = columns.join(",\n"),
        serde = serde.join(",\n"),
    )
}

/// The partition columns, the projection that finds their directories (no crawler, no
/// `MSCK REPAIR`), and a line about them, for the configured partitioner.
fn projection(config: &Config, location: &str) -> (String, String, String) {
    let p = crate::partitioner::Partitioner::new(config.sink.partitioner().unwrap_or_default());
    let props = |lines: Vec<String>, template: String| {
        format!(
            "TBLPROPERTIES (\n  'projection.enabled' = 'true',\n{},\n  'storage.location.template' = '{location}{template}/'\n);",
            lines.join(",\n")
        )
    };
    if let Some(fields) = p.fields() {
        // A partition column may not share a data column's name: `p_<field>`.
        let cols: Vec<String> = fields.iter().map(|f| format!("p_{}", f.to_ascii_lowercase())).collect();
        let lines = cols
            .iter()
            .map(|c| format!("  'projection.{c}.type' = 'injected'"))
            .collect();
        let template: Vec<String> = fields.iter().zip(&cols).map(|(f, c)| format!("{f}=${{{c}}}")).collect();
        let by = cols
            .iter()
            .map(|c| format!("`{c}` string"))
            .collect::<Vec<_>>()
            .join(", ");
        let about = format!(
            "its directories ({}) are projected from the values a query names: filter on {}",
            template.join("/"),
            cols.join(", ")
        );
        return (by, props(lines, template.join("/")), about);
    }
    if let Some(t) = p.time_projection() {
        let lines = vec![
            "  'projection.dt.type' = 'date'".to_owned(),
            format!("  'projection.dt.format' = '{}'", t.format.replace('\'', "''")),
            format!("  'projection.dt.range' = '{},NOW'", t.first),
            format!("  'projection.dt.interval' = '{}'", t.interval),
            format!("  'projection.dt.interval.unit' = '{}'", t.unit),
        ];
        let about = "its time directories are projected as `dt` from 2020 to now: filter on dt to read fewer files";
        return ("`dt` string".into(), props(lines, "${dt}".into()), about.into());
    }
    let last = config.kafka.partitions.max(1) - 1;
    let lines = vec![
        "  'projection.kafka_partition.type' = 'integer'".to_owned(),
        format!("  'projection.kafka_partition.range' = '0,{last}'"),
    ];
    let about =
        format!("the Kafka partition is projected (0–{last}: raise the range if the topic has more partitions)");
    (
        "`kafka_partition` int".into(),
        props(lines, "partition=${kafka_partition}".into()),
        about,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Column, ColumnType};

    #[test]
    fn parquet_files_get_a_parquet_table_with_a_real_timestamp() {
        let mut c = Config::default();
        c.sink.format_class = FormatClass::Parquet;
        let ddl = ddl(&c, "kafka_db").unwrap();
        assert!(ddl.contains("STORED AS PARQUET"), "{ddl}");
        assert!(ddl.contains("`timestamp` timestamp"), "{ddl}");
        assert!(ddl.contains("`price` double"), "{ddl}");
        assert!(!ddl.contains("record_content"), "typed columns only: {ddl}");
        assert!(!ddl.contains("JsonSerDe"), "{ddl}");
        assert!(ddl.contains("'projection.kafka_partition.range' = '0,2'"), "{ddl}");
        c.sink.parquet_record_content = crate::config::RecordContent::Always;
        assert!(super::ddl(&c, "kafka_db").unwrap().contains("`record_content` string"));
    }

    #[test]
    fn the_tick_table_has_the_tick_columns_and_projects_the_partition() {
        let ddl = ddl(&Config::default(), "kafka_db").unwrap();
        assert!(ddl.contains("CREATE EXTERNAL TABLE IF NOT EXISTS `kafka_db`.`stock_market_data` ("));
        for col in [
            "`symbol` string",
            "`price` double",
            "`volume` bigint",
            "`timestamp` string",
            "`seq` bigint",
        ] {
            assert!(ddl.contains(col), "{col}: {ddl}");
        }
        assert!(ddl.contains("LOCATION 's3://kafka-msk-snowflake-bucket/topics/stock-market-data/'"));
        assert!(ddl.contains(
            "'storage.location.template' = 's3://kafka-msk-snowflake-bucket/topics/stock-market-data/partition=${kafka_partition}/'"
        ));
        assert!(
            ddl.contains("'projection.kafka_partition.range' = '0,2'"),
            "3 partitions by default"
        );
        assert!(!ddl.contains("mapping."), "the tick's columns are its field names");
    }

    #[test]
    fn a_topic_with_source_fields_maps_them_and_every_listed_topic_gets_a_table() {
        let mut c = Config::default();
        c.sink.topics = "stock-market-data, finnhub-trades".into();
        c.warehouse.topic_columns.insert(
            "finnhub-trades".into(),
            vec![
                Column {
                    name: "Price".into(),
                    kind: ColumnType::Real,
                    source: Some("p".into()),
                },
                Column {
                    name: "symbol".into(),
                    kind: ColumnType::Text,
                    source: Some("s".into()),
                },
            ],
        );
        let ddl = ddl(&c, "db").unwrap();
        assert_eq!(ddl.matches("CREATE EXTERNAL TABLE").count(), 2);
        assert!(
            ddl.contains("`db`.`finnhub_trades` (\n  `price` double,\n  `symbol` string\n)"),
            "{ddl}"
        );
        assert!(ddl.contains("'mapping.price' = 'p'") && ddl.contains("'mapping.symbol' = 's'"));
    }

    #[test]
    fn field_and_time_directories_are_projected() {
        let mut c = Config::default();
        c.sink.partitioner_class = crate::config::PartitionerClass::Field;
        c.sink.partition_field_name = Some("exchange,symbol".into());
        let ddl = ddl(&c, "db").unwrap();
        assert!(
            ddl.contains("PARTITIONED BY (`p_exchange` string, `p_symbol` string)"),
            "{ddl}"
        );
        assert!(ddl.contains("'projection.p_symbol.type' = 'injected'"), "{ddl}");
        assert!(
            ddl.contains("stock-market-data/exchange=${p_exchange}/symbol=${p_symbol}/'"),
            "{ddl}"
        );
        assert!(ddl.contains("`symbol` string"), "the data column stays: {ddl}");
        let mut c = Config::default();
        c.sink.partitioner_class = crate::config::PartitionerClass::Hourly;
        c.sink.format_class = FormatClass::Parquet;
        let ddl = super::ddl(&c, "db").unwrap();
        assert!(ddl.contains("PARTITIONED BY (`dt` string)"), "{ddl}");
        assert!(
            ddl.contains(r"'projection.dt.format' = '''year=''yyyy''/month=''MM''/day=''dd''/hour=''HH'"),
            "quotes doubled inside the SQL string: {ddl}"
        );
        assert!(
            ddl.contains("'projection.dt.range' = 'year=2020/month=01/day=01/hour=00,NOW'"),
            "{ddl}"
        );
        assert!(ddl.contains("'projection.dt.interval.unit' = 'HOURS'"), "{ddl}");
        assert!(ddl.contains("stock-market-data/${dt}/'"), "{ddl}");
    }

    #[test]
    fn raw_values_and_a_pattern_of_topics_are_refused_with_why() {
        let mut c = Config::default();
        c.sink.value_converter = ValueConverter::Bytes;
        assert!(ddl(&c, "db").unwrap_err().contains("raw values"));
        let mut c = Config::default();
        c.sink.topics_regex = Some(crate::config::TopicPattern::try_from("market-.*".to_owned()).unwrap());
        assert!(ddl(&c, "db").unwrap_err().contains("topics.regex"));
        let mut c = Config::default();
        c.sink.value_converter = ValueConverter::Avro;
        assert!(ddl(&c, "db").unwrap_err().contains("Glue crawler"));
    }
}
