//! Supervision events: each one logs and counts in one place.
//!
//! Counters exist from the moment their labels are known (a child's restarts from its first
//! start, a supervisor's escalations from its own start): Prometheus's `increase()` needs a
//! sample before the first event, or the first restart of an actor never alerts.

use metrics::{counter, describe_counter, describe_gauge, gauge, Unit};

const ACTOR_UP: &str = "tickstream_actor_up";
const ACTOR_RESTARTS: &str = "tickstream_actor_restarts_total";
const ESCALATIONS: &str = "tickstream_supervisor_escalations_total";

/// The HELP text and unit of every supervision metric; call once after installing a recorder.
pub fn describe() {
    describe_gauge!(
        ACTOR_UP,
        Unit::Count,
        "1 while the supervised actor runs, 0 while it is down or restarting"
    );
    describe_counter!(
        ACTOR_RESTARTS,
        Unit::Count,
        "Restarts of a supervised actor by its supervisor after a failure (0 from its first start)"
    );
    describe_counter!(
        ESCALATIONS,
        Unit::Count,
        "Restart budgets spent under this supervisor: it failed and its parent decided (at the root, the process exits 1)"
    );
}

/// A supervisor started: its escalations count from 0.
pub fn supervisor_started(supervisor: &str) {
    counter!(ESCALATIONS, "supervisor" => supervisor.to_owned()).increment(0);
}

/// A child started (first start or restart): `tickstream_actor_up{actor_kind, actor}` = 1, and
/// its restart counter exists (at 0 on the first start).
pub fn child_up(kind: &str, id: &str) {
    let labels = [("actor_kind", kind.to_owned()), ("actor", id.to_owned())];
    gauge!(ACTOR_UP, &labels).set(1.0);
    counter!(ACTOR_RESTARTS, &labels).increment(0);
}

/// A child stopped or failed: `tickstream_actor_up` = 0.
pub fn child_down(kind: &str, id: &str) {
    gauge!(ACTOR_UP, "actor_kind" => kind.to_owned(), "actor" => id.to_owned()).set(0.0);
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
    counter!(ACTOR_RESTARTS, "actor_kind" => kind.to_owned(), "actor" => id.to_owned()).increment(1);
}

/// A child's restart budget is spent: the supervisor fails and its parent decides.
pub fn escalation(supervisor: &str, kind: &str, id: &str, cause: &str) {
    tracing::error!(
        supervisor,
        actor_kind = kind,
        actor = id,
        "restart budget spent, escalating: {cause}"
    );
    counter!(ESCALATIONS, "supervisor" => supervisor.to_owned()).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(f: impl FnOnce()) -> String {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe();
            f();
        });
        handle.render()
    }

    #[test]
    fn a_started_child_and_supervisor_export_their_counters_at_zero_with_help() {
        let text = scrape(|| {
            supervisor_started("sinks");
            child_up("sink", "sink-0");
        });
        assert!(
            text.contains(r#"tickstream_actor_restarts_total{actor_kind="sink",actor="sink-0"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"tickstream_supervisor_escalations_total{supervisor="sinks"} 0"#),
            "{text}"
        );
        assert!(text.contains("# HELP tickstream_actor_restarts_total "), "{text}");
        assert!(text.contains("# HELP tickstream_actor_up "), "{text}");
    }

    #[test]
    fn a_restarted_child_keeps_its_count() {
        let text = scrape(|| {
            child_up("sink", "sink-0");
            child_restarting("sinks", "sink", "sink-0", "boom", 100);
            child_up("sink", "sink-0");
        });
        assert!(
            text.contains(r#"tickstream_actor_restarts_total{actor_kind="sink",actor="sink-0"} 1"#),
            "{text}"
        );
    }
}
