//! [`TaskGuard`]: a spawned task that must not outlive its owner. Dropping the guard aborts the
//! task; an actor that owns one can also ask whether it ended on its own (a panic) and fail, so
//! its supervisor sees it.

use tokio::task::JoinHandle;

/// Aborts its task when dropped.
#[derive(Debug)]
pub struct TaskGuard(JoinHandle<()>);

impl TaskGuard {
    /// Spawns `task` on the current runtime, guarded.
    pub fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        Self(tokio::spawn(task))
    }

    /// The task ended (returned or panicked) without being aborted.
    pub fn ended(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_dropped_guard_aborts_its_task_and_an_ended_task_says_so() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let guard = TaskGuard::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            let _ = tx.send(()).await;
        });
        assert!(!guard.ended());
        drop(guard);
        assert!(rx.recv().await.is_none(), "aborted: its sender is gone without sending");
        let done = TaskGuard::spawn(async {});
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(done.ended());
    }
}
