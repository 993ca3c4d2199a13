//! One chaos run: phase 1 ([`crate::processes`]) kills and stalls real tansu, s3s-fs and
//! tickstream processes; phase 2 ([`crate::failover`]) moves leaders and takes a broker down on a
//! three-broker mock cluster. One report for both. Also the small HTTP helpers both use.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::failover;
use crate::processes::process_phase;
use crate::procs::ProcError;
use crate::report::{PhaseTotals, Recoveries, Report};

/// What a run needs.
pub struct RunConfig {
    /// `smoke` or `soak`, for the report.
    pub mode: String,
    pub seed: u64,
    /// Faults of the process phase (each kind at least once when ≥ 8)…
    pub faults: usize,
    /// …and of the mock-cluster failover phase.
    pub failover_faults: usize,
    /// The run directory (logs, data, report).
    pub dir: PathBuf,
    /// The `tickstream` binary to run.
    pub tickstream: PathBuf,
    /// Stop scheduling faults after this long (soak; five sixths for the process phase, the
    /// rest for failover); `None`: after `faults` and `failover_faults` faults.
    pub minutes: Option<u64>,
    /// More `[sink]` settings for every instance (`--sink KEY=VALUE`), e.g. a compression.
    pub sink: Vec<(String, String)>,
}

impl RunConfig {
    /// The `--sink` settings as `[sink]` TOML lines (a number bare, anything else a string).
    pub fn sink_toml(&self) -> String {
        self.sink
            .iter()
            .map(|(k, v)| match v.parse::<i64>() {
                Ok(n) => format!("{k:?} = {n}\n"),
                Err(_) => format!("{k:?} = {v:?}\n"),
            })
            .collect()
    }
}

/// Errors that end a run before its audit.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error(transparent)]
    Proc(#[from] ProcError),
    #[error("{0}")]
    Setup(String),
}

pub(crate) fn setup(e: impl std::fmt::Display) -> ChaosError {
    ChaosError::Setup(e.to_string())
}

/// Sum of a counter over its labels, from tickstream's `/metrics`.
pub(crate) async fn scrape(metrics: u16, name: &str) -> Option<f64> {
    Some(sum_metric(&http(metrics, "GET", "/metrics").await?, name))
}

/// Sums every sample of metric `name` (any labels) in Prometheus text.
pub(crate) fn sum_metric(body: &str, name: &str) -> f64 {
    body.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub(crate) async fn http(port: u16, method: &str, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    s.write_all(format!("{method} {path} HTTP/1.0\r\nContent-Length: 0\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
        .await
        .ok()?
        .ok()?;
    Some(out)
}

/// Runs the whole scenario: the process phase, then the failover phase, then the report.
pub async fn run(rc: RunConfig) -> Result<Report, ChaosError> {
    let started = Instant::now();
    let mut report = Report {
        mode: rc.mode.clone(),
        seed: rc.seed,
        ..Report::default()
    };
    let mut recoveries = Recoveries::default();
    let budget = rc.minutes.map(|m| Duration::from_secs(m * 60));
    let (processes, rss, incidents) = process_phase(&rc, budget.map(|b| b * 5 / 6), &mut recoveries).await?;
    report.processes = processes;
    report.rss = rss;
    report.tickstream_exits = incidents.exits;
    report.stalls = incidents.stalls;

    println!("chaos: failover phase (three-broker mock cluster)");
    let outcome = failover::run(
        rc.seed,
        rc.failover_faults,
        budget.map(|b| b / 6),
        &rc.dir.join("failover"),
        &rc.sink_toml(),
    )
    .await?;
    println!("{}", tickstream::verify::report::table(&outcome.audit));
    for (kind, recovered) in &outcome.faults {
        recoveries.push(kind, *recovered);
    }
    report.failover = PhaseTotals::from_audit(&outcome.audit, outcome.ticks_produced, outcome.ticks_acked);

    if rc.minutes.is_some() {
        println!("chaos: group phase (several instances in one consumer group)");
        let gc = crate::group::GroupConfig {
            dir: rc.dir.join("group"),
            tickstream: rc.tickstream.clone(),
            chaos: std::env::current_exe().map_err(setup)?,
            eager: false,
        };
        let o = crate::group::run(&gc).await?;
        println!("{}", tickstream::verify::report::table(&o.audit));
        let mut totals = PhaseTotals::from_audit(&o.audit, 0, 0);
        totals.verified &= o.commits_at_ends.is_some();
        report.group = Some(totals);
        report.group_table = Some(crate::group::table(&o, false));
    }

    recoveries.summarise(&mut report);
    report.elapsed_s = started.elapsed().as_secs();
    report.conclude();
    let json = serde_json::to_string_pretty(&report).map_err(setup)?;
    std::fs::write(rc.dir.join("report.json"), &json).map_err(setup)?;
    std::fs::write(rc.dir.join("report.txt"), report.table()).map_err(setup)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_is_summed_over_its_labels_and_no_other_metric() {
        let body = "# TYPE x counter\nfiles_total{partition=\"0\"} 3\nfiles_total{partition=\"1\"} 4\nfiles_total_other 100\nfiles_total 1\n";
        assert_eq!(sum_metric(body, "files_total"), 8.0);
    }
}
