//! What a supervised child is and how it is (re)started.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ractor::{ActorCell, SpawnErr};

/// The future a [`ChildSpec`] start function returns: the started child, linked to the supervisor.
pub type StartFuture = Pin<Box<dyn Future<Output = Result<ActorCell, SpawnErr>> + Send>>;

/// Whether a child is restarted after it stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Always restarted, even after a normal stop (a producer must keep producing).
    Permanent,
    /// Restarted only after a failure; a normal stop removes it (a sink whose partition was revoked).
    Transient,
}

/// A child the supervisor owns: its identity and the function that starts it.
#[derive(Clone)]
pub struct ChildSpec {
    /// Unique among the supervisor's children, e.g. `sink-2`; the `actor` label of its metrics.
    pub id: String,
    /// The child's role, e.g. `sink`; the `actor_kind` label of its metrics.
    pub kind: String,
    /// What happens after it stops.
    pub restart: Restart,
    /// Spawns the child linked to the given supervisor. Called again on every restart, so whatever
    /// must survive a restart (a sequence number, a resume position) lives outside the child.
    pub start: Arc<dyn Fn(ActorCell) -> StartFuture + Send + Sync>,
}

impl ChildSpec {
    /// Builds a spec from an async start function.
    pub fn new<F, Fut>(id: impl Into<String>, kind: impl Into<String>, restart: Restart, start: F) -> Self
    where
        F: Fn(ActorCell) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ActorCell, SpawnErr>> + Send + 'static,
    {
        Self {
            id: id.into(),
            kind: kind.into(),
            restart,
            start: Arc::new(move |sup| Box::pin(start(sup))),
        }
    }
}

/// A supervisor as the child of another (permanent: it runs as long as its parent); `on_start`
/// receives its `ActorRef` on every (re)start, so callers can always reach the live incarnation.
pub fn child_supervisor(
    name: &'static str,
    strategy: crate::Strategy,
    policy: crate::RestartPolicy,
    children: Vec<ChildSpec>,
    on_start: impl Fn(ractor::ActorRef<crate::SupervisorMsg>) + Send + Sync + 'static,
) -> ChildSpec {
    let on_start = Arc::new(on_start);
    ChildSpec::new(name, "supervisor", Restart::Permanent, move |parent: ActorCell| {
        let (children, policy, on_start) = (children.clone(), policy.clone(), on_start.clone());
        async move {
            let args = crate::SupervisorArgs {
                name: name.into(),
                strategy,
                policy,
                children,
            };
            let (sup, _) = ractor::Actor::spawn_linked(None, crate::Supervisor, args, parent).await?;
            on_start(sup.clone());
            Ok(sup.get_cell())
        }
    })
}

impl std::fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("restart", &self.restart)
            .finish_non_exhaustive()
    }
}
