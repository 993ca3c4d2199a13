//! The supervisor with tiny inline actors: one-for-one and rest-for-one restarts, transient vs
//! permanent, the supervisor's intensity and escalation, panics as failures. Backoff runs on
//! tokio's paused clock.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, ActorStatus, SupervisionEvent};
use supervisors::{ChildInfo, ChildSpec, Restart, RestartPolicy, Strategy, Supervisor, SupervisorArgs, SupervisorMsg};

/// A child that counts its starts and fails, panics or stops when told.
struct Worker;

enum WorkerMsg {
    Fail,
    Panic,
    Stop,
}

impl Actor for Worker {
    type Msg = WorkerMsg;
    type State = ();
    type Arguments = Arc<AtomicU32>;

    async fn pre_start(&self, _: ActorRef<WorkerMsg>, starts: Arc<AtomicU32>) -> Result<(), ActorProcessingErr> {
        starts.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn handle(&self, me: ActorRef<WorkerMsg>, msg: WorkerMsg, _: &mut ()) -> Result<(), ActorProcessingErr> {
        match msg {
            WorkerMsg::Fail => Err("told to fail".into()),
            WorkerMsg::Panic => panic!("told to panic"),
            WorkerMsg::Stop => {
                me.stop(None);
                Ok(())
            }
        }
    }
}

fn worker(id: &str, restart: Restart, starts: Arc<AtomicU32>) -> ChildSpec {
    ChildSpec::new(id, "worker", restart, move |sup| {
        let starts = starts.clone();
        async move {
            Worker::spawn_linked(None, Worker, starts, sup)
                .await
                .map(|(a, _)| a.get_cell())
        }
    })
}

fn policy(max_restarts: u32) -> RestartPolicy {
    RestartPolicy {
        max_restarts,
        within: Duration::from_secs(60),
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
    }
}

async fn children(sup: &ActorRef<SupervisorMsg>) -> Vec<ChildInfo> {
    ractor::call_t!(sup, SupervisorMsg::GetChildren, 1_000).unwrap()
}

/// The running incarnation of child `id`.
async fn child(sup: &ActorRef<SupervisorMsg>, id: &str) -> ActorRef<WorkerMsg> {
    let info = children(sup)
        .await
        .into_iter()
        .find(|c| c.id == id && c.running)
        .expect("child running");
    ActorRef::from(info.actor.expect("a running child has an actor"))
}

async fn settle() {
    tokio::time::sleep(Duration::from_secs(3)).await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_child_is_restarted_alone() {
    let (a, b) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::OneForOne,
        policy: policy(3),
        children: vec![
            worker("a", Restart::Permanent, a.clone()),
            worker("b", Restart::Permanent, b.clone()),
        ],
    };
    let (sup, _) = Supervisor::spawn(None, Supervisor, args).await.unwrap();
    child(&sup, "a").await.cast(WorkerMsg::Fail).unwrap();
    settle().await;
    assert_eq!(a.load(Ordering::SeqCst), 2, "a restarted once");
    assert_eq!(b.load(Ordering::SeqCst), 1, "b untouched");
    let info = children(&sup).await;
    assert!(info.iter().all(|c| c.running));
    assert_eq!(info.iter().find(|c| c.id == "a").unwrap().recent_restarts, 1);
    sup.stop(None);
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_handler_is_a_failure_and_is_restarted() {
    let a = Arc::new(AtomicU32::new(0));
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::OneForOne,
        policy: policy(3),
        children: vec![worker("a", Restart::Permanent, a.clone())],
    };
    let (sup, _) = Supervisor::spawn(None, Supervisor, args).await.unwrap();
    child(&sup, "a").await.cast(WorkerMsg::Panic).unwrap();
    settle().await;
    assert_eq!(a.load(Ordering::SeqCst), 2);
    sup.stop(None);
}

#[tokio::test(start_paused = true)]
async fn a_transient_child_that_stops_normally_is_removed_a_permanent_one_restarted() {
    let (t, p) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::OneForOne,
        policy: policy(3),
        children: vec![
            worker("t", Restart::Transient, t.clone()),
            worker("p", Restart::Permanent, p.clone()),
        ],
    };
    let (sup, _) = Supervisor::spawn(None, Supervisor, args).await.unwrap();
    child(&sup, "t").await.cast(WorkerMsg::Stop).unwrap();
    child(&sup, "p").await.cast(WorkerMsg::Stop).unwrap();
    settle().await;
    let ids: Vec<String> = children(&sup).await.into_iter().map(|c| c.id).collect();
    assert_eq!(ids, vec!["p".to_owned()]);
    assert_eq!((t.load(Ordering::SeqCst), p.load(Ordering::SeqCst)), (1, 2));
    sup.stop(None);
}

/// A parent that records what its child supervisor did.
struct Parent;

impl Actor for Parent {
    type Msg = ();
    type State = Arc<AtomicU32>;
    type Arguments = Arc<AtomicU32>;

    async fn pre_start(&self, _: ActorRef<()>, failures: Arc<AtomicU32>) -> Result<Arc<AtomicU32>, ActorProcessingErr> {
        Ok(failures)
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<()>,
        evt: SupervisionEvent,
        failures: &mut Arc<AtomicU32>,
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(_, _) = evt {
            failures.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_escalates_to_the_parent() {
    let (a, failures) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let (parent, _) = Parent::spawn(None, Parent, failures.clone()).await.unwrap();
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::OneForOne,
        policy: policy(2),
        children: vec![worker("a", Restart::Permanent, a.clone())],
    };
    let (sup, _) = Supervisor::spawn_linked(None, Supervisor, args, parent.get_cell())
        .await
        .unwrap();
    for _ in 0..2 {
        child(&sup, "a").await.cast(WorkerMsg::Fail).unwrap();
        settle().await;
    }
    assert_eq!(a.load(Ordering::SeqCst), 3, "two restarts within the budget");
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    child(&sup, "a").await.cast(WorkerMsg::Fail).unwrap();
    settle().await;
    assert_eq!(failures.load(Ordering::SeqCst), 1, "the third failure escalates");
    assert_eq!(sup.get_status(), ActorStatus::Stopped);
    parent.stop(None);
}

#[tokio::test(start_paused = true)]
async fn fault_injection_kills_a_child_and_counts_it_as_a_failure() {
    let (t, b) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::OneForOne,
        policy: policy(3),
        // Transient: a normal stop would not be restarted, so a restart proves it counted as a failure.
        children: vec![
            worker("t", Restart::Transient, t.clone()),
            worker("b", Restart::Permanent, b.clone()),
        ],
    };
    let (sup, _) = Supervisor::spawn(None, Supervisor, args).await.unwrap();
    assert!(ractor::call_t!(sup, SupervisorMsg::FailChild, 1_000, "t".to_owned()).unwrap());
    assert!(!ractor::call_t!(sup, SupervisorMsg::FailChild, 1_000, "nobody".to_owned()).unwrap());
    settle().await;
    assert_eq!((t.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (2, 1));
    let info = children(&sup).await;
    assert_eq!(info.iter().find(|c| c.id == "t").unwrap().recent_restarts, 1);
    assert_eq!(info.iter().find(|c| c.id == "b").unwrap().recent_restarts, 0);
    sup.stop(None);
}

#[tokio::test(start_paused = true)]
async fn an_escalate_message_fails_the_supervisor_and_its_parent_sees_it() {
    let (a, failures) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let (parent, _) = Parent::spawn(None, Parent, failures.clone()).await.unwrap();
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::OneForOne,
        policy: policy(5),
        children: vec![worker("a", Restart::Permanent, a.clone())],
    };
    let (sup, _) = Supervisor::spawn_linked(None, Supervisor, args, parent.get_cell())
        .await
        .unwrap();
    sup.cast(SupervisorMsg::Escalate("stuck for good".into())).unwrap();
    settle().await;
    assert_eq!(failures.load(Ordering::SeqCst), 1, "the parent saw the supervisor fail");
    assert_eq!(sup.get_status(), ActorStatus::Stopped);
    assert_eq!(
        a.load(Ordering::SeqCst),
        1,
        "its child was not restarted, it stopped with it"
    );
    parent.stop(None);
}

#[tokio::test(start_paused = true)]
async fn a_child_killed_once_is_not_killed_again_before_it_is_restarted() {
    let t = Arc::new(AtomicU32::new(0));
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::OneForOne,
        policy: policy(3),
        children: vec![worker("t", Restart::Permanent, t.clone())],
    };
    let (sup, _) = Supervisor::spawn(None, Supervisor, args).await.unwrap();
    assert!(ractor::call_t!(sup, SupervisorMsg::FailChild, 1_000, "t".to_owned()).unwrap());
    assert!(
        !ractor::call_t!(sup, SupervisorMsg::FailChild, 1_000, "t".to_owned()).unwrap(),
        "the same incarnation is not killed twice"
    );
    settle().await;
    let info = children(&sup).await;
    assert_eq!(info[0].recent_restarts, 1, "one failure, one restart");
    sup.stop(None);
}

#[tokio::test(start_paused = true)]
async fn the_intensity_counts_every_childs_restarts_together() {
    let (a, b, failures) = (
        Arc::new(AtomicU32::new(0)),
        Arc::new(AtomicU32::new(0)),
        Arc::new(AtomicU32::new(0)),
    );
    let (parent, _) = Parent::spawn(None, Parent, failures.clone()).await.unwrap();
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::OneForOne,
        policy: policy(2),
        children: vec![
            worker("a", Restart::Permanent, a.clone()),
            worker("b", Restart::Permanent, b.clone()),
        ],
    };
    let (sup, _) = Supervisor::spawn_linked(None, Supervisor, args, parent.get_cell())
        .await
        .unwrap();
    for id in ["a", "b"] {
        child(&sup, id).await.cast(WorkerMsg::Fail).unwrap();
        settle().await;
    }
    assert_eq!(failures.load(Ordering::SeqCst), 0, "two restarts: within the intensity");
    child(&sup, "a").await.cast(WorkerMsg::Fail).unwrap();
    settle().await;
    assert_eq!(
        failures.load(Ordering::SeqCst),
        1,
        "a third failure escalates, though each child failed at most twice"
    );
    assert_eq!(sup.get_status(), ActorStatus::Stopped);
    parent.stop(None);
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_restarts_the_children_started_after_the_failed_one() {
    let starts: Vec<Arc<AtomicU32>> = (0..3).map(|_| Arc::new(AtomicU32::new(0))).collect();
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::RestForOne,
        policy: policy(5),
        children: vec![
            worker("first", Restart::Permanent, starts[0].clone()),
            worker("second", Restart::Transient, starts[1].clone()),
            worker("third", Restart::Permanent, starts[2].clone()),
        ],
    };
    let (sup, _) = Supervisor::spawn(None, Supervisor, args).await.unwrap();
    let count = || starts.iter().map(|s| s.load(Ordering::SeqCst)).collect::<Vec<_>>();
    let third = child(&sup, "third").await;
    child(&sup, "second").await.cast(WorkerMsg::Fail).unwrap();
    settle().await;
    assert_eq!(count(), vec![1, 2, 2], "second and the one after it");
    assert_eq!(third.get_status(), ActorStatus::Stopped, "the old third was stopped");
    child(&sup, "third").await.cast(WorkerMsg::Fail).unwrap();
    settle().await;
    assert_eq!(count(), vec![1, 2, 3], "the last one alone");
    child(&sup, "first").await.cast(WorkerMsg::Panic).unwrap();
    settle().await;
    assert_eq!(count(), vec![2, 3, 4], "all of them, in order");
    let info = children(&sup).await;
    let ids: Vec<&str> = info.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, vec!["first", "second", "third"], "in start order");
    assert!(info.iter().all(|c| c.running));
    let restarts: Vec<usize> = info.iter().map(|c| c.recent_restarts).collect();
    assert_eq!(
        restarts,
        vec![1, 1, 1],
        "each failed once: those stopped with it are not failures"
    );
    sup.stop(None);
}

#[tokio::test(start_paused = true)]
async fn under_rest_for_one_a_transient_childs_normal_stop_restarts_nothing() {
    let starts: Vec<Arc<AtomicU32>> = (0..2).map(|_| Arc::new(AtomicU32::new(0))).collect();
    let args = SupervisorArgs {
        name: "t".into(),
        strategy: Strategy::RestForOne,
        policy: policy(5),
        children: vec![
            worker("first", Restart::Transient, starts[0].clone()),
            worker("second", Restart::Permanent, starts[1].clone()),
        ],
    };
    let (sup, _) = Supervisor::spawn(None, Supervisor, args).await.unwrap();
    child(&sup, "first").await.cast(WorkerMsg::Stop).unwrap();
    settle().await;
    let ids: Vec<String> = children(&sup).await.into_iter().map(|c| c.id).collect();
    assert_eq!(ids, vec!["second".to_owned()]);
    assert_eq!(starts[1].load(Ordering::SeqCst), 1, "second kept running");
    sup.stop(None);
}
