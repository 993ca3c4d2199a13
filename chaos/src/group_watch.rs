//! What the group phase measures: every instance's files uploaded per partition, scraped from
//! its `/metrics` every [`EVERY`], and per fault which partitions kept their owner and how long
//! each partition went without a new file around it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::run::http;

/// How often each instance is scraped.
pub const EVERY: Duration = Duration::from_millis(250);

/// A partition got a new file from `instance` at `at` (since the phase started).
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub at: Duration,
    pub instance: String,
    pub partition: i32,
}

/// The instances to scrape (name → metrics port) and what was seen.
#[derive(Clone)]
pub struct Watch {
    pub instances: Arc<Mutex<BTreeMap<String, u16>>>,
    uploads: Arc<Mutex<Vec<Upload>>>,
    /// The wall clock at the phase's start (an [`Upload`]'s `at` is since then).
    pub wall_start: chrono::DateTime<chrono::Utc>,
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            instances: Arc::default(),
            uploads: Arc::default(),
            wall_start: chrono::Utc::now(),
        }
    }
}

/// When `log` (a tickstream log) last says `partition` was assigned to it before `before`.
pub fn assigned_at(
    log: &str,
    topic: &str,
    partition: i32,
    before: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let tp = format!("{topic}/{partition}");
    log.lines()
        .filter(|l| l.contains("partitions assigned"))
        .filter(|l| {
            l.split("partitions=")
                .nth(1)
                .is_some_and(|list| list.split(", ").any(|p| p.trim() == tp))
        })
        .filter_map(|l| {
            l.split_whitespace()
                .next()?
                .parse::<chrono::DateTime<chrono::Utc>>()
                .ok()
        })
        .filter(|t| *t <= before)
        .max()
}

impl Watch {
    /// Scrapes every instance every [`EVERY`] until the task is aborted, each on a task of its
    /// own: a stopped instance (SIGSTOP: its port still accepts connections, and answers
    /// nothing) must not delay the others' samples.
    pub fn spawn(&self, started: Instant) -> tokio::task::JoinHandle<()> {
        let w = self.clone();
        tokio::spawn(async move {
            // Dropped with this task (aborted), the set aborts every scraper.
            let mut tasks = tokio::task::JoinSet::new();
            let mut scrapers: BTreeMap<(String, u16), tokio::task::AbortHandle> = BTreeMap::new();
            loop {
                let instances: Vec<(String, u16)> = w.lock_instances().iter().map(|(n, p)| (n.clone(), *p)).collect();
                scrapers.retain(|k, task| {
                    let keep = instances.contains(k);
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for (name, port) in instances {
                    if !scrapers.contains_key(&(name.clone(), port)) {
                        let handle = tasks.spawn(w.clone().scrape(name.clone(), port, started));
                        scrapers.insert((name, port), handle);
                    }
                }
                while tasks.try_join_next().is_some() {}
                tokio::time::sleep(EVERY).await;
            }
        })
    }

    /// Scrapes one instance every [`EVERY`], noting each new file of each partition.
    async fn scrape(self, name: String, port: u16, started: Instant) {
        let mut last: BTreeMap<i32, f64> = BTreeMap::new();
        loop {
            if let Some(body) = http(port, "GET", "/metrics").await {
                for (partition, files) in files_per_partition(&body) {
                    let prev = last.insert(partition, files);
                    if prev.is_some_and(|p| files > p) {
                        self.uploads.lock().unwrap_or_else(|p| p.into_inner()).push(Upload {
                            at: started.elapsed(),
                            instance: name.clone(),
                            partition,
                        });
                    }
                }
            }
            tokio::time::sleep(EVERY).await;
        }
    }

    fn lock_instances(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u16>> {
        self.instances.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn uploads(&self) -> Vec<Upload> {
        self.uploads.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `tickstream_sink_files_uploaded_total` per partition in one scrape.
fn files_per_partition(body: &str) -> Vec<(i32, f64)> {
    const NAME: &str = "tickstream_sink_files_uploaded_total{";
    body.lines()
        .filter_map(|l| {
            let labels = l.strip_prefix(NAME)?;
            let p = labels.split("partition=\"").nth(1)?.split('"').next()?.parse().ok()?;
            let v = l.rsplit(' ').next()?.parse().ok()?;
            Some((p, v))
        })
        .collect()
}

/// One fault's effect on the uploads.
#[derive(Debug, Default, PartialEq)]
pub struct Effect {
    /// Partitions of the other instances whose files came from the same instance before and
    /// after (the goal: no gap beyond the rotation interval).
    pub kept: Vec<i32>,
    /// The longest time without a new file of a kept partition, around the fault.
    pub kept_longest_gap: Duration,
    /// Partitions the instance under the fault (killed, stopped, leaving) had, and still had
    /// after it: their gap is the fault's own.
    pub own: Vec<i32>,
    pub own_longest_gap: Duration,
    /// Partitions whose files came from another instance after the fault.
    pub moved: Vec<i32>,
    /// From the fault to the new owner's first file, the longest over the moved partitions.
    pub moved_first_file: Duration,
    /// Each moved partition's new owner and when its first file was seen.
    pub moved_to: Vec<(i32, String, Duration)>,
}

/// What happened to each partition's uploads from `at` (the fault to `subject`, if an instance
/// is its subject) to `until`, judged against who uploaded it last before `at`.
pub fn effect(uploads: &[Upload], subject: Option<&str>, at: Duration, until: Duration) -> Effect {
    let mut by_partition: BTreeMap<i32, Vec<&Upload>> = BTreeMap::new();
    for u in uploads {
        by_partition.entry(u.partition).or_default().push(u);
    }
    let mut e = Effect::default();
    for (partition, ups) in by_partition {
        let Some(before) = ups.iter().rev().find(|u| u.at <= at) else {
            continue;
        };
        let after: Vec<&&Upload> = ups.iter().filter(|u| u.at > at && u.at <= until).collect();
        let Some(last_after) = after.last() else {
            continue;
        };
        if after.iter().all(|u| u.instance == before.instance) {
            let mut gap = Duration::ZERO;
            let mut prev = before.at;
            for u in &after {
                gap = gap.max(u.at - prev);
                prev = u.at;
            }
            if subject == Some(before.instance.as_str()) {
                e.own.push(partition);
                e.own_longest_gap = e.own_longest_gap.max(gap);
            } else {
                e.kept.push(partition);
                e.kept_longest_gap = e.kept_longest_gap.max(gap);
            }
        } else {
            e.moved.push(partition);
            if let Some(first) = after.iter().find(|u| u.instance == last_after.instance) {
                e.moved_first_file = e.moved_first_file.max(first.at - at);
                e.moved_to.push((partition, first.instance.clone(), first.at));
            }
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(ms: u64, instance: &str, partition: i32) -> Upload {
        Upload {
            at: Duration::from_millis(ms),
            instance: instance.into(),
            partition,
        }
    }

    #[test]
    fn kept_partitions_report_their_longest_gap_and_moved_ones_their_new_owners_first_file() {
        let uploads = vec![
            up(9_000, "a", 0),
            up(9_500, "b", 1),
            up(10_800, "a", 0),
            up(13_800, "a", 0), // a 3 s gap on a kept partition
            up(14_000, "c", 1), // partition 1 moved to c, 4 s after the fault
            up(15_000, "c", 1),
        ];
        let e = effect(&uploads, None, Duration::from_secs(10), Duration::from_secs(20));
        assert_eq!(e.kept, vec![0]);
        assert_eq!(e.kept_longest_gap, Duration::from_millis(3_000));
        assert_eq!(e.moved, vec![1]);
        assert_eq!(e.moved_first_file, Duration::from_secs(4));
    }

    #[test]
    fn the_partitions_of_the_instance_under_the_fault_are_counted_apart() {
        let uploads = vec![
            up(9_000, "a", 0),
            up(9_000, "b", 1),
            up(11_000, "a", 0),
            up(18_000, "b", 1),
        ];
        let e = effect(&uploads, Some("b"), Duration::from_secs(10), Duration::from_secs(20));
        assert_eq!((e.kept.clone(), e.own.clone()), (vec![0], vec![1]));
        assert_eq!(e.kept_longest_gap, Duration::from_secs(2));
        assert_eq!(e.own_longest_gap, Duration::from_secs(9));
    }

    #[test]
    fn the_assignment_of_a_partition_is_read_from_the_log_before_a_time() {
        let log = "2026-12-06T19:08:26.003005Z  INFO tickstream::consumer::context: partitions assigned partitions=t/1, t/10\n\
                   2026-12-06T19:09:00.000000Z  INFO tickstream::consumer::context: partitions assigned partitions=t/1\n";
        let before: chrono::DateTime<chrono::Utc> = "2026-12-06T19:08:30Z".parse().unwrap();
        let at = assigned_at(log, "t", 1, before).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-06T19:08:26.003005+00:00");
        assert_eq!(
            assigned_at(log, "t", 0, before),
            None,
            "t/10 is not t/0 nor t/1's neighbour"
        );
        assert!(assigned_at(log, "t", 10, before).is_some());
    }

    #[test]
    fn a_scrape_gives_each_partitions_file_count() {
        let body = "# HELP x\ntickstream_sink_files_uploaded_total{topic=\"t\",partition=\"2\"} 7\ntickstream_sink_files_uploaded_total{topic=\"t\",partition=\"10\"} 1\ntickstream_sink_bytes_uploaded_total{topic=\"t\",partition=\"2\"} 99\n";
        assert_eq!(files_per_partition(body), vec![(2, 7.0), (10, 1.0)]);
    }
}
