//! librdkafka properties shared by every client, per connection mode.

use rdkafka::ClientConfig;

use crate::config::{KafkaConfig, KafkaMode};

/// Properties every client (producer, consumer, admin) gets: where the brokers are, how to
/// authenticate, and the operator's `[kafka.librdkafka]` overrides (applied last).
pub fn base(kafka: &KafkaConfig, bootstrap_servers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap_servers);
    c.set("client.id", "tickstream");
    match kafka.mode {
        KafkaMode::Embedded | KafkaMode::Plaintext => {
            c.set("security.protocol", "plaintext");
        }
        KafkaMode::MskIam => {
            c.set("security.protocol", "SASL_SSL");
            c.set("sasl.mechanism", "OAUTHBEARER");
        }
    }
    with_overrides(c, kafka)
}

/// The producer: idempotent, acks from all in-sync replicas, retried by librdkafka without a
/// deadline (a tick is never dropped for being late), a bounded local queue (backpressure),
/// and Java's murmur2 partitioner so a symbol lands where a Java client would put it.
pub fn producer(kafka: &KafkaConfig, bootstrap_servers: &str) -> ClientConfig {
    let mut c = base(kafka, bootstrap_servers);
    c.set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "0")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "100000")
        .set("queue.buffering.max.kbytes", "65536")
        .set("compression.type", "lz4");
    with_overrides(c, kafka)
}

/// How often the sink consumer's librdkafka delivers statistics (lag, the group's join state).
pub const CONSUMER_STATS_INTERVAL_MS: u64 = 5_000;

/// The sink consumer: manual offset management (commits happen only after an upload), start at
/// the beginning of a partition that has no committed offset, and incremental rebalancing
/// (`cooperative-sticky`: a member joining or leaving moves only the partitions that change
/// owner; every other sink keeps its files and timers). `partition.assignment.strategy = "range"`
/// under `[kafka.librdkafka]` selects the eager protocol (every member must use the same kind).
pub fn consumer(kafka: &KafkaConfig, bootstrap_servers: &str) -> ClientConfig {
    let mut c = base(kafka, bootstrap_servers);
    c.set("group.id", &kafka.consumer_group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("statistics.interval.ms", CONSUMER_STATS_INTERVAL_MS.to_string())
        .set("session.timeout.ms", "10000")
        .set("max.poll.interval.ms", "300000")
        .set("partition.assignment.strategy", "cooperative-sticky");
    if let Some(id) = &kafka.group_instance_id {
        c.set("group.instance.id", id);
    }
    if kafka.mode == KafkaMode::Embedded {
        // librdkafka's mock cluster answers an empty fetch only after the whole
        // fetch.wait.max.ms (500 ms by default): it does not wake the fetch when a record
        // arrives, as a real broker does. So a tick produced just after an empty fetch reached
        // its sink up to 500 ms late (p99 tick→S3 was rotate.interval + 360 ms).
        c.set("fetch.wait.max.ms", "100");
    }
    with_overrides(c, kafka)
}

/// Applies the operator's `[kafka.librdkafka]` properties last, so they win over ours.
fn with_overrides(mut c: ClientConfig, kafka: &KafkaConfig) -> ClientConfig {
    for (k, v) in &kafka.librdkafka {
        c.set(k, v);
    }
    c
}
