//! A restart budget spent: sink-0 failed six times within the 60 s budget (five restarts
//! allowed), the sinks supervisor escalates, the root gives up and the process exits 1. Started
//! again (systemd's `Restart=on-failure`), TickstreamProcessRestarted fires: the start time
//! changed, however short the gap (TickstreamDown needs a minute of failed scrapes).
//! TickstreamSupervisorEscalated fires only if a scrape caught the escalation counter in the
//! instant before the exit; the report says whether it did.

use std::time::{Duration, Instant};

use super::{fail_when_running, Fired};
use crate::process::Tickstream;
use crate::prometheus::Prometheus;

pub async fn run(prom: &Prometheus, t: &mut Tickstream) -> Vec<Fired> {
    prom.until(
        r#"count_over_time(process_start_time_seconds{scenario="escalation"}[1m])"#,
        Duration::from_secs(90),
        |n| n >= 2.0,
    )
    .await;
    // The sixth failure within the window spends the budget; the process then stops.
    for _ in 0..6 {
        fail_when_running(t, "sink-0").await;
    }
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
            "sink-0 failed 6 times: escalation, exit 1, started again (TickstreamSupervisorEscalated fired too)"
        } else {
            "sink-0 failed 6 times: escalation, exit 1, started again (the escalation counter's 1 was not scraped before the exit)"
        },
        fired_after: fired,
        cleared_after: None,
    }]
}
