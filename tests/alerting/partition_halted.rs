//! A record the sink cannot write under `errors.tolerance = "none"`: a sink-only `tickstream
//! run` against the test's mock cluster, a plain client writes good records and then `{oops` to
//! partition 0. The partition halts there and TickstreamPartitionHalted fires for that topic and
//! partition alone; the other partitions go on. It stays firing while the bad record waits in
//! Kafka (a restart halts at it again), so the test does not wait for it to clear.

use std::time::{Duration, Instant};

use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use tickstream::kafka::EmbeddedKafka;

use super::Fired;
use crate::process::Tickstream;
use crate::prometheus::Prometheus;

const TOPIC: &str = "halting";

pub fn start(kafka: &EmbeddedKafka) -> Tickstream {
    kafka.create_topic(TOPIC, 3, 1).expect("topic");
    Tickstream::start(
        "halted",
        &format!(
            "[kafka]\nmode = \"plaintext\"\nbootstrap_servers = \"{}\"\ncreate_topics = false\nconsumer_group = \"halted\"\n\n\
             [producer]\nenabled = false\n\n[sink]\ntopics = \"{TOPIC}\"\n\"rotate.interval.ms\" = 1000\n\
             \"errors.tolerance\" = \"none\"\n\n[warehouse]\nenabled = false\n",
            kafka.bootstrap_servers(),
        ),
        &[],
    )
}

fn send(kafka: &EmbeddedKafka, values: &[&str]) {
    let p: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka.bootstrap_servers())
        .create()
        .expect("a producer");
    for v in values {
        p.send(BaseRecord::<str, str>::to(TOPIC).partition(0).key("k").payload(v))
            .map_err(|(e, _)| e)
            .expect("queued");
    }
    p.flush(Duration::from_secs(30)).expect("flushed");
}

pub async fn run(prom: &Prometheus, kafka: &EmbeddedKafka) -> Vec<Fired> {
    // The gauge is exported at 0 once the partition's sink runs: Prometheus has seen it healthy.
    prom.until(
        r#"tickstream_sink_halted{scenario="halted", topic="halting", partition="0"}"#,
        Duration::from_secs(120),
        |v| v == 0.0,
    )
    .await;
    send(
        kafka,
        &[
            r#"{"symbol":"AAPL","price":1.0}"#,
            "{oops",
            r#"{"symbol":"AAPL","price":2.0}"#,
        ],
    );
    let sent = Instant::now();
    let (firing, _) = prom
        .until_firing("TickstreamPartitionHalted", "halted", Duration::from_secs(60))
        .await;
    let fired = sent.elapsed();
    assert!(
        firing
            .iter()
            .all(|a| a.label("topic") == TOPIC && a.label("partition") == "0"),
        "only the partition with the bad record: {firing:?}"
    );
    vec![Fired {
        alert: "TickstreamPartitionHalted",
        provoked_by: "errors.tolerance = none and `{oops` written to partition 0 by a plain client",
        fired_after: fired,
        cleared_after: None,
    }]
}
