//! A symbol's producer actor under the live feed: takes its symbol's trades from the buffer,
//! oldest first, and sends each as a tick keyed by the symbol (waiting while the producer's
//! queue is full: the buffer holds the rest meanwhile). Its `seq` and first price live outside
//! the actor, so a restarted actor goes on where the last one stopped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::time::Instant;

use super::buffer::{Buffer, Pending};
use crate::kafka::producer::TickProducer;
use crate::record::tick::{Quote, Timestamp};
use crate::record::tick_json::TickEncoder;
use crate::telemetry::{events, feed_events, PipelineStats};

/// Trades sent per turn (a stop waits no longer than this).
const TRADES_PER_TURN: usize = 256;

/// Where a symbol's ticks are in this run.
#[derive(Debug, Default)]
pub struct Progress {
    pub next_seq: u64,
    /// The first trade's price (`change` is from it).
    pub first_price: Option<f64>,
}

pub struct TradeActor;

pub struct TradeArgs {
    /// The symbol's queue in the buffer.
    pub index: usize,
    pub symbol: String,
    pub topic: String,
    pub exchange: String,
    pub run_id: String,
    pub producer: Arc<TickProducer>,
    pub stats: Arc<PipelineStats>,
    pub buffer: Arc<Buffer>,
    pub progress: Arc<Mutex<Progress>>,
    /// The clock of the trades' `received_us`.
    pub clock: Instant,
}

/// Trades wait in the buffer.
pub struct Drain;

pub struct TradeState {
    args: TradeArgs,
    encoder: TickEncoder,
    payload: Vec<u8>,
    batch: Vec<Pending>,
}

impl Actor for TradeActor {
    type Msg = Drain;
    type State = TradeState;
    type Arguments = TradeArgs;

    async fn pre_start(&self, _: ActorRef<Drain>, args: TradeArgs) -> Result<TradeState, ActorProcessingErr> {
        Ok(TradeState {
            encoder: TickEncoder::new(&args.symbol, &args.exchange, &args.run_id),
            args,
            payload: Vec::with_capacity(256),
            batch: Vec::with_capacity(TRADES_PER_TURN),
        })
    }

    async fn handle(&self, myself: ActorRef<Drain>, _: Drain, st: &mut TradeState) -> Result<(), ActorProcessingErr> {
        let a = &st.args;
        st.batch.clear();
        a.buffer.take(a.index, TRADES_PER_TURN, &mut st.batch);
        if st.batch.is_empty() {
            return Ok(());
        }
        for t in &st.batch {
            let quote = {
                let mut p = a.progress.lock().unwrap_or_else(|p| p.into_inner());
                let first = *p.first_price.get_or_insert(t.price);
                let seq = p.next_seq;
                p.next_seq += 1;
                Quote {
                    seq,
                    price: t.price,
                    volume: t.volume,
                    change: ((t.price - first) * 100.0).round() / 100.0,
                }
            };
            let at = chrono::DateTime::from_timestamp_millis(t.timestamp_ms).unwrap_or_default();
            st.encoder.encode(&mut st.payload, &quote, Timestamp::of(at).as_str());
            // The id is the receive time (+1: 0 is untracked); its delivery records the latency.
            let id = usize::try_from(t.received_us).unwrap_or(usize::MAX - 1) + 1;
            a.producer.send_waiting(&a.topic, &a.symbol, &st.payload, id).await?;
            feed_events::sent_after(a.clock.elapsed().saturating_sub(Duration::from_micros(t.received_us)));
            events::tick_produced(&a.stats);
        }
        // More may wait: the next turn takes them (or finds none, and is told again later).
        myself.cast(Drain)?;
        Ok(())
    }
}
