//! librdkafka's mock cluster as the embedded broker: real Kafka wire protocol on 127.0.0.1.
//!
//! `MockCluster` holds a raw pointer (neither `Send` nor `Sync`), so one thread owns it and
//! takes commands over a channel. It keeps at most 5 MiB or 100,000 messages per partition and
//! deletes older data; a consumer further behind than that sees an offset reset (the sink
//! reports it as data loss). Fine for the simulated rates; not a durable broker.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

/// Errors from the embedded cluster.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("starting the embedded Kafka cluster: {0}")]
    Start(String),
    #[error("embedded Kafka: {0}")]
    Op(String),
    #[error("the embedded Kafka thread has stopped")]
    Gone,
}

type Reply = mpsc::Sender<Result<(), String>>;

enum Command {
    CreateTopic {
        name: String,
        partitions: i32,
        replication: i32,
        reply: Reply,
    },
    BrokerDown {
        id: i32,
        reply: Reply,
    },
    BrokerUp {
        id: i32,
        reply: Reply,
    },
    SetLeader {
        topic: String,
        partition: i32,
        broker: Option<i32>,
        reply: Reply,
    },
    RefuseCommits {
        times: usize,
        reply: Reply,
    },
    Stop,
}

/// A running mock cluster. Stop it (or drop it) only after every client using it is gone.
pub struct EmbeddedKafka {
    bootstrap: String,
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedKafka {
    /// Starts a cluster of `brokers` brokers on 127.0.0.1.
    pub fn start(brokers: i32) -> Result<Self, MockError> {
        let (commands, inbox) = mpsc::channel::<Command>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, String>>();
        let thread = std::thread::Builder::new()
            .name("embedded-kafka".into())
            .spawn(move || own_cluster(brokers, inbox, ready_tx))
            .map_err(|e| MockError::Start(e.to_string()))?;
        let bootstrap = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| MockError::Start("no answer from the cluster thread".into()))?
            .map_err(MockError::Start)?;
        Ok(Self {
            bootstrap,
            commands,
            thread: Some(thread),
        })
    }

    /// `127.0.0.1:PORT,…`
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic (the mock has no CreateTopics API for clients).
    pub fn create_topic(&self, name: &str, partitions: i32, replication: i32) -> Result<(), MockError> {
        self.ask(|reply| Command::CreateTopic {
            name: name.into(),
            partitions,
            replication,
            reply,
        })
    }

    /// Takes broker `id` (1-based) down: its connections close and it answers nothing.
    pub fn broker_down(&self, id: i32) -> Result<(), MockError> {
        self.ask(|reply| Command::BrokerDown { id, reply })
    }

    /// Brings broker `id` back.
    pub fn broker_up(&self, id: i32) -> Result<(), MockError> {
        self.ask(|reply| Command::BrokerUp { id, reply })
    }

    /// Moves a partition's leadership to `broker` (`None`: no leader).
    pub fn set_leader(&self, topic: &str, partition: i32, broker: Option<i32>) -> Result<(), MockError> {
        self.ask(|reply| Command::SetLeader {
            topic: topic.into(),
            partition,
            broker,
            reply,
        })
    }

    /// Answers the next `times` offset commits with REBALANCE_IN_PROGRESS, as a group between
    /// generations does (0: stop refusing).
    pub fn refuse_commits(&self, times: usize) -> Result<(), MockError> {
        self.ask(|reply| Command::RefuseCommits { times, reply })
    }

    fn ask(&self, make: impl FnOnce(Reply) -> Command) -> Result<(), MockError> {
        let (reply, answer) = mpsc::channel();
        self.commands.send(make(reply)).map_err(|_| MockError::Gone)?;
        answer
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| MockError::Gone)?
            .map_err(MockError::Op)
    }

    /// Stops the cluster and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EmbeddedKafka {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn own_cluster(brokers: i32, inbox: mpsc::Receiver<Command>, ready: mpsc::Sender<Result<String, String>>) {
    let cluster = match MockCluster::new(brokers) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    let _ = ready.send(Ok(cluster.bootstrap_servers()));
    for cmd in inbox {
        let (result, reply) = match cmd {
            Command::CreateTopic {
                name,
                partitions,
                replication,
                reply,
            } => {
                // "Create when absent": an existing topic is success.
                let created = match cluster.create_topic(&name, partitions, replication) {
                    Err(KafkaError::MockCluster(RDKafkaErrorCode::TopicAlreadyExists)) => Ok(()),
                    other => other,
                };
                (created, reply)
            }
            Command::BrokerDown { id, reply } => (cluster.broker_down(id), reply),
            Command::BrokerUp { id, reply } => (cluster.broker_up(id), reply),
            Command::SetLeader {
                topic,
                partition,
                broker,
                reply,
            } => (cluster.partition_leader(&topic, partition, broker), reply),
            Command::RefuseCommits { times, reply } => {
                cluster.clear_request_errors(RDKafkaApiKey::OffsetCommit);
                let errors = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS; times];
                cluster.request_errors(RDKafkaApiKey::OffsetCommit, &errors);
                (Ok(()), reply)
            }
            Command::Stop => break,
        };
        let _ = reply.send(result.map_err(|e| e.to_string()));
    }
}
