//! The live feed's actor: starts a producer actor per symbol (linked), and keeps one connection
//! to the feed in a task it owns: subscribe every symbol, read trades into the buffer, tell each
//! symbol's actor when its queue has trades, and when the connection ends, reconnect with
//! backoff (or after the wait a rate-limited server asked for) and subscribe again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use tokio::time::Instant;

use super::buffer::{Buffer, Pending};
use super::connection::{Ended, Endpoint};
use super::mapping::Mapping;
use super::symbol::{Drain, Progress, TradeActor, TradeArgs};
use crate::config::websocket::WebsocketSourceConfig;
use crate::kafka::TickProducer;
use crate::task::TaskGuard;
use crate::telemetry::feed_events::{self, Ignored, SymbolMetrics};
use crate::telemetry::PipelineStats;

/// A connection that lasted this long starts the next backoff from its first delay.
const STEADY: Duration = Duration::from_secs(30);
const CHECK_EVERY: Duration = Duration::from_secs(1);

pub struct WsFeedActor;

/// What the feed keeps across its restarts: the buffer, and each symbol's `seq`.
pub struct WsFeedArgs {
    pub ws: WebsocketSourceConfig,
    pub endpoint: Endpoint,
    pub symbols: Vec<String>,
    pub topic: String,
    pub exchange: String,
    pub run_id: String,
    pub producer: Arc<TickProducer>,
    pub stats: Arc<PipelineStats>,
    pub buffer: Arc<Buffer>,
    /// The clock of the trades' `received_us`.
    pub clock: Instant,
    pub progress: Vec<Arc<Mutex<Progress>>>,
    pub metrics: Vec<SymbolMetrics>,
}

pub enum WsFeedMsg {
    /// Is the connection task still there?
    Check,
}

pub struct WsFeedState {
    connection: TaskGuard,
    args: Arc<WsFeedArgs>,
}

impl Actor for WsFeedActor {
    type Msg = WsFeedMsg;
    type State = WsFeedState;
    type Arguments = Arc<WsFeedArgs>;

    async fn pre_start(
        &self,
        myself: ActorRef<WsFeedMsg>,
        args: Arc<WsFeedArgs>,
    ) -> Result<WsFeedState, ActorProcessingErr> {
        let mut actors = Vec::with_capacity(args.symbols.len());
        for (index, symbol) in args.symbols.iter().enumerate() {
            let trade_args = TradeArgs {
                index,
                symbol: symbol.clone(),
                topic: args.topic.clone(),
                exchange: args.exchange.clone(),
                run_id: args.run_id.clone(),
                producer: args.producer.clone(),
                stats: args.stats.clone(),
                buffer: args.buffer.clone(),
                progress: args.progress[index].clone(),
                clock: args.clock,
            };
            let (actor, _) = Actor::spawn_linked(None, TradeActor, trade_args, myself.get_cell()).await?;
            actors.push(actor);
        }
        for i in args.buffer.restart() {
            actors[i].cast(Drain)?;
        }
        myself.send_interval(CHECK_EVERY, || WsFeedMsg::Check);
        Ok(WsFeedState {
            connection: TaskGuard::spawn(keep_connected(args.clone(), actors)),
            args,
        })
    }

    /// Trades still in the buffer stay there for the next feed actor; if the process is
    /// stopping they are not sent, and the log says how many.
    async fn post_stop(&self, _: ActorRef<WsFeedMsg>, st: &mut WsFeedState) -> Result<(), ActorProcessingErr> {
        feed_events::connected(false);
        let waiting = st.args.buffer.bytes() / super::buffer::TRADE_BYTES;
        if waiting > 0 {
            tracing::warn!(
                trades = waiting,
                "the feed stopped with trades not yet sent to Kafka (a restarted feed sends them; a stopping process does not)"
            );
        }
        Ok(())
    }

    /// A symbol's actor that fails (a record Kafka refuses outright) fails the feed: its
    /// supervisor restarts it, with the buffer and every symbol's `seq` as they were.
    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<WsFeedMsg>,
        event: SupervisionEvent,
        _: &mut WsFeedState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(_, e) => Err(format!("a symbol's producer failed: {e}").into()),
            SupervisionEvent::ActorTerminated(..) => Err("a symbol's producer stopped".into()),
            _ => Ok(()),
        }
    }

    async fn handle(
        &self,
        _: ActorRef<WsFeedMsg>,
        msg: WsFeedMsg,
        st: &mut WsFeedState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            WsFeedMsg::Check if st.connection.ended() => Err("the feed's connection task ended".into()),
            WsFeedMsg::Check => Ok(()),
        }
    }
}

/// Connects, reads, and reconnects, for as long as the feed actor lives.
async fn keep_connected(args: Arc<WsFeedArgs>, actors: Vec<ActorRef<Drain>>) {
    let mapping = Mapping::new(&args.ws.mapping);
    let subscribes: Vec<String> = args.symbols.iter().map(|s| mapping.subscribe(s)).collect();
    let mut intake = Intake {
        args: &args,
        actors: &actors,
        mapping: &mapping,
        index: args.symbols.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect(),
        malformed: 0,
        dropped: 0,
    };
    let (min, max) = (
        Duration::from_millis(args.ws.reconnect_min_ms),
        Duration::from_secs(args.ws.reconnect_max_secs),
    );
    let mut delays = supervisors::backoff::delays(min, max);
    let url = &args.endpoint.url;
    loop {
        let started = Instant::now();
        let ended = args
            .endpoint
            .session(
                &subscribes,
                || {
                    feed_events::connected(true);
                    tracing::info!(%url, symbols = subscribes.len(), "subscribed to the feed");
                },
                |text, at| intake.frame(text, at),
            )
            .await;
        feed_events::connected(false);
        feed_events::reconnect(ended.reason());
        if let Ended::Protocol { oversized: true, .. } = ended {
            feed_events::ignored(Ignored::Oversized, 1);
        }
        if started.elapsed() >= STEADY {
            delays = supervisors::backoff::delays(min, max);
        }
        let wait = match ended {
            Ended::RateLimited { wait: Some(w), .. } => w,
            _ => delays.next().unwrap_or(max),
        };
        tracing::warn!(%url, "the feed's connection ended ({ended}); reconnecting in {} ms", wait.as_millis());
        tokio::time::sleep(wait).await;
    }
}

/// Frames in, trades to the buffer.
struct Intake<'a> {
    args: &'a WsFeedArgs,
    actors: &'a [ActorRef<Drain>],
    mapping: &'a Mapping,
    index: HashMap<String, usize>,
    /// Counted for the log's sampling.
    malformed: u64,
    dropped: u64,
}

impl Intake<'_> {
    fn frame(&mut self, text: &str, at: Instant) {
        let read = match self.mapping.read(text) {
            Ok(read) => read,
            Err(why) => {
                self.malformed(1, &why);
                return;
            }
        };
        if read.malformed > 0 {
            self.malformed(read.malformed, read.first_problem.as_deref().unwrap_or("malformed"));
        }
        let received_us = at.duration_since(self.args.clock).as_micros() as u64;
        let unix = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let mut unsubscribed = 0;
        for t in read.trades {
            let Some(&i) = self.index.get(&t.symbol) else {
                unsubscribed += 1;
                continue;
            };
            self.args.metrics[i].received(unix);
            let pushed = self.args.buffer.push(
                i,
                Pending {
                    price: t.price,
                    volume: t.volume,
                    timestamp_ms: t.timestamp_ms,
                    received_us,
                },
            );
            if let Some(d) = pushed.dropped {
                self.args.metrics[d].dropped(1);
                self.dropped += 1;
                if self.dropped == 1 || self.dropped.is_multiple_of(10_000) {
                    tracing::warn!(
                        dropped = self.dropped,
                        buffer_bytes = self.args.ws.buffer_bytes,
                        "the feed's buffer is full (Kafka is slower than the feed): dropping the oldest trades"
                    );
                }
            }
            if pushed.wake {
                let _ = self.actors[i].cast(Drain);
            }
        }
        if unsubscribed > 0 {
            feed_events::ignored(Ignored::Unsubscribed, unsubscribed);
        }
        feed_events::buffer_bytes(self.args.buffer.bytes());
    }

    fn malformed(&mut self, n: u64, why: &str) {
        feed_events::ignored(Ignored::Malformed, n);
        let before = self.malformed;
        self.malformed += n;
        if before < 10 || before / 1000 != self.malformed / 1000 {
            tracing::warn!(malformed = self.malformed, "the feed sent what is not a trade: {why}");
        }
    }
}
