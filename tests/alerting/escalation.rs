//! Restart intensity spent at every level: each supervisor absorbs two restarts a minute here.
//! sink-0 failing a third time spends `partitions`' intensity: it escalates and `sinks`
//! restarts it (new sinks, the same consumer). After the third such restart `sinks` escalates
//! too, the root gives up and the process exits 1: nine failures of sink-0 in all. Started again
//! (systemd's `Restart=on-failure`), TickstreamProcessRestarted fires: the start time changed,
//! however short the gap (TickstreamDown needs a minute of failed scrapes).
//! TickstreamSupervisorEscalated fires only if a scrape caught an escalation counter in the
//! instant before the exit; the report says whether it did.

use std::time::{Duration, Instant};

use super::{fail_when_running, Fired};
use crate::process::Tickstream;
use crate::prometheus::Prometheus;

/// The scenario's `[supervision]`: two restarts a minute per supervisor, quick backoff.
pub const SUPERVISION: &str = "\n[supervision]\nmax_restarts = 2\nbackoff_min_ms = 50\nbackoff_max_ms = 500\n";

pub async fn run(prom: &Prometheus, t: &mut Tickstream) -> Vec<Fired> {
    prom.until(
        r#"count_over_time(process_start_time_seconds{scenario="escalation"}[1m])"#,
        Duration::from_secs(90),
        |n| n >= 2.0,
    )
    .await;
    // Three failures spend `partitions`' intensity; three escalations of it spend `sinks'`.
    for _ in 0..8 {
        fail_when_running(t, "sink-0").await;
    }
    assert!(
        t.exited().is_none(),
        "eight failures are absorbed below the root:\n{}",
        t.log()
    );
    fail_when_running(t, "sink-0").await;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = t.exited() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "still running:\n{}",
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(1), "supervision gave up: exit 1\n{}", t.log());
    assert!(t.log().contains("restart budget spent"), "{}", t.log());
    let escalated_seen = !prom
        .firing("TickstreamSupervisorEscalated", "escalation")
        .await
        .is_empty();
    t.restart();
    let (_, fired) = prom
        .until_firing("TickstreamProcessRestarted", "escalation", Duration::from_secs(60))
        .await;
    vec![Fired {
        alert: "TickstreamProcessRestarted",
        provoked_by: if escalated_seen {
            "sink-0 failed 9 times: partitions escalated thrice, sinks once, exit 1, started again (TickstreamSupervisorEscalated fired too)"
        } else {
            "sink-0 failed 9 times: partitions escalated thrice, sinks once, exit 1, started again (no escalation counter was scraped before the exit)"
        },
        fired_after: fired,
        cleared_after: None,
    }]
}
