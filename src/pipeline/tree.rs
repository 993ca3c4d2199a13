//! The supervision tree, declared in one place: each supervisor's strategy and intensity, each
//! child's restart kind.
//!
//! ```text
//! root                  intensity 0: a failure that reaches it ends the process (exit 1)
//! ├── auth              one_for_one    token-refresher                        permanent
//! ├── producers         one_for_one    producer-<SYMBOL> …                    permanent
//! ├── sinks             rest_for_one
//! │   ├── consumer                     the group consumer + router thread     transient
//! │   └── partitions    one_for_one    sink-<partition> …, started by the     transient
//! │                                    consumer as the group assigns them
//! └── warehouse         one_for_one    ingest-watcher | snowpipe-monitor      permanent
//! ```
//!
//! Permanent children run for the process's life and are restarted even after a normal stop;
//! transient ones are restarted only after a failure (a drained sink, a drained consumer stop
//! for good). Every supervisor but the root absorbs `[supervision]`'s restarts (`max_restarts`
//! within `window_ms`, all its children together) and escalates past them.
//!
//! `sinks` is rest-for-one because the sinks depend on the consumer: they read through its
//! group consumer and router. When the consumer fails, `partitions` and every sink under it
//! are stopped through their supervisor, the consumer starts again (its new incarnation closes
//! the old group consumer and joins anew), then `partitions` starts again, empty, and the new
//! consumer starts a sink for each partition the group assigns it. A failed sink is restarted
//! alone by `partitions`. Nothing is committed that is not in S3, so a restart loses and
//! doubles nothing; a restarted sink resumes from S3.

use std::sync::Arc;

use ractor::ActorRef;
use supervisors::{child_supervisor, ChildSpec, Restart, RestartPolicy, Strategy, SupervisorArgs, SupervisorMsg};

use super::admin::Shared;

/// A token refresher must always run while MSK IAM is on.
pub const REFRESHER: Restart = Restart::Permanent;
/// A producer must keep producing.
pub const PRODUCER: Restart = Restart::Permanent;
/// The consumer stops for good when it is drained at shutdown.
pub const CONSUMER: Restart = Restart::Transient;
/// A sink stops for good when its partition is revoked.
pub const SINK: Restart = Restart::Transient;
/// The ingestion watcher (or the Snowpipe monitor) runs for the process's life.
pub const WAREHOUSE: Restart = Restart::Permanent;

/// The supervisors as they are now (each restart publishes its new `ActorRef`).
#[derive(Clone, Default)]
pub struct Supervisors {
    pub auth: Shared<ActorRef<SupervisorMsg>>,
    pub producers: Shared<ActorRef<SupervisorMsg>>,
    pub sinks: Shared<ActorRef<SupervisorMsg>>,
    pub partitions: Shared<ActorRef<SupervisorMsg>>,
    pub warehouse: Shared<ActorRef<SupervisorMsg>>,
}

impl Supervisors {
    /// The current `ActorRef` in `slot`.
    pub fn get(slot: &Shared<ActorRef<SupervisorMsg>>) -> Option<ActorRef<SupervisorMsg>> {
        slot.lock().ok().and_then(|g| g.clone())
    }
}

/// The children of each part that runs in this process; `None` for a part that does not.
#[derive(Default)]
pub struct Parts {
    pub auth: Option<ChildSpec>,
    pub producers: Option<Vec<ChildSpec>>,
    /// The consumer, and what to tell it each time `partitions` (re)starts.
    pub consumer: Option<(ChildSpec, PartitionsStarted)>,
    pub warehouse: Option<ChildSpec>,
}

/// Called with the new `partitions` supervisor each time it starts.
pub type PartitionsStarted = Arc<dyn Fn(ActorRef<SupervisorMsg>) + Send + Sync>;

/// A supervisor by name, as it is now.
pub type Named = (&'static str, Shared<ActorRef<SupervisorMsg>>);

/// The root's arguments for `parts`, each supervisor under `policy`, and the supervisors it
/// starts.
pub fn root(parts: Parts, policy: &RestartPolicy, supervisors: &Supervisors) -> (SupervisorArgs, Vec<Named>) {
    let mut children = Vec::new();
    let mut named = Vec::new();
    let runs_sinks = parts.consumer.is_some();
    let mut add = |name: &'static str, strategy, specs, slot: &Shared<ActorRef<SupervisorMsg>>| {
        children.push(child_supervisor(
            name,
            strategy,
            policy.clone(),
            specs,
            publish(slot, None),
        ));
        named.push((name, slot.clone()));
    };
    if let Some(refresher) = parts.auth {
        // Its own supervisor: a refresher that fails (token expired) is restarted within the
        // intensity before anything escalates.
        add("auth", Strategy::OneForOne, vec![refresher], &supervisors.auth);
    }
    if let Some(producers) = parts.producers {
        add("producers", Strategy::OneForOne, producers, &supervisors.producers);
    }
    if let Some((consumer, started)) = parts.consumer {
        let partitions = child_supervisor(
            "partitions",
            Strategy::OneForOne,
            policy.clone(),
            Vec::new(),
            publish(&supervisors.partitions, Some(started)),
        );
        add(
            "sinks",
            Strategy::RestForOne,
            vec![consumer, partitions],
            &supervisors.sinks,
        );
    }
    if let Some(watcher) = parts.warehouse {
        add("warehouse", Strategy::OneForOne, vec![watcher], &supervisors.warehouse);
    }
    if runs_sinks {
        named.push(("partitions", supervisors.partitions.clone()));
    }
    let args = SupervisorArgs {
        name: "root".into(),
        strategy: Strategy::OneForOne,
        // The root absorbs nothing: a child supervisor that fails ends the process (non-zero),
        // and systemd restarts it from what is durable.
        policy: RestartPolicy {
            max_restarts: 0,
            ..policy.clone()
        },
        children,
    };
    (args, named)
}

/// Stores a (re)started supervisor's `ActorRef` in `slot`, and tells `started` of it.
fn publish(
    slot: &Shared<ActorRef<SupervisorMsg>>,
    started: Option<PartitionsStarted>,
) -> impl Fn(ActorRef<SupervisorMsg>) + Send + Sync + 'static {
    let slot: Arc<_> = slot.clone();
    move |sup| {
        if let Ok(mut g) = slot.lock() {
            *g = Some(sup.clone());
        }
        if let Some(started) = &started {
            started(sup);
        }
    }
}
