//! The run's report: faults by kind with their recovery times, what each phase found in Kafka
//! and S3, tickstream's memory; written to `<run dir>/report.json` and printed as a table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use tickstream::verify::VerifyReport;

use crate::monitor::RssReport;

/// One fault kind: how often, and how long until files flowed again after it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KindReport {
    pub injected: u32,
    /// Faults after which a new file was uploaded within the limit.
    pub recovered: u32,
    pub recovery_ms_p50: u64,
    pub recovery_ms_p99: u64,
    pub recovery_ms_max: u64,
}

/// What one phase's audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PhaseTotals {
    /// Ticks the producers made and had acknowledged, as counted by tickstream (see monitor).
    pub ticks_produced: u64,
    pub ticks_acked: u64,
    pub records_in_kafka: u64,
    pub records_in_s3: u64,
    /// Ticks found in S3, per (run_id, symbol) seq.
    pub ticks_in_s3: u64,
    pub lost: i64,
    pub duplicated: i64,
    pub dead_lettered: u64,
    pub seq_gaps: u64,
    pub verified: bool,
}

impl PhaseTotals {
    pub fn from_audit(audit: &VerifyReport, ticks_produced: u64, ticks_acked: u64) -> Self {
        let span = |v: &Vec<(i64, i64)>| v.iter().map(|(a, b)| b - a).sum::<i64>();
        Self {
            ticks_produced,
            ticks_acked,
            records_in_kafka: audit.partitions.iter().map(|p| p.records_in_kafka).sum(),
            records_in_s3: audit.partitions.iter().map(|p| p.records_in_s3).sum(),
            ticks_in_s3: audit.symbols.iter().map(|s| s.ticks).sum(),
            lost: audit.partitions.iter().map(|p| span(&p.missing)).sum(),
            duplicated: audit.partitions.iter().map(|p| span(&p.duplicated)).sum(),
            dead_lettered: audit.partitions.iter().map(|p| p.dead_lettered).sum(),
            seq_gaps: audit.symbols.iter().map(|s| s.gaps.len() as u64).sum(),
            verified: audit.ok(),
        }
    }
}

/// The whole run.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub mode: String,
    pub seed: u64,
    pub elapsed_s: u64,
    pub faults_total: u32,
    pub faults: BTreeMap<String, KindReport>,
    pub recovery_ms_p50: u64,
    pub recovery_ms_p99: u64,
    /// tansu + s3s-fs + `tickstream run` as processes.
    pub processes: PhaseTotals,
    /// The three-broker mock cluster phase (leader moves, a broker down).
    pub failover: PhaseTotals,
    /// Several instances in one group (`chaos group`; the soak runs it last): its totals and its
    /// table, verified only with every committed offset at its end.
    pub group: Option<PhaseTotals>,
    pub group_table: Option<String>,
    pub lost: i64,
    pub duplicated: i64,
    pub rss: RssReport,
    /// Times tickstream exited on its own during the process phase (restarted by the suite, as
    /// systemd would), with when and the exit status.
    pub tickstream_exits: Vec<String>,
    /// Stalls (no file for 120 s after a fault, or a final drain not done) the suite ended by
    /// restarting the broker, with the cause tickstream reported.
    pub stalls: Vec<String>,
    pub verified: bool,
}

/// Recovery times as they come, by kind (`None`: never flowed again within the limit).
#[derive(Debug, Default)]
pub struct Recoveries(BTreeMap<String, Vec<Option<Duration>>>);

impl Recoveries {
    pub fn push(&mut self, kind: &str, recovered: Option<Duration>) {
        self.0.entry(kind.to_owned()).or_default().push(recovered);
    }

    /// Fills the report's fault table and overall percentiles.
    pub fn summarise(&self, report: &mut Report) {
        let ms = |v: &[Option<Duration>]| {
            let mut ms: Vec<u64> = v.iter().flatten().map(|d| d.as_millis() as u64).collect();
            ms.sort_unstable();
            ms
        };
        for (kind, v) in &self.0 {
            let sorted = ms(v);
            report.faults.insert(
                kind.clone(),
                KindReport {
                    injected: v.len() as u32,
                    recovered: sorted.len() as u32,
                    recovery_ms_p50: percentile(&sorted, 0.5),
                    recovery_ms_p99: percentile(&sorted, 0.99),
                    recovery_ms_max: sorted.last().copied().unwrap_or(0),
                },
            );
        }
        let all: Vec<Option<Duration>> = self.0.values().flatten().copied().collect();
        let sorted = ms(&all);
        report.faults_total = all.len() as u32;
        report.recovery_ms_p50 = percentile(&sorted, 0.5);
        report.recovery_ms_p99 = percentile(&sorted, 0.99);
    }
}

pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

impl Report {
    /// Sets the overall verdict from both phases.
    pub fn conclude(&mut self) {
        let group = self.group.as_ref();
        self.lost = self.processes.lost + self.failover.lost + group.map_or(0, |g| g.lost);
        self.duplicated = self.processes.duplicated + self.failover.duplicated + group.map_or(0, |g| g.duplicated);
        self.verified = self.processes.verified && self.failover.verified && group.is_none_or(|g| g.verified);
    }

    /// The human summary printed at the end of a run.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "chaos {} seed {}: {} faults in {} s",
            self.mode, self.seed, self.faults_total, self.elapsed_s
        );
        let _ = writeln!(
            out,
            "{:<18} {:>8} {:>9} {:>12} {:>12} {:>12}",
            "fault", "injected", "recovered", "recovery p50", "recovery p99", "max"
        );
        for (kind, k) in &self.faults {
            let _ = writeln!(
                out,
                "{kind:<18} {:>8} {:>9} {:>10} ms {:>10} ms {:>9} ms",
                k.injected, k.recovered, k.recovery_ms_p50, k.recovery_ms_p99, k.recovery_ms_max
            );
        }
        let _ = writeln!(
            out,
            "{:<18} {:>8} {:>9} {:>10} ms {:>10} ms",
            "all", self.faults_total, "", self.recovery_ms_p50, self.recovery_ms_p99
        );
        let _ = writeln!(
            out,
            "{:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>5} {:>5} {:>4} {:>5}",
            "phase", "produced", "acked", "in kafka", "in s3", "ticks s3", "lost", "dup", "dlq", "gaps"
        );
        let phases = [
            ("processes", Some(&self.processes)),
            ("failover", Some(&self.failover)),
            ("group", self.group.as_ref()),
        ];
        for (name, p) in phases.into_iter().filter_map(|(n, p)| Some((n, p?))) {
            let _ = writeln!(
                out,
                "{name:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>5} {:>5} {:>4} {:>5}",
                p.ticks_produced,
                p.ticks_acked,
                p.records_in_kafka,
                p.records_in_s3,
                p.ticks_in_s3,
                p.lost,
                p.duplicated,
                p.dead_lettered,
                p.seq_gaps
            );
        }
        let _ = writeln!(
            out,
            "tickstream RSS: peak {} MiB, steady median {} MiB, max during faults {} MiB ({} samples)",
            self.rss.peak_kib / 1024,
            self.rss.steady_median_kib / 1024,
            self.rss.during_faults_max_kib / 1024,
            self.rss.samples
        );
        for exit in &self.tickstream_exits {
            let _ = writeln!(out, "tickstream exited on its own {exit} (restarted)");
        }
        for stall in &self.stalls {
            let _ = writeln!(out, "stall {stall}");
        }
        if let Some(t) = &self.group_table {
            out += t;
        }
        let _ = write!(
            out,
            "{}: {} lost, {} duplicated",
            if self.verified { "VERIFIED" } else { "FAILED" },
            self.lost,
            self.duplicated
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_sorted_samples() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!((percentile(&v, 0.5), percentile(&v, 0.99)), (51, 99));
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn recoveries_are_summarised_by_kind_and_overall() {
        let mut r = Recoveries::default();
        for ms in [100, 300, 200] {
            r.push("BrokerKill", Some(Duration::from_millis(ms)));
        }
        r.push("S3Kill", None);
        r.push("S3Kill", Some(Duration::from_millis(1_000)));
        let mut report = Report::default();
        r.summarise(&mut report);
        assert_eq!(report.faults_total, 5);
        let b = &report.faults["BrokerKill"];
        assert_eq!(
            (b.injected, b.recovered, b.recovery_ms_p50, b.recovery_ms_max),
            (3, 3, 200, 300)
        );
        let s = &report.faults["S3Kill"];
        assert_eq!((s.injected, s.recovered, s.recovery_ms_p50), (2, 1, 1_000));
        assert_eq!(report.recovery_ms_p99, 1_000);
    }

    #[test]
    fn the_verdict_needs_both_phases() {
        let mut report = Report {
            processes: PhaseTotals {
                verified: true,
                lost: 0,
                ..PhaseTotals::default()
            },
            failover: PhaseTotals {
                verified: false,
                duplicated: 2,
                ..PhaseTotals::default()
            },
            ..Report::default()
        };
        report.conclude();
        assert!(!report.verified);
        assert_eq!(report.duplicated, 2);
        assert!(report.table().contains("FAILED: 0 lost, 2 duplicated"));
    }
}
