//! The sink's records, read a batch at a time.
//!
//! rust-rdkafka's `BaseConsumer::poll` returns one message per call, and each call takes
//! librdkafka's queue lock and reads the clock twice: at flush.size 10,000 that was ~23% of the
//! sink's CPU. librdkafka's batch read (`rd_kafka_consume_batch_queue`, what confluent-kafka's
//! Python `consume(n)` uses) cannot be used on the consumer's own queue here: it would serve a
//! rebalance event itself (an unassign) instead of handing it to rust-rdkafka's context. So each
//! partition's fetch queue is forwarded, once its sink attaches, to a queue of our own that
//! holds nothing but records; the consumer's queue keeps the events (rebalances, errors,
//! statistics, token refreshes), and the router still polls it every round.
//!
//! Forward a partition while it is paused (the router does, before it resumes the partition):
//! its records fetched earlier went to the consumer's queue and the pause made them stale
//! (librdkafka drops them), so no record of the partition can be read twice or out of order
//! across the two queues. librdkafka clears the forward when the partition is revoked and keeps
//! the next assignment's records in the partition's own queue until it is forwarded again.

use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::bindings as rdsys;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// Most records one read takes.
pub const MAX_BATCH: usize = 1_000;

/// One record as the batch read hands it over (valid until the read returns).
pub struct Fetched<'a> {
    /// The record's topic (valid while the read runs).
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    /// `None` for a tombstone (a null value).
    pub value: Option<&'a [u8]>,
    pub timestamp_ms: Option<i64>,
    /// Its key and headers, when the sinks write them.
    pub extra: Option<Box<crate::record::KeyHeaders>>,
}

/// A queue of our own that every attached partition's records are forwarded to.
pub struct FetchQueue<C: ConsumerContext + 'static> {
    queue: NonNull<rdsys::rd_kafka_queue_t>,
    /// The consumer's own queue (events), only to ask how much waits in it (`None`: a client
    /// without a group, which has none).
    events: Option<NonNull<rdsys::rd_kafka_queue_t>>,
    messages: Vec<*mut rdsys::rd_kafka_message_t>,
    /// Keeps the client alive for as long as the queue handle is (librdkafka wants every queue
    /// handle destroyed before the client).
    consumer: Arc<BaseConsumer<C>>,
    /// What of each message besides its value the sinks need.
    carry: super::carry::Carry,
}

// SAFETY: librdkafka queues are thread-safe; the message pointers are only touched inside
// `read`, on the caller's thread, and never kept between calls.
unsafe impl<C: ConsumerContext + 'static> Send for FetchQueue<C> {}

/// librdkafka has no queue for the partition (yet: its assignment is still being applied, or it
/// was revoked meanwhile); the router tries again.
#[derive(Debug, thiserror::Error)]
#[error("librdkafka has no queue for {topic} partition {partition}")]
pub struct NoQueue {
    pub topic: String,
    pub partition: i32,
}

impl<C: ConsumerContext + 'static> FetchQueue<C> {
    pub fn new(consumer: Arc<BaseConsumer<C>>, carry: super::carry::Carry) -> Self {
        // SAFETY: the client pointer is valid while `consumer` lives; the queue is destroyed in
        // `drop`, before this struct's `Arc` of the consumer is released.
        let raw = unsafe { rdsys::rd_kafka_queue_new(consumer.client().native_ptr()) };
        let queue = NonNull::new(raw).expect("rd_kafka_queue_new returns a queue or aborts");
        // SAFETY: as above (NULL for a client without a group).
        let events = NonNull::new(unsafe { rdsys::rd_kafka_queue_get_consumer(consumer.client().native_ptr()) });
        Self {
            queue,
            events,
            messages: Vec::with_capacity(MAX_BATCH),
            consumer,
            carry,
        }
    }

    /// How many events (and records of partitions not forwarded here) wait in the consumer's
    /// own queue: the router serves them all each round, so that a rebalance (during which
    /// librdkafka pauses every assigned partition until it is served) never waits behind a
    /// backlog of log lines and commit results served one per round.
    pub fn events_waiting(&self) -> usize {
        // SAFETY: our handle, valid until `drop`.
        self.events
            .map_or(1, |q| unsafe { rdsys::rd_kafka_queue_length(q.as_ptr()) })
    }

    /// Sends `partition`'s records to this queue from now on (and those its own queue holds).
    /// Call while the partition is paused: see the module documentation.
    pub fn take(&self, topic: &str, partition: i32) -> Result<(), NoQueue> {
        let no_queue = || NoQueue {
            topic: topic.to_owned(),
            partition,
        };
        let topic_c = CString::new(topic).map_err(|_| no_queue())?;
        // SAFETY: valid client pointer and C string; the partition queue handle is released
        // right after the forward (the forward keeps its own reference to our queue).
        unsafe {
            let part =
                rdsys::rd_kafka_queue_get_partition(self.consumer.client().native_ptr(), topic_c.as_ptr(), partition);
            if part.is_null() {
                return Err(no_queue());
            }
            rdsys::rd_kafka_queue_forward(part, self.queue.as_ptr());
            rdsys::rd_kafka_queue_destroy(part);
        }
        Ok(())
    }

    /// Reads up to `max` records (at most [`MAX_BATCH`]) and hands each to `each` in queue
    /// order (each partition's records in offset order). A record that carries an error instead
    /// (an offset reset, a topic authorization failure) is handed to `error`. Returns how many
    /// messages were read.
    ///
    /// Like librdkafka's batch read, it returns when it has `max` messages or when `wait` is
    /// over, whichever comes first: with a wait, ask for one to get it as soon as it comes.
    pub fn read(
        &mut self,
        wait: Duration,
        max: usize,
        mut each: impl FnMut(Fetched<'_>),
        mut error: impl FnMut(&str, i32, KafkaError),
    ) -> usize {
        let max = max.clamp(1, MAX_BATCH);
        let timeout_ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `messages` has room for `max` pointers; librdkafka writes `n` of them, each
        // owned by us until `rd_kafka_message_destroy`.
        let n = unsafe {
            rdsys::rd_kafka_consume_batch_queue(self.queue.as_ptr(), timeout_ms, self.messages.as_mut_ptr(), max)
        };
        let n = usize::try_from(n).unwrap_or(0).min(max);
        // SAFETY: librdkafka initialized the first `n` entries.
        unsafe { self.messages.set_len(n) };
        // The topic's name, read once per run of one topic's messages (not per record).
        let mut named: (*mut rdsys::rd_kafka_topic_t, &str) = (std::ptr::null_mut(), "");
        for &m in &self.messages {
            // SAFETY: `m` is a live message from the batch read, destroyed below.
            let msg = unsafe { &*m };
            if msg.rkt != named.0 {
                // SAFETY: a message's topic handle lives as long as the message (and every
                // message of the batch lives until the destroy loop below); its name is a NUL
                // terminated string librdkafka owns, as long as the handle.
                let name = unsafe {
                    let name = rdsys::rd_kafka_topic_name(msg.rkt);
                    if name.is_null() {
                        ""
                    } else {
                        std::ffi::CStr::from_ptr(name).to_str().unwrap_or("")
                    }
                };
                named = (msg.rkt, name);
            }
            let topic = named.1;
            if msg.err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                error(
                    topic,
                    msg.partition,
                    KafkaError::MessageConsumption(RDKafkaErrorCode::from(msg.err)),
                );
                continue;
            }
            let value: Option<&[u8]> = if msg.payload.is_null() {
                None
            } else {
                // SAFETY: librdkafka's payload pointer and length describe one buffer that lives
                // as long as the message.
                Some(unsafe { std::slice::from_raw_parts(msg.payload as *const u8, msg.len) })
            };
            let mut kind = rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
            // SAFETY: a live message and a valid out-pointer.
            let ts = unsafe { rdsys::rd_kafka_message_timestamp(m, &mut kind) };
            let timestamp_ms =
                (kind != rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts >= 0).then_some(ts);
            each(Fetched {
                topic,
                partition: msg.partition,
                offset: msg.offset,
                value,
                timestamp_ms,
                // SAFETY: `m` lives until the destroy loop below.
                extra: unsafe { self.carry.raw(m) },
            });
        }
        for m in self.messages.drain(..) {
            // SAFETY: each message is destroyed exactly once, after its last use above.
            unsafe { rdsys::rd_kafka_message_destroy(m) };
        }
        n
    }
}

impl<C: ConsumerContext + 'static> Drop for FetchQueue<C> {
    fn drop(&mut self) {
        // SAFETY: our handle, destroyed once, while `self.consumer` still keeps the client alive.
        unsafe {
            rdsys::rd_kafka_queue_destroy(self.queue.as_ptr());
            if let Some(q) = self.events {
                rdsys::rd_kafka_queue_destroy(q.as_ptr());
            }
        }
    }
}
