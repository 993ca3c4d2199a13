//! One routing round, the router's intake: take records from the consumer, a batch at a time,
//! without handing any sink more than its room ([`take_round`]), then cast each partition's
//! share to its sink ([`deliver`]).

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

use super::context::SinkConsumerContext;
use super::directory::Directory;
use super::fetch_queue::FetchQueue;
use super::partition_list;
use super::round::{Round, Share};
use super::Topics;
use crate::sink::SinkMsg;
use crate::telemetry::events;

/// How long one poll waits when nothing is ready; also how fast commands are seen.
const POLL_WAIT: Duration = Duration::from_millis(100);
/// Records taken per routing round, across partitions.
const MAX_ROUND: usize = 2_000;

/// What a round reads from and where its records go.
pub(super) struct Intake<'a> {
    pub consumer: &'a BaseConsumer<SinkConsumerContext>,
    /// Whether a topic is one the sink reads.
    pub wanted: &'a Topics,
    pub directory: &'a Directory,
    /// What of each message besides its value the sinks need.
    pub carry: super::carry::Carry,
}

impl Intake<'_> {
    /// Takes up to [`MAX_ROUND`] records, and ends the round early when one partition's sink
    /// would be full with what the round holds for it: each batch read is no larger than the
    /// least room any sink has (and at least one record), so a sink is never handed more than
    /// its room plus one record, and `max.buffered.records` bounds memory even while S3 is down.
    pub(super) fn take_round(&self, fetched: &mut FetchQueue<SinkConsumerContext>, errors: &mut u64) -> Round {
        let shares: Vec<Share> = self
            .directory
            .lock()
            .iter()
            .map(|(tp, s)| {
                // Neither a paused nor a detached partition gets records: do not let its
                // empty gate shrink every batch.
                let bounded = s.sink.is_some() && !s.paused_for_room;
                Share {
                    tp: tp.clone(),
                    room: if bounded { s.gate.room() } else { usize::MAX },
                    expect: s.took,
                }
            })
            .collect();
        let mut round = Round::new(shares);
        // The consumer's own queue: events (rebalances, errors, statistics, log lines), and the
        // records of a partition not yet forwarded to `fetched` (none while every attached one
        // is). A poll that serves an event returns nothing, as an empty queue does: so the
        // round polls as often as the queue held entries when it began, and serves them all.
        let waiting = fetched.events_waiting().clamp(1, MAX_ROUND);
        for polled in 1..=MAX_ROUND {
            match self.consumer.poll(Duration::ZERO) {
                None if polled < waiting => continue,
                None => break,
                Some(Ok(m)) => {
                    if self.wanted.contains(m.topic())
                        && !round.push(
                            m.topic(),
                            m.partition(),
                            m.offset(),
                            m.payload(),
                            m.timestamp().to_millis(),
                            self.carry.borrowed(&m),
                        )
                    {
                        return round;
                    }
                }
                Some(Err(e)) => {
                    *errors += 1;
                    events::consumer_error(*errors, &e);
                    return round;
                }
            }
        }
        let mut wait = if round.is_empty() { POLL_WAIT } else { Duration::ZERO };
        while round.len() < MAX_ROUND {
            // A batch read waits until it has `max` records or `wait` is over, so the read that
            // may wait asks for one record: the first record of a quiet topic goes out at once.
            let max = if wait.is_zero() {
                round.least_room().min(MAX_ROUND - round.len()).max(1)
            } else {
                1
            };
            let mut full = false;
            let mut failed = false;
            let read = fetched.read(
                wait,
                max,
                |r| full |= !round.push(r.topic, r.partition, r.offset, r.value, r.timestamp_ms, r.extra),
                |topic, partition, e| {
                    *errors += 1;
                    failed = true;
                    tracing::debug!(topic, partition, "consumer error on a partition's records: {e}");
                    events::consumer_error(*errors, &e);
                },
            );
            if read == 0 || full || failed {
                break;
            }
            wait = Duration::ZERO;
        }
        round
    }

    /// Casts each partition's records to its sink, past where the sink already is.
    pub(super) fn deliver(&self, round: Round) {
        let mut slots = self.directory.lock();
        for (tp, took, mut records) in round.into_records() {
            let Some(slot) = slots.get_mut(&tp) else {
                continue;
            };
            slot.took = took;
            let Some(sink) = &slot.sink else {
                slot.needs_seek = true;
                continue;
            };
            if let Some(pos) = slot.position {
                records.retain(|r| r.offset >= pos);
            }
            let Some(last) = records.last().map(|r| r.offset) else {
                continue;
            };
            let n = records.len();
            slot.gate.hold(n);
            if sink.cast(SinkMsg::Append(records)).is_err() {
                // The sink died; its successor attaches and the router seeks back for it.
                slot.gate.release(n as u64);
                slot.sink = None;
                slot.needs_seek = true;
                let _ = self.consumer.pause(&partition_list(&tp));
                continue;
            }
            slot.position = Some(last + 1);
            if slot.gate.is_full() && !slot.paused_for_room && slot.full_since.is_none() {
                slot.full_since = Some(Instant::now());
            }
        }
    }
}
