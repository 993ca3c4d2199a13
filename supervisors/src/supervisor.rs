//! The supervisor actor: restarts under its strategy and intensity, with dynamic children.

use std::time::Duration;

use ractor::{Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tokio::time::Instant;

use crate::children::Children;
use crate::events;
use crate::policy::{RestartHistory, RestartPolicy, Strategy};
use crate::spec::{ChildSpec, Restart};

/// How long a supervisor waits for its children when it stops.
const STOP_CHILDREN_TIMEOUT: Duration = Duration::from_secs(30);

/// The supervisor's behaviour; see the crate docs.
pub struct Supervisor;

/// What a supervisor starts with.
pub struct SupervisorArgs {
    /// Shown in logs and in the `supervisor` label of escalations, e.g. `sinks`.
    pub name: String,
    /// Which children a child's failure restarts.
    pub strategy: Strategy,
    /// The restarts it absorbs within a window (all children together), and their backoff.
    pub policy: RestartPolicy,
    /// Children started, in order, before the supervisor reports itself started.
    pub children: Vec<ChildSpec>,
}

/// Messages a supervisor handles.
pub enum SupervisorMsg {
    /// Adds a child and starts it; answers an error if the id is taken or the start failed.
    StartChild(ChildSpec, RpcReplyPort<Result<(), String>>),
    /// Stops a child for good (no restart) and waits for it; answers whether it existed.
    StopChild(String, RpcReplyPort<bool>),
    /// Lists the children and whether each is running.
    GetChildren(RpcReplyPort<Vec<ChildInfo>>),
    /// Fault injection: kills the running child `id` and handles it as a failure (budget,
    /// backoff, metrics), as a crash would be. Answers whether a running child was killed.
    FailChild(String, RpcReplyPort<bool>),
    /// Fails this supervisor with the reason, as a spent restart budget does: its children stop
    /// and its parent decides. For a part that knows it cannot recover in place (a consumer
    /// stuck joining its group after a rejoin).
    Escalate(String),
    /// Internal: the backoff before restarting child `id` has passed.
    Restart { id: String, generation: u64 },
}

/// A snapshot of one child, for status pages and tests.
#[derive(Clone, Debug)]
pub struct ChildInfo {
    pub id: String,
    pub kind: String,
    pub running: bool,
    /// The running incarnation, to address it directly (fault injection, tests).
    pub actor: Option<ActorCell>,
    /// Restarts within the current budget window.
    pub recent_restarts: usize,
}

/// The supervisor's state.
pub struct SupervisorState {
    name: String,
    strategy: Strategy,
    policy: RestartPolicy,
    children: Children,
    /// Every restart of any child within the window: the supervisor's intensity.
    intensity: RestartHistory,
    /// Children killed by [`SupervisorMsg::FailChild`]: their exit counts as a failure.
    injected: std::collections::HashSet<ActorId>,
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: SupervisorArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        events::supervisor_started(&args.name);
        let mut state = SupervisorState {
            name: args.name,
            strategy: args.strategy,
            policy: args.policy,
            children: Children::default(),
            intensity: RestartHistory::default(),
            injected: Default::default(),
        };
        for spec in args.children {
            state.add_and_start(&myself, spec).await?;
        }
        Ok(state)
    }

    async fn post_stop(&self, myself: ActorRef<Self::Msg>, state: &mut Self::State) -> Result<(), ActorProcessingErr> {
        myself.stop_children_and_wait(None, Some(STOP_CHILDREN_TIMEOUT)).await;
        for child in state.children.iter() {
            events::child_down(&child.spec.kind, &child.spec.id);
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::StartChild(spec, reply) => {
                let result = state.add_and_start(&myself, spec).await.map_err(|e| e.to_string());
                let _ = reply.send(result);
            }
            SupervisorMsg::StopChild(id, reply) => {
                let _ = reply.send(state.stop_child(&id).await);
            }
            SupervisorMsg::GetChildren(reply) => {
                let _ = reply.send(state.snapshot());
            }
            SupervisorMsg::FailChild(id, reply) => {
                // A child already killed and not yet seen to exit is not running any more: a
                // second request must not count as a second failure.
                let cell = state
                    .children
                    .get(&id)
                    .and_then(|c| c.cell.clone())
                    .filter(|cell| !state.injected.contains(&cell.get_id()));
                if let Some(cell) = &cell {
                    tracing::warn!(
                        supervisor = state.name,
                        actor = id,
                        "fault injection: killing the actor"
                    );
                    state.injected.insert(cell.get_id());
                    cell.kill();
                }
                let _ = reply.send(cell.is_some());
            }
            SupervisorMsg::Escalate(reason) => {
                events::escalation(&state.name, "supervisor", &state.name, &reason);
                return Err(format!("supervisor {} escalated: {reason}", state.name).into());
            }
            SupervisorMsg::Restart { id, generation } => state.restart(&myself, &id, generation).await?,
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, err) => {
                state.injected.remove(&cell.get_id());
                state
                    .on_child_exit(&myself, cell.get_id(), Some(err.to_string()))
                    .await?;
            }
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                let injected = state.injected.remove(&cell.get_id());
                let failure = injected.then(|| "killed by fault injection".to_owned());
                state
                    .on_child_exit(&myself, cell.get_id(), failure)
                    .await
                    .map_err(|e| format!("{e} (last stop reason: {})", reason.unwrap_or_else(|| "none".into())))?;
            }
            _ => {}
        }
        Ok(())
    }
}

impl SupervisorState {
    async fn add_and_start(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        spec: ChildSpec,
    ) -> Result<(), ActorProcessingErr> {
        if self.children.contains(&spec.id) {
            return Err(format!("supervisor {}: child id {} is already taken", self.name, spec.id).into());
        }
        let id = spec.id.clone();
        let cell = (spec.start)(myself.get_cell())
            .await
            .map_err(|e| format!("supervisor {}: starting {id} failed: {e}", self.name))?;
        events::child_up(&spec.kind, &id);
        self.children.add(spec, cell);
        Ok(())
    }

    async fn stop_child(&mut self, id: &str) -> bool {
        let Some(child) = self.children.remove(id) else {
            return false;
        };
        events::child_down(&child.spec.kind, id);
        if let Some(cell) = child.cell {
            let _ = cell.stop_and_wait(None, Some(STOP_CHILDREN_TIMEOUT)).await;
        }
        true
    }

    fn snapshot(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .map(|c| ChildInfo {
                id: c.spec.id.clone(),
                kind: c.spec.kind.clone(),
                running: c.cell.is_some(),
                actor: c.cell.clone(),
                recent_restarts: c.history.in_window(),
            })
            .collect()
    }

    /// A child stopped (`failure` is `None`) or failed. Decides: restart after backoff (with the
    /// children after it, under rest-for-one), remove, or escalate by returning an error (which
    /// fails this supervisor).
    async fn on_child_exit(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        actor: ActorId,
        failure: Option<String>,
    ) -> Result<(), ActorProcessingErr> {
        let Some(child) = self.children.ended(&actor) else {
            return Ok(());
        };
        let id = child.spec.id.clone();
        events::child_down(&child.spec.kind, &id);
        let cause = match (failure, child.spec.restart) {
            (Some(err), _) => err,
            (None, Restart::Permanent) => "stopped, and it is permanent".to_owned(),
            (None, Restart::Transient) => {
                self.children.remove(&id);
                return Ok(());
            }
        };
        self.schedule_restart(myself, &id, &cause).await
    }

    async fn schedule_restart(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        id: &str,
        cause: &str,
    ) -> Result<(), ActorProcessingErr> {
        let now = Instant::now();
        let allowed = self.intensity.allow(&self.policy, now);
        let Some(child) = self.children.get_mut(id) else {
            return Ok(());
        };
        child.generation += 1;
        if !allowed {
            events::escalation(&self.name, &child.spec.kind, id, cause);
            return Err(format!(
                "supervisor {}: {} restarts within {:?} (its intensity); {id} failed again: {cause}",
                self.name,
                self.policy.max_restarts + 1,
                self.policy.within
            )
            .into());
        }
        let delay = child.history.backoff(&self.policy, now);
        events::child_restarting(&self.name, &child.spec.kind, id, cause, delay.as_millis());
        let (restart_id, generation) = (id.to_owned(), child.generation);
        if self.strategy == Strategy::RestForOne {
            self.stop_later(id).await;
        }
        myself.send_after(delay, move || SupervisorMsg::Restart {
            id: restart_id,
            generation,
        });
        Ok(())
    }

    /// Rest-for-one: stops every running child started after `id`, latest first; they start
    /// again right after it.
    async fn stop_later(&mut self, id: &str) {
        for (later, cell) in self.children.take_later(id) {
            let kind = self
                .children
                .get(&later)
                .map(|c| c.spec.kind.clone())
                .unwrap_or_default();
            tracing::warn!(
                supervisor = self.name,
                actor = later,
                "stopping: {id} it depends on restarts"
            );
            events::child_down(&kind, &later);
            let _ = cell
                .stop_and_wait(Some(format!("{id} restarts")), Some(STOP_CHILDREN_TIMEOUT))
                .await;
        }
    }

    async fn restart(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        id: &str,
        generation: u64,
    ) -> Result<(), ActorProcessingErr> {
        let Some(child) = self.children.get_mut(id) else {
            return Ok(());
        };
        if child.generation != generation || child.cell.is_some() {
            return Ok(());
        }
        let spec = child.spec.clone();
        match (spec.start)(myself.get_cell()).await {
            Ok(cell) => {
                events::child_up(&spec.kind, id);
                self.children.started(id, cell);
                self.start_followers(myself).await
            }
            Err(err) => {
                self.schedule_restart(myself, id, &format!("restart failed: {err}"))
                    .await
            }
        }
    }

    /// Starts again, in order, the children a rest-for-one restart stopped.
    async fn start_followers(&mut self, myself: &ActorRef<SupervisorMsg>) -> Result<(), ActorProcessingErr> {
        for spec in self.children.take_followers() {
            match (spec.start)(myself.get_cell()).await {
                Ok(cell) => {
                    events::child_up(&spec.kind, &spec.id);
                    self.children.started(&spec.id, cell);
                }
                Err(err) => {
                    let cause = format!("restart after the one it depends on failed: {err}");
                    self.schedule_restart(myself, &spec.id, &cause).await?;
                }
            }
        }
        Ok(())
    }
}
