//! Tests of `validate`: each problem names its field.

use super::super::parse_str;
use super::*;

/// Every problem, parse or validation, as text (`key: message` lines).
pub(in crate::config) fn problems_text(toml: &str) -> String {
    match parse_str(toml) {
        Ok(c) => validate(&c)
            .iter()
            .map(|p| format!("{}: {}\n", p.key, p.message))
            .collect(),
        Err(p) => format!("{}: {}", p.key, p.message),
    }
}

fn problems(toml: &str) -> Vec<Problem> {
    validate(&parse_str(toml).expect("parses"))
}

#[test]
fn defaults_are_valid() {
    assert_eq!(problems(""), vec![]);
}

#[test]
fn zero_flush_size_is_rejected_with_its_value() {
    let p = problems("[sink]\n\"flush.size\" = 0\n");
    assert!(
        p.contains(&Problem::new("sink.flush.size", "must be ≥ 1, got 0")),
        "{p:?}"
    );
}

#[test]
fn an_offset_flush_interval_over_a_minute_is_rejected_with_its_value() {
    let p = problems("[sink]\n\"offset.flush.interval.ms\" = 600000\n");
    assert_eq!(
        p,
        vec![Problem::new(
            "sink.offset.flush.interval.ms",
            "must be at most 60000 (one minute), got 600000"
        )]
    );
    assert_eq!(problems("[sink]\n\"offset.flush.interval.ms\" = 0\n"), vec![]);
}

#[test]
fn part_sizes_and_schedules_s3_and_connect_cannot_take_are_named() {
    let p = problems("[sink]\n\"s3.part.size\" = 1048576\n\"rotate.schedule.interval.ms\" = 10\n");
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["sink.s3.part.size", "sink.rotate.schedule.interval.ms"], "{p:?}");
    assert!(p[0].message.contains("got 1048576"), "{p:?}");
    assert_eq!(
        problems("[sink]\n\"s3.part.size\" = 5242880\n\"rotate.schedule.interval.ms\" = 3600000\n"),
        vec![]
    );
}

#[test]
fn snowflake_mode_needs_its_account_user_and_key() {
    let p = problems("[warehouse]\nkind = \"snowflake\"\n[warehouse.snowflake]\npoll_interval_ms = 1000\n");
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "warehouse.snowflake.account",
            "warehouse.snowflake.user",
            "warehouse.snowflake.private_key_path",
            "warehouse.snowflake.poll_interval_ms"
        ]
    );
    assert!(p[0].message.contains("TICKSTREAM_SNOWFLAKE_ACCOUNT"), "{p:?}");
    // Without a watcher in this process nothing is needed.
    assert_eq!(problems("[warehouse]\nkind = \"snowflake\"\nenabled = false\n"), vec![]);
}

#[test]
fn every_bootstrap_entry_needs_a_host_and_a_port() {
    let bad = |servers: &str| {
        problems(&format!(
            "[kafka]\nmode = \"plaintext\"\nbootstrap_servers = \"{servers}\"\n"
        ))
    };
    for ok in [
        "127.0.0.1:9092",
        "b-1.msk:9098, b-2.msk:9098",
        "[::1]:9092",
        "PLAINTEXT://k:9092",
    ] {
        assert!(bad(ok).is_empty(), "{ok}: {:?}", bad(ok));
    }
    let p = bad("b-1.msk:9098,b-2.msk");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "kafka.bootstrap_servers");
    assert!(
        p[0].message.contains("\"b-2.msk\"") && p[0].message.contains("needs a port"),
        "{}",
        p[0].message
    );
    assert!(bad("k:http")[0].message.contains("not a number"));
    assert!(bad(":9092")[0].message.contains("needs a host"));
    assert!(bad("::1:9092")[0].message.contains("brackets"));
}

#[test]
fn plaintext_needs_bootstrap_servers() {
    let p = problems("[kafka]\nmode = \"plaintext\"\n");
    assert_eq!(p[0].key, "kafka.bootstrap_servers");
}

#[test]
fn bad_symbols_are_named_by_index() {
    let p = problems("[producer]\nsymbols = [\"AAPL\", \"aapl\", \"AAPL\"]\n");
    let keys: Vec<_> = p.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, vec!["producer.symbols[1]", "producer.symbols[2]"]);
}

#[test]
fn bucket_and_topic_names_follow_the_services_rules() {
    assert!(bucket_name("kafka-msk-snowflake-bucket").is_ok());
    assert!(bucket_name("Upper").is_err());
    assert!(bucket_name("ab").is_err());
    assert!(topic_name("stock-market-data").is_ok());
    assert!(topic_name("a,b").is_err(), "one name: a list is split before");
}

#[test]
fn the_admin_endpoint_is_loopback_only() {
    let p = problems("[metrics]\nadmin = true\nlisten = \"0.0.0.0:9464\"\n");
    assert_eq!(p[0].key, "metrics.admin");
    assert_eq!(problems("[metrics]\nadmin = true\n"), vec![]);
}

#[test]
fn warehouse_names_must_be_sql_identifiers() {
    let p = problems("[warehouse]\ntable = \"ticks; DROP TABLE x\"\n");
    assert_eq!(p[0].key, "warehouse.table");
    assert_eq!(problems("[warehouse]\ntable = \"TICKS_2\"\n"), vec![]);
    assert_eq!(
        problems("[warehouse]\npoll_interval_ms = 0\n")[0].key,
        "warehouse.poll_interval_ms"
    );
}

#[test]
fn endpoint_mode_needs_an_http_endpoint() {
    assert_eq!(problems("[s3]\nmode = \"endpoint\"\n")[0].key, "s3.endpoint");
    assert_eq!(problems("[s3]\nendpoint = \"localhost:9000\"\n")[0].key, "s3.endpoint");
}

#[test]
fn runtime_threads_default_to_one_per_core_and_a_huge_count_is_named() {
    let c = parse_str("").expect("parses");
    assert_eq!(c.runtime.worker_threads, 0);
    assert_eq!(
        [1, 2, 8].map(|cores| c.runtime.workers(cores)),
        [1, 2, 8],
        "one per core"
    );
    let set = parse_str("[runtime]\nworker_threads = 3\n").expect("parses");
    assert_eq!(set.runtime.workers(2), 3, "a set count is kept whatever the cores");
    assert_eq!(
        problems("[runtime]\nworker_threads = 4096\n"),
        vec![Problem::new(
            "runtime.worker_threads",
            "must be ≤ 512 (0 is one per core), got 4096"
        )]
    );
}
