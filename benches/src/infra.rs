//! The servers one bench run uses: tansu (`memory://`) and s3s-fs, as separate processes on
//! 127.0.0.1, and the topics it fills.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chaos::procs::{self, free_port, Proc};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

pub const ACCESS_KEY: &str = "bench";
pub const SECRET_KEY: &str = "bench-secret-key";
pub const PARTITIONS: i32 = 3;
/// The pre-filled topic of JSON ticks (or the seed's records).
pub const TOPIC: &str = "ticks";
/// The pre-filled topic of the same ticks in Avro.
pub const AVRO_TOPIC: &str = "ticks-avro";
/// A topic left empty: the sink's start-up is measured on it.
pub const EMPTY_TOPIC: &str = "empty";

/// The broker and the S3 server of this run; stopped on drop.
pub struct Servers {
    pub broker: String,
    pub s3_url: String,
    pub dir: PathBuf,
    /// The Schema Registry the Avro contenders read the tick's schema from.
    pub registry: String,
    _tansu: Proc,
    _s3: Proc,
    /// The S3 server's objects when they live outside `dir` (removed on drop).
    s3_root: Option<PathBuf>,
}

/// Where the S3 server of a run keeps its objects: `<dir>/s3`, or with `memory_root`, a fresh
/// directory under it that `<dir>/s3` links to.
///
/// On this machine's ext4 (an SSD with `discard`), creating files where many were deleted in
/// the last minutes is slow: the kernel's inode allocator skips recently deleted inodes
/// (`recently_deleted`, `find_inode_bit` and a contended rwsem in s3s-fs's profile). Runs
/// that met such a block group made s3s-fs spend 20–28 CPU s per million records on the PUTs
/// of flush.size 100, against 5–6 otherwise, and took the sink from ~125k to ~50k records/s;
/// which runs met one was down to where the directory landed. S3 is not a local disk, so the
/// bench keeps the objects in memory (tmpfs) by default, for every contender alike.
fn s3_dir(dir: &Path, memory_root: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    let Some(root) = memory_root else {
        std::fs::create_dir_all(dir.join("s3"))?;
        return Ok(None);
    };
    let name = dir
        .file_name()
        .map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned());
    let objects = root.join(format!("{name}-s3"));
    let _ = std::fs::remove_dir_all(&objects);
    std::fs::create_dir_all(&objects)?;
    std::fs::create_dir_all(dir)?;
    let _ = std::fs::remove_file(dir.join("s3"));
    std::os::unix::fs::symlink(&objects, dir.join("s3"))?;
    Ok(Some(objects))
}

impl Drop for Servers {
    fn drop(&mut self) {
        if let Some(root) = &self.s3_root {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

impl Servers {
    /// Starts tansu and s3s-fs for a run in `dir`; the S3 objects go under `memory_root` when
    /// given (see [`s3_dir`]).
    pub fn start(dir: &Path, memory_root: Option<&Path>) -> anyhow::Result<Self> {
        let s3_root = s3_dir(dir, memory_root)?;
        let (s3_port, broker_port) = (free_port()?, free_port()?);
        let mut s3 = procs::s3s_fs(dir, s3_port, ACCESS_KEY, SECRET_KEY);
        s3.start()?;
        s3.wait_listening(SocketAddr::from(([127, 0, 0, 1], s3_port)), Duration::from_secs(30))?;
        let mut tansu = procs::tansu(dir, broker_port, "memory://tansu/");
        tansu.start()?;
        tansu.wait_listening(SocketAddr::from(([127, 0, 0, 1], broker_port)), Duration::from_secs(60))?;
        Ok(Self {
            broker: format!("127.0.0.1:{broker_port}"),
            s3_url: format!("http://127.0.0.1:{s3_port}"),
            dir: dir.to_owned(),
            registry: crate::registry::start()?,
            _tansu: tansu,
            _s3: s3,
            s3_root,
        })
    }

    /// The broker's CPU seconds so far: it shares the 2 cores with whoever produces to it.
    pub fn broker_cpu_secs(&self) -> f64 {
        self._tansu.pid().and_then(crate::usage::cpu_secs).unwrap_or(0.0)
    }

    /// Sends the broker a signal (`STOP`: it stops answering, an outage that keeps its data;
    /// `CONT`: it goes on).
    pub fn broker_signal(&self, sig: &str) -> anyhow::Result<()> {
        self._tansu.signal(sig).map_err(anyhow::Error::from)
    }

    /// The S3 server's CPU seconds so far: at small flush sizes it does as much work as a sink.
    pub fn s3_cpu_secs(&self) -> f64 {
        self._s3.pid().and_then(crate::usage::cpu_secs).unwrap_or(0.0)
    }

    /// Creates `topic` with [`PARTITIONS`] partitions.
    pub fn create_topic(&self, topic: &str) -> anyhow::Result<()> {
        let listener = format!("tcp://{}", self.broker);
        procs::tansu_create_topic(&self.dir, &listener, topic, PARTITIONS as u32).map_err(anyhow::Error::msg)?;
        Ok(())
    }

    /// Fills `topic` with `per_partition` records of `shape` in each partition; returns the time
    /// taken.
    pub fn fill(&self, topic: &str, per_partition: u64, shape: Shape) -> anyhow::Result<Duration> {
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.broker)
            // What tickstream's producer uses (idempotent, 5 ms linger).
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("queue.buffering.max.messages", "1000000")
            .create()?;
        let started = Instant::now();
        let avro = AvroTicks::new()?;
        let symbols = ["AAPL", "GOOGL", "MSFT", "AMZN", "TSLA", "META", "NVDA"];
        let mut walks: Vec<tickstream::producer::walk::PriceWalk> = symbols
            .iter()
            .map(|s| tickstream::producer::walk::PriceWalk::new(7, s))
            .collect();
        for i in 0..per_partition * PARTITIONS as u64 {
            let s = (i % symbols.len() as u64) as usize;
            let q = walks[s].step();
            let tick = tickstream::record::tick::Tick {
                symbol: symbols[s].into(),
                price: q.price,
                volume: q.volume,
                change: q.change,
                timestamp: tickstream::record::tick::timestamp_now(),
                exchange: "NASDAQ".into(),
                run_id: "bench".into(),
                seq: q.seq,
            };
            let payload = match shape {
                Shape::Tick => serde_json::to_vec(&tick)?,
                Shape::Seed000 => seed000(&tick).into_bytes(),
                Shape::Avro => avro.encode(&tick)?,
            };
            let partition = (i % PARTITIONS as u64) as i32;
            let mut record = BaseRecord::to(topic)
                .key(symbols[s])
                .payload(&payload)
                .partition(partition);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((_, r)) => {
                        record = r;
                        producer.poll(Duration::from_millis(10));
                    }
                }
            }
        }
        producer.flush(Duration::from_secs(120))?;
        Ok(started.elapsed())
    }
}

/// What the pre-filled topic holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// tickstream's own ticks (the sink's fast tick scan recognises them).
    Tick,
    /// The seed's Python producer's records: `json.dumps` spacing, a naive ISO timestamp with
    /// microseconds, no run_id or seq (the sink parses each as JSON).
    Seed000,
    /// The same ticks in Avro, in the Schema Registry wire format (schema id 1: the tick's
    /// fields, its timestamp a `timestamp-millis`), as a Confluent serializer writes them.
    Avro,
}

/// Ticks encoded as Avro records of [`crate::registry::TICK_SCHEMA`], framed for its id.
struct AvroTicks {
    schema: tickstream::record::avro::WriterSchema,
}

impl AvroTicks {
    fn new() -> anyhow::Result<Self> {
        let schema = tickstream::record::avro::WriterSchema::parse(
            Some(crate::registry::TICK_SCHEMA_ID),
            crate::registry::TICK_SCHEMA,
            &[],
        )?;
        Ok(Self { schema })
    }

    fn encode(&self, t: &tickstream::record::tick::Tick) -> anyhow::Result<Vec<u8>> {
        use apache_avro::types::Value;
        let ms = chrono::DateTime::parse_from_rfc3339(&t.timestamp)?.timestamp_millis();
        let value = Value::Record(vec![
            ("symbol".into(), Value::String(t.symbol.to_string())),
            ("price".into(), Value::Double(t.price)),
            ("volume".into(), Value::Long(t.volume as i64)),
            ("change".into(), Value::Double(t.change)),
            ("timestamp".into(), Value::TimestampMillis(ms)),
            ("exchange".into(), Value::String(t.exchange.to_string())),
            ("run_id".into(), Value::String(t.run_id.to_string())),
            ("seq".into(), Value::Long(t.seq as i64)),
        ]);
        let mut datum = Vec::with_capacity(64);
        tickstream::record::avro::encode::encode(&value, &self.schema, &mut datum).map_err(anyhow::Error::msg)?;
        Ok(tickstream::record::avro::wire::frame(
            crate::registry::TICK_SCHEMA_ID,
            &datum,
        ))
    }
}

fn seed000(t: &tickstream::record::tick::Tick) -> String {
    let naive = t.timestamp.trim_end_matches('Z');
    format!(
        r#"{{"symbol": "{}", "price": {}, "volume": {}, "change": {}, "timestamp": "{naive}123", "exchange": "{}"}}"#,
        t.symbol, t.price, t.volume, t.change, t.exchange
    )
}
