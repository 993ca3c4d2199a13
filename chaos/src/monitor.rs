//! Watches the running `tickstream` process through a run: its resident memory every 500 ms
//! (split into samples taken during a fault and outside one) and its tick counters every second,
//! summed over every incarnation the suite starts and kills.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

/// Memory of tickstream over the run, in KiB.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RssReport {
    /// Highest `VmHWM` of any incarnation (the kernel's own peak).
    pub peak_kib: u64,
    /// Median `VmRSS` outside faults.
    pub steady_median_kib: u64,
    /// Highest `VmRSS` sampled while a fault was in force.
    pub during_faults_max_kib: u64,
    pub samples: usize,
}

/// Counters of one incarnation, as last scraped.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    produced: u64,
    acked: u64,
}

#[derive(Default)]
struct State {
    peak: u64,
    steady: Vec<u64>,
    during: Vec<u64>,
    counters: BTreeMap<u32, Counters>,
}

/// The shared handles: set `pid` after every start, `in_fault` while a fault holds.
#[derive(Clone, Default)]
pub struct Monitor {
    pub pid: Arc<AtomicU32>,
    pub in_fault: Arc<AtomicBool>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

/// Reads `field` (e.g. `VmRSS`) of `/proc/<pid>/status`, in KiB.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&status, field)
}

fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

impl Monitor {
    /// Starts sampling; `metrics_port` is tickstream's `/metrics`.
    pub fn start(&self, metrics_port: u16) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = 0u64;
            while !me.stop.load(Ordering::Relaxed) {
                let pid = me.pid.load(Ordering::Relaxed);
                if pid != 0 {
                    me.sample_memory(pid);
                    if tick.is_multiple_of(2) {
                        me.sample_counters(pid, metrics_port).await;
                    }
                }
                tick += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }

    fn sample_memory(&self, pid: u32) {
        let (Some(rss), hwm) = (proc_status_kib(pid, "VmRSS"), proc_status_kib(pid, "VmHWM")) else {
            return;
        };
        let Ok(mut s) = self.state.lock() else { return };
        s.peak = s.peak.max(hwm.unwrap_or(rss));
        if self.in_fault.load(Ordering::Relaxed) {
            s.during.push(rss);
        } else {
            s.steady.push(rss);
        }
    }

    async fn sample_counters(&self, pid: u32, metrics_port: u16) {
        let Some(body) = crate::run::http(metrics_port, "GET", "/metrics").await else {
            return;
        };
        let c = Counters {
            produced: crate::run::sum_metric(&body, "tickstream_ticks_produced_total") as u64,
            acked: crate::run::sum_metric(&body, "tickstream_ticks_acked_total") as u64,
        };
        if let Ok(mut s) = self.state.lock() {
            s.counters.insert(pid, c);
        }
    }

    /// Ticks produced and acknowledged, summed over incarnations (as last scraped: the last
    /// second of a SIGKILLed incarnation is not seen, so these are lower bounds).
    pub fn ticks(&self) -> (u64, u64) {
        let Ok(s) = self.state.lock() else { return (0, 0) };
        s.counters
            .values()
            .fold((0, 0), |(p, a), c| (p + c.produced, a + c.acked))
    }

    /// Stops sampling and summarises memory.
    pub fn finish(&self) -> RssReport {
        self.stop.store(true, Ordering::Relaxed);
        let Ok(s) = self.state.lock() else {
            return RssReport::default();
        };
        let mut steady = s.steady.clone();
        steady.sort_unstable();
        RssReport {
            peak_kib: s.peak,
            steady_median_kib: steady.get(steady.len() / 2).copied().unwrap_or(0),
            during_faults_max_kib: s.during.iter().copied().max().unwrap_or(0),
            samples: s.steady.len() + s.during.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kib() {
        let status = "Name:\ttickstream\nVmHWM:\t   51234 kB\nVmRSS:\t   40960 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(40_960));
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(51_234));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn this_process_has_a_resident_size() {
        let rss = proc_status_kib(std::process::id(), "VmRSS").expect("VmRSS of this test");
        assert!(rss > 100, "{rss} KiB");
    }
}
