//! The one Kafka producer a process shares: keyed by symbol, idempotent, acks=all.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::client::OAuthToken;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};

use rdkafka::config::RDKafkaLogLevel;

use crate::kafka::token::TokenCell;
use crate::telemetry::reachability::Reachability;

use crate::telemetry::{events, PipelineStats};

/// How long to wait before trying again when the producer's local queue is full.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(5);

/// Why a tick could not be handed to the producer.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The local queue is full: the caller waits and tries again (backpressure).
    #[error("the producer's local queue is full")]
    QueueFull,
    /// Anything else (bad topic, message too large): not worth retrying as is.
    #[error("producing to {topic}: {source}")]
    Kafka { topic: String, source: KafkaError },
}

/// The delivery id of records that are not ticks (a replay's bad rows sent to their dead-letter
/// topic): their deliveries are not counted as ticks'.
pub const NOT_A_TICK: usize = usize::MAX;

/// Told of each tracked record's delivery: its id (see [`TickProducer::try_send_tracked`]) and
/// whether the cluster acknowledged it.
pub type OnDelivery = Arc<dyn Fn(usize, bool) + Send + Sync>;

/// Counts deliveries as librdkafka reports them, on its own polling thread.
pub struct DeliveryCounter {
    stats: Arc<PipelineStats>,
    token: Option<TokenCell>,
    reach: Arc<Reachability>,
    /// Told of tracked records' deliveries (a replay's checkpoint).
    tracked: std::sync::OnceLock<OnDelivery>,
}

impl ClientContext for DeliveryCounter {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        super::diagnostics::log(&self.reach, super::diagnostics::Report::Log, level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        super::diagnostics::error(&self.reach, super::diagnostics::Report::Log, &error, reason);
    }

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        super::oauth::answer(self.token.as_ref())
    }
}

impl ProducerContext for DeliveryCounter {
    /// A tracked record's id; 0 for the others.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, id: usize) {
        if id == NOT_A_TICK {
            if let Err((err, msg)) = result {
                tracing::warn!(topic = msg.topic(), "a dead letter was not delivered: {err}");
            }
            return;
        }
        if let (true, Some(tell)) = (id != 0, self.tracked.get()) {
            tell(id, result.is_ok());
        }
        match result {
            Ok(_) => events::tick_acked(&self.stats),
            Err((err, msg)) => {
                let key = msg.key().map(String::from_utf8_lossy).unwrap_or_default();
                events::tick_delivery_failed(&self.stats, &key, err);
            }
        }
    }
}

/// The shared producer.
pub struct TickProducer {
    inner: ThreadedProducer<DeliveryCounter>,
}

impl TickProducer {
    /// Creates the producer from [`super::client_config::producer`] properties.
    /// `token`: the MSK IAM token cell (`msk_iam` mode); `reach`: where broker failures go.
    pub fn new(
        config: &ClientConfig,
        stats: Arc<PipelineStats>,
        token: Option<TokenCell>,
        reach: Arc<Reachability>,
    ) -> Result<Self, KafkaError> {
        Ok(Self {
            inner: config.create_with_context(DeliveryCounter {
                stats,
                token,
                reach,
                tracked: std::sync::OnceLock::new(),
            })?,
        })
    }

    /// Where the deliveries of records sent with [`TickProducer::try_send_tracked`] are told
    /// (set once; `false` if it was set already).
    pub fn on_delivery(&self, tell: OnDelivery) -> bool {
        self.inner.context().tracked.set(tell).is_ok()
    }

    /// Queues one record; never blocks. [`SendError::QueueFull`] asks the caller to wait.
    pub fn try_send(&self, topic: &str, key: &str, payload: &[u8]) -> Result<(), SendError> {
        self.try_send_tracked(topic, key, payload, 0)
    }

    /// [`TickProducer::try_send`], its delivery told to [`TickProducer::on_delivery`] with
    /// `id` (not 0).
    pub fn try_send_tracked(&self, topic: &str, key: &str, payload: &[u8], id: usize) -> Result<(), SendError> {
        match self
            .inner
            .send(BaseRecord::with_opaque_to(topic, id).key(key).payload(payload))
        {
            Ok(()) => Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => Err(SendError::QueueFull),
            Err((source, _)) => Err(SendError::Kafka {
                topic: topic.to_owned(),
                source,
            }),
        }
    }

    /// Queues one record, waiting while the local queue is full (backpressure: each wait is
    /// counted); `id` as in [`TickProducer::try_send_tracked`] (0: untracked).
    pub async fn send_waiting(&self, topic: &str, key: &str, payload: &[u8], id: usize) -> Result<(), SendError> {
        loop {
            match self.try_send_tracked(topic, key, payload, id) {
                Err(SendError::QueueFull) => {
                    events::producer_queue_full();
                    tokio::time::sleep(QUEUE_FULL_WAIT).await;
                }
                sent => return sent,
            }
        }
    }

    /// Queues one record that is not a tick (no key; `headers` say what it is), waiting while
    /// the local queue is full. Its delivery is not counted as a tick's.
    pub async fn send_not_a_tick(
        &self,
        topic: &str,
        payload: &[u8],
        headers: &[(&str, &[u8])],
    ) -> Result<(), SendError> {
        let headers = headers.iter().fold(OwnedHeaders::new(), |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(*value),
            })
        });
        loop {
            let record = BaseRecord::<[u8], [u8], usize>::with_opaque_to(topic, NOT_A_TICK)
                .payload(payload)
                .headers(headers.clone());
            match self.inner.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    events::producer_queue_full();
                    tokio::time::sleep(QUEUE_FULL_WAIT).await;
                }
                Err((source, _)) => {
                    return Err(SendError::Kafka {
                        topic: topic.to_owned(),
                        source,
                    })
                }
            }
        }
    }

    /// Asks the cluster for `topic`'s metadata (blocking): is the broker reachable?
    pub fn check(&self, topic: &str, timeout: Duration) -> Result<(), KafkaError> {
        use rdkafka::producer::Producer as _;
        self.inner.client().fetch_metadata(Some(topic), timeout).map(|_| ())
    }

    /// Records queued but not yet acknowledged.
    pub fn in_flight(&self) -> i32 {
        self.inner.in_flight_count()
    }

    /// Waits (blocking) until every queued record is acknowledged or `timeout` passes.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner.flush(timeout)
    }
}
