//! Supervision events: each one logs and counts in one place.

use metrics::{counter, gauge};

/// A child started (first start or restart): `tickstream_actor_up{actor_kind, actor}` = 1.
pub fn child_up(kind: &str, id: &str) {
    gauge!("tickstream_actor_up", "actor_kind" => kind.to_owned(), "actor" => id.to_owned()).set(1.0);
}

/// A child stopped or failed: `tickstream_actor_up` = 0.
pub fn child_down(kind: &str, id: &str) {
    gauge!("tickstream_actor_up", "actor_kind" => kind.to_owned(), "actor" => id.to_owned()).set(0.0);
}

/// A child failed and will be restarted after `delay_ms`.
pub fn child_restarting(supervisor: &str, kind: &str, id: &str, cause: &str, delay_ms: u128) {
    tracing::warn!(
        supervisor,
        actor_kind = kind,
        actor = id,
        delay_ms,
        "restarting failed actor: {cause}"
    );
    counter!("tickstream_actor_restarts_total", "actor_kind" => kind.to_owned(), "actor" => id.to_owned()).increment(1);
}

/// A child's restart budget is spent: the supervisor fails and its parent decides.
pub fn escalation(supervisor: &str, kind: &str, id: &str, cause: &str) {
    tracing::error!(
        supervisor,
        actor_kind = kind,
        actor = id,
        "restart budget spent, escalating: {cause}"
    );
    counter!("tickstream_supervisor_escalations_total", "supervisor" => supervisor.to_owned()).increment(1);
}
