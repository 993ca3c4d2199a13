//! The tickstream configurations the bench runs: a sink alone, a producer alone, each against
//! the run's broker and S3 server with only the settings a contender needs.

use crate::infra::Servers;

/// A sink-only configuration with these `[sink]` `settings` besides the topic, flush size and
/// bucket.
pub fn sink_toml_with(servers: &Servers, topic: &str, group: &str, bucket: &str, flush: u64, settings: &str) -> String {
    // Extra `[sink]` lines for experiments (BENCH_SINK_EXTRA), tickstream's defaults otherwise.
    let extra = std::env::var("BENCH_SINK_EXTRA").unwrap_or_default().replace(';', "\n");
    // Only non-default settings are written, so that an older binary can be measured too.
    format!(
        r#"[kafka]
mode = "plaintext"
bootstrap_servers = "{broker}"
create_topics = false
consumer_group = "{group}"
[producer]
enabled = false
[sink]
topics = "{topic}"
"flush.size" = {flush}
"rotate.interval.ms" = 1000
"s3.bucket.name" = "{bucket}"
{settings}
{extra}
[s3]
mode = "endpoint"
endpoint = "{s3}"
create_bucket = true
[metrics]
enabled = false
[warehouse]
enabled = false
[runtime]
data_dir = "data"
progress_interval_ms = 0
"#,
        broker = servers.broker,
        s3 = servers.s3_url,
    )
}

pub fn producer_toml(servers: &Servers, topic: &str, symbols: usize, per_symbol: u64, metrics: u16) -> String {
    let names: Vec<String> = (0..symbols).map(|i| format!("\"S{i:04}\"")).collect();
    format!(
        r#"[kafka]
mode = "plaintext"
bootstrap_servers = "{broker}"
create_topics = false
[producer]
topic = "{topic}"
symbols = [{names}]
ticks_per_second = {rate}
max_ticks_per_symbol = {per_symbol}
[sink]
enabled = false
[metrics]
listen = "127.0.0.1:{metrics}"
[warehouse]
enabled = false
[runtime]
data_dir = "data"
progress_interval_ms = 0
"#,
        broker = servers.broker,
        names = names.join(", "),
        // ≥ 7M ticks/s in all (at most 1M per symbol, the configuration's limit): far above
        // what the broker acknowledges, so the governor never binds (at 1M in all it capped
        // the 7-symbol run once tansu acknowledged 1.18M/s).
        rate = (10_000_000.0 / symbols as f64).clamp(1.0, 1_000_000.0),
    )
}
