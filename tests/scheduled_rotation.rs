//! `rotate.schedule.interval.ms` run as the operator runs it (the binary): files close at each
//! wall-clock boundary with no record arriving (`flush.size` and `rotate.interval.ms` never close
//! one here), and every tick lands exactly once across a SIGKILL in the middle of the stream.
//! (The Confluent sink gives up exactly-once under scheduled rotation: its issue #359.)

use std::time::{Duration, Instant};

use rdkafka::producer::{BaseRecord, Producer};

use crate::alerting::S3_CREDENTIALS;
use crate::any_records::producer;
use crate::common::{assert_ticks_per_symbol, records_in_s3, TestEnv};
use crate::process::Tickstream;
use tickstream::s3::SegmentStore;

const SYMBOLS: [&str; 3] = ["SYM0", "SYM1", "SYM2"];

fn tick(symbol: &str, seq: u64) -> Vec<u8> {
    crate::common::tick_json(symbol, seq, "scheduled-rotation")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_close_on_the_clock_and_every_tick_lands_once_across_a_kill() {
    let env = TestEnv::start().await;
    let mut config = env.config(SYMBOLS.len(), 1, 100_000, 3_600_000);
    config.producer.enabled = false;
    config.kafka.create_topics = false;
    config.sink.rotate_schedule_interval_ms = 1_000;
    config.warehouse.enabled = false;
    env.kafka
        .create_topic(&env.topic, crate::common::PARTITIONS, 1)
        .expect("topic");
    let mut sections = toml::Table::try_from(&config).expect("the configuration as TOML");
    sections.remove("metrics");
    sections.remove("runtime");
    let mut t = Tickstream::start("scheduled", &toml::to_string(&sections).unwrap(), &S3_CREDENTIALS);
    t.until_logged("sink attached", Duration::from_secs(60)).await;

    let store = env.store().await;
    let prefix = format!("topics/{}/", env.topic);
    let p = producer(env.kafka.bootstrap_servers());
    let (rounds, per_round) = (24u64, 5u64);
    for round in 0..rounds {
        for symbol in SYMBOLS {
            for i in 0..per_round {
                let value = tick(symbol, round * per_round + i);
                p.send(BaseRecord::<str, [u8]>::to(&env.topic).key(symbol).payload(&value))
                    .map_err(|(e, _)| e)
                    .expect("queued");
            }
        }
        p.flush(Duration::from_secs(30)).expect("flushed");
        if round == rounds / 2 {
            // Mid-stream, once the clock has closed files: kill -9, and start again.
            let since = Instant::now();
            while store.list(&prefix, None).await.map_or(0, |k| k.len()) < 3 {
                assert!(since.elapsed() < Duration::from_secs(30), "no file closed on the clock");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            t.kill();
            t.restart();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let total = rounds * per_round * SYMBOLS.len() as u64;
    let since = Instant::now();
    let report = loop {
        let report = env.audit(&config).await;
        if report.ok() && records_in_s3(&report) == total {
            break report;
        }
        assert!(
            since.elapsed() < Duration::from_secs(90),
            "not every tick landed: {report:?}\n{}",
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_ticks_per_symbol(&report, SYMBOLS.len(), rounds * per_round);
    let files = store.list(&prefix, None).await.expect("list");
    assert!(
        files.len() >= 6,
        "files closed by the clock alone (flush.size 100,000, rotate.interval.ms an hour): {files:?}"
    );
    // A boundary with nothing open writes nothing: no file is empty.
    for key in &files {
        assert!(!store.get(key).await.expect("get").is_empty(), "{key} is empty");
    }
}
