//! OTP-style supervision for [ractor] actors.
//!
//! ractor links actors into a tree but leaves the restart policy to the user, and its default
//! `handle_supervisor_evt` stops the parent whenever a child exits. This crate supplies the missing
//! piece as one small actor, [`Supervisor`], with the policy kept explicit and in one place:
//!
//! - [`spec`]: what a child is ([`ChildSpec`]) and how it is started; permanent or transient.
//! - [`policy`]: the [`Strategy`] (one-for-one or rest-for-one), the intensity (at most N
//!   restarts of all children within a window W) and the jittered exponential backoff between
//!   restarts of the same child.
//! - [`supervisor`]: the actor: restarts by its strategy, dynamic children, escalation to its
//!   own parent when its intensity is spent.
//! - [`backoff`]: the jittered exponential backoff every retry loop of the workspace uses.
//! - [`events`]: the metrics and log lines every restart and escalation produces.
//!
//! Under one-for-one a failed child is restarted on its own and its siblings never notice; under
//! rest-for-one the children started after it are stopped and started again after it. A
//! supervisor that restarts more than its intensity allows fails itself, so the failure climbs
//! the tree until some supervisor can absorb it or the root fails and the process exits
//! non-zero (and systemd restarts it).

pub mod backoff;
mod children;
pub mod events;
pub mod policy;
pub mod spec;
pub mod supervisor;

pub use policy::{RestartPolicy, Strategy};
pub use spec::{child_supervisor, ChildSpec, Restart, StartFuture};
pub use supervisor::{ChildInfo, Supervisor, SupervisorArgs, SupervisorMsg};
