//! End-to-end latency and memory of a running pipeline (producers, sinks, ingestion watcher in
//! one `tickstream run`), with `rotate.interval.ms` = 1000: tick timestamp → S3 object written
//! (the object file's mtime on the s3s-fs disk) and tick timestamp → row queryable (`loaded_at`
//! in the warehouse), and resident memory sampled every 500 ms, optionally through a 30 s S3
//! outage (the s3s-fs process killed and restarted on the same port and directory).
//! Kafka is the embedded mock cluster (the default); S3 is an s3s-fs process so it can be killed.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use chaos::monitor::proc_status_kib;
use chaos::procs::{self, Proc};

use crate::contenders::Programs;
use crate::infra::{ACCESS_KEY, SECRET_KEY};
use crate::report::Samples;

/// RSS samples of the first seconds (start-up) are left out of the steady median.
const WARM_UP: Duration = Duration::from_secs(10);

/// One scenario.
pub struct Scenario {
    pub name: &'static str,
    pub symbols: usize,
    pub partitions: i32,
    pub secs: u64,
    /// Kill S3 this long after the start, for 30 s.
    pub outage_at: Option<Duration>,
    /// More `[sink]` settings (a partitioner).
    pub sink: &'static str,
}

/// Percentiles in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Percentiles {
    pub n: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

pub fn percentiles(mut v: Vec<f64>) -> Percentiles {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if v.is_empty() {
            return 0.0;
        }
        v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
    };
    Percentiles {
        n: v.len(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
    }
}

/// What a scenario measured.
#[derive(Debug, Default)]
pub struct Measured {
    pub tick_to_s3: Percentiles,
    pub tick_to_queryable: Percentiles,
    pub rss_peak_mib: f64,
    /// Median RSS after the warm-up, outside the outage.
    pub rss_steady_mib: f64,
    /// Highest RSS during the outage and in the 10 s after it.
    pub rss_outage_max_mib: f64,
    /// RSS at the start of the outage and at its end.
    pub rss_outage_start_mib: f64,
    pub rss_outage_end_mib: f64,
}

fn config(s: &Scenario, s3_url: &str) -> String {
    let symbols: Vec<String> = (0..s.symbols).map(|i| format!("\"S{i:04}\"")).collect();
    format!(
        r#"[kafka]
mode = "embedded"
partitions = {partitions}
[producer]
topic = "stock-market-data"
symbols = [{symbols}]
ticks_per_second = 1.0
[sink]
topics = "stock-market-data"
"flush.size" = 100
"rotate.interval.ms" = 1000
"s3.bucket.name" = "latency"
{sink}
[s3]
mode = "endpoint"
endpoint = "{s3_url}"
create_bucket = true
[metrics]
enabled = false
[warehouse]
poll_interval_ms = 1000
[runtime]
data_dir = "data"
progress_interval_ms = 0
shutdown_timeout_ms = 60000
"#,
        partitions = s.partitions,
        symbols = symbols.join(", "),
        sink = s.sink,
    )
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs `s` in `dir` with `tickstream`.
pub fn run(s: &Scenario, tickstream: &Path, dir: &Path) -> anyhow::Result<Measured> {
    std::fs::create_dir_all(dir.join("s3"))?;
    let port = procs::free_port()?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s3 = procs::s3s_fs(dir, port, ACCESS_KEY, SECRET_KEY);
    s3.start()?;
    s3.wait_listening(addr, Duration::from_secs(30))?;
    let config = dir.join("latency.toml");
    std::fs::write(&config, self::config(s, &format!("http://{addr}")))?;
    let mut app = Proc::new(
        "tickstream",
        tickstream,
        &["run".into(), "--config".into(), config.display().to_string()],
        dir,
    )
    .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    .env("RUST_LOG", "warn");
    let started_wall = SystemTime::now();
    app.start()?;
    let pid = app.pid().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    let started = Instant::now();
    let mut m = Measured::default();
    let (mut steady, mut outage_samples) = (Vec::new(), Vec::new());
    let mut s3_down = false;
    while started.elapsed() < Duration::from_secs(s.secs) {
        std::thread::sleep(Duration::from_millis(500));
        let t = started.elapsed();
        if let Some(at) = s.outage_at {
            if !s3_down && t >= at && t < at + Duration::from_secs(30) {
                m.rss_outage_start_mib = mib(proc_status_kib(pid, "VmRSS").unwrap_or(0));
                s3.kill();
                s3_down = true;
                eprintln!("    S3 down at {:.0} s", t.as_secs_f64());
            } else if s3_down && t >= at + Duration::from_secs(30) {
                m.rss_outage_end_mib = mib(proc_status_kib(pid, "VmRSS").unwrap_or(0));
                s3.start()?;
                s3.wait_listening(addr, Duration::from_secs(30))?;
                s3_down = false;
                eprintln!("    S3 back at {:.0} s", t.as_secs_f64());
            }
        }
        let Some(rss) = proc_status_kib(pid, "VmRSS") else {
            anyhow::bail!("tickstream exited early; see {}", dir.join("tickstream.log").display());
        };
        let in_outage = s
            .outage_at
            .is_some_and(|at| t >= at && t < at + Duration::from_secs(40));
        if in_outage {
            outage_samples.push(mib(rss));
        } else if t >= WARM_UP {
            steady.push(mib(rss));
        }
        m.rss_peak_mib = m.rss_peak_mib.max(mib(proc_status_kib(pid, "VmHWM").unwrap_or(rss)));
    }
    steady.sort_by(f64::total_cmp);
    m.rss_steady_mib = steady.get(steady.len() / 2).copied().unwrap_or(0.0);
    m.rss_outage_max_mib = outage_samples.iter().copied().fold(0.0, f64::max);
    app.terminate(Duration::from_secs(90));
    if s.outage_at.is_none() {
        // Steady state: ticks made after every partition's sink has written its first file
        // (start-up, the group join and 64 resume plans take seconds; those ticks wait).
        let root = dir.join("s3/latency/topics");
        let after = all_flowing(&root)?.unwrap_or(started_wall + WARM_UP);
        m.tick_to_s3 = percentiles(tick_to_s3(&root, after)?);
        m.tick_to_queryable = percentiles(tick_to_queryable(&dir.join("data/warehouse.db"), after)?);
    }
    Ok(m)
}

fn parse_ts(ts: &str) -> Option<SystemTime> {
    let t = chrono::DateTime::parse_from_rfc3339(ts).ok()?;
    let ms = u64::try_from(t.timestamp_millis()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
}

/// When the last directory of files (`partition=N`, or a partitioner's `symbol=…`, `…/hour=HH`)
/// wrote its first file.
fn all_flowing(root: &Path) -> anyhow::Result<Option<SystemTime>> {
    fn walk(dir: &Path, latest: &mut Option<SystemTime>) -> anyhow::Result<()> {
        let mut first: Option<SystemTime> = None;
        for e in std::fs::read_dir(dir)? {
            let path = e?.path();
            if path.is_dir() {
                walk(&path, latest)?;
            } else {
                let t = std::fs::metadata(&path)?.modified()?;
                first = Some(first.map_or(t, |f| f.min(t)));
            }
        }
        if let Some(f) = first {
            *latest = Some(latest.map_or(f, |l| l.max(f)));
        }
        Ok(())
    }
    let mut latest = None;
    walk(root, &mut latest)?;
    Ok(latest)
}

/// Seconds from each tick's timestamp to its object's mtime, for ticks stamped after `after`.
fn tick_to_s3(root: &Path, after: SystemTime) -> anyhow::Result<Vec<f64>> {
    fn walk(dir: &Path, after: SystemTime, out: &mut Vec<f64>) -> anyhow::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let path = e?.path();
            if path.is_dir() {
                walk(&path, after, out)?;
                continue;
            }
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let written = std::fs::metadata(&path)?.modified()?;
            for line in std::fs::read_to_string(&path)?.lines() {
                let v: serde_json::Value = serde_json::from_str(line)?;
                let Some(ts) = v["timestamp"].as_str().and_then(parse_ts) else {
                    continue;
                };
                if ts >= after {
                    out.push(written.duration_since(ts).unwrap_or_default().as_secs_f64());
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, after, &mut out)?;
    Ok(out)
}

/// Seconds from each tick's timestamp to `loaded_at`, for ticks stamped after `after`.
fn tick_to_queryable(db: &Path, after: SystemTime) -> anyhow::Result<Vec<f64>> {
    tick_to_queryable_between(db, after, SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799))
}

/// [`tick_to_queryable`] for ticks stamped from `after` to before `before`.
pub fn tick_to_queryable_between(db: &Path, after: SystemTime, before: SystemTime) -> anyhow::Result<Vec<f64>> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let ts = |t: SystemTime| {
        chrono::DateTime::<chrono::Utc>::from(t)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    let mut stmt = conn.prepare(
        "SELECT (julianday(loaded_at) - julianday(timestamp)) * 86400.0 FROM STOCK_MARKET_DATA \
         WHERE julianday(timestamp) >= julianday(?1) AND julianday(timestamp) < julianday(?2)",
    )?;
    let rows = stmt.query_map([ts(after), ts(before)], |r| r.get::<_, f64>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The latency and memory scenarios of one run (see `latency.rs`).
pub fn scenarios(
    (secs, names): (u64, &[String]),
    p: &Programs,
    dir: &Path,
    samples: &mut Samples,
) -> anyhow::Result<()> {
    let scenarios = [
        Scenario {
            name: "default",
            symbols: 7,
            partitions: 3,
            secs,
            outage_at: None,
            sink: "",
        },
        Scenario {
            name: "symbols1000x64",
            symbols: 1_000,
            partitions: 64,
            secs,
            outage_at: None,
            sink: "",
        },
        Scenario {
            name: "field1000x64",
            symbols: 1_000,
            partitions: 64,
            secs,
            outage_at: None,
            sink: "\"partitioner.class\" = \"field\"\n\"partition.field.name\" = \"symbol\"",
        },
        Scenario {
            name: "hourly1000x64",
            symbols: 1_000,
            partitions: 64,
            secs,
            outage_at: None,
            sink: "\"partitioner.class\" = \"hourly\"",
        },
        Scenario {
            name: "s3_outage",
            symbols: 1_000,
            partitions: 64,
            secs: secs.max(30) + 40,
            outage_at: Some(Duration::from_secs(secs.max(30) / 2)),
            sink: "",
        },
    ];
    for s in scenarios.iter().filter(|s| names.iter().any(|n| n == s.name)) {
        eprintln!(
            "  latency/memory {} ({} symbols x 1 tick/s, {} partitions, {} s)",
            s.name, s.symbols, s.partitions, s.secs
        );
        crate::measure::settle();
        let m = run(s, &p.tickstream, &dir.join(format!("latency-{}", s.name)))?;
        let key = format!("pipeline.{}", s.name);
        if s.outage_at.is_none() {
            eprintln!(
                "    tick->S3 p50/p95/p99 {:.3}/{:.3}/{:.3} s ({} ticks); tick->queryable {:.3}/{:.3}/{:.3} s ({} rows)",
                m.tick_to_s3.p50,
                m.tick_to_s3.p95,
                m.tick_to_s3.p99,
                m.tick_to_s3.n,
                m.tick_to_queryable.p50,
                m.tick_to_queryable.p95,
                m.tick_to_queryable.p99,
                m.tick_to_queryable.n
            );
            for (what, v) in [("tick_to_s3", m.tick_to_s3), ("tick_to_queryable", m.tick_to_queryable)] {
                samples.add(format!("{key}.{what}.p50_s"), v.p50);
                samples.add(format!("{key}.{what}.p95_s"), v.p95);
                samples.add(format!("{key}.{what}.p99_s"), v.p99);
            }
        } else {
            eprintln!(
                "    RSS at outage start {:.0} MiB, max during it and 10 s after {:.0} MiB, at its end {:.0} MiB",
                m.rss_outage_start_mib, m.rss_outage_max_mib, m.rss_outage_end_mib
            );
            samples.add(format!("{key}.rss_outage_start_mib"), m.rss_outage_start_mib);
            samples.add(format!("{key}.rss_outage_max_mib"), m.rss_outage_max_mib);
            samples.add(format!("{key}.rss_outage_end_mib"), m.rss_outage_end_mib);
        }
        eprintln!(
            "    RSS peak {:.0} MiB, steady median {:.0} MiB",
            m.rss_peak_mib, m.rss_steady_mib
        );
        samples.add(format!("{key}.rss_peak_mib"), m.rss_peak_mib);
        samples.add(format!("{key}.rss_steady_mib"), m.rss_steady_mib);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = percentiles((1..=100).map(f64::from).rev().collect());
        assert_eq!((p.n, p.p50, p.p95, p.p99), (100, 50.0, 95.0, 99.0));
        assert_eq!(percentiles(Vec::new()).n, 0);
    }

    #[test]
    fn tick_timestamps_parse_to_milliseconds() {
        let t = parse_ts("2026-11-22T06:41:07.194Z").unwrap();
        let ms = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis();
        assert_eq!(ms % 1000, 194);
    }
}
