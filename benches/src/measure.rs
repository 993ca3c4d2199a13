//! Yardsticks shared by every contender: committed offsets of a group, topic watermarks, rates
//! sampled from them, and the broker's ceilings.

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::infra::PARTITIONS;

/// Reads a group's committed offsets on a topic, over one client kept for the whole
/// measurement (a client per sample took tens of milliseconds to connect, and a sample's time
/// is the end of the measured span). It never joins the group.
pub struct Committed {
    client: BaseConsumer,
    partitions: TopicPartitionList,
}

impl Committed {
    pub fn new(broker: &str, group: &str, topic: &str) -> anyhow::Result<Self> {
        let client: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", broker)
            .set("group.id", group)
            .create()?;
        let mut partitions = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            partitions.add_partition(topic, p);
        }
        Ok(Self { client, partitions })
    }

    /// Sum of the committed offsets (0 for partitions never committed).
    pub fn sum(&self) -> anyhow::Result<i64> {
        let got = self
            .client
            .committed_offsets(self.partitions.clone(), Duration::from_secs(10))?;
        Ok(got
            .elements()
            .iter()
            .map(|e| match e.offset() {
                Offset::Offset(o) if o > 0 => o,
                _ => 0,
            })
            .sum())
    }
}

/// The value of counter `name` on a `/metrics` endpoint at 127.0.0.1:`port` (0 while it is not
/// up yet). tansu's high watermarks lag behind what it acknowledged, so the producer is measured
/// by the acknowledgements it counted.
pub fn scrape_counter(port: u16, name: &str) -> anyhow::Result<i64> {
    let body = scrape(port)?;
    Ok(body
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as i64)
}

/// The text of `/metrics` on 127.0.0.1:`port` (empty while nothing listens there).
pub fn scrape(port: u16) -> anyhow::Result<String> {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return Ok(String::new());
    };
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(conn, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut body = String::new();
    conn.read_to_string(&mut body)?;
    Ok(body)
}

/// Shortest span a sampled rate is taken over: shorter, and the sampling is the figure.
const MIN_SPAN: Duration = Duration::from_secs(1);
/// How often progress is sampled. Every sample is a request to the measured setup (an
/// OffsetFetch to the broker, a /metrics render in tickstream): at 10 ms the broker served
/// tickstream's flush.size 100 sink 3-4% slower (134.5k and 136.2k against 140.8k and 141.1k
/// rec/s, alternating runs), so samples stay 100 ms apart and the end is interpolated instead.
const SAMPLING: Duration = Duration::from_millis(100);
/// How often progress is sampled where the span's ends are: before the first progress (outside
/// the measured span) and once the rate so far puts `total` within two samples. A sink commits a
/// whole file's records at once, so its progress moves in steps; sampled every 100 ms, the first
/// and the last step were each seen up to 100 ms late, and a 300,000-record run's rate (~2.1 s)
/// came out in steps of 5% (127k, 135k, 142k records/s) by how many samples it spanned.
const FINE: Duration = Duration::from_millis(10);

/// How long to wait before the next sample: see [`FINE`].
fn pause(first: Option<(Instant, i64)>, now: Instant, value: i64, total: i64) -> Duration {
    let Some((t0, v0)) = first else {
        return FINE;
    };
    let (secs, gained) = (now.duration_since(t0).as_secs_f64(), value - v0);
    if secs <= 0.0 || gained <= 0 {
        return SAMPLING;
    }
    let left = (total - value) as f64 / (gained as f64 / secs);
    if left < 2.0 * SAMPLING.as_secs_f64() {
        FINE
    } else {
        SAMPLING
    }
}

/// Polls `progress` until it reaches `total`; the rate is measured from the first progress seen
/// (so process start-up and group joins are not counted) to the moment `total` was reached,
/// interpolated between the last two samples.
pub fn rate_until(
    total: i64,
    limit: Duration,
    mut progress: impl FnMut() -> anyhow::Result<i64>,
) -> anyhow::Result<Rate> {
    let give_up = Instant::now() + limit;
    let mut first: Option<(Instant, i64)> = None;
    let mut last: Option<(Instant, i64)> = None;
    loop {
        let now_value = progress()?;
        let now = Instant::now();
        if first.is_none() && now_value > 0 {
            first = Some((now, now_value));
        }
        if now_value >= total {
            let (t0, v0) = first.unwrap_or((now, 0));
            let end = match last {
                Some(prev) if prev.0 >= t0 => crossing(prev, (now, now_value), total),
                _ => now,
            };
            let secs = end.duration_since(t0).as_secs_f64();
            anyhow::ensure!(
                secs >= MIN_SPAN.as_secs_f64(),
                "{total} records went by in {:.0} ms, too few for a rate sampled every {SAMPLING:?}: \
                 measure more (--per-partition, --produce)",
                secs * 1000.0
            );
            return Ok(Rate {
                records: (total - v0) as f64,
                secs,
            });
        }
        anyhow::ensure!(now < give_up, "stuck at {now_value} of {total} after {limit:?}");
        last = Some((now, now_value));
        std::thread::sleep(pause(first, now, now_value, total));
    }
}

/// When progress reached `total` between samples `before` (below it) and `after` (at or above
/// it), at the rate between the two.
fn crossing(before: (Instant, i64), after: (Instant, i64), total: i64) -> Instant {
    let (span, gained) = (after.0.duration_since(before.0), after.1 - before.1);
    if gained <= 0 {
        return after.0;
    }
    let share = ((total - before.1) as f64 / gained as f64).clamp(0.0, 1.0);
    before.0 + span.mul_f64(share)
}

/// Records over a span of time.
pub struct Rate {
    pub records: f64,
    pub secs: f64,
}

impl Rate {
    pub fn per_sec(&self) -> f64 {
        self.records / self.secs
    }
}

/// Writes every dirty page to disk (`sync`) so that a measurement does not pay for the
/// writeback of the one before, or of a removed directory. Removing the previous run's files
/// just before a flush.size 100 run, without it, made the s3s-fs server spend ~5x the CPU per
/// PUT (25.8 against 5.5 CPU s per million records) and the sink ran at a third of its speed.
pub fn settle() {
    let started = std::time::Instant::now();
    match std::process::Command::new("sync").status() {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("  warning: sync exited with {s}"),
        Err(e) => eprintln!("  warning: could not run sync: {e}"),
    }
    let took = started.elapsed();
    if took > std::time::Duration::from_secs(1) {
        eprintln!("  (sync took {:.1} s)", took.as_secs_f64());
    }
}

/// A bare consumer reading the whole topic: the broker's ceiling in this run.
pub fn broker_ceiling(broker: &str, topic: &str, total: i64) -> anyhow::Result<Rate> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("group.id", "bench-ceiling")
        .set("enable.auto.commit", "false")
        .set("fetch.max.bytes", "52428800")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    c.assign(&tpl)?;
    let mut n = 0i64;
    let mut started: Option<Instant> = None;
    let give_up = Instant::now() + Duration::from_secs(300);
    while n < total {
        anyhow::ensure!(Instant::now() < give_up, "the bare consumer read {n} of {total}");
        if let Some(Ok(_)) = c.poll(Duration::from_millis(100)) {
            started.get_or_insert_with(Instant::now);
            n += 1;
        }
    }
    Ok(Rate {
        records: total as f64,
        secs: started.map_or(0.001, |s| s.elapsed().as_secs_f64()),
    })
}

/// A bare producer with tickstream's producer settings (idempotent, acks=all, lz4, 5 ms
/// linger, murmur2 partitioning by symbol) sending `total` ready-made ticks of `symbols`
/// symbols as fast as the broker acknowledges them: the broker's ingest ceiling in this run.
/// Timed like tickstream's producer: from the first acknowledgement to the last.
pub fn ingest_ceiling(broker: &str, topic: &str, symbols: usize, total: u64) -> anyhow::Result<Rate> {
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
    use tickstream::producer::walk::PriceWalk;
    use tickstream::record::tick::{timestamp_now, Tick};
    let acks = AckClock::default();
    let producer: ThreadedProducer<AckClock> = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .set("queue.buffering.max.messages", "100000")
        .set("queue.buffering.max.kbytes", "65536")
        .create_with_context(acks.clone())?;
    // Ready-made payloads, so the figure is the broker's and librdkafka's, not tick making.
    let names: Vec<String> = (0..symbols).map(|i| format!("S{i:04}")).collect();
    let payloads: Vec<Vec<u8>> = names
        .iter()
        .map(|s| {
            let q = PriceWalk::new(7, s).step();
            serde_json::to_vec(&Tick {
                symbol: s.clone(),
                price: q.price,
                volume: q.volume,
                change: q.change,
                timestamp: timestamp_now(),
                exchange: "NASDAQ".into(),
                run_id: "ceiling".into(),
                seq: q.seq,
            })
        })
        .collect::<Result<_, _>>()?;
    for i in 0..total as usize {
        let s = i % symbols;
        let mut record = BaseRecord::to(topic).key(&names[s]).payload(&payloads[s]);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(120))?;
    let Acks {
        first,
        last,
        count: acked,
    } = *acks.0.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    anyhow::ensure!(acked == total, "the bare producer had {acked} of {total} acknowledged");
    let (Some(first), Some(last)) = (first, last) else {
        anyhow::bail!("no acknowledgement")
    };
    Ok(Rate {
        records: (total - 1) as f64,
        secs: last.duration_since(first).as_secs_f64().max(0.001),
    })
}

/// First and last acknowledgement, and how many.
#[derive(Clone, Copy, Default)]
struct Acks {
    first: Option<Instant>,
    last: Option<Instant>,
    count: u64,
}

/// The bare producer's delivery callback: stamps each acknowledgement into shared [`Acks`].
#[derive(Clone, Default)]
struct AckClock(std::sync::Arc<std::sync::Mutex<Acks>>);

impl rdkafka::ClientContext for AckClock {}

impl rdkafka::producer::ProducerContext for AckClock {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &rdkafka::message::DeliveryResult<'_>, _: ()) {
        if result.is_ok() {
            if let Ok(mut a) = self.0.lock() {
                let now = Instant::now();
                a.first.get_or_insert(now);
                a.last = Some(now);
                a.count += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_come_often_only_at_the_ends_of_the_span() {
        let t = Instant::now();
        let at = |ms| t + Duration::from_millis(ms);
        assert_eq!(pause(None, at(0), 0, 300), FINE, "before the first progress");
        let first = Some((at(0), 30));
        assert_eq!(pause(first, at(1_000), 130, 300), SAMPLING, "1.7 s to go");
        assert_eq!(pause(first, at(1_000), 240, 300), SAMPLING, "290 ms to go");
        assert_eq!(pause(first, at(1_000), 270, 300), FINE, "125 ms to go");
        assert_eq!(pause(first, at(1_000), 290, 300), FINE, "38 ms to go");
        assert_eq!(
            pause(first, at(1_000), 30, 300),
            SAMPLING,
            "no progress since the first"
        );
        assert_eq!(pause(first, at(0), 30, 300), SAMPLING);
    }

    #[test]
    fn the_end_is_interpolated_between_the_samples_around_it() {
        let t = Instant::now();
        let at = |ms| t + Duration::from_millis(ms);
        assert_eq!(crossing((at(0), 900), (at(100), 1_100), 1_000), at(50));
        assert_eq!(crossing((at(0), 900), (at(100), 1_000), 1_000), at(100));
        assert_eq!(
            crossing((at(0), 999), (at(100), 1_999), 1_000),
            at(0) + Duration::from_micros(100)
        );
        assert_eq!(
            crossing((at(0), 1_000), (at(100), 1_000), 1_000),
            at(100),
            "no progress: the later sample"
        );
    }
}
