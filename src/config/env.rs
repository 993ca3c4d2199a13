//! Environment variables that override endpoints and names, so secrets and per-host values stay
//! out of the file (systemd's `EnvironmentFile=`).

use super::{Config, Problem};

/// Each override: variable, the key it replaces, and what it is for (shown by `--help` and docs/configuration.md).
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("TICKSTREAM_KAFKA_BOOTSTRAP_SERVERS", "kafka.bootstrap_servers"),
    ("TICKSTREAM_KAFKA_REGION", "kafka.region"),
    ("TICKSTREAM_GROUP_INSTANCE_ID", "kafka.group_instance_id"),
    ("TICKSTREAM_KAFKA_IAM_ROLE_ARN", "kafka.iam_role_arn"),
    ("TICKSTREAM_S3_ENDPOINT", "s3.endpoint"),
    ("TICKSTREAM_S3_REGION", "s3.region"),
    ("TICKSTREAM_S3_BUCKET", "sink.s3.bucket.name"),
    ("TICKSTREAM_METRICS_LISTEN", "metrics.listen"),
    ("TICKSTREAM_WAREHOUSE_PATH", "warehouse.path"),
    ("TICKSTREAM_SNOWFLAKE_ACCOUNT", "warehouse.snowflake.account"),
    ("TICKSTREAM_SNOWFLAKE_USER", "warehouse.snowflake.user"),
    (
        "TICKSTREAM_SNOWFLAKE_PRIVATE_KEY_PATH",
        "warehouse.snowflake.private_key_path",
    ),
    (
        "TICKSTREAM_SCHEMA_REGISTRY_URL",
        "sink.value.converter.schema.registry.url",
    ),
    (
        "TICKSTREAM_SCHEMA_REGISTRY_USER_INFO",
        "sink.value.converter.basic.auth.user.info",
    ),
    ("TICKSTREAM_S3_SSE_CUSTOMER_KEY", "sink.s3.sse.customer.key"),
];

/// The name of the systemd credential (`LoadCredential=`) that holds the Snowflake key: read from
/// `$CREDENTIALS_DIRECTORY` in place of `warehouse.snowflake.private_key_path`, unless
/// `TICKSTREAM_SNOWFLAKE_PRIVATE_KEY_PATH` is set.
pub const SNOWFLAKE_KEY_CREDENTIAL: &str = "snowflake_rsa_key.p8";

/// Applies the overrides that are set; returns a problem for each unusable value.
/// `lookup` is `std::env::var` in production and a map in tests.
pub fn apply_overrides(config: &mut Config, lookup: impl Fn(&str) -> Option<String>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if let Some(v) = get("TICKSTREAM_KAFKA_BOOTSTRAP_SERVERS") {
        config.kafka.bootstrap_servers = v;
    }
    if let Some(v) =
        get("TICKSTREAM_KAFKA_REGION").or_else(|| config.kafka.region.is_none().then(|| get("AWS_REGION")).flatten())
    {
        config.kafka.region = Some(v);
    }
    if let Some(v) = get("TICKSTREAM_GROUP_INSTANCE_ID") {
        config.kafka.group_instance_id = Some(v);
    }
    if let Some(v) = get("TICKSTREAM_KAFKA_IAM_ROLE_ARN") {
        config.kafka.iam_role_arn = Some(v);
    }
    if let Some(v) = get("TICKSTREAM_S3_ENDPOINT") {
        config.s3.endpoint = Some(v);
    }
    if let Some(v) = get("TICKSTREAM_S3_REGION") {
        config.s3.region = v;
    }
    if let Some(v) = get("TICKSTREAM_WAREHOUSE_PATH") {
        config.warehouse.path = Some(v.into());
    }
    if let Some(v) = get("TICKSTREAM_SNOWFLAKE_ACCOUNT") {
        config.warehouse.snowflake.account = Some(v);
    }
    if let Some(v) = get("TICKSTREAM_SNOWFLAKE_USER") {
        config.warehouse.snowflake.user = Some(v);
    }
    if let Some(v) = get("TICKSTREAM_SNOWFLAKE_PRIVATE_KEY_PATH") {
        config.warehouse.snowflake.private_key_path = Some(v.into());
    } else if let Some(key) = get("CREDENTIALS_DIRECTORY")
        .map(|dir| std::path::Path::new(&dir).join(SNOWFLAKE_KEY_CREDENTIAL))
        .filter(|key| key.is_file())
    {
        // systemd's `LoadCredential=snowflake_rsa_key.p8:…`: a copy the service's own user
        // can read, where the key file itself is root's.
        config.warehouse.snowflake.private_key_path = Some(key);
    }
    if let Some(v) = get("TICKSTREAM_S3_BUCKET") {
        config.sink.bucket = v;
    }
    if let Some(v) = get("TICKSTREAM_SCHEMA_REGISTRY_URL") {
        match super::RegistryUrls::try_from(v) {
            Ok(urls) => config.sink.registry_url = Some(urls),
            Err(e) => problems.push(Problem::new(
                "sink.value.converter.schema.registry.url",
                format!("TICKSTREAM_SCHEMA_REGISTRY_URL {e}"),
            )),
        }
    }
    if let Some(v) = get("TICKSTREAM_SCHEMA_REGISTRY_USER_INFO") {
        config.sink.registry_user_info = Some(super::Secret(v));
    }
    if let Some(v) = get("TICKSTREAM_S3_SSE_CUSTOMER_KEY") {
        config.sink.sse_customer_key = Some(super::Secret(v));
    }
    if let Some(v) = get("TICKSTREAM_METRICS_LISTEN") {
        match v.parse() {
            Ok(addr) => config.metrics.listen = addr,
            Err(_) => problems.push(Problem::new(
                "metrics.listen",
                format!("TICKSTREAM_METRICS_LISTEN must be host:port, got {v:?}"),
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn set_variables_replace_file_values() {
        let vars: HashMap<&str, &str> = [
            ("TICKSTREAM_KAFKA_BOOTSTRAP_SERVERS", "b-1:9098"),
            ("TICKSTREAM_S3_BUCKET", "other"),
        ]
        .into();
        let mut c = Config::default();
        let problems = apply_overrides(&mut c, |k| vars.get(k).map(|v| v.to_string()));
        assert!(problems.is_empty());
        assert_eq!(c.kafka.bootstrap_servers, "b-1:9098");
        assert_eq!(c.sink.bucket, "other");
    }

    #[test]
    fn a_bad_listen_address_names_the_variable() {
        let mut c = Config::default();
        let problems = apply_overrides(&mut c, |k| (k == "TICKSTREAM_METRICS_LISTEN").then(|| "nope".into()));
        assert_eq!(problems[0].key, "metrics.listen");
        assert!(problems[0].message.contains("TICKSTREAM_METRICS_LISTEN"));
    }

    #[test]
    fn a_systemd_credential_holds_the_snowflake_key_unless_the_variable_names_one() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().display().to_string();
        let mut config = Config::default();
        config.warehouse.snowflake.private_key_path = Some("/etc/tickstream/snowflake_rsa_key.p8".into());
        let lookup = |vars: &'static [(&'static str, &'static str)], credentials: String| {
            move |name: &str| match name {
                "CREDENTIALS_DIRECTORY" => Some(credentials.clone()),
                _ => vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()),
            }
        };
        apply_overrides(&mut config, lookup(&[], credentials.clone()));
        assert_eq!(
            config.warehouse.snowflake.private_key_path.as_deref(),
            Some(std::path::Path::new("/etc/tickstream/snowflake_rsa_key.p8")),
            "no such credential: the file's path stays"
        );
        let key = dir.path().join(SNOWFLAKE_KEY_CREDENTIAL);
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        apply_overrides(&mut config, lookup(&[], credentials.clone()));
        assert_eq!(
            config.warehouse.snowflake.private_key_path.as_deref(),
            Some(key.as_path())
        );
        apply_overrides(
            &mut config,
            lookup(&[("TICKSTREAM_SNOWFLAKE_PRIVATE_KEY_PATH", "/run/key.p8")], credentials),
        );
        assert_eq!(
            config.warehouse.snowflake.private_key_path.as_deref(),
            Some(std::path::Path::new("/run/key.p8"))
        );
    }
}
