//! Many distinct field values: a topic whose records name `values` distinct symbols in turn
//! (each partition goes through all of them, again and again), sunk under
//! `partitioner.class = "field"` by symbol into an empty bucket. Every record opens a file of
//! its own directory (far more values than `max.open.files.per.partition`), so this measures
//! the per-file path, and memory must not grow with the number of directories seen: the
//! resident set is sampled as the sink goes, and reported at each quarter of the records.
//!
//! The topic is filled one record per batch: the sink's gate fills behind the per-file uploads
//! and pauses the partition, and tansu 0.6 `memory://` answers a fetch after a resume from the
//! middle of a record batch wrongly, skipping records (the sink then reports offsets that never
//! arrived). librdkafka's mock cluster is no way out: it keeps at most 100,000 records or 5 MB
//! per partition, deleting older ones. The records in S3 are counted after the run.

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::contenders::{tickstream_proc, Programs};
use crate::infra::{Servers, PARTITIONS};
use crate::measure::Committed;
use crate::report::Samples;
use crate::usage::cpu_secs;

pub const TOPIC: &str = "wide";

/// What one run of the scenario measured.
#[derive(Debug, Default)]
pub struct Figures {
    pub records_per_sec: f64,
    pub files_per_sec: f64,
    pub files: u64,
    /// Records in those files (every record of the topic, once, when nothing was lost).
    pub records_in_s3: u64,
    pub cpu_s_per_million: f64,
    pub peak_rss_mib: f64,
    /// Resident set when a quarter, half, three quarters and all of the records were committed.
    pub rss_at_quarters_mib: [f64; 4],
}

/// Fills [`TOPIC`] with `per_partition` records per partition, symbols `V000000`… in turn, one
/// record per batch.
pub fn fill(servers: &Servers, per_partition: u64, values: u64) -> anyhow::Result<Duration> {
    servers.create_topic(TOPIC)?;
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &servers.broker)
        .set("enable.idempotence", "true")
        .set("linger.ms", "0")
        .set("batch.num.messages", "1")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    let started = Instant::now();
    for j in 0..per_partition {
        for partition in 0..PARTITIONS {
            let symbol = format!("V{:06}", (j + partition as u64 * 7_919) % values);
            let payload = format!(
                r#"{{"symbol":"{symbol}","price":101.25,"volume":300,"timestamp":"2026-12-06T21:00:00.000Z","seq":{j}}}"#
            );
            let mut record = BaseRecord::to(TOPIC)
                .key(&symbol)
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
    }
    producer.flush(Duration::from_secs(120))?;
    Ok(started.elapsed())
}

/// tickstream's sink on [`TOPIC`], files per symbol at flush.size 100, until the group has
/// committed every record; the files are counted in the bucket afterwards.
pub fn run(servers: &Servers, p: &Programs, total: i64, tag: &str) -> anyhow::Result<Figures> {
    let name = format!("wide-{tag}");
    let dir = servers.dir.join(&name);
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("sink.toml");
    let settings = "\"partitioner.class\" = \"field\"\n\"partition.field.name\" = \"symbol\"";
    let toml = crate::configs::sink_toml_with(servers, TOPIC, &name, &name, 100, settings);
    std::fs::write(&config, toml)?;
    let committed = Committed::new(&servers.broker, &name, TOPIC)?;
    let mut proc = tickstream_proc(p, &dir, &config);
    proc.start()?;
    let pid = proc.pid().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    let mut f = Figures::default();
    let (mut first, mut quarter) = (None, 0);
    let give_up = Instant::now() + Duration::from_secs(1_800);
    let finished = loop {
        let done = committed.sum()?;
        let now = Instant::now();
        if first.is_none() && done > 0 {
            first = Some((now, done));
        }
        let rss = chaos::monitor::proc_status_kib(pid, "VmRSS").unwrap_or(0) as f64 / 1024.0;
        while quarter < 4 && done * 4 >= total * (quarter as i64 + 1) {
            f.rss_at_quarters_mib[quarter] = rss;
            quarter += 1;
        }
        if done >= total {
            break now;
        }
        anyhow::ensure!(now < give_up, "stuck at {done} of {total} records");
        std::thread::sleep(Duration::from_millis(250));
    };
    f.peak_rss_mib = crate::usage::peak_rss_mib(pid).unwrap_or(0.0);
    f.cpu_s_per_million = cpu_secs(pid).unwrap_or(0.0) / (total as f64 / 1e6);
    proc.terminate(Duration::from_secs(60));
    let (t0, v0) = first.unwrap_or((finished, 0));
    let secs = finished.duration_since(t0).as_secs_f64().max(1e-3);
    f.records_per_sec = (total - v0) as f64 / secs;
    (f.files, f.records_in_s3) = count_files(&servers.dir.join("s3").join(&name).join("topics"));
    f.files_per_sec = f.files as f64 * (total - v0) as f64 / total as f64 / secs;
    Ok(f)
}

/// Data files under `root` and their lines (s3s-fs keeps objects as files; its metadata files
/// are elsewhere).
fn count_files(root: &std::path::Path) -> (u64, u64) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return (0, 0);
    };
    let (mut files, mut lines) = (0, 0);
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            let (f, l) = count_files(&path);
            (files, lines) = (files + f, lines + l);
        } else if path.extension().is_some_and(|x| x == "json") {
            files += 1;
            lines += std::fs::read(&path).map_or(0, |b| b.iter().filter(|c| **c == b'\n').count() as u64);
        }
    }
    (files, lines)
}

/// The scenario at `values` distinct symbols and `per_partition` records a partition: fills the
/// topic, measures the sink, and records the figures.
pub fn scenario(
    servers: &Servers,
    p: &Programs,
    (values, per_partition): (u64, u64),
    run: usize,
    samples: &mut Samples,
) -> anyhow::Result<()> {
    let total = (per_partition * PARTITIONS as u64) as i64;
    let filled = fill(servers, per_partition, values)?;
    eprintln!(
        "  filled {total} records naming {values} symbols in turn in {:.1} s",
        filled.as_secs_f64()
    );
    crate::measure::settle();
    let f = self::run(servers, p, total, &format!("r{run}"))?;
    let q = f.rss_at_quarters_mib;
    eprintln!(
        "  sink field by symbol, {values} values: {:.0} records/s, {:.0} files/s ({} files, {} of {total} records), \
         {:.2} CPU s per million, RSS at each quarter {:.0}/{:.0}/{:.0}/{:.0} MiB, peak {:.0} MiB",
        f.records_per_sec,
        f.files_per_sec,
        f.files,
        f.records_in_s3,
        f.cpu_s_per_million,
        q[0],
        q[1],
        q[2],
        q[3],
        f.peak_rss_mib
    );
    let key = format!("sink.field{values}");
    samples.add(format!("{key}.records_per_sec"), f.records_per_sec);
    samples.add(format!("{key}.files_per_sec"), f.files_per_sec);
    samples.add(format!("{key}.cpu_s_per_million"), f.cpu_s_per_million);
    samples.add(format!("{key}.peak_rss_mib"), f.peak_rss_mib);
    samples.add(
        format!("{key}.records_missing_in_s3"),
        total as f64 - f.records_in_s3 as f64,
    );
    for (i, rss) in q.iter().enumerate() {
        samples.add(format!("{key}.rss_at_{}pct_mib", 25 * (i + 1)), *rss);
    }
    Ok(())
}
