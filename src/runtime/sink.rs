//! Starting the sink side: the bucket, the partition directory, the group consumer with its
//! rebalance listener, the router thread and the task that starts and stops sink actors.

use std::sync::{mpsc, Arc};
use std::time::Duration;

use ractor::ActorRef;
use rdkafka::consumer::{BaseConsumer, Consumer};
use supervisors::SupervisorMsg;

use super::{Infra, Pipeline, StartError};
use crate::config::Config;
use crate::consumer::assignments;
use crate::consumer::context::{GroupWatch, SinkConsumerContext};
use crate::consumer::directory::Directory;
use crate::consumer::partition_source::KafkaPartitionSource;
use crate::consumer::rebalance::Listener;
use crate::consumer::router::Router;
use crate::control::Shared;
use crate::kafka::client_config;
use crate::landed::LandedSender;
use crate::s3::client;
use crate::s3::keys::KeyLayout;
use crate::s3::S3SegmentStore;
use crate::sink::factory::SinkFactory;
use crate::telemetry::PipelineStats;

impl Pipeline {
    pub(super) async fn start_sink(
        &mut self,
        config: &Config,
        infra: &Infra,
        sinks: Shared<ActorRef<SupervisorMsg>>,
        stats: Arc<PipelineStats>,
        landed: Option<LandedSender>,
    ) -> Result<(), StartError> {
        let s = &config.sink;
        let client = client::build(&infra.s3).await;
        let store = Arc::new(S3SegmentStore::new(client, s.bucket.clone()));
        if config.s3.create_bucket && config.s3.mode != crate::config::S3Mode::Aws {
            store.ensure_bucket().await.map_err(|source| StartError::Bucket {
                bucket: s.bucket.clone(),
                source,
            })?;
        }

        let directory = Arc::new(Directory::default());
        let (assign_tx, assign_rx) = tokio::sync::mpsc::unbounded_channel();
        let listener = Listener {
            directory: directory.clone(),
            assignments: assign_tx,
            runtime: tokio::runtime::Handle::current(),
            drain_timeout: self.shutdown_timeout,
        };
        let group = Arc::new(GroupWatch::default());
        let context = SinkConsumerContext {
            topic: s.topics.clone(),
            listener: Arc::new(listener),
            token: infra.kafka_auth.as_ref().map(|a| a.token.clone()),
            group: group.clone(),
            reach: infra.reachability.clone(),
        };
        let consumer: BaseConsumer<SinkConsumerContext> =
            client_config::consumer(&config.kafka, &infra.bootstrap_servers)
                .create_with_context(context)
                .map_err(|e| StartError::Kafka(format!("creating the sink consumer: {e}")))?;
        consumer
            .subscribe(&[&s.topics])
            .map_err(|e| StartError::Kafka(format!("subscribing to {}: {e}", s.topics)))?;
        let consumer = Arc::new(consumer);
        self.consumer = Some(consumer.clone());

        let (router_tx, router_rx) = mpsc::channel();
        let source = Arc::new(KafkaPartitionSource {
            consumer: consumer.clone(),
            topic: s.topics.clone(),
            router: router_tx.clone(),
        });
        let factory = Arc::new(SinkFactory {
            layout: KeyLayout {
                topics_dir: s.topics_dir.clone(),
                topic: s.topics.clone(),
                pad_width: s.offset_pad_width,
            },
            flush_size: s.flush_size,
            rotate_interval: Duration::from_millis(s.rotate_interval_ms),
            max_buffered: s.max_buffered(),
            max_inflight_uploads: s.max_inflight_uploads,
            commit_interval: Duration::from_millis(s.offset_flush_interval_ms),
            store,
            source,
            stats,
            reach: infra.reachability.clone(),
            landed,
        });
        let Some(sinks_sup) = sinks.lock().ok().and_then(|g| g.clone()) else {
            return Err(StartError::Actors("the sinks supervisor did not start".into()));
        };
        self.manager = Some(tokio::spawn(assignments::run(
            factory,
            directory.clone(),
            sinks_sup,
            assign_rx,
        )));

        let router = Router {
            consumer,
            topic: s.topics.clone(),
            commands: router_rx,
            directory,
            runtime: tokio::runtime::Handle::current(),
            drain_timeout: self.shutdown_timeout,
            group,
            escalate: Some(self.root.clone()),
        };
        let thread = std::thread::Builder::new()
            .name("sink-consumer".into())
            .spawn(move || router.run())
            .map_err(|e| StartError::Actors(format!("starting the consumer thread: {e}")))?;
        self.router = Some((router_tx, thread));
        Ok(())
    }
}
