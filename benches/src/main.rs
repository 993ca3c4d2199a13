//! `bench`: tickstream against the seed's Python sink and the broker's own ceiling, on one local
//! tansu broker and one s3s-fs server started for the run. Prints a table and writes JSON.
//! Run it through `benches/run`, which builds the release binaries and installs the peer.

mod configs;
mod contenders;
mod feed;
mod infra;
mod latency;
mod measure;
mod put_clients;
mod put_cost;
mod put_operation;
mod registry;
mod replay;
mod report;
mod usage;
mod wide;

use std::path::PathBuf;

use clap::Parser;

use contenders::{ours, peer, producer, Programs, Variant};
use infra::{Servers, PARTITIONS};
use report::{table, Samples};

/// Benchmarks: sink throughput and CPU at flush.size 100 and 10,000 (ours on any JSON, ours checking
/// ticks, and the peer, in rotation), the broker's ceiling, and producer throughput with 7 and
/// 1,000 symbols.
#[derive(Parser)]
struct Args {
    /// Repetitions; each figure is reported as median [min – max].
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Records per partition in the pre-filled topic (3 partitions).
    #[arg(long, default_value_t = 100_000)]
    per_partition: u64,
    /// Flush sizes to measure the sinks at.
    #[arg(long, value_delimiter = ',', default_value = "100,10000")]
    flush_sizes: Vec<u64>,
    /// Producer symbol counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "7,1000")]
    symbols: Vec<usize>,
    /// Ticks each producer measurement sends (and the bare producer of the ingest ceiling):
    /// enough for several seconds at full speed, so the 100 ms progress samples do not skew.
    #[arg(long, default_value_t = 3_000_000)]
    produce: i64,
    /// What the pre-filled topic holds: `tick` (tickstream's ticks) or `seed000` (the seed's
    /// Python producer's records, which the sink parses as any JSON; use with --no-tick).
    #[arg(long, value_enum, default_value = "tick")]
    shape: infra::Shape,
    /// Skip the Python peer.
    #[arg(long)]
    no_peer: bool,
    /// Skip the sink with `value.schema = "tick"` (e.g. to measure a binary older than it).
    #[arg(long)]
    no_tick: bool,
    /// Skip the sinks writing gzip and zstd files (likewise).
    #[arg(long)]
    no_gzip: bool,
    /// Skip the sinks writing Parquet files (snappy and zstd).
    #[arg(long)]
    no_parquet: bool,
    /// Skip the Avro contenders (the same ticks in Avro through Schema Registry, into Parquet
    /// and into Avro files; their own topic and broker ceiling).
    #[arg(long)]
    no_avro: bool,
    /// Seconds each latency/memory scenario runs (0 skips them): the default load (7 symbols,
    /// 3 partitions), 1,000 symbols × 64 partitions (default partitioner, then the field and
    /// hourly partitioners), and the default partitioner through a 30 s S3 outage.
    #[arg(long, default_value_t = 60)]
    latency_secs: u64,
    /// Run only the latency/memory scenarios (no tansu, no sinks, no producer): they use the
    /// embedded Kafka and their own s3s-fs, so this needs neither tansu nor the peer.
    #[arg(long)]
    latency_only: bool,
    /// The latency/memory scenarios to run, by name.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "default,symbols1000x64,field1000x64,hourly1000x64,s3_outage"
    )]
    scenarios: Vec<String>,
    /// Distinct symbols in the field-partitioner scenario (0 skips it): a topic whose records
    /// name them in turn, sunk with files per symbol; records/s, files/s and the resident set
    /// at each quarter of the records (see `wide.rs`).
    #[arg(long, default_value_t = 0)]
    field_values: u64,
    /// Records per partition in that scenario's topic.
    #[arg(long, default_value_t = 200_000)]
    field_records: u64,
    /// Also measure the CSV replay's backfill (`source = "csv"`, `pacing = "max"`) of `--produce`
    /// rows of 7 symbols, against the bare producer's ceiling of the same run.
    #[arg(long)]
    csv_backfill: bool,
    /// Run only that scenario (with its own tansu and s3s-fs).
    #[arg(long, requires = "field_values")]
    field_only: bool,
    /// Trades a second of the live feed scenario (0 skips it): a local Finnhub-protocol feed to
    /// `source = "websocket"`, sunk to S3 and the warehouse; receive → Kafka ack and trade →
    /// queryable percentiles, and the resident set through a broker outage (see `feed.rs`).
    #[arg(long, default_value_t = 0)]
    feed_rate: u64,
    /// Seconds of that scenario's measured window, and of its broker outage after it.
    #[arg(long, value_delimiter = ',', default_value = "30,30")]
    feed_secs: Vec<u64>,
    /// Run only the live feed scenario (with its own tansu and s3s-fs).
    #[arg(long, requires = "feed_rate")]
    feed_only: bool,
    /// PUTs of the S3 client's cost per file (0 skips it): a flush.size-100 file written that
    /// many times through the sink's store from the bench process (see `put_cost.rs`).
    #[arg(long, default_value_t = 0)]
    put_cost: u64,
    /// Run only that measurement (with its own s3s-fs and tansu).
    #[arg(long, requires = "put_cost")]
    put_only: bool,
    /// Which client sends those PUTs: the sink's store, aws-sdk-s3 with its defaults, the
    /// sink's client presigning and hyper sending, the SDK's orchestrator with only what the PUT
    /// needs, or a request signed with aws-sigv4 and sent by hyper without the SDK (see
    /// `put_clients.rs`).
    #[arg(long, value_enum, default_value = "tickstream", requires = "put_cost")]
    put_client: put_clients::PutClient,
    /// The tickstream binary to measure (`benches/run` builds it in release mode first).
    #[arg(long, default_value = "target/release/tickstream")]
    tickstream: PathBuf,
    /// The Python that runs the peer (`benches/run` makes this venv with its requirements).
    #[arg(long, default_value = "benches/.venv/bin/python")]
    python: PathBuf,
    /// Where each run's servers, configurations, logs and S3 data go (`run-<n>/`).
    #[arg(long, default_value = "target/bench")]
    dir: PathBuf,
    /// Keep the S3 server's objects on disk, in each run's directory, instead of in memory
    /// (`/dev/shm`): see `infra::s3_dir` for why the default is memory.
    #[arg(long)]
    s3_on_disk: bool,
    /// The JSON file of every figure: each run's values and the median, min and max.
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let programs = Programs {
        tickstream: std::fs::canonicalize(&a.tickstream)?,
        python: std::path::absolute(&a.python)?,
        peer_script: std::fs::canonicalize("benches/peer/sink.py")?,
    };
    let total = a.per_partition as i64 * PARTITIONS as i64;
    let mut samples = Samples::default();
    let memory_root = (!a.s3_on_disk)
        .then(|| PathBuf::from("/dev/shm/tickstream-bench"))
        .filter(|_| {
            let ok = std::path::Path::new("/dev/shm").is_dir();
            if !ok {
                eprintln!("no /dev/shm: the S3 server keeps its objects on disk");
            }
            ok
        });
    // The last invocation's files go first, all at once, then to disk: see `measure::settle`.
    for run in 0..a.runs {
        let _ = std::fs::remove_dir_all(a.dir.join(format!("run-{run}")));
    }
    measure::settle();
    for run in 0..a.runs {
        let dir = std::path::absolute(a.dir.join(format!("run-{run}")))?;
        if a.latency_only {
            eprintln!(
                "run {}/{}: latency/memory scenarios only, in {}",
                run + 1,
                a.runs,
                dir.display()
            );
            latency::scenarios((a.latency_secs, &a.scenarios), &programs, &dir, &mut samples)?;
            continue;
        }
        eprintln!(
            "run {}/{}: starting tansu (memory://) and s3s-fs in {}",
            run + 1,
            a.runs,
            dir.display()
        );
        let servers = Servers::start(&dir, memory_root.as_deref())?;
        let feed_secs = (
            std::time::Duration::from_secs(a.feed_secs.first().copied().unwrap_or(30)),
            std::time::Duration::from_secs(a.feed_secs.get(1).copied().unwrap_or(30)),
        );
        if a.put_cost > 0 {
            put_cost::scenario(&servers, a.put_cost, a.put_client, &mut samples).await?;
            if a.put_only {
                continue;
            }
        }
        if a.feed_rate > 0 {
            feed::scenario(&servers, &programs, a.feed_rate, feed_secs, run, &mut samples).await?;
            if a.feed_only {
                continue;
            }
        }
        if a.field_only {
            wide::scenario(
                &servers,
                &programs,
                (a.field_values, a.field_records),
                run,
                &mut samples,
            )?;
            continue;
        }
        let mut topics = vec![(infra::TOPIC, a.shape, "broker.ceiling")];
        if !a.no_avro {
            topics.push((infra::AVRO_TOPIC, infra::Shape::Avro, "broker.ceiling_avro"));
        }
        for (topic, shape, key) in topics {
            servers.create_topic(topic)?;
            let total = records_of(topic, total);
            let filled = servers.fill(topic, total as u64 / PARTITIONS as u64, shape)?;
            eprintln!("  filled {total} records ({shape:?}) in {:.1} s", filled.as_secs_f64());
            // The bench process is otherwise idle while its bare consumer reads: its CPU time
            // is what librdkafka alone spends fetching, the floor under any librdkafka-based sink.
            let cpu_before = usage::cpu_secs(std::process::id()).unwrap_or(0.0);
            let ceiling = measure::broker_ceiling(&servers.broker, topic, total)?;
            let floor = (usage::cpu_secs(std::process::id()).unwrap_or(0.0) - cpu_before) / (total as f64 / 1e6);
            eprintln!(
                "  broker ceiling of {topic} (bare consumer): {:.0} records/s, {floor:.2} CPU s per million",
                ceiling.per_sec()
            );
            samples.add(format!("{key}.records_per_sec"), ceiling.per_sec());
            samples.add(format!("{key}.cpu_s_per_million"), floor);
        }
        // The sink's start-up, measured apart, so that what its records cost can be told
        // from what starting the process costs (see `contenders::startup`).
        servers.create_topic(infra::EMPTY_TOPIC)?;
        let started = contenders::startup(
            &servers,
            &programs,
            infra::EMPTY_TOPIC,
            100,
            Variant::Json,
            &format!("r{run}"),
        )
        .await?;
        eprintln!("  sink start-up: {started:.3} CPU s (the first 3 s on an empty topic)");
        samples.add("sink.startup_cpu_s", started);
        for &flush in &a.flush_sizes {
            // Rotate who goes first, so none always meets a warmer broker. `ours` is the
            // default (any JSON), `tick` the same sink with `value.schema = "tick"`, `gzip`
            // with gzip files.
            let mut order = [
                Some(Variant::Json),
                (!a.no_tick).then_some(Variant::Tick),
                (!a.no_gzip).then_some(Variant::Gzip),
                (!a.no_gzip).then_some(Variant::Zstd),
                (!a.no_parquet).then_some(Variant::ParquetSnappy),
                (!a.no_parquet).then_some(Variant::ParquetZstd),
                (!a.no_avro).then_some(Variant::AvroParquet),
                (!a.no_avro).then_some(Variant::AvroAvro),
                None, // the peer
            ];
            let n = order.len();
            order.rotate_left(run % n);
            for who in order {
                measure::settle();
                let tag = format!("f{flush}-r{run}");
                let total = who.map_or(total, |v| records_of(v.topic(), total));
                let (who, f) = match who {
                    Some(v) => (
                        v.name(),
                        ours(&servers, &programs, v.topic(), total, flush, v, &tag).await?,
                    ),
                    None if !a.no_peer => (
                        "peer",
                        peer(&servers, &programs, infra::TOPIC, total, flush, &tag).await?,
                    ),
                    None => continue,
                };
                eprintln!(
                    "  sink {who:<4} flush.size {flush:>5}: {:>8.0} records/s, {:>6.2} CPU s per million (S3 server {:.2}), \
                     peak RSS {:.0} MiB, {} of {total} records in S3 ({:.1} bytes each)",
                    f.records_per_sec,
                    f.cpu_s_per_million,
                    f.s3_cpu_s_per_million,
                    f.peak_rss_mib,
                    f.records_in_s3,
                    f.bytes_in_s3 as f64 / total as f64
                );
                let key = format!("sink.{who}.flush{flush}");
                samples.add(format!("{key}.records_per_sec"), f.records_per_sec);
                samples.add(format!("{key}.cpu_s_per_million"), f.cpu_s_per_million);
                if who != "peer" {
                    samples.add(
                        format!("{key}.cpu_s_per_million_after_start"),
                        (f.cpu_s - started).max(0.0) / (total as f64 / 1e6),
                    );
                }
                samples.add(format!("{key}.peak_rss_mib"), f.peak_rss_mib);
                samples.add(format!("{key}.s3_server_cpu_s_per_million"), f.s3_cpu_s_per_million);
                samples.add(format!("{key}.bytes_per_record"), f.bytes_in_s3 as f64 / total as f64);
                samples.add(
                    format!("{key}.records_missing_in_s3"),
                    total as f64 - f.records_in_s3 as f64,
                );
            }
        }
        for &n in &a.symbols {
            measure::settle();
            let topic = format!("ingest-s{n}-r{run}");
            servers.create_topic(&topic)?;
            // CPU per million ticks of the producing process and of the broker: on 2 cores
            // the two share the machine, so a producer's CPU per tick sets its ceiling.
            let millions = a.produce as f64 / 1e6;
            let (own0, broker0) = (
                usage::cpu_secs(std::process::id()).unwrap_or(0.0),
                servers.broker_cpu_secs(),
            );
            let ceiling = measure::ingest_ceiling(&servers.broker, &topic, n, a.produce as u64)?;
            let own = (usage::cpu_secs(std::process::id()).unwrap_or(0.0) - own0) / millions;
            let broker = (servers.broker_cpu_secs() - broker0) / millions;
            eprintln!(
                "  ingest ceiling (bare producer, {n} symbols): {:.0} ticks/s acked, {own:.2} CPU s per million \
                 (broker {broker:.2})",
                ceiling.per_sec()
            );
            samples.add(format!("producer.symbols{n}.ceiling_ticks_per_sec"), ceiling.per_sec());
            samples.add(format!("producer.symbols{n}.ceiling_cpu_s_per_million"), own);
            samples.add(format!("producer.symbols{n}.ceiling_broker_cpu_s_per_million"), broker);
            let broker0 = servers.broker_cpu_secs();
            let f = producer(&servers, &programs, n, a.produce, &format!("s{n}-r{run}")).await?;
            let broker = (servers.broker_cpu_secs() - broker0) / millions;
            eprintln!(
                "  producer {n:>5} symbols: {:>8.0} ticks/s acked, {:>6.2} CPU s per million (broker {broker:.2}), \
                 peak RSS {:.0} MiB",
                f.records_per_sec, f.cpu_s_per_million, f.peak_rss_mib
            );
            samples.add(format!("producer.symbols{n}.broker_cpu_s_per_million"), broker);
            samples.add(format!("producer.symbols{n}.ticks_per_sec"), f.records_per_sec);
            samples.add(format!("producer.symbols{n}.cpu_s_per_million"), f.cpu_s_per_million);
            samples.add(format!("producer.symbols{n}.peak_rss_mib"), f.peak_rss_mib);
            if a.csv_backfill && n == 7 {
                replay::backfill(&servers, &programs, n, a.produce, ceiling.per_sec(), run, &mut samples).await?;
            }
        }
        if a.field_values > 0 {
            wide::scenario(
                &servers,
                &programs,
                (a.field_values, a.field_records),
                run,
                &mut samples,
            )?;
        }
        if a.latency_secs > 0 {
            latency::scenarios((a.latency_secs, &a.scenarios), &programs, &dir, &mut samples)?;
        }
    }
    let stats = samples.stats();
    let ratios = report::ratios(&stats, &a.flush_sizes, &a.symbols);
    println!("{}", table(&stats));
    for (k, v) in &ratios {
        println!("{k:<52}  {:.2}", v.as_f64().unwrap_or_default());
    }
    if let Some(parent) = a.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let json = serde_json::json!({
        "machine": format!("{} cores", std::thread::available_parallelism().map_or(0, |n| n.get())),
        "broker": "tansu 0.6.0 memory://",
        "s3": "s3s-fs 0.14.1",
        "records_per_run": total,
        "figures": stats,
        "ratios": ratios,
    });
    std::fs::write(&a.out, serde_json::to_string_pretty(&json)?)?;
    eprintln!("wrote {}", a.out.display());
    Ok(())
}

/// The Avro topic holds [`AVRO_SCALE`] times the records of the JSON one: its datum is a third
/// of a JSON tick's bytes and the broker serves ~2.6 times as many a second, so at the same
/// count its contenders finished too fast for a rate sampled every 100 ms.
const AVRO_SCALE: i64 = 3;

/// Records in `topic` when the JSON topic holds `total`.
fn records_of(topic: &str, total: i64) -> i64 {
    match topic {
        infra::AVRO_TOPIC => total * AVRO_SCALE,
        _ => total,
    }
}
