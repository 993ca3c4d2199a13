//! A live trade feed as the operator runs it (the binary, `source = "websocket"`), against a
//! local feed speaking Finnhub's protocol that misbehaves as real feeds do: it drops the
//! connection, closes it for a rate limit, refuses an upgrade with HTTP 429, sends an oversized
//! frame, goes silent (no pong), and sends malformed messages and trades of symbols nobody
//! subscribed to. Every trade it sent on an open connection reaches Kafka, S3 and the warehouse
//! once; the rest are counted; the token never shows in the log. The bucket is read as files
//! (s3s-fs keeps objects as files) and parsed here, not with the sink's reader.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::alerting::S3_CREDENTIALS;
use crate::common::feed::{End, FeedServer, Script, SentTrade};
use crate::common::TestEnv;
use crate::process::Tickstream;
use tickstream::config::source::Source;
use tickstream::config::websocket::{FeedMapping, WebsocketSourceConfig};

const TOKEN: &str = "sk-live-7f3a9c";
const TOKEN_VAR: &str = "TICKSTREAM_TEST_FEED_TOKEN";

/// Every tick in the bucket's JSON files, by volume (each sent trade's volume is unique).
fn ticks_in_bucket(env: &TestEnv) -> BTreeMap<u64, Vec<serde_json::Value>> {
    let mut out: BTreeMap<u64, Vec<serde_json::Value>> = BTreeMap::new();
    let root = env.object_path("topics");
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                    out.entry(v["volume"].as_u64().unwrap()).or_default().push(v);
                }
            }
        }
    }
    out
}

/// A sample of `/metrics` (0 when absent).
fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse::<f64>().ok()))
        .unwrap_or(0.0) as u64
}

/// The pipeline's configuration with the feed at `url` (three symbols, quick pings and
/// reconnects) keeping `buffer_bytes` of trades, and its tables for [`Tickstream::start`].
fn feed_config(env: &TestEnv, url: &str, buffer_bytes: u64) -> (tickstream::config::Config, String) {
    let mut config = env.config(1, 1, 100, 1_000);
    config.producer.source = Source::Websocket;
    config.producer.symbols = vec!["AAPL".into(), "MSFT".into(), "BINANCE:BTCUSDT".into()];
    config.producer.websocket = Some(WebsocketSourceConfig {
        url: url.to_owned(),
        token_env: Some(TOKEN_VAR.into()),
        token_file: None,
        token_param: "token".into(),
        ping_interval_secs: 1,
        dead_after_secs: 3,
        reconnect_min_ms: 100,
        reconnect_max_secs: 1,
        buffer_bytes,
        max_frame_bytes: 4_096,
        mapping: FeedMapping::default(),
    });
    config.kafka.create_topics = false;
    env.kafka
        .create_topic(&env.topic, crate::common::PARTITIONS, 1)
        .expect("topic");
    let mut sections = toml::Table::try_from(&config).expect("the configuration as TOML");
    sections.remove("metrics");
    sections.remove("runtime");
    let sections = toml::to_string(&sections).unwrap();
    (config, sections)
}

fn with_token() -> Vec<(&'static str, &'static str)> {
    let mut envs = S3_CREDENTIALS.to_vec();
    envs.push((TOKEN_VAR, TOKEN));
    envs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_trade_sent_on_an_open_connection_lands_once_whatever_the_feed_does() {
    let env = TestEnv::start().await;
    let script = vec![
        Script::Serve {
            trades: 150,
            end: End::Drop,
        },
        Script::Serve {
            trades: 150,
            end: End::RateLimitClose { secs: 1 },
        },
        Script::Refuse429 { secs: 1 },
        Script::Serve {
            trades: 150,
            end: End::Oversized { bytes: 8_192 },
        },
        Script::Serve {
            trades: 150,
            end: End::Silent,
        },
        Script::Serve {
            trades: 150,
            end: End::Stay,
        },
    ];
    let feed = FeedServer::start(script, TOKEN).await;
    let (config, sections) = feed_config(&env, &feed.url, 1 << 20);
    let t = Tickstream::start("ws-feed", &sections, &with_token());

    let since = Instant::now();
    while !feed.sent.lock().unwrap().done {
        assert!(
            since.elapsed() < Duration::from_secs(90),
            "the script did not finish:\n{}",
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (sent, unsubscribed, malformed) = {
        let s = feed.sent.lock().unwrap();
        (s.trades.clone(), s.unsubscribed, s.malformed)
    };
    assert_eq!(sent.len(), 750, "every trade of the five served connections was sent");
    let landed = loop {
        let landed = ticks_in_bucket(&env);
        if landed.len() >= sent.len() {
            break landed;
        }
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "{} of {} trades in S3:\n{}",
            landed.len(),
            sent.len(),
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };

    // Each trade sent once, as it was sent; nothing else (not the oversized frame's, not ZZZZ's).
    let want: BTreeMap<u64, &SentTrade> = sent.iter().map(|s| (s.volume, s)).collect();
    assert_eq!(landed.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
    for (volume, ticks) in &landed {
        assert_eq!(ticks.len(), 1, "trade {volume} in S3 {} times: {ticks:?}", ticks.len());
        let (tick, trade) = (&ticks[0], want[volume]);
        assert_eq!(tick["symbol"], trade.symbol.as_str());
        assert_eq!(tick["price"].as_f64(), Some(trade.price));
        let at = chrono::DateTime::parse_from_rfc3339(tick["timestamp"].as_str().unwrap()).unwrap();
        assert_eq!(at.timestamp_millis(), trade.t);
    }
    // Kafka and S3 agree record for record, each symbol's seq without a gap.
    let report = env.audit(&config).await;
    assert!(report.ok(), "{report:?}");

    // The rest counted, by reason; each reconnect by why.
    let metrics_text = loop {
        let (_, text) = t.http("GET", "/metrics").await.expect("/metrics answers");
        let done = metric(&text, "tickstream_feed_ignored_total{reason=\"unsubscribed\"}") == unsubscribed
            && metric(&text, "tickstream_feed_ignored_total{reason=\"malformed\"}") == malformed;
        if done || since.elapsed() > Duration::from_secs(120) {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let m = |series: &str| metric(&metrics_text, series);
    assert_eq!(
        m("tickstream_feed_ignored_total{reason=\"unsubscribed\"}"),
        unsubscribed
    );
    assert_eq!(m("tickstream_feed_ignored_total{reason=\"malformed\"}"), malformed);
    assert_eq!(m("tickstream_feed_ignored_total{reason=\"oversized\"}"), 1);
    assert_eq!(m("tickstream_feed_reconnects_total{reason=\"rate_limited\"}"), 2);
    assert_eq!(m("tickstream_feed_reconnects_total{reason=\"dead\"}"), 1);
    assert_eq!(m("tickstream_feed_reconnects_total{reason=\"protocol_error\"}"), 1);
    assert!(m("tickstream_feed_reconnects_total{reason=\"closed\"}") >= 1);
    assert_eq!(m("tickstream_feed_connected"), 1);
    let per_symbol: u64 = ["AAPL", "MSFT", "BINANCE:BTCUSDT"]
        .iter()
        .map(|s| m(&format!("tickstream_feed_trades_total{{symbol=\"{s}\"}}")))
        .sum();
    assert_eq!(
        per_symbol, 750,
        "received trades, by symbol (the oversized frame was never read)"
    );
    // Every trade's latencies, in histograms a dashboard can aggregate.
    for h in ["receive_to_send", "receive_to_ack"] {
        assert_eq!(
            m(&format!("tickstream_feed_{h}_seconds_bucket{{le=\"+Inf\"}}")),
            750,
            "{h}"
        );
    }
    assert_eq!(
        m("tickstream_feed_trades_dropped_total{symbol=\"AAPL\"}"),
        0,
        "Kafka kept up: nothing dropped"
    );

    // A rate limit's wait was kept: the next connection came no sooner than the server asked.
    let accepted = feed.sent.lock().unwrap().accepted.clone();
    for (limited, secs) in [(1, 1), (2, 1)] {
        let gap = accepted[limited + 1] - accepted[limited];
        assert!(
            gap >= Duration::from_secs(secs),
            "connection {} came {gap:?} after the rate limit",
            limited + 1
        );
    }
    // The token went in the query of each upgrade, and never into the log.
    assert!(feed
        .sent
        .lock()
        .unwrap()
        .queries
        .iter()
        .all(|q| q == &format!("token={TOKEN}")));
    let log = t.log();
    assert!(!log.contains(TOKEN), "the token is in the log:\n{log}");
    assert!(log.contains("rate limited"), "{log}");

    // And in the warehouse, each trade once.
    let db = t.data_dir().join("warehouse.db");
    let table = config.warehouse.table_for(&env.topic, Some(&env.topic));
    let distinct = format!("SELECT COUNT(DISTINCT json_extract(RECORD_CONTENT, '$.volume')) FROM {table}");
    let all = format!("SELECT COUNT(*) FROM {table}");
    let count = |sql: &str| {
        tickstream::warehouse::schema::open_read_only(&db)
            .ok()
            .and_then(|db| db.query_row(sql, [], |r| r.get::<_, i64>(0)).ok())
    };
    while count(&all) != Some(750) {
        assert!(
            since.elapsed() < Duration::from_secs(150),
            "{:?} rows loaded",
            count(&all)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(count(&distinct), Some(750));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_kafka_is_down_the_buffer_keeps_the_newest_trades_and_counts_the_ones_dropped() {
    let env = TestEnv::start().await;
    const SENT: u64 = 30_000;
    let feed = FeedServer::start(
        vec![Script::Serve {
            trades: SENT,
            end: End::Stay,
        }],
        TOKEN,
    )
    .await;
    feed.hold.store(true, std::sync::atomic::Ordering::Relaxed);
    // 64 KiB: about 1,600 trades.
    let (config, sections) = feed_config(&env, &feed.url, 64 << 10);
    let t = Tickstream::start("ws-feed-full", &sections, &with_token());
    let since = Instant::now();
    let scrape = || async {
        t.http("GET", "/metrics")
            .await
            .map(|(_, text)| text)
            .unwrap_or_default()
    };
    while metric(&scrape().await, "tickstream_feed_connected") != 1 {
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "never subscribed:\n{}",
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for broker in 1..=3 {
        env.kafka.broker_down(broker).expect("broker down");
    }
    feed.hold.store(false, std::sync::atomic::Ordering::Relaxed);
    let symbols = ["AAPL", "MSFT", "BINANCE:BTCUSDT"];
    let sum = |text: &str, name: &str| -> u64 {
        symbols
            .iter()
            .map(|s| metric(text, &format!("{name}{{symbol=\"{s}\"}}")))
            .sum()
    };
    let text = loop {
        let text = scrape().await;
        if sum(&text, "tickstream_feed_trades_total") == SENT {
            break text;
        }
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "trades not received:\n{}",
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let dropped = sum(&text, "tickstream_feed_trades_dropped_total");
    assert!(dropped > 0, "Kafka down: the buffer overflowed");
    assert!(
        metric(&text, "tickstream_feed_buffer_bytes") <= 64 << 10,
        "the bound holds"
    );
    for broker in 1..=3 {
        env.kafka.broker_up(broker).expect("broker up");
    }
    let landed = loop {
        let landed = ticks_in_bucket(&env);
        if landed.len() as u64 >= SENT - dropped {
            break landed;
        }
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "{} of {} trades in S3 ({dropped} dropped):\n{}",
            landed.len(),
            SENT - dropped,
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    // Every trade received is in S3 once or counted as dropped; the newest were kept.
    assert_eq!(landed.len() as u64 + dropped, SENT);
    assert!(landed.values().all(|ticks| ticks.len() == 1));
    let newest = (SENT - 1_000 + 1)..=SENT;
    assert!(
        newest.clone().all(|v| landed.contains_key(&v)),
        "the last 1,000 trades sent were kept"
    );
    assert!(env.audit(&config).await.ok(), "Kafka and S3 agree");
    assert!(t.log().contains("dropping the oldest trades"), "{}", t.log());
}
