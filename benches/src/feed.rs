//! The live feed (`source = "websocket"`): a local feed in this process sends `rate` trades a
//! second (frames of 10, Finnhub's messages) to `tickstream run`, which produces them to tansu:
//! first alone (the producer is all the process runs), then as the whole pipeline, sinking them
//! to s3s-fs and the SQLite warehouse at the default settings. Measured: receive → Kafka
//! acknowledgement and receive → producer (tickstream's own histograms, a window's buckets
//! only), trade → queryable (each row's `loaded_at` minus the trade's time, which is when the
//! feed sent it), every trade in the warehouse at the end, and the resident set through a broker
//! outage (tansu stopped with SIGSTOP for `outage` while the feed keeps sending).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chaos::monitor::proc_status_kib;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::contenders::{tickstream_proc, Programs};
use crate::infra::Servers;
use crate::measure::scrape;
use crate::report::Samples;

const SYMBOLS: usize = 7;
const TRADES_PER_FRAME: u64 = 10;
const WARM_UP: Duration = Duration::from_secs(10);
const RECOVERY: Duration = Duration::from_secs(20);

/// The feed: one connection at a time; after its subscriptions, `rate` trades a second until
/// `stop`. Returns its address.
async fn start_feed(rate: u64, stop: Arc<AtomicBool>, sent: Arc<AtomicU64>) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                continue;
            };
            let (mut out, mut incoming) = ws.split();
            let mut symbols = Vec::new();
            while symbols.len() < SYMBOLS {
                let Some(Ok(Message::Text(t))) = incoming.next().await else {
                    break;
                };
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                symbols.push(v["symbol"].as_str().unwrap_or_default().to_owned());
            }
            tokio::spawn(async move { while let Some(Ok(_)) = incoming.next().await {} });
            let every = Duration::from_secs_f64(TRADES_PER_FRAME as f64 / rate as f64);
            let mut tick = tokio::time::interval(every);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let now = chrono::Utc::now().timestamp_millis();
                let data: Vec<serde_json::Value> = (0..TRADES_PER_FRAME)
                    .map(|i| {
                        let k = n + i;
                        serde_json::json!({"s": symbols[(k % SYMBOLS as u64) as usize], "p": 100.0 + (k % 400) as f64 / 8.0, "v": k % 1000, "t": now, "c": ["1"]})
                    })
                    .collect();
                let frame = serde_json::json!({"type": "trade", "data": data}).to_string();
                if out.send(Message::text(frame)).await.is_err() {
                    break;
                }
                n += TRADES_PER_FRAME;
                sent.fetch_add(TRADES_PER_FRAME, Ordering::Relaxed);
            }
        }
    });
    Ok(url)
}

/// `series{le="…"} count` lines of a histogram, as (upper bound, cumulative count).
fn buckets(metrics: &str, name: &str) -> Vec<(f64, f64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    metrics
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, count.trim().parse().ok()?))
        })
        .collect()
}

/// The `q` quantile of the counts between two scrapes of one histogram, interpolated within
/// its bucket as Prometheus's `histogram_quantile` does; and the bucket's upper bound.
fn quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> (f64, f64) {
    let counts: Vec<(f64, f64)> = after
        .iter()
        .map(|&(le, n)| (le, n - before.iter().find(|b| b.0 == le).map_or(0.0, |b| b.1)))
        .collect();
    let total = counts.last().map_or(0.0, |c| c.1);
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, n) in &counts {
        if n >= rank && total > 0.0 {
            if le.is_infinite() {
                return (prev.0, le);
            }
            let within = if n > prev.1 {
                (rank - prev.1) / (n - prev.1)
            } else {
                1.0
            };
            return (prev.0 + (le - prev.0) * within, le);
        }
        prev = (le, n);
    }
    (0.0, 0.0)
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(series) && l[series.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn mib(pid: u32) -> f64 {
    proc_status_kib(pid, "VmRSS").unwrap_or(0) as f64 / 1024.0
}

/// Samples RSS every 500 ms for `span`; the samples.
async fn rss_for(pid: u32, span: Duration) -> Vec<f64> {
    let until = Instant::now() + span;
    let mut out = Vec::new();
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(500)).await;
        out.push(mib(pid));
    }
    out
}

/// The configuration: the feed's trades to `topic`; with `sink`, also the sink to S3 and the
/// warehouse at their defaults (flush.size 100, rotate.interval.ms 60 s).
fn config(servers: &Servers, topic: &str, url: &str, port: u16, sink: bool) -> String {
    let symbols: Vec<String> = (0..SYMBOLS).map(|i| format!("\"S{i:04}\"")).collect();
    format!(
        r#"[kafka]
mode = "plaintext"
bootstrap_servers = "{broker}"
create_topics = false
consumer_group = "{topic}"
[kafka.librdkafka]
# Longer than the outage: tansu never expires a member, so a session that timed out during it
# would leave the sink's group waiting for its own old member when the broker comes back.
"session.timeout.ms" = "60000"
[producer]
topic = "{topic}"
source = "websocket"
symbols = [{symbols}]
[producer.websocket]
url = "{url}"
[sink]
enabled = {sink}
topics = "{topic}"
"s3.bucket.name" = "{topic}"
[s3]
mode = "endpoint"
endpoint = "{s3}"
create_bucket = true
[metrics]
listen = "127.0.0.1:{port}"
[warehouse]
enabled = {sink}
[runtime]
data_dir = "data"
progress_interval_ms = 0
shutdown_timeout_ms = 60000
"#,
        broker = servers.broker,
        s3 = servers.s3_url,
        symbols = symbols.join(", "),
    )
}

/// Receive → send and receive → ack percentiles of one window (in ms).
struct Window {
    start: SystemTime,
    end: SystemTime,
    ack: (f64, f64, f64),
    send_p99: f64,
    acks: f64,
}

/// Measures the `span` after now: both histograms' counts between its two scrapes.
async fn window(port: u16, span: Duration) -> anyhow::Result<Window> {
    let (ack, send) = (
        "tickstream_feed_receive_to_ack_seconds",
        "tickstream_feed_receive_to_send_seconds",
    );
    let first = scrape(port)?;
    let start = SystemTime::now();
    let (a0, s0) = (buckets(&first, ack), buckets(&first, send));
    tokio::time::sleep(span).await;
    let last = scrape(port)?;
    let (a1, s1) = (buckets(&last, ack), buckets(&last, send));
    let w = Window {
        start,
        end: SystemTime::now(),
        ack: (
            quantile(&a0, &a1, 0.5).0,
            quantile(&a0, &a1, 0.99).0,
            quantile(&a0, &a1, 0.99).1,
        ),
        send_p99: quantile(&s0, &s1, 0.99).0,
        acks: a1.last().map_or(0.0, |c| c.1) - a0.last().map_or(0.0, |c| c.1),
    };
    Ok(w)
}

/// Starts the feed and `tickstream run` on `topic`; returns the process, its metrics port and
/// the feed's stop flag and count of trades sent, once tickstream has subscribed and warmed up.
async fn start(
    servers: &Servers,
    p: &Programs,
    rate: u64,
    topic: &str,
    sink: bool,
) -> anyhow::Result<(
    chaos::procs::Proc,
    u16,
    Arc<AtomicBool>,
    Arc<AtomicU64>,
    std::path::PathBuf,
)> {
    servers.create_topic(topic)?;
    let dir = servers.dir.join(topic);
    std::fs::create_dir_all(&dir)?;
    let (stop, sent) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let url = start_feed(rate, stop.clone(), sent.clone()).await?;
    let port = chaos::procs::free_port()?;
    let path = dir.join("feed.toml");
    std::fs::write(&path, config(servers, topic, &url, port, sink))?;
    let mut app = tickstream_proc(p, &dir, &path);
    app.start()?;
    let since = Instant::now();
    while metric(&scrape(port)?, "tickstream_feed_connected") < 1.0 {
        anyhow::ensure!(
            since.elapsed() < Duration::from_secs(120),
            "tickstream never subscribed to the feed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(WARM_UP).await;
    Ok((app, port, stop, sent, dir))
}

/// Resident set through a broker outage of `span` and the recovery after it (MiB): at its
/// start, at its end, the most during it and after, and at the end of the recovery.
struct Outage {
    start: f64,
    end: f64,
    max: f64,
    after: f64,
}

async fn outage(servers: &Servers, pid: u32, span: Duration) -> anyhow::Result<Outage> {
    let start = mib(pid);
    servers.broker_signal("STOP")?;
    let during = rss_for(pid, span).await;
    let end = mib(pid);
    servers.broker_signal("CONT")?;
    let recovery = rss_for(pid, RECOVERY).await;
    Ok(Outage {
        start,
        end,
        max: during.iter().chain(&recovery).copied().fold(0.0, f64::max),
        after: recovery.last().copied().unwrap_or(0.0),
    })
}

impl Outage {
    fn shown(&self) -> String {
        format!(
            "RSS {:.0} MiB at the outage's start, {:.0} at its end, max {:.0} during it and {:.0} s after, {:.0} at the end",
            self.start,
            self.end,
            self.max,
            RECOVERY.as_secs_f64(),
            self.after
        )
    }

    fn add(&self, key: &str, samples: &mut Samples) {
        samples.add(format!("{key}.rss_outage_start_mib"), self.start);
        samples.add(format!("{key}.rss_outage_end_mib"), self.end);
        samples.add(format!("{key}.rss_outage_max_mib"), self.max);
        samples.add(format!("{key}.rss_after_mib"), self.after);
    }
}

/// One run: the producer alone (the feed to Kafka, nothing else in the process) for `steady`,
/// then the whole pipeline for `steady` and a broker outage of `outage`.
pub async fn scenario(
    servers: &Servers,
    p: &Programs,
    rate: u64,
    (steady, outage): (Duration, Duration),
    run: usize,
    samples: &mut Samples,
) -> anyhow::Result<()> {
    crate::measure::settle();
    let (mut app, port, stop, _, _) = start(servers, p, rate, &format!("feed-alone-r{run}"), false).await?;
    let alone = window(port, steady).await?;
    let pid = app.pid().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    let alone_outage = self::outage(servers, pid, outage).await?;
    let text = scrape(port)?;
    stop.store(true, Ordering::Relaxed);
    app.terminate(Duration::from_secs(30));
    eprintln!(
        "  live feed at {rate}/s, producer alone: receive->ack p50 {:.2} ms, p99 {:.2} ms (bucket <= {:.1} ms), \
         receive->send p99 {:.2} ms; {:.0} acks in the {:.0} s window; {}; {:.0} dropped",
        alone.ack.0 * 1e3,
        alone.ack.1 * 1e3,
        alone.ack.2 * 1e3,
        alone.send_p99 * 1e3,
        alone.acks,
        steady.as_secs_f64(),
        alone_outage.shown(),
        metric(&text, "tickstream_feed_trades_dropped_total"),
    );
    alone_outage.add("feed.alone", samples);
    samples.add("feed.alone.receive_to_ack.p50_ms", alone.ack.0 * 1e3);
    samples.add("feed.alone.receive_to_ack.p99_ms", alone.ack.1 * 1e3);
    samples.add("feed.alone.receive_to_send.p99_ms", alone.send_p99 * 1e3);

    crate::measure::settle();
    let (mut app, port, stop, sent, dir) = start(servers, p, rate, &format!("feed-pipeline-r{run}"), true).await?;
    let pid = app.pid().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    let steady_mib = mib(pid);
    let w = window(port, steady).await?;
    // The window's last trades reach the warehouse before the broker stops.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let piped = self::outage(servers, pid, outage).await?;
    stop.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let text = scrape(port)?;
    let (received, dropped) = (
        metric(&text, "tickstream_feed_trades_total"),
        metric(&text, "tickstream_feed_trades_dropped_total"),
    );
    app.terminate(Duration::from_secs(90));
    let db = dir.join("data/warehouse.db");
    let loaded = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?.query_row(
        "SELECT COUNT(*) FROM STOCK_MARKET_DATA",
        [],
        |r| r.get::<_, i64>(0),
    )? as f64;
    let queryable = crate::latency::percentiles(crate::latency::tick_to_queryable_between(&db, w.start, w.end)?);
    eprintln!(
        "  live feed at {rate}/s, whole pipeline: receive->ack p50 {:.2} ms, p99 {:.2} ms, receive->send p99 {:.2} ms; \
         trade->queryable p50/p99 {:.2}/{:.2} s ({} rows of {:.0} acked in the window); RSS {steady_mib:.0} MiB at the \
         window's start; {}; {} trades sent, {received:.0} received, {dropped:.0} dropped, {loaded:.0} rows in the \
         warehouse at the end",
        w.ack.0 * 1e3,
        w.ack.1 * 1e3,
        w.send_p99 * 1e3,
        queryable.p50,
        queryable.p99,
        queryable.n,
        w.acks,
        piped.shown(),
        sent.load(Ordering::Relaxed),
    );
    samples.add("feed.pipeline.receive_to_ack.p50_ms", w.ack.0 * 1e3);
    samples.add("feed.pipeline.receive_to_ack.p99_ms", w.ack.1 * 1e3);
    samples.add("feed.pipeline.receive_to_send.p99_ms", w.send_p99 * 1e3);
    samples.add("feed.pipeline.trade_to_queryable.p50_s", queryable.p50);
    samples.add("feed.pipeline.trade_to_queryable.p99_s", queryable.p99);
    samples.add("feed.pipeline.rss_window_start_mib", steady_mib);
    piped.add("feed.pipeline", samples);
    samples.add("feed.pipeline.dropped", dropped);
    samples.add("feed.pipeline.rows_missing_from_warehouse", received - dropped - loaded);
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_the_window_interpolate_within_the_bucket() {
        let before = [(0.001, 10.0), (0.002, 10.0), (f64::INFINITY, 10.0)];
        let after = [(0.001, 60.0), (0.002, 110.0), (f64::INFINITY, 110.0)];
        // 100 in the window: 50 under 1 ms, 50 in (1, 2] ms.
        let (p50, b50) = quantile(&before, &after, 0.5);
        assert_eq!((p50, b50), (0.001, 0.001));
        let (p99, b99) = quantile(&before, &after, 0.99);
        assert!((p99 - 0.00198).abs() < 1e-9, "{p99}");
        assert_eq!(b99, 0.002);
        let text = "x_bucket{le=\"0.001\"} 3\nx_bucket{le=\"+Inf\"} 4\nx_sum 1\n";
        assert_eq!(buckets(text, "x"), vec![(0.001, 3.0), (f64::INFINITY, 4.0)]);
    }
}
