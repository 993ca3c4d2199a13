//! The supervision tree, declared in one place, with every child's restart kind:
//!
//! ```text
//! root                      budget 0: a failure that reaches it ends the process (exit 1)
//! ├── auth                  token-refresher                       permanent
//! ├── producers             producer-<SYMBOL> …                   permanent
//! ├── sinks                 consumer (group consumer + router)    transient
//! │                         sink-<partition> … (the consumer starts and stops them)  transient
//! └── warehouse             ingest-watcher | snowpipe-monitor     permanent
//! ```
//!
//! Permanent children run for the process's life and are restarted even after a normal stop;
//! transient ones are restarted only after a failure (a drained sink, a drained consumer stop for
//! good). Each supervisor restarts a failed child alone, within `[supervision]`'s budget per
//! child, and escalates once a child spends it.

use std::sync::Arc;

use ractor::ActorRef;
use supervisors::{child_supervisor, ChildSpec, Restart, RestartPolicy, SupervisorArgs, SupervisorMsg};

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

/// The child supervisors as they are now (each restart publishes its new `ActorRef`).
#[derive(Clone, Default)]
pub struct Supervisors {
    pub auth: Shared<ActorRef<SupervisorMsg>>,
    pub producers: Shared<ActorRef<SupervisorMsg>>,
    pub sinks: Shared<ActorRef<SupervisorMsg>>,
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
    pub consumer: Option<ChildSpec>,
    pub warehouse: Option<ChildSpec>,
}

/// A child supervisor by name, as it is now.
pub type Named = (&'static str, Shared<ActorRef<SupervisorMsg>>);

/// The root's arguments for `parts`, under `policy` for each child supervisor, and the child
/// supervisors it starts.
pub fn root(parts: Parts, policy: &RestartPolicy, supervisors: &Supervisors) -> (SupervisorArgs, Vec<Named>) {
    let mut children = Vec::new();
    let mut named = Vec::new();
    let mut add = |name: &'static str, specs, slot: &Shared<ActorRef<SupervisorMsg>>| {
        children.push(child_supervisor(name, policy.clone(), specs, publish(slot)));
        named.push((name, slot.clone()));
    };
    if let Some(refresher) = parts.auth {
        // Its own supervisor: a refresher that fails (token expired) is restarted within the
        // budget before anything escalates.
        add("auth", vec![refresher], &supervisors.auth);
    }
    if let Some(producers) = parts.producers {
        add("producers", producers, &supervisors.producers);
    }
    if let Some(consumer) = parts.consumer {
        add("sinks", vec![consumer], &supervisors.sinks);
    }
    if let Some(watcher) = parts.warehouse {
        add("warehouse", vec![watcher], &supervisors.warehouse);
    }
    let args = SupervisorArgs {
        name: "root".into(),
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

/// Stores a (re)started supervisor's `ActorRef` in `slot`.
fn publish(slot: &Shared<ActorRef<SupervisorMsg>>) -> impl Fn(ActorRef<SupervisorMsg>) + Send + Sync + 'static {
    let slot: Arc<_> = slot.clone();
    move |sup| {
        if let Ok(mut g) = slot.lock() {
            *g = Some(sup);
        }
    }
}
