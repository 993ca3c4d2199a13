//! What an operator can ask of a running pipeline: health for the systemd watchdog, readiness for `/readyz`, and
//! fault injection for tests and the chaos suite (`POST /admin/actors/<id>/fail`).

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use ractor::{ActorRef, ActorStatus};
use rdkafka::consumer::Consumer;
use supervisors::{ChildInfo, SupervisorMsg};

use crate::consumer::actor::ConsumerShared;
use crate::kafka::TickProducer;
use crate::s3::S3SegmentStore;
use crate::telemetry::http::{AdminError, Operator};
use crate::telemetry::reachability::{Dependency, Reachability};

/// How long a readiness probe waits for Kafka or S3.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a supervisor may take to list its children.
const ANSWER_MS: u64 = 2_000;

pub(crate) type Shared<T> = Arc<Mutex<Option<T>>>;

/// What an operator can ask of the running pipeline's tree and clients. Holds the producer
/// weakly and the consumer only while probing, so it never keeps a Kafka client alive past
/// shutdown.
pub struct Admin {
    pub(crate) root: ActorRef<SupervisorMsg>,
    /// `("auth", …)`, `("producers", …)`, `("sinks", …)`, `("partitions", …)`: the supervisors
    /// below the root, as they are now.
    pub(crate) supervisors: Vec<super::tree::Named>,
    pub(crate) producer: Option<Weak<TickProducer>>,
    pub(crate) consumer: Option<Arc<ConsumerShared>>,
    pub(crate) store: Option<Arc<S3SegmentStore>>,
    pub(crate) topic: String,
    /// What every client saw of Kafka, S3 and Snowflake: `/readyz` names the cause.
    pub(crate) reach: Arc<Reachability>,
}

impl Admin {
    fn supervisor(&self, name: &str) -> Option<ActorRef<SupervisorMsg>> {
        let (_, slot) = self.supervisors.iter().find(|(n, _)| *n == name)?;
        slot.lock().ok()?.clone()
    }

    /// The supervisor's children, or `None` when it did not answer in time.
    async fn children(sup: &ActorRef<SupervisorMsg>) -> Option<Vec<ChildInfo>> {
        ractor::call_t!(sup, SupervisorMsg::GetChildren, ANSWER_MS).ok()
    }

    /// Kills actor `id` (`producer-AAPL`, `sink-2`, or a whole supervisor: `producers`, `sinks`)
    /// and lets its supervisor handle it as a failure.
    pub async fn fail_actor(&self, id: &str) -> Result<(), AdminError> {
        let mut owners: Vec<ActorRef<SupervisorMsg>> = self
            .supervisors
            .iter()
            .filter_map(|(name, _)| self.supervisor(name))
            .collect();
        owners.push(self.root.clone());
        let mut silent = false;
        for sup in owners {
            let Some(children) = Self::children(&sup).await else {
                silent = true;
                continue;
            };
            if children.iter().any(|c| c.id == id) {
                return match ractor::call_t!(sup, SupervisorMsg::FailChild, ANSWER_MS, id.to_owned()) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(AdminError::NotRunning { id: id.to_owned() }),
                    Err(_) => Err(AdminError::Unanswered {
                        what: format!("failing {id}"),
                        waited_ms: ANSWER_MS,
                    }),
                };
            }
        }
        match silent {
            true => Err(AdminError::Unanswered {
                what: format!("finding {id}"),
                waited_ms: ANSWER_MS,
            }),
            false => Err(AdminError::NoSuchActor { id: id.to_owned() }),
        }
    }

    /// The supervision tree is up: the root and every child supervisor run. The watchdog pings
    /// systemd only while this holds.
    pub fn healthy(&self) -> bool {
        self.root.get_status() == ActorStatus::Running
            && self.supervisors.iter().all(|(name, _)| {
                self.supervisor(name)
                    .is_some_and(|s| s.get_status() == ActorStatus::Running)
            })
    }

    /// Every actor runs, and Kafka and S3 answer; otherwise the reasons.
    pub async fn readiness(&self) -> crate::telemetry::http::Readiness {
        let mut problems = Vec::new();
        if !self.healthy() {
            problems.push("supervision: the tree is not fully running".to_owned());
        }
        for (name, _) in &self.supervisors {
            let Some(sup) = self.supervisor(name) else { continue };
            let Some(children) = Self::children(&sup).await else {
                problems.push(format!("{name}: its supervisor did not answer within {ANSWER_MS} ms"));
                continue;
            };
            let down: Vec<&str> = children.iter().filter(|c| !c.running).map(|c| c.id.as_str()).collect();
            if !down.is_empty() {
                problems.push(format!("{name}: not running: {}", down.join(", ")));
            }
            if *name == "partitions" && !children.iter().any(|c| c.kind == "sink") {
                problems.push("sinks: no partition assigned yet".to_owned());
            }
        }
        let reach = &self.reach;
        match self.kafka_reachable().await {
            Ok(true) => reach.answered(Dependency::Kafka),
            Ok(false) => {}
            // The metadata request's own error is generic ("transport failure"); the cause
            // librdkafka reported for the broker is in the record.
            Err(e) => problems.push(
                reach
                    .problem(Dependency::Kafka)
                    .unwrap_or_else(|| format!("{} at {}: {e}", Dependency::Kafka, reach.address(Dependency::Kafka))),
            ),
        }
        if let Some(store) = &self.store {
            let failed = match tokio::time::timeout(PROBE_TIMEOUT, store.check()).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(crate::error::chain(&e)),
                Err(_) => Some(format!("no answer within {PROBE_TIMEOUT:?}")),
            };
            match failed {
                None => reach.answered(Dependency::S3),
                Some(cause) => {
                    reach.failed(Dependency::S3, &cause);
                    problems.push(format!(
                        "{} at {}: {cause}",
                        Dependency::S3,
                        reach.address(Dependency::S3)
                    ));
                }
            }
        }
        for dep in [Dependency::Snowflake, Dependency::SchemaRegistry, Dependency::Warehouse] {
            if let Some(p) = reach.problem(dep) {
                problems.push(p);
            }
        }
        if problems.is_empty() {
            Ok(reach.notes())
        } else {
            Err(problems)
        }
    }

    /// Whether a client of ours got metadata (`Ok(false)`: no client to ask).
    async fn kafka_reachable(&self) -> Result<bool, String> {
        let topic = self.topic.clone();
        let producer = self.producer.as_ref().and_then(Weak::upgrade);
        let consumer = self.consumer.as_ref().and_then(|c| c.consumer());
        if producer.is_none() && consumer.is_none() {
            return Ok(false);
        }
        tokio::task::spawn_blocking(move || {
            let result = match (&producer, &consumer) {
                (Some(p), _) => p.check(&topic, PROBE_TIMEOUT),
                (None, Some(c)) => c.fetch_metadata(Some(&topic), PROBE_TIMEOUT).map(|_| ()),
                (None, None) => Ok(()),
            };
            // Dropped here, on a blocking thread, in case this was the last reference.
            drop((producer, consumer));
            result.map(|()| true).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// What `/readyz` and the admin endpoint answer while start-up waits for its dependencies.
pub struct Starting {
    pub reach: Arc<Reachability>,
}

impl Operator for Starting {
    fn readiness(&self) -> BoxFuture<'_, crate::telemetry::http::Readiness> {
        Box::pin(async move {
            let mut problems = vec!["starting: waiting for the pipeline's dependencies to answer".to_owned()];
            for dep in [Dependency::Kafka, Dependency::S3] {
                problems.extend(self.reach.problem(dep));
            }
            Err(problems)
        })
    }

    fn fail_actor<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<(), AdminError>> {
        Box::pin(async { Err(AdminError::Starting) })
    }
}

impl Operator for Admin {
    fn readiness(&self) -> BoxFuture<'_, crate::telemetry::http::Readiness> {
        Box::pin(Admin::readiness(self))
    }

    fn fail_actor<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), AdminError>> {
        Box::pin(Admin::fail_actor(self, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ractor::{Actor, ActorProcessingErr};

    /// A supervisor that takes every message and answers none (stuck in a long call).
    struct Mute;

    impl Actor for Mute {
        type Msg = SupervisorMsg;
        type State = Vec<SupervisorMsg>;
        type Arguments = ();

        async fn pre_start(&self, _: ActorRef<SupervisorMsg>, _: ()) -> Result<Self::State, ActorProcessingErr> {
            Ok(Vec::new())
        }

        async fn handle(
            &self,
            _: ActorRef<SupervisorMsg>,
            msg: SupervisorMsg,
            kept: &mut Self::State,
        ) -> Result<(), ActorProcessingErr> {
            kept.push(msg); // keeping the reply port: no answer, and no "dropped" either
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_supervisor_that_does_not_answer_is_reported_as_such_not_as_no_partition() {
        let (mute, handle) = Actor::spawn(None, Mute, ()).await.unwrap();
        let admin = Admin {
            root: mute.clone(),
            supervisors: vec![("sinks", Arc::new(Mutex::new(Some(mute.clone()))))],
            producer: None,
            consumer: None,
            store: None,
            topic: "t".into(),
            reach: Arc::default(),
        };
        let problems = admin.readiness().await.unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("sinks: its supervisor did not answer within 2000 ms")),
            "{problems:?}"
        );
        assert!(
            !problems.iter().any(|p| p.contains("no partition assigned")),
            "{problems:?}"
        );
        mute.stop(None);
        let _ = handle.await;
    }
}
