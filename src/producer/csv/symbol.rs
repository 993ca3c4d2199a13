//! A symbol's producer actor in a replay: sends the rows dealt to it (a batch at a time), in the
//! order dealt, keyed by its symbol, each tracked so that the replay's checkpoint follows the
//! acks.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef};

use crate::kafka::producer::TickProducer;
use crate::record::tick::{Quote, Timestamp};
use crate::record::tick_json::TickEncoder;
use crate::telemetry::{events, PipelineStats};

pub struct SymbolActor;

pub struct SymbolArgs {
    pub symbol: String,
    pub topic: String,
    pub exchange: String,
    pub producer: Arc<TickProducer>,
    pub stats: Arc<PipelineStats>,
}

/// Rows of one pass, in the order dealt, as the ticks they become.
pub struct SymbolMsg {
    /// The pass's `run_id`.
    pub run_id: Arc<str>,
    pub rows: Vec<SymbolRow>,
}

pub struct SymbolRow {
    /// The delivery id the checkpoint follows ([`super::acks::Acks`]; 0: untracked).
    pub id: usize,
    pub quote: Quote,
    pub timestamp: Timestamp,
}

pub struct SymbolState {
    args: SymbolArgs,
    /// The encoder of the current pass's `run_id`.
    encoder: Option<(Arc<str>, TickEncoder)>,
    payload: Vec<u8>,
}

impl Actor for SymbolActor {
    type Msg = SymbolMsg;
    type State = SymbolState;
    type Arguments = SymbolArgs;

    async fn pre_start(&self, _: ActorRef<SymbolMsg>, args: SymbolArgs) -> Result<SymbolState, ActorProcessingErr> {
        Ok(SymbolState {
            args,
            encoder: None,
            payload: Vec::with_capacity(256),
        })
    }

    async fn handle(
        &self,
        _: ActorRef<SymbolMsg>,
        msg: SymbolMsg,
        st: &mut SymbolState,
    ) -> Result<(), ActorProcessingErr> {
        let a = &st.args;
        let encoder = match &st.encoder {
            Some((run_id, e)) if *run_id == msg.run_id => e,
            _ => {
                let e = TickEncoder::new(&a.symbol, &a.exchange, &msg.run_id);
                &st.encoder.insert((msg.run_id.clone(), e)).1
            }
        };
        for row in &msg.rows {
            encoder.encode(&mut st.payload, &row.quote, row.timestamp.as_str());
            a.producer
                .send_waiting(&a.topic, &a.symbol, &st.payload, row.id)
                .await?;
        }
        events::ticks_produced(&a.stats, msg.rows.len() as u64);
        Ok(())
    }
}
