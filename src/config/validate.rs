//! Checks that go beyond types: ranges, names, and fields required by a mode.

use super::{
    Config, KafkaConfig, KafkaMode, Problem, S3Mode, SinkConfig, WarehouseConfig, WarehouseKind, ENV_OVERRIDES,
};

/// Every problem in `c`, each naming its key.
pub fn validate(c: &Config) -> Vec<Problem> {
    let mut p = Problems::default();
    kafka(&c.kafka, &mut p);
    super::validate_producer::producer(&c.producer, &mut p);
    sink(&c.sink, &mut p);
    warehouse(&c.warehouse, &mut p);
    snowflake(&c.warehouse, &mut p);
    process(c, &mut p);
    let mut problems = p.0;
    problems.extend(super::validate_records::validate_records(c));
    problems.extend(super::objects::validate(c));
    problems
}

/// The problems found so far.
#[derive(Default)]
pub(super) struct Problems(pub Vec<Problem>);

impl Problems {
    /// Records `msg` against `key` unless `ok`.
    pub fn check(&mut self, ok: bool, key: &str, msg: String) {
        if !ok {
            self.0.push(Problem::new(key, msg));
        }
    }
}

/// The broker and its topic.
fn kafka(k: &KafkaConfig, p: &mut Problems) {
    p.check(
        k.mode == KafkaMode::Embedded || !k.bootstrap_servers.trim().is_empty(),
        "kafka.bootstrap_servers",
        format!(
            "required when kafka.mode is {:?} (or set TICKSTREAM_KAFKA_BOOTSTRAP_SERVERS)",
            k.mode
        ),
    );
    if k.mode != KafkaMode::Embedded {
        for entry in k.bootstrap_servers.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Err(why) = bootstrap_entry(entry) {
                p.check(false, "kafka.bootstrap_servers", format!("{entry:?}: {why}"));
            }
        }
    }
    p.check(
        k.partitions >= 1,
        "kafka.partitions",
        format!("must be ≥ 1, got {}", k.partitions),
    );
    p.check(
        k.replication_factor >= 1,
        "kafka.replication_factor",
        format!("must be ≥ 1, got {}", k.replication_factor),
    );
    p.check(
        (1..=64).contains(&k.embedded_brokers),
        "kafka.embedded_brokers",
        format!("must be between 1 and 64, got {}", k.embedded_brokers),
    );
    p.check(
        k.mode != KafkaMode::Embedded || k.replication_factor <= k.embedded_brokers,
        "kafka.replication_factor",
        format!(
            "must be ≤ kafka.embedded_brokers ({}) in embedded mode, got {}",
            k.embedded_brokers, k.replication_factor
        ),
    );
    p.check(
        !k.consumer_group.trim().is_empty(),
        "kafka.consumer_group",
        "must not be empty".into(),
    );
    p.check(
        k.mode != KafkaMode::MskIam || k.region.is_some(),
        "kafka.region",
        "required when kafka.mode is \"msk_iam\" (or set TICKSTREAM_KAFKA_REGION / AWS_REGION)".into(),
    );
    p.check(
        k.mode != KafkaMode::MskIam || !k.create_topics,
        "kafka.create_topics",
        "must be false when kafka.mode is \"msk_iam\": create the topic on MSK beforehand \
         (console, CLI or kafka-topics.sh); librdkafka's admin client cannot send tickstream's IAM token"
            .into(),
    );
    if let Some(arn) = &k.iam_role_arn {
        p.check(
            arn.starts_with("arn:") && arn.contains(":role/"),
            "kafka.iam_role_arn",
            format!("must be an IAM role ARN like arn:aws:iam::123456789012:role/name, got {arn:?}"),
        );
    }
}

/// `[sink]`'s files, offsets and bucket.
fn sink(s: &SinkConfig, p: &mut Problems) {
    p.check(
        s.flush_size >= 1,
        "sink.flush.size",
        format!("must be ≥ 1, got {}", s.flush_size),
    );
    p.check(
        s.rotate_interval_ms >= 1,
        "sink.rotate.interval.ms",
        format!("must be ≥ 1, got {}", s.rotate_interval_ms),
    );
    p.check(
        (5 << 20..=5 << 30).contains(&s.part_size),
        "sink.s3.part.size",
        format!(
            "must be 5 MiB (5242880) to 5 GiB (S3's part sizes), got {}",
            s.part_size
        ),
    );
    p.check(
        s.rotate_schedule_interval_ms == -1 || s.rotate_schedule_interval_ms >= 1000,
        "sink.rotate.schedule.interval.ms",
        format!(
            "-1 (off) or at least 1000 (a second), got {}",
            s.rotate_schedule_interval_ms
        ),
    );
    p.check(
        (1..=19).contains(&s.offset_pad_width),
        "sink.filename.offset.zero.pad.width",
        format!("must be between 1 and 19, got {}", s.offset_pad_width),
    );
    p.check(
        !s.topics_dir.is_empty() && !s.topics_dir.starts_with('/') && !s.topics_dir.ends_with('/'),
        "sink.topics.dir",
        format!(
            "must be a non-empty prefix without leading or trailing '/', got {:?}",
            s.topics_dir
        ),
    );
    p.check(
        (1..=64).contains(&s.max_inflight_uploads),
        "sink.max.inflight.uploads",
        format!("must be between 1 and 64, got {}", s.max_inflight_uploads),
    );
    p.check(
        s.offset_flush_interval_ms <= 60_000,
        "sink.offset.flush.interval.ms",
        format!("must be at most 60000 (one minute), got {}", s.offset_flush_interval_ms),
    );
    if let Err(e) = bucket_name(&s.bucket) {
        p.check(false, "sink.s3.bucket.name", e);
    }
    p.check(
        s.max_buffered() >= s.flush_size,
        "sink.max.buffered.records",
        format!("must be ≥ flush.size ({}), got {}", s.flush_size, s.max_buffered()),
    );
}

/// The warehouse's names and polling.
fn warehouse(w: &WarehouseConfig, p: &mut Problems) {
    p.check(
        w.poll_interval_ms >= 50,
        "warehouse.poll_interval_ms",
        format!("must be ≥ 50, got {}", w.poll_interval_ms),
    );
    for (key, name) in [
        ("warehouse.table", &w.table),
        ("warehouse.snowflake.database", &w.snowflake.database),
        ("warehouse.snowflake.schema", &w.snowflake.schema),
        ("warehouse.snowflake.stage", &w.snowflake.stage),
        ("warehouse.snowflake.pipe", &w.snowflake.pipe),
        (
            "warehouse.snowflake.storage_integration",
            &w.snowflake.storage_integration,
        ),
    ] {
        p.check(
            sql_identifier(name),
            key,
            format!("must be an SQL identifier (a letter or _, then letters, digits, _), got {name:?}"),
        );
    }
}

/// Snowflake mode's account, user, key and polling.
fn snowflake(w: &WarehouseConfig, p: &mut Problems) {
    let sf = &w.snowflake;
    if w.enabled && w.kind == WarehouseKind::Snowflake {
        let env = |key: &str| {
            ENV_OVERRIDES
                .iter()
                .find(|(_, k)| *k == key)
                .map_or(String::new(), |(v, _)| format!(" (or set {v})"))
        };
        for (key, set) in [
            ("warehouse.snowflake.account", sf.account.is_some()),
            ("warehouse.snowflake.user", sf.user.is_some()),
            ("warehouse.snowflake.private_key_path", sf.private_key_path.is_some()),
        ] {
            p.check(
                set,
                key,
                format!(
                    "required when warehouse.kind is \"snowflake\" and the watcher is enabled{}",
                    env(key)
                ),
            );
        }
        p.check(
            sf.poll_interval_ms >= 10_000,
            "warehouse.snowflake.poll_interval_ms",
            format!(
                "must be ≥ 10000 (each poll runs statements on a warehouse), got {}",
                sf.poll_interval_ms
            ),
        );
    }
    if let Some(url) = &sf.api_url {
        p.check(
            url.starts_with("http://") || url.starts_with("https://"),
            "warehouse.snowflake.api_url",
            format!("must start with http:// or https://, got {url:?}"),
        );
    }
}

/// S3, the metrics endpoint, supervision and the runtime.
fn process(c: &Config, p: &mut Problems) {
    let s3 = &c.s3;
    match (&s3.mode, &s3.endpoint) {
        (S3Mode::Endpoint, None) => p.check(
            false,
            "s3.endpoint",
            "required when s3.mode is \"endpoint\" (or set TICKSTREAM_S3_ENDPOINT)".into(),
        ),
        (_, Some(url)) => p.check(
            url.starts_with("http://") || url.starts_with("https://"),
            "s3.endpoint",
            format!("must start with http:// or https://, got {url:?}"),
        ),
        _ => {}
    }
    p.check(!s3.region.is_empty(), "s3.region", "must not be empty".into());

    p.check(
        !c.metrics.admin || c.metrics.listen.ip().is_loopback(),
        "metrics.admin",
        format!(
            "needs metrics.listen on a loopback address (127.0.0.1), got {}",
            c.metrics.listen
        ),
    );
    let sv = &c.supervision;
    p.check(
        sv.window_ms >= 1,
        "supervision.window_ms",
        format!("must be ≥ 1, got {}", sv.window_ms),
    );
    p.check(
        sv.backoff_min_ms >= 1 && sv.backoff_min_ms <= sv.backoff_max_ms,
        "supervision.backoff_min_ms",
        format!(
            "must be ≥ 1 and ≤ backoff_max_ms ({}), got {}",
            sv.backoff_max_ms, sv.backoff_min_ms
        ),
    );
    p.check(
        c.runtime.shutdown_timeout_ms >= 1_000,
        "runtime.shutdown_timeout_ms",
        format!("must be ≥ 1000, got {}", c.runtime.shutdown_timeout_ms),
    );
    p.check(
        c.runtime.startup_timeout_ms >= 1_000,
        "runtime.startup_timeout_ms",
        format!("must be ≥ 1000, got {}", c.runtime.startup_timeout_ms),
    );
    p.check(
        c.runtime.worker_threads <= 512,
        "runtime.worker_threads",
        format!("must be ≤ 512 (0 is one per core), got {}", c.runtime.worker_threads),
    );
}

/// One `host:port` of `bootstrap_servers` (an IPv6 host in brackets, `[::1]:9092`); librdkafka
/// would quietly assume port 9092 for an entry without one, and MSK IAM listens on 9098.
fn bootstrap_entry(entry: &str) -> Result<(), String> {
    let entry = entry.split_once("://").map_or(entry, |(_, rest)| rest);
    let (host, port) = match entry.strip_prefix('[') {
        Some(v6) => match v6.split_once("]:") {
            Some((host, port)) => (host, port),
            None => return Err("needs a port: [IPv6]:PORT".into()),
        },
        None => match entry.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, port),
            Some(_) => return Err("an IPv6 address needs brackets: [IPv6]:PORT".into()),
            None => return Err("needs a port: HOST:PORT (MSK IAM listens on 9098)".into()),
        },
    };
    if host.is_empty() {
        return Err("needs a host before the port".into());
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("port {port:?} is not a number from 1 to 65535")),
    }
}

/// Kafka's topic name rule: 1–249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
/// `[A-Za-z_][A-Za-z0-9_]*`: safe to put into SQL text unquoted.
pub(super) fn sql_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn topic_name(t: &str) -> Result<(), String> {
    let ok = (1..=249).contains(&t.len())
        && t != "."
        && t != ".."
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!("must be 1–249 of a–z A–Z 0–9 . _ -, got {t:?}"))
    }
}

/// S3's bucket name rule: 3–63 of lowercase letters, digits, `-` and `.`, starting and ending
/// with a letter or digit.
fn bucket_name(b: &str) -> Result<(), String> {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && edge_ok(b.chars().next())
        && edge_ok(b.chars().last());
    ok.then_some(())
        .ok_or_else(|| format!("must be 3–63 of a–z 0–9 - . (S3 rules), got {b:?}"))
}

#[cfg(test)]
#[path = "validate_tests.rs"]
pub(super) mod tests;
