//! The seeded fault schedule: the same seed always yields the same faults in the same order,
//! every kind at least once, then random kinds up to the requested count.

use std::time::Duration;

use tickstream::rng::SplitMix64;

/// One kind of fault the suite injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// SIGKILL the broker, restart it after a pause.
    BrokerKill,
    /// SIGKILL the S3 server, restart it after a pause.
    S3Kill,
    /// S3 down for a long while (30 s).
    S3Outage,
    /// S3 answers 503 SlowDown / 500 for a while (through the fault proxy).
    S3Errors,
    /// SIGKILL tickstream (mid-flush, most likely) and start it again.
    RuntimeKill,
    /// SIGSTOP tickstream, then SIGCONT.
    RuntimeStall,
    /// Fail one actor through the admin endpoint.
    ActorFail,
    /// Produce malformed records (not JSON, wrong types, 1 MB, empty) onto the topic.
    MalformedRecords,
}

pub const ALL: [FaultKind; 8] = [
    FaultKind::BrokerKill,
    FaultKind::S3Kill,
    FaultKind::S3Outage,
    FaultKind::S3Errors,
    FaultKind::RuntimeKill,
    FaultKind::RuntimeStall,
    FaultKind::ActorFail,
    FaultKind::MalformedRecords,
];

/// A fault and how long it lasts (or the pause before the restart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub hold: Duration,
    /// Which partition or symbol an actor fault hits; free for other kinds.
    pub target: u32,
}

/// `count` faults from `seed`: each kind once (shuffled), then random kinds.
pub fn schedule(seed: u64, count: usize) -> Vec<Fault> {
    let mut rng = SplitMix64(seed);
    let mut kinds: Vec<FaultKind> = ALL.to_vec();
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    while kinds.len() < count {
        kinds.push(ALL[(rng.next_u64() % ALL.len() as u64) as usize]);
    }
    kinds
        .into_iter()
        .map(|kind| {
            let hold = match kind {
                FaultKind::S3Outage => Duration::from_secs(30),
                FaultKind::ActorFail | FaultKind::MalformedRecords => Duration::ZERO,
                _ => Duration::from_millis(1_000 + rng.next_u64() % 4_000),
            };
            Fault {
                kind,
                hold,
                target: (rng.next_u64() % 1_000) as u32,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        assert_eq!(schedule(7, 20), schedule(7, 20));
        assert_ne!(schedule(7, 20), schedule(8, 20));
    }

    #[test]
    fn every_kind_appears_at_least_once() {
        let kinds: BTreeSet<FaultKind> = schedule(1, ALL.len()).iter().map(|f| f.kind).collect();
        assert_eq!(kinds.len(), ALL.len());
        assert_eq!(schedule(1, 100).len(), 100);
    }

    #[test]
    fn an_s3_outage_lasts_thirty_seconds() {
        let f = schedule(3, 8)
            .into_iter()
            .find(|f| f.kind == FaultKind::S3Outage)
            .unwrap();
        assert_eq!(f.hold, Duration::from_secs(30));
    }
}
