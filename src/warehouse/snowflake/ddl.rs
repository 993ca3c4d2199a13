//! The Snowflake objects that load our files as Snowpipe would (seed 000 creates them by hand):
//! storage integration, stage, file format, and per topic a table in the Snowflake Kafka
//! connector's layout (`RECORD_CONTENT` and `RECORD_METADATA` VARIANT, plus the typed columns)
//! and an AUTO_INGEST pipe.
//!
//! The pipes load with a COPY transformation, not `MATCH_BY_COLUMN_NAME`: Snowflake refuses the
//! two together ("match_by_column_name is not supported with copy transform", behaviour change
//! 2024_02), and only a transformation can fill `RECORD_CONTENT` (the whole record) and the
//! offset in `RECORD_METADATA`. Each typed column takes its field by name (or `source`), as the
//! SQLite warehouse does; Snowflake's paths are case-sensitive, so name the field as produced.
//!
//! The file format follows `format.class`: JSON (gzip or zstd found by its extension), Avro
//! (`$1` is the record), or Parquet, where `$1` is the row. A Parquet file of JSON records'
//! typed columns is read by column name (a typed column reads its own name) and
//! `RECORD_CONTENT` is the record's text when the files keep it, else that row; a Parquet file
//! of records with a schema has the schema's fields as columns, so `$1` is the record.

use crate::config::{ColumnType, Config};
use crate::warehouse::table::Tables;

fn snowflake_type(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::Text => "VARCHAR",
        ColumnType::Real => "FLOAT",
        ColumnType::Integer => "NUMBER",
        ColumnType::Boolean => "BOOLEAN",
        ColumnType::Timestamp => "TIMESTAMP_TZ",
    }
}

/// The sink's topics the DDL covers (a `topics.regex` sink: none known in advance).
fn topics(config: &Config) -> Vec<String> {
    config.sink.topic_list()
}

/// The pipe of `topic`: `warehouse.snowflake.pipe` for the first, `<TABLE>_PIPE` for others.
fn pipe_name(config: &Config, topic: &str, table: &str) -> String {
    match config.sink.topic_list().first().map(String::as_str) == Some(topic) {
        true => config.warehouse.snowflake.pipe.clone(),
        false => format!("{table}_PIPE"),
    }
}

/// Where the DDL puts things: the fully qualified names every statement shares.
struct Names<'a> {
    db: &'a str,
    schema: &'a str,
    /// `s3://<bucket>/<topics.dir>/`.
    location: String,
    stage: String,
    format: String,
    files: Files,
}

/// What the data files are, as Snowflake reads them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Files {
    Json,
    Avro,
    /// Parquet of JSON records' typed columns (`typed`) or of a schema's fields.
    Parquet {
        typed: bool,
    },
}

impl Names<'_> {
    fn fq(&self, name: &str) -> String {
        format!("{}.{}.{name}", self.db, self.schema)
    }
}

/// The DDL for `config`'s bucket, prefix and topics, in the order it must run.
pub fn ddl(config: &Config) -> String {
    let sf = &config.warehouse.snowflake;
    let schemas = config.sink.value_converter == crate::config::ValueConverter::Avro || config.sink.schemas_enable;
    let files = match config.sink.format() {
        crate::config::FormatClass::Parquet => Files::Parquet { typed: !schemas },
        crate::config::FormatClass::Avro => Files::Avro,
        _ => Files::Json,
    };
    let mut names = Names {
        db: &sf.database,
        schema: &sf.schema,
        location: format!("s3://{}/{}/", config.sink.bucket, config.sink.topics_dir),
        stage: String::new(),
        format: String::new(),
        files,
    };
    (names.stage, names.format) = (
        names.fq(&sf.stage),
        names.fq(match files {
            Files::Parquet { .. } => "RECORD_PARQUET",
            Files::Avro => "RECORD_AVRO",
            Files::Json => "RECORD_JSON",
        }),
    );
    let mut out = shared(config, &names);
    let listed = topics(config);
    if listed.is_empty() {
        out.push_str(
            "\n-- sink.topics.regex: no topic is known in advance. Run `tickstream snowflake ddl` with each\n\
             -- topic listed in sink.topics (the pattern's matches) to get its table and pipe.\n",
        );
    }
    let tables = Tables::new(config);
    for topic in listed {
        out.push_str(&topic_ddl(config, &names, &tables, &topic));
    }
    out
}

/// The integration, database, schema, file format and stage every topic shares.
fn shared(config: &Config, names: &Names<'_>) -> String {
    let sf = &config.warehouse.snowflake;
    let (db, schema, location, stage, format) = (names.db, names.schema, &names.location, &names.stage, &names.format);
    let format_ddl = match names.files {
        Files::Parquet { .. } => format!(
            "-- A Parquet file's rows, as the sink writes them (parquet.codec {}).
CREATE FILE FORMAT IF NOT EXISTS {format}
  TYPE = PARQUET;",
            config.sink.parquet_codec.extension()
        ),
        Files::Avro => format!(
            "-- Avro container files of the records' writer schema (avro.codec {}).
CREATE FILE FORMAT IF NOT EXISTS {format}
  TYPE = AVRO;",
            String::from(config.sink.avro_codec)
        ),
        Files::Json => format!(
            "-- One JSON value per line, as the Confluent S3 sink's JSON format writes them (gzip or
-- zstd files are found by their extension).
CREATE FILE FORMAT IF NOT EXISTS {format}
  TYPE = JSON
  STRIP_OUTER_ARRAY = FALSE;"
        ),
    };
    let integration = &sf.storage_integration;
    let role = &sf.aws_role_arn;
    format!(
        "-- tickstream: Snowflake objects for {location}
-- Run as ACCOUNTADMIN (the integration) and a role owning {db} (the rest).

CREATE STORAGE INTEGRATION IF NOT EXISTS {integration}
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = '{role}'
  STORAGE_ALLOWED_LOCATIONS = ('{location}');
-- DESC INTEGRATION {integration}; → put STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID
-- into the trust policy of {role}.

CREATE DATABASE IF NOT EXISTS {db};
CREATE SCHEMA IF NOT EXISTS {db}.{schema};

{format_ddl}

CREATE STAGE IF NOT EXISTS {stage}
  URL = '{location}'
  STORAGE_INTEGRATION = {integration}
  FILE_FORMAT = {format};
"
    )
}

/// A table's typed columns three ways: their definitions, their names in the COPY, and the
/// values the COPY selects for them (a Parquet file's by column name, a JSON record's by its
/// source field).
fn column_lists(columns: &[crate::config::Column], parquet: bool) -> (String, String, String) {
    let upper = |c: &crate::config::Column| c.name.to_ascii_uppercase();
    let definitions = columns
        .iter()
        .map(|c| format!("  {} {},\n", upper(c), snowflake_type(c.kind)));
    let names = columns.iter().map(|c| format!("{}, ", upper(c)));
    let values = columns.iter().map(|c| {
        let field = match parquet {
            true => &c.name,
            false => c.source.as_deref().unwrap_or(&c.name),
        };
        format!("         $1:\"{field}\"::{},\n", snowflake_type(c.kind))
    });
    (definitions.collect(), names.collect(), values.collect())
}

/// One topic's table and pipe.
fn topic_ddl(config: &Config, names: &Names<'_>, tables: &Tables, topic: &str) -> String {
    let (db, schema, stage, format) = (names.db, names.schema, &names.stage, &names.format);
    let parquet = names.files == Files::Parquet { typed: true };
    let on_error = match config.warehouse.on_error {
        crate::config::OnError::SkipFile => "SKIP_FILE",
        crate::config::OnError::Continue => "CONTINUE",
    };
    let positional = config.sink.partitioner().map_or(true, |p| p.consecutive());
    let fq = |name: &str| names.fq(name);
    let layout = tables.layout(topic);
    let table = fq(&layout.table);
    let pipe = fq(&pipe_name(config, topic, &layout.table));
    let (columns, names, values) = column_lists(&layout.columns, parquet);
    let spec = crate::format::parquet::ParquetSpec::new(
        &layout.columns,
        config.sink.parquet_record_content,
        config.sink.parquet_codec,
    );
    let content = match parquet && spec.content {
        true => format!("PARSE_JSON($1:\"{}\")", crate::format::parquet::RECORD_CONTENT),
        false => "$1".to_owned(),
    };
    format!(
            "
-- Topic {topic}: one row per record, the Snowflake Kafka connector's layout.
CREATE TABLE IF NOT EXISTS {table} (
  RECORD_CONTENT  VARIANT NOT NULL,
  RECORD_METADATA VARIANT NOT NULL,
{columns}  LOADED_AT TIMESTAMP_LTZ DEFAULT CURRENT_TIMESTAMP()
);

-- Each file loads once (Snowpipe keeps 14 days of load history per path); {offset_note}
CREATE PIPE IF NOT EXISTS {pipe}
  AUTO_INGEST = TRUE
AS
COPY INTO {table} (RECORD_CONTENT, RECORD_METADATA, {names}LOADED_AT)
FROM (
  SELECT {content},
         OBJECT_CONSTRUCT(
           'topic', '{topic}',
           'partition', REGEXP_SUBSTR(METADATA$FILENAME, '[+]([0-9]+)[+][0-9]+[.][a-z.]+$', 1, 1, 'e', 1)::NUMBER,
{offset}           's3_key', METADATA$FILENAME),
{values}         CURRENT_TIMESTAMP()
  FROM @{stage}/{topic}/
)
FILE_FORMAT = (FORMAT_NAME = '{format}')
ON_ERROR = {on_error};

-- SHOW PIPES LIKE '{pipe_short}' IN SCHEMA {db}.{schema}; → notification_channel is the SQS
-- queue ARN: add it as an S3 event notification (s3:ObjectCreated:*) on the bucket, prefix
-- {prefix}/{topic}/.
-- Health: SELECT SYSTEM$PIPE_STATUS('{pipe}');
-- Loads:  SELECT * FROM TABLE({db}.INFORMATION_SCHEMA.COPY_HISTORY(
--           TABLE_NAME => '{table}', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP())));
",
            pipe_short = pipe_name(config, topic, &layout.table),
            offset_note = match positional {
                true => "the offset of a\n-- row is its file's start offset (in its name) plus its line in the file.",
                false => "under a field or time\n-- partitioner a file holds its directory's records among others': no offset, its row.",
            },
            offset = match positional {
                true => "           'offset', REGEXP_SUBSTR(METADATA$FILENAME, '[+]([0-9]+)[.][a-z.]+$', 1, 1, 'e', 1)::NUMBER\n                     + METADATA$FILE_ROW_NUMBER - 1,\n",
                false => "           'row', METADATA$FILE_ROW_NUMBER - 1,\n",
            },
            prefix = config.sink.topics_dir,
        )
}

/// The statement that registers the monitoring user's public key (key-pair authentication).
pub fn set_rsa_public_key(user: &str, public_key_base64: &str) -> String {
    format!("ALTER USER {user} SET RSA_PUBLIC_KEY='{public_key_base64}';")
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn the_ddl_names_our_bucket_prefix_and_objects_in_the_connector_layout() {
        let mut c = Config::default();
        c.sink.bucket = "my-bucket".into();
        let ddl = super::ddl(&c);
        assert!(ddl.contains("URL = 's3://my-bucket/topics/'"), "{ddl}");
        assert!(ddl.contains("CREATE PIPE IF NOT EXISTS KAFKA_DB.KAFKA_SCHEMA.STOCK_MARKET_PIPE"));
        assert!(
            ddl.contains("COPY INTO KAFKA_DB.KAFKA_SCHEMA.STOCK_MARKET_DATA (RECORD_CONTENT, RECORD_METADATA, SYMBOL,")
        );
        assert!(ddl.contains("RECORD_CONTENT  VARIANT NOT NULL"));
        assert!(ddl.contains("FROM @KAFKA_DB.KAFKA_SCHEMA.KAFKA_S3_STAGE/stock-market-data/"));
        assert!(ddl.contains("ON_ERROR = SKIP_FILE"));
        assert!(
            !ddl.contains("MATCH_BY_COLUMN_NAME ="),
            "Snowflake refuses it with a transformation"
        );
        for field in [
            "symbol",
            "price",
            "volume",
            "change",
            "timestamp",
            "exchange",
            "run_id",
            "seq",
        ] {
            assert!(ddl.contains(&format!("$1:\"{field}\"::")), "{field} is loaded");
        }
    }

    #[test]
    fn parquet_files_get_a_parquet_file_format_and_columns_read_by_name() {
        let mut c = Config::default();
        c.sink.format_class = crate::config::FormatClass::Parquet;
        c.warehouse.columns[1].source = Some("p".into());
        let ddl = super::ddl(&c);
        assert!(
            ddl.contains("CREATE FILE FORMAT IF NOT EXISTS KAFKA_DB.KAFKA_SCHEMA.RECORD_PARQUET\n  TYPE = PARQUET;")
        );
        assert!(
            ddl.contains("FORMAT_NAME = 'KAFKA_DB.KAFKA_SCHEMA.RECORD_PARQUET'"),
            "{ddl}"
        );
        assert!(
            ddl.contains("$1:\"price\"::FLOAT"),
            "a Parquet column carries its name: {ddl}"
        );
        assert!(
            ddl.contains("SELECT $1,"),
            "typed columns only: the row is the content: {ddl}"
        );
        c.sink.parquet_record_content = crate::config::RecordContent::Always;
        assert!(super::ddl(&c).contains("SELECT PARSE_JSON($1:\"RECORD_CONTENT\"),"));
    }

    #[test]
    fn files_of_records_with_a_schema_are_the_records_their_fields_read_by_source() {
        for (format, kind) in [("avro", "AVRO"), ("parquet", "PARQUET")] {
            let c = crate::config::parse_str(&format!(
                "[sink]\n\"value.converter\" = \"avro\"\n\"value.converter.schema.registry.url\" = \"http://r\"\n\
                 \"format.class\" = \"{format}\"\n[[warehouse.columns]]\nname = \"px\"\nsource = \"price\"\ntype = \"REAL\"\n"
            ))
            .unwrap();
            let ddl = super::ddl(&c);
            assert!(ddl.contains(&format!("RECORD_{kind}\n  TYPE = {kind};")), "{ddl}");
            assert!(ddl.contains("SELECT $1,"), "the record is the content: {ddl}");
            assert!(ddl.contains("$1:\"price\"::FLOAT"), "by source: {ddl}");
        }
    }

    /// The pattern the pipe reads `field` of RECORD_METADATA from the file name with.
    fn filename_pattern(ddl: &str, field: &str) -> regex_lite::Regex {
        let before = format!("'{field}', REGEXP_SUBSTR(METADATA$FILENAME, '");
        let rest = &ddl[ddl.find(&before).unwrap() + before.len()..];
        regex_lite::Regex::new(&rest[..rest.find('\'').unwrap()]).unwrap()
    }

    #[test]
    fn the_offset_pattern_finds_the_start_offset_of_every_file_kind() {
        let pattern = filename_pattern(&super::ddl(&Config::default()), "offset");
        for (name, offset) in [
            ("topics/t/partition=0/t+0+0000000042.json", "0000000042"),
            ("topics/t/partition=0/t+0+0000000042.json.gz", "0000000042"),
            ("topics/t/partition=0/t+0+0000000042.snappy.parquet", "0000000042"),
            ("topics/t/partition=0/t+0+0000000042.avro", "0000000042"),
            ("topics/t/partition=1/t+1+0000000007.bin", "0000000007"),
        ] {
            let got = pattern.captures(name).and_then(|c| c.get(1)).map(|m| m.as_str());
            assert_eq!(got, Some(offset), "{name}");
        }
    }

    #[test]
    fn the_partition_comes_from_the_file_name_and_partitioned_files_give_their_row() {
        let pattern = filename_pattern(&super::ddl(&Config::default()), "partition");
        for (name, partition) in [
            ("topics/t/partition=2/t+2+0000000042.json", "2"),
            ("topics/t/symbol=AAPL/t+1+0000000042.snappy.parquet", "1"),
            ("topics/t-2+x/year=2026/month=03/t-2+x+10+0000000007.json.gz", "10"),
        ] {
            let got = pattern.captures(name).and_then(|c| c.get(1)).map(|m| m.as_str());
            assert_eq!(got, Some(partition), "{name}");
        }
        let mut c = Config::default();
        c.sink.partitioner_class = crate::config::PartitionerClass::Field;
        c.sink.partition_field_name = Some("symbol".into());
        let ddl = super::ddl(&c);
        assert!(ddl.contains("'row', METADATA$FILE_ROW_NUMBER - 1,"), "{ddl}");
        assert!(!ddl.contains("'offset'"), "no offset is in such a file: {ddl}");
    }

    #[test]
    fn every_listed_topic_gets_its_table_and_pipe_with_its_mapped_fields() {
        let mut c = Config::default();
        c.sink.topics = "stock-market-data,finnhub-trades".into();
        c.warehouse.topic_columns.insert(
            "finnhub-trades".into(),
            vec![crate::config::Column {
                name: "price".into(),
                kind: crate::config::ColumnType::Real,
                source: Some("p".into()),
            }],
        );
        let ddl = super::ddl(&c);
        assert!(ddl.contains("CREATE TABLE IF NOT EXISTS KAFKA_DB.KAFKA_SCHEMA.FINNHUB_TRADES"));
        assert!(ddl.contains("CREATE PIPE IF NOT EXISTS KAFKA_DB.KAFKA_SCHEMA.FINNHUB_TRADES_PIPE"));
        assert!(ddl.contains("$1:\"p\"::FLOAT"));
        assert!(ddl.contains("'topic', 'finnhub-trades'"));
    }
}
