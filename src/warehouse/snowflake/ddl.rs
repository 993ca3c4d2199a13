//! The Snowflake objects that load our files as Snowpipe would (seed 000 creates them by hand):
//! storage integration, stage, file format, table and an AUTO_INGEST pipe.

use crate::config::Config;

/// The DDL for `config`'s bucket, prefix and topic, in the order it must run.
pub fn ddl(config: &Config) -> String {
    let sf = &config.warehouse.snowflake;
    let (db, schema) = (&sf.database, &sf.schema);
    let fq = |name: &str| format!("{db}.{schema}.{name}");
    let location = format!(
        "s3://{}/{}/{}/",
        config.sink.bucket, config.sink.topics_dir, config.sink.topics
    );
    let table = fq(&config.warehouse.table);
    let stage = fq(&sf.stage);
    let format = fq("TICK_JSON");
    let pipe = fq(&sf.pipe);
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

-- One JSON object per line, as the Confluent S3 sink's JSON format writes them.
CREATE FILE FORMAT IF NOT EXISTS {format}
  TYPE = JSON
  STRIP_OUTER_ARRAY = FALSE;

CREATE STAGE IF NOT EXISTS {stage}
  URL = '{location}'
  STORAGE_INTEGRATION = {integration}
  FILE_FORMAT = {format};

CREATE TABLE IF NOT EXISTS {table} (
  SYMBOL    VARCHAR       NOT NULL,
  PRICE     NUMBER(18, 2) NOT NULL,
  VOLUME    NUMBER        NOT NULL,
  CHANGE    NUMBER(18, 2) NOT NULL,
  TIMESTAMP TIMESTAMP_TZ  NOT NULL,
  EXCHANGE  VARCHAR       NOT NULL,
  RUN_ID    VARCHAR       NOT NULL,
  SEQ       NUMBER        NOT NULL,
  S3_KEY    VARCHAR       NOT NULL,
  PARTITION NUMBER        NOT NULL,
  LOADED_AT TIMESTAMP_LTZ DEFAULT CURRENT_TIMESTAMP()
);

-- Each file loads once (Snowpipe keeps 14 days of load history per path); a file that does
-- not parse is skipped whole and reported by COPY_HISTORY.
CREATE PIPE IF NOT EXISTS {pipe}
  AUTO_INGEST = TRUE
AS
COPY INTO {table} (SYMBOL, PRICE, VOLUME, CHANGE, TIMESTAMP, EXCHANGE, RUN_ID, SEQ, S3_KEY, PARTITION)
FROM (
  SELECT $1:symbol::VARCHAR, $1:price::NUMBER(18, 2), $1:volume::NUMBER, $1:change::NUMBER(18, 2),
         $1:timestamp::TIMESTAMP_TZ, $1:exchange::VARCHAR, $1:run_id::VARCHAR, $1:seq::NUMBER,
         METADATA$FILENAME,
         REGEXP_SUBSTR(METADATA$FILENAME, 'partition=([0-9]+)', 1, 1, 'e', 1)::NUMBER
  FROM @{stage}
)
FILE_FORMAT = (FORMAT_NAME = '{format}')
ON_ERROR = SKIP_FILE;

-- SHOW PIPES LIKE '{name}' IN SCHEMA {db}.{schema}; → notification_channel is the SQS queue
-- ARN: add it as an S3 event notification (s3:ObjectCreated:*) on the bucket, prefix
-- {prefix}/{topic}/.
-- Health: SELECT SYSTEM$PIPE_STATUS('{pipe}');
-- Loads:  SELECT * FROM TABLE({db}.INFORMATION_SCHEMA.COPY_HISTORY(
--           TABLE_NAME => '{table}', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP())));
",
        name = sf.pipe,
        prefix = config.sink.topics_dir,
        topic = config.sink.topics,
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
    fn the_ddl_names_our_bucket_prefix_and_objects() {
        let mut c = Config::default();
        c.sink.bucket = "my-bucket".into();
        let ddl = super::ddl(&c);
        assert!(
            ddl.contains("URL = 's3://my-bucket/topics/stock-market-data/'"),
            "{ddl}"
        );
        assert!(ddl.contains("CREATE PIPE IF NOT EXISTS KAFKA_DB.KAFKA_SCHEMA.STOCK_MARKET_PIPE"));
        assert!(ddl.contains("COPY INTO KAFKA_DB.KAFKA_SCHEMA.STOCK_MARKET_DATA"));
        assert!(ddl.contains("ON_ERROR = SKIP_FILE"));
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
            assert!(ddl.contains(&format!("$1:{field}::")), "{field} is loaded");
        }
    }
}
