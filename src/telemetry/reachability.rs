//! What this process knows of the services it depends on (Kafka, S3, Snowflake): whether each
//! answers, and if not, why. Every client, partition and poll that fails reports here, and the
//! operator sees one WARN line per dependency per interval naming its address and the
//! underlying error, instead of a line per broker, partition or attempt. `/readyz` and the
//! start-up wait give the same cause.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a failing dependency is logged at most (its failures in between are counted).
pub const REPORT_EVERY: Duration = Duration::from_secs(10);

/// A service tickstream talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dependency {
    Kafka,
    S3,
    Snowflake,
    SchemaRegistry,
    /// The SQLite warehouse file the ingestion watcher loads.
    Warehouse,
}

impl std::fmt::Display for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dependency::Kafka => "kafka",
            Dependency::S3 => "s3",
            Dependency::Snowflake => "snowflake",
            Dependency::SchemaRegistry => "schema registry",
            Dependency::Warehouse => "warehouse",
        })
    }
}

/// One dependency's record.
#[derive(Debug, Default)]
struct State {
    /// Where it is: bootstrap servers, endpoint URL and bucket, API URL.
    address: String,
    /// The last failure, while no answer has come since.
    problem: Option<Problem>,
    /// When a failure of it was last logged.
    last_report: Option<Instant>,
    /// Failures since that line.
    unreported: u64,
    /// What `/readyz` says of it that is no problem (a warehouse loaded by another instance).
    note: Option<String>,
}

#[derive(Debug)]
struct Problem {
    cause: String,
    since: Instant,
}

/// The process's dependencies; shared by every part that talks to one.
#[derive(Debug)]
pub struct Reachability {
    deps: Mutex<BTreeMap<Dependency, State>>,
    report_every: Duration,
}

impl Default for Reachability {
    fn default() -> Self {
        Self::new(REPORT_EVERY)
    }
}

impl Reachability {
    pub fn new(report_every: Duration) -> Self {
        Self {
            deps: Mutex::default(),
            report_every,
        }
    }

    fn with<T>(&self, dep: Dependency, f: impl FnOnce(&mut State) -> T) -> T {
        let mut deps = self.deps.lock().unwrap_or_else(|p| p.into_inner());
        f(deps.entry(dep).or_default())
    }

    /// Says where `dep` is, for every line and answer about it.
    pub fn register(&self, dep: Dependency, address: impl Into<String>) {
        let address = address.into();
        self.with(dep, |s| s.address = address);
    }

    /// `dep` failed with `cause`. Logged at once if nothing was logged about `dep` for an
    /// interval, otherwise counted into the next line.
    pub fn failed(&self, dep: Dependency, cause: &str) {
        let now = Instant::now();
        let line = self.with(dep, |s| {
            s.problem = Some(Problem {
                cause: cause.to_owned(),
                since: s.problem.as_ref().map_or(now, |p| p.since),
            });
            if s.last_report
                .is_some_and(|at| now.duration_since(at) < self.report_every)
            {
                s.unreported += 1;
                return None;
            }
            s.last_report = Some(now);
            Some((s.address.clone(), std::mem::take(&mut s.unreported)))
        });
        if let Some((address, more)) = line {
            let more = if more > 0 {
                format!(" ({more} more failures since the last report)")
            } else {
                String::new()
            };
            tracing::warn!(dependency = %dep, address, "cannot reach {dep} at {address}: {cause}{more}");
        }
    }

    /// Records `dep`'s failure without a line (a probe whose caller reports the outcome).
    pub fn noted(&self, dep: Dependency, cause: &str) {
        let now = Instant::now();
        self.with(dep, |s| {
            s.problem = Some(Problem {
                cause: cause.to_owned(),
                since: s.problem.as_ref().map_or(now, |p| p.since),
            });
        });
    }

    /// Logs `dep`'s failure now, whatever was logged before, with `note` after the cause (the
    /// start-up wait: one line per retry, saying when the next one is).
    pub fn report(&self, dep: Dependency, cause: &str, note: &str) {
        let address = self.with(dep, |s| {
            let now = Instant::now();
            s.problem = Some(Problem {
                cause: cause.to_owned(),
                since: s.problem.as_ref().map_or(now, |p| p.since),
            });
            s.last_report = Some(now);
            s.unreported = 0;
            s.address.clone()
        });
        tracing::warn!(dependency = %dep, address, "waiting for {dep} at {address}: {cause}; {note}");
    }

    /// `dep` answered: its problem, if it had one, is over.
    pub fn answered(&self, dep: Dependency) {
        let over = self.with(dep, |s| {
            let p = s.problem.take()?;
            s.last_report = None;
            s.unreported = 0;
            Some((s.address.clone(), p.since.elapsed()))
        });
        if let Some((address, after)) = over {
            tracing::info!(dependency = %dep, address, "{dep} at {address} answers again (after {} s)", after.as_secs());
        }
    }

    /// `"<dep> at <address>: <cause>"` while `dep` has a problem.
    pub fn problem(&self, dep: Dependency) -> Option<String> {
        self.with(dep, |s| {
            let p = s.problem.as_ref()?;
            Some(format!("{dep} at {}: {}", s.address, p.cause))
        })
    }

    /// Sets what `/readyz` says of `dep` besides problems (`None`: nothing); whether it changed.
    pub fn set_note(&self, dep: Dependency, note: Option<String>) -> bool {
        self.with(dep, |s| std::mem::replace(&mut s.note, note.clone()) != note)
    }

    /// `"<dep> at <address>: <note>"` for each dependency with a note.
    pub fn notes(&self) -> Vec<String> {
        let deps = self.deps.lock().unwrap_or_else(|p| p.into_inner());
        deps.iter()
            .filter_map(|(dep, s)| Some(format!("{dep} at {}: {}", s.address, s.note.as_ref()?)))
            .collect()
    }

    /// The address `dep` was registered with.
    pub fn address(&self, dep: Dependency) -> String {
        self.with(dep, |s| s.address.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_the_address_and_the_cause_until_an_answer() {
        let r = Reachability::default();
        r.register(Dependency::Kafka, "127.0.0.1:1");
        assert_eq!(r.problem(Dependency::Kafka), None);
        r.failed(
            Dependency::Kafka,
            "Connect to ipv4#127.0.0.1:1 failed: Connection refused",
        );
        assert_eq!(
            r.problem(Dependency::Kafka).as_deref(),
            Some("kafka at 127.0.0.1:1: Connect to ipv4#127.0.0.1:1 failed: Connection refused")
        );
        assert_eq!(r.problem(Dependency::S3), None, "one dependency's problem is its own");
        r.answered(Dependency::Kafka);
        assert_eq!(r.problem(Dependency::Kafka), None);
    }

    #[test]
    fn failures_within_an_interval_make_one_line_and_are_counted_into_the_next() {
        let r = Reachability::new(Duration::from_secs(3600));
        r.register(Dependency::S3, "http://127.0.0.1:9");
        for _ in 0..5 {
            r.failed(Dependency::S3, "connection refused");
        }
        let unreported = r.with(Dependency::S3, |s| s.unreported);
        assert_eq!(
            unreported, 4,
            "the first failure was logged, four wait for the next line"
        );
        r.report(Dependency::S3, "connection refused", "retrying in 1 s");
        assert_eq!(r.with(Dependency::S3, |s| s.unreported), 0);
    }

    #[test]
    fn with_no_interval_every_failure_is_logged() {
        let r = Reachability::new(Duration::ZERO);
        r.failed(Dependency::Snowflake, "dns error");
        r.failed(Dependency::Snowflake, "dns error");
        assert_eq!(r.with(Dependency::Snowflake, |s| s.unreported), 0);
    }
}
