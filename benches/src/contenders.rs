//! The contenders: tickstream's sink, the seed-style Python peer, and tickstream's producers,
//! each a separate process measured from outside with the same yardsticks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chaos::procs::Proc;

use crate::configs::{producer_toml, sink_toml_with};
use crate::infra::{Servers, ACCESS_KEY, SECRET_KEY};
use crate::measure::{rate_until, scrape_counter, Committed};
use crate::usage::{cpu_secs, peak_rss_mib};

/// One contender's figures for one run.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub records_per_sec: f64,
    /// User + system CPU seconds per million records (the whole process, start-up included).
    pub cpu_s_per_million: f64,
    /// The whole process's CPU seconds, for taking the start-up out afterwards.
    pub cpu_s: f64,
    pub peak_rss_mib: f64,
    /// The S3 server's CPU seconds per million records while a sink ran: both share 2 cores.
    pub s3_cpu_s_per_million: f64,
    /// Records (lines) found in the bucket's data files afterwards: a sink that skipped or
    /// duplicated records shows here, whatever its commits say.
    pub records_in_s3: u64,
    /// Bytes of the bucket's data files, as stored (compressed or not).
    pub bytes_in_s3: u64,
}

/// Records (compressed files decompressed, Parquet and Avro files read back) and stored bytes of
/// every `.json`, `.json.gz`, `.json.zst`, `….parquet` or `.avro` object under
/// `<s3 root>/<bucket>/topics/` (s3s-fs keeps objects as files).
fn lines_in_bucket(servers: &Servers, bucket: &str) -> (u64, u64) {
    fn walk(dir: &Path, lines: &mut u64, stored: &mut u64) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let path = e.path();
            let name = path.to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, lines, stored);
            } else if [".json", ".json.gz", ".json.zst", ".parquet", ".avro"]
                .iter()
                .any(|e| name.ends_with(e))
            {
                let bytes = std::fs::read(&path).unwrap_or_default();
                *stored += bytes.len() as u64;
                let records = tickstream::format::Reader::default().read(&name, bytes.into());
                *lines += records.map_or(0, |r| r.count() as u64);
            }
        }
    }
    let (mut lines, mut stored) = (0, 0);
    walk(
        &servers.dir.join("s3").join(bucket).join("topics"),
        &mut lines,
        &mut stored,
    );
    (lines, stored)
}

/// Where the programs are.
pub struct Programs {
    pub tickstream: PathBuf,
    pub python: PathBuf,
    pub peer_script: PathBuf,
}

async fn create_bucket(servers: &Servers, bucket: &str) -> anyhow::Result<()> {
    let endpoint = tickstream::s3::client::S3Endpoint {
        url: Some(servers.s3_url.clone()),
        region: "us-east-1".into(),
        static_credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
    };
    let store = tickstream::s3::S3SegmentStore::new(tickstream::s3::client::build(&endpoint).await, bucket);
    store.ensure_bucket().await?;
    Ok(())
}

fn sink_toml(servers: &Servers, topic: &str, group: &str, bucket: &str, flush: u64, variant: Variant) -> String {
    let settings = variant.settings(&servers.registry);
    sink_toml_with(servers, topic, group, bucket, flush, &settings)
}

pub fn tickstream_proc(p: &Programs, dir: &Path, config: &Path) -> Proc {
    let args = vec!["run".into(), "--config".into(), config.display().to_string()];
    // BENCH_PERF=1: run tickstream under `perf record` (a flat profile in <dir>/perf.data, read
    // with `perf report -i … --no-children --sort symbol`); BENCH_PERF=dwarf records call
    // stacks too (`perf report -i … --no-children --stdio` then shows who calls each hot spot).
    // CPU and RSS are then perf's, not tickstream's: such runs are for the profile only.
    // BENCH_PERF=callgrind: under valgrind's callgrind (<dir>/callgrind.out), instruction counts.
    let (program, args) = if std::env::var_os("BENCH_PERF").is_some_and(|m| m == "callgrind") {
        let valgrind = ["--tool=callgrind", "--callgrind-out-file=callgrind.out", "--"].map(String::from);
        let program = [p.tickstream.display().to_string()];
        (
            PathBuf::from("valgrind"),
            valgrind.into_iter().chain(program).chain(args).collect(),
        )
    } else if let Some(mode) = std::env::var_os("BENCH_PERF") {
        let mut with_perf: Vec<String> = ["record", "-F", "999", "-o", "perf.data"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        if mode == "dwarf" {
            with_perf.extend(["--call-graph".to_owned(), "dwarf,16384".to_owned()]);
        }
        with_perf.push("--".to_owned());
        with_perf.push(p.tickstream.display().to_string());
        with_perf.extend(args);
        (PathBuf::from("perf"), with_perf)
    } else {
        (p.tickstream.clone(), args)
    };
    Proc::new("tickstream", &program, &args, dir)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("RUST_LOG", "warn")
}

/// Runs a started process until `progress` reaches `total`, then stops it; returns its figures.
pub fn measure(mut proc: Proc, total: i64, progress: impl FnMut() -> anyhow::Result<i64>) -> anyhow::Result<Figures> {
    proc.start()?;
    let pid = proc.pid().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    let rate = rate_until(total, Duration::from_secs(600), progress);
    let cpu = cpu_secs(pid).unwrap_or(0.0);
    let rss = peak_rss_mib(pid).unwrap_or(0.0);
    // SIGTERM even when the measurement failed: under BENCH_PERF the process is `perf`, which
    // stops its workload on SIGTERM, while the SIGKILL of `Proc`'s drop would orphan it.
    proc.terminate(Duration::from_secs(20));
    let rate = rate?;
    Ok(Figures {
        records_per_sec: rate.per_sec(),
        cpu_s_per_million: cpu / (total as f64 / 1e6),
        cpu_s: cpu,
        peak_rss_mib: rss,
        ..Figures::default()
    })
}

/// How tickstream's sink is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The default: any valid JSON, plain files.
    Json,
    /// Every record checked to be a tick (`value.schema = "tick"`).
    Tick,
    /// Any JSON, gzip files (`s3.compression.type = "gzip"`, zlib's default level 6).
    Gzip,
    /// Any JSON, zstd files (`s3.compression.type = "zstd"`, zstd's default level 3).
    Zstd,
    /// Parquet of the tick's typed columns, snappy pages (`format.class = "parquet"`).
    ParquetSnappy,
    /// The same with zstd pages (`parquet.codec = "zstd"`).
    ParquetZstd,
    /// The same ticks in Avro through Schema Registry, into Parquet of the schema's columns
    /// (snappy pages).
    AvroParquet,
    /// The same ticks in Avro, into Avro container files of their writer schema (`avro.codec`
    /// null: the datums as produced).
    AvroAvro,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "ours",
            Self::Tick => "tick",
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
            Self::ParquetSnappy => "pq-snappy",
            Self::ParquetZstd => "pq-zstd",
            Self::AvroParquet => "avro-pq",
            Self::AvroAvro => "avro-avro",
        }
    }

    /// The pre-filled topic it reads: the ticks in JSON, or in Avro.
    pub fn topic(self) -> &'static str {
        match self {
            Self::AvroParquet | Self::AvroAvro => crate::infra::AVRO_TOPIC,
            _ => crate::infra::TOPIC,
        }
    }

    fn settings(self, registry: &str) -> String {
        let avro =
            format!("\"value.converter\" = \"avro\"\n\"value.converter.schema.registry.url\" = \"{registry}\"\n");
        match self {
            Self::Json => String::new(),
            Self::Tick => "\"value.schema\" = \"tick\"".into(),
            Self::Gzip => "\"s3.compression.type\" = \"gzip\"".into(),
            Self::Zstd => "\"s3.compression.type\" = \"zstd\"".into(),
            Self::ParquetSnappy => "\"format.class\" = \"parquet\"".into(),
            Self::ParquetZstd => "\"format.class\" = \"parquet\"\n\"parquet.codec\" = \"zstd\"".into(),
            Self::AvroParquet => format!("{avro}\"format.class\" = \"parquet\""),
            Self::AvroAvro => format!("{avro}\"format.class\" = \"avro\""),
        }
    }
}

/// How long [`startup`] lets the sink run on an empty topic: it starts, joins its group and
/// idles (an idle sink's CPU stays flat from its first second on).
const STARTUP_WINDOW: Duration = Duration::from_secs(3);

/// The CPU seconds tickstream's sink (as `variant` at `flush`) takes to start: the process on
/// an empty topic `empty` for [`STARTUP_WINDOW`], then stopped. A sink run's CPU less this is
/// what its records cost (`cpu_s_per_million_after_start`); the bare consumer it is compared
/// with runs inside the bench process and pays no process start.
pub async fn startup(
    servers: &Servers,
    p: &Programs,
    empty: &str,
    flush: u64,
    variant: Variant,
    tag: &str,
) -> anyhow::Result<f64> {
    let name = format!("start-{}-{tag}", variant.name());
    let dir = servers.dir.join(&name);
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("sink.toml");
    std::fs::write(&config, sink_toml(servers, empty, &name, &name, flush, variant))?;
    let mut proc = tickstream_proc(p, &dir, &config);
    proc.start()?;
    let pid = proc.pid().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    std::thread::sleep(STARTUP_WINDOW);
    let cpu =
        cpu_secs(pid).ok_or_else(|| anyhow::anyhow!("tickstream (start-up) exited early: see {}", dir.display()))?;
    proc.terminate(Duration::from_secs(20));
    Ok(cpu)
}

/// tickstream's sink on the pre-filled `topic`, configured as `variant` says.
pub async fn ours(
    servers: &Servers,
    p: &Programs,
    topic: &str,
    total: i64,
    flush: u64,
    variant: Variant,
    tag: &str,
) -> anyhow::Result<Figures> {
    let name = format!("{}-{tag}", variant.name());
    let (group, bucket) = (name.clone(), name.clone());
    let dir = servers.dir.join(&name);
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("sink.toml");
    std::fs::write(&config, sink_toml(servers, topic, &group, &bucket, flush, variant))?;
    measure_sink(
        tickstream_proc(p, &dir, &config),
        servers,
        topic,
        &group,
        &bucket,
        total,
    )
}

/// A sink's figures: measured until `group` has committed `total` records of `topic`, then the
/// records found in `bucket`.
fn measure_sink(
    proc: Proc,
    servers: &Servers,
    topic: &str,
    group: &str,
    bucket: &str,
    total: i64,
) -> anyhow::Result<Figures> {
    let committed = Committed::new(&servers.broker, group, topic)?;
    let s3_cpu = servers.s3_cpu_secs();
    let mut f = measure(proc, total, move || committed.sum())?;
    f.s3_cpu_s_per_million = (servers.s3_cpu_secs() - s3_cpu) / (total as f64 / 1e6);
    (f.records_in_s3, f.bytes_in_s3) = lines_in_bucket(servers, bucket);
    Ok(f)
}

/// The seed-style Python sink on the pre-filled `topic`.
pub async fn peer(
    servers: &Servers,
    p: &Programs,
    topic: &str,
    total: i64,
    flush: u64,
    tag: &str,
) -> anyhow::Result<Figures> {
    let (group, bucket) = (format!("peer-{tag}"), format!("peer-{tag}"));
    create_bucket(servers, &bucket).await?;
    let dir = servers.dir.join(format!("peer-{tag}"));
    std::fs::create_dir_all(&dir)?;
    let args: Vec<String> = vec![
        p.peer_script.display().to_string(),
        "--bootstrap".into(),
        servers.broker.clone(),
        "--topic".into(),
        topic.into(),
        "--group".into(),
        group.clone(),
        "--endpoint".into(),
        servers.s3_url.clone(),
        "--bucket".into(),
        bucket.clone(),
        "--flush-size".into(),
        flush.to_string(),
        "--rotate-ms".into(),
        "1000".into(),
    ];
    let proc = Proc::new("peer", &p.python, &args, &dir)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    measure_sink(proc, servers, topic, &group, &bucket, total)
}

/// tickstream's producers: `symbols` actors sending `total` ticks as fast as the broker takes them.
pub async fn producer(
    servers: &Servers,
    p: &Programs,
    symbols: usize,
    total: i64,
    tag: &str,
) -> anyhow::Result<Figures> {
    let topic = format!("produce-{tag}");
    servers.create_topic(&topic)?;
    let dir = servers.dir.join(format!("producer-{tag}"));
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("producer.toml");
    let per_symbol = (total as u64).div_ceil(symbols as u64);
    let port = chaos::procs::free_port()?;
    std::fs::write(&config, producer_toml(servers, &topic, symbols, per_symbol, port))?;
    let total = (per_symbol * symbols as u64) as i64;
    measure(tickstream_proc(p, &dir, &config), total, move || {
        scrape_counter(port, "tickstream_ticks_acked_total")
    })
}
