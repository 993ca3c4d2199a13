//! OTP-style supervision for [ractor] actors.
//!
//! ractor links actors into a tree but leaves the restart policy to the user, and its default
//! `handle_supervisor_evt` stops the parent whenever a child exits. This crate supplies the missing
//! piece as one small actor, [`Supervisor`], with the policy kept explicit and in one place:
//!
//! - [`spec`]: what a child is ([`ChildSpec`]) and how it is started; permanent or transient.
//! - [`policy`]: the restart budget (at most N restarts within a window W) and the
//!   jittered exponential backoff between restarts of the same child.
//! - [`supervisor`]: the actor: one-for-one restarts, dynamic children, escalation to its own parent
//!   when a child's budget is spent.
//! - [`backoff`]: the jittered exponential backoff every retry loop of the workspace uses.
//! - [`events`]: the metrics and log lines every restart and escalation produces.
//!
//! A failed child is restarted on its own; its siblings never notice. A supervisor whose child has
//! spent its budget fails itself, so the failure climbs the tree until some supervisor can absorb it
//! or the root fails and the process exits non-zero (and systemd restarts it).

pub mod backoff;
pub mod events;
pub mod policy;
pub mod spec;
pub mod supervisor;

pub use policy::RestartPolicy;
pub use spec::{child_supervisor, ChildSpec, Restart, StartFuture};
pub use supervisor::{ChildInfo, Supervisor, SupervisorArgs, SupervisorMsg};
