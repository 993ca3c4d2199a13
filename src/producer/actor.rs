//! The per-symbol producer actor.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use supervisors::{ChildSpec, Restart};

use super::walk::PriceWalk;
use crate::kafka::producer::TickProducer;
use crate::record::tick::Timestamp;
use crate::record::tick_json::TickEncoder;
use crate::telemetry::{events, PipelineStats};

/// Most ticks one `Produce` message sends (other messages wait no longer than this).
const MAX_TICKS_PER_TURN: u32 = 1024;

/// Ticks one turn sends: 10 ms of them (at least one, at most [`MAX_TICKS_PER_TURN`]). A turn
/// waits for its whole batch, so there is one timer and one mailbox round trip per batch,
/// not per tick.
fn ticks_per_turn(ticks_per_second: f64) -> NonZeroU32 {
    NonZeroU32::new((ticks_per_second / 100.0).clamp(1.0, MAX_TICKS_PER_TURN as f64) as u32).unwrap_or(NonZeroU32::MIN)
}

/// The limiter holds two turns' worth: tokio's timer wakes up to a millisecond late, and the
/// ticks that came due meanwhile go out with the next turn instead of being lost. The
/// average rate stays exact.
fn limiter_burst(per_turn: NonZeroU32) -> NonZeroU32 {
    const TWO: NonZeroU32 = NonZeroU32::new(2).unwrap();
    per_turn.saturating_mul(TWO)
}

/// Produces one symbol's ticks.
pub struct ProducerActor;

/// What every producer of this process shares.
#[derive(Clone)]
pub struct ProducerCommon {
    pub topic: String,
    pub exchange: String,
    pub run_id: String,
    pub ticks_per_second: f64,
    /// Stop producing (and idle) after this many ticks of this symbol in this run.
    pub max_ticks: Option<u64>,
    pub producer: Arc<TickProducer>,
    pub stats: Arc<PipelineStats>,
}

/// What a producer starts with. The walk lives outside the actor: a restarted producer
/// continues its symbol's `seq` and price where the last queued tick left them.
#[derive(Clone)]
pub struct ProducerArgs {
    pub symbol: String,
    pub walk: Arc<Mutex<PriceWalk>>,
    pub common: ProducerCommon,
}

pub enum ProducerMsg {
    /// Internal: produce the next tick when the rate limiter allows.
    Produce,
    /// The seq the next tick will carry.
    GetNextSeq(RpcReplyPort<u64>),
}

pub struct ProducerState {
    args: ProducerArgs,
    limiter: DefaultDirectRateLimiter,
    /// Ticks sent per turn.
    per_turn: NonZeroU32,
    /// The symbol's fixed JSON, encoded once.
    encoder: TickEncoder,
    /// The serialised tick, reused from tick to tick.
    payload: Vec<u8>,
}

impl Actor for ProducerActor {
    type Msg = ProducerMsg;
    type State = ProducerState;
    type Arguments = ProducerArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ProducerMsg>,
        args: ProducerArgs,
    ) -> Result<ProducerState, ActorProcessingErr> {
        let period = Duration::from_secs_f64(1.0 / args.common.ticks_per_second);
        let per_turn = ticks_per_turn(args.common.ticks_per_second);
        let quota = Quota::with_period(period)
            .ok_or_else(|| {
                format!(
                    "{}: ticks_per_second {} gives no period",
                    args.symbol, args.common.ticks_per_second
                )
            })?
            .allow_burst(limiter_burst(per_turn));
        let encoder = TickEncoder::new(&args.symbol, &args.common.exchange, &args.common.run_id);
        myself.send_message(ProducerMsg::Produce)?;
        Ok(ProducerState {
            per_turn,
            args,
            limiter: RateLimiter::direct(quota),
            encoder,
            payload: Vec::with_capacity(256),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<ProducerMsg>,
        msg: ProducerMsg,
        st: &mut ProducerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ProducerMsg::Produce => {
                if st.finished() {
                    return Ok(());
                }
                // A whole batch per turn: a timer and a mailbox round trip per tick were most
                // of the producer's CPU at 1,000 symbols.
                st.until_turn_ready().await;
                for _ in 0..st.per_turn.get() {
                    if st.finished() {
                        break;
                    }
                    st.produce_one().await?;
                }
                myself.send_message(ProducerMsg::Produce)?;
            }
            ProducerMsg::GetNextSeq(reply) => {
                let _ = reply.send(st.walk().next_seq());
            }
        }
        Ok(())
    }
}

impl ProducerState {
    fn walk(&self) -> std::sync::MutexGuard<'_, PriceWalk> {
        self.args.walk.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until the limiter allows a whole turn, on tokio's timer: governor's own
    /// `until_n_ready` waits on futures-timer's global thread, whose wake-ups were 13% of the
    /// producer's CPU at 1,000 symbols.
    async fn until_turn_ready(&self) {
        use governor::clock::Clock;
        // `check_n` fails outright only for more than the burst, which is two turns.
        while let Ok(Err(not_until)) = self.limiter.check_n(self.per_turn) {
            tokio::time::sleep(not_until.wait_time_from(self.limiter.clock().now())).await;
        }
    }

    fn finished(&self) -> bool {
        self.args
            .common
            .max_ticks
            .is_some_and(|max| self.walk().next_seq() >= max)
    }

    /// Builds the next tick and queues it; the walk advances only once the tick is queued,
    /// so a failure here never leaves a gap in `seq`.
    async fn produce_one(&mut self) -> Result<(), ActorProcessingErr> {
        let mut next = self.walk().clone();
        let q = next.step();
        let (symbol, a) = (&self.args.symbol, &self.args.common);
        self.encoder.encode(&mut self.payload, &q, Timestamp::now().as_str());
        a.producer.send_waiting(&a.topic, symbol, &self.payload, 0).await?;
        *self.walk() = next;
        events::tick_produced(&a.stats);
        Ok(())
    }
}

/// One permanent child spec per symbol, for the producers supervisor.
pub fn producer_specs(common: &ProducerCommon, symbols: &[String], seed: u64, restart: Restart) -> Vec<ChildSpec> {
    symbols
        .iter()
        .map(|symbol| {
            let args = ProducerArgs {
                symbol: symbol.clone(),
                walk: Arc::new(Mutex::new(PriceWalk::new(seed, symbol))),
                common: common.clone(),
            };
            ChildSpec::new(format!("producer-{symbol}"), "producer", restart, move |sup| {
                let args = args.clone();
                async move {
                    ProducerActor::spawn_linked(None, ProducerActor, args, sup)
                        .await
                        .map(|(a, _)| a.get_cell())
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_is_ten_milliseconds_of_ticks_within_bounds() {
        assert_eq!(ticks_per_turn(1.0).get(), 1);
        assert_eq!(ticks_per_turn(250.0).get(), 2);
        assert_eq!(ticks_per_turn(1_000.0).get(), 10);
        assert_eq!(ticks_per_turn(1e9).get(), MAX_TICKS_PER_TURN);
        assert_eq!(limiter_burst(ticks_per_turn(1_000.0)).get(), 20);
    }

    /// The limiter lets a turn through at once, a second one too (the catch-up room), and then
    /// not a third until its ticks come due.
    #[test]
    fn the_limiter_holds_two_turns() {
        // 10 ticks a turn at 10 ticks/s: a third turn comes due only a second later.
        let per_turn = NonZeroU32::new(10).unwrap();
        let quota = Quota::with_period(Duration::from_millis(100))
            .unwrap()
            .allow_burst(limiter_burst(per_turn));
        let limiter = RateLimiter::direct(quota);
        assert!(matches!(limiter.check_n(per_turn), Ok(Ok(()))));
        assert!(matches!(limiter.check_n(per_turn), Ok(Ok(()))));
        assert!(matches!(limiter.check_n(per_turn), Ok(Err(_))));
    }
}
