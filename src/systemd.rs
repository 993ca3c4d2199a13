//! systemd integration (`Type=notify`): READY=1 once the tree is up, watchdog pings while it
//! stays healthy, STOPPING=1 on the way out. Outside systemd these are no-ops.

use std::sync::Arc;

use sd_notify::NotifyState;
use tokio::task::JoinHandle;

use crate::pipeline::Admin;

/// Tells systemd the service is ready and, if `WatchdogSec=` is set, pings at half that interval
/// for as long as the supervision tree is healthy. A stuck or failed tree stops the pings and
/// systemd restarts the service.
pub fn ready_and_watch(control: Arc<Admin>) -> JoinHandle<()> {
    if let Err(e) = sd_notify::notify(&[NotifyState::Ready]) {
        tracing::warn!("telling systemd we are ready: {e}");
    }
    tokio::spawn(async move {
        let Some(timeout) = sd_notify::watchdog_enabled() else {
            return;
        };
        tracing::info!(timeout_ms = timeout.as_millis() as u64, "systemd watchdog enabled");
        let mut tick = tokio::time::interval(timeout / 2);
        loop {
            tick.tick().await;
            if control.healthy() {
                let _ = sd_notify::notify(&[NotifyState::Watchdog]);
            } else {
                tracing::error!("supervision tree unhealthy: withholding the systemd watchdog ping");
            }
        }
    })
}

/// Tells systemd the service is stopping (it then waits up to `TimeoutStopSec=`).
pub fn stopping() {
    let _ = sd_notify::notify(&[NotifyState::Stopping]);
}
