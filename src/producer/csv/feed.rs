//! The replay's feed actor: reads the files' rows in order, paces them, and deals each to its
//! symbol's actor (started at the symbol's first row, linked to the feed), which keeps the
//! symbol's order. A bad row is counted and logged with file:line, and skipped. Every second,
//! and at a stop, the checkpoint is written from Kafka's acknowledgements: a restart goes on
//! from the first row not acknowledged, so no row is lost and only that window is sent again,
//! with the same `run_id` and `seq` (they come from the row's place in the files).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use tokio::time::Instant;

use super::acks::{Acks, RowId};
use super::checkpoint::{self, Checkpoint};
use super::dead_letters;
use super::files;
use super::pacing::{Pacing, Schedule};
use super::reader::{Next, Reader};
use super::rows::CsvRow;
use super::symbol::{SymbolActor, SymbolArgs, SymbolMsg, SymbolRow};
use crate::config::source::CsvSourceConfig;
use crate::kafka::TickProducer;
use crate::record::tick::{Quote, Timestamp};
use crate::rng::SplitMix64;
use crate::telemetry::{events, PipelineStats};

/// Rows dealt per turn (other messages wait no longer than this).
const ROWS_PER_TURN: usize = 1_024;
/// Rows dealt and not acknowledged before the feed waits (memory stays bounded while Kafka is
/// slow).
const MAX_IN_FLIGHT: usize = 100_000;
const SAVE_EVERY: Duration = Duration::from_secs(1);

pub struct FeedActor;

pub struct FeedArgs {
    pub csv: CsvSourceConfig,
    pub pacing: Pacing,
    pub files: Vec<PathBuf>,
    pub checkpoint: PathBuf,
    pub topic: String,
    pub exchange: String,
    pub producer: Arc<TickProducer>,
    pub stats: Arc<PipelineStats>,
    pub acks: Arc<Acks>,
}

pub enum FeedMsg {
    Next,
    Save,
}

/// A symbol's actor (from its first row sent) and where its ticks are in this pass.
#[derive(Default)]
struct Symbol {
    actor: Option<ActorRef<SymbolMsg>>,
    next_seq: u64,
    /// Its first row's price in this pass (`change` is from it).
    first_price: Option<f64>,
    /// Rows dealt to it this turn.
    batch: Vec<SymbolRow>,
}

pub struct FeedState {
    args: Arc<FeedArgs>,
    reader: Reader,
    pass: u64,
    run_id: Arc<str>,
    /// Rows before it are in Kafka already: counted (for `seq`), not sent.
    resume_at: Option<RowId>,
    symbols: HashMap<String, Symbol>,
    schedule: Schedule,
    pass_started: Instant,
    /// A row read and not yet due, and when it is.
    held: Option<(RowId, CsvRow, Instant)>,
    finished: bool,
    /// Rows dealt since this actor started.
    dealt: u64,
    /// Under `sample`: every row of the files, and the generator that picks them.
    sample: Option<(Vec<CsvRow>, SplitMix64)>,
    /// The rows dealt this turn, in order, and the delivery id of the first.
    batch_ids: Vec<RowId>,
    next_id: usize,
}

impl Actor for FeedActor {
    type Msg = FeedMsg;
    type State = FeedState;
    type Arguments = Arc<FeedArgs>;

    async fn pre_start(&self, myself: ActorRef<FeedMsg>, args: Arc<FeedArgs>) -> Result<FeedState, ActorProcessingErr> {
        args.acks.restart();
        let cp = checkpoint::load(&args.checkpoint)?;
        let (pass, resume_at, finished) = match cp {
            Some(cp) if cp.files == args.files => (cp.pass, Some(RowId::new(cp.file, cp.line)), cp.finished),
            Some(_) => {
                tracing::warn!(
                    checkpoint = %args.checkpoint.display(),
                    "the replay checkpoint names other files: replaying from the first file"
                );
                (0, None, false)
            }
            None => (0, None, false),
        };
        let sample = match args.pacing {
            Pacing::Sample(_) => Some(sample_rows(&args)?),
            _ => None,
        };
        if finished && sample.is_none() {
            tracing::info!(
                checkpoint = %args.checkpoint.display(),
                "the replay went through every file already; remove the checkpoint to replay again"
            );
        } else {
            myself.send_message(FeedMsg::Next)?;
        }
        myself.send_interval(SAVE_EVERY, || FeedMsg::Save);
        let run_id = match &sample {
            // Sampled rows are new ticks at every start.
            Some(_) => format!("{}-s{}", files::run_id(&args.files, 0), chrono::Utc::now().timestamp()).into(),
            None => files::run_id(&args.files, pass),
        };
        let mut reader = Reader::new(args.files.clone(), args.csv.columns.clone());
        reader.quiet_before(resume_at);
        Ok(FeedState {
            reader,
            run_id,
            pass,
            resume_at,
            symbols: HashMap::new(),
            schedule: Schedule::new(args.pacing),
            pass_started: Instant::now(),
            held: None,
            finished: finished && sample.is_none(),
            dealt: 0,
            sample,
            args,
            batch_ids: Vec::with_capacity(ROWS_PER_TURN),
            next_id: 0,
        })
    }

    async fn post_stop(&self, _: ActorRef<FeedMsg>, st: &mut FeedState) -> Result<(), ActorProcessingErr> {
        st.save();
        Ok(())
    }

    /// A symbol's actor that fails (a record Kafka refuses outright) fails the feed: its
    /// supervisor restarts it (counted, within the restart intensity), and it goes on from the
    /// checkpoint, the rows in the dead actor's mailbox included.
    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<FeedMsg>,
        event: SupervisionEvent,
        _: &mut FeedState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(_, e) => Err(format!("a symbol's producer failed: {e}").into()),
            SupervisionEvent::ActorTerminated(..) => Err("a symbol's producer stopped".into()),
            _ => Ok(()),
        }
    }

    async fn handle(
        &self,
        myself: ActorRef<FeedMsg>,
        msg: FeedMsg,
        st: &mut FeedState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            FeedMsg::Save => st.save(),
            FeedMsg::Next => {
                if let Some(wait) = st.turn(&myself).await? {
                    myself.send_after(wait, || FeedMsg::Next);
                } else if !st.finished {
                    myself.send_message(FeedMsg::Next)?;
                }
            }
        }
        Ok(())
    }
}

/// Every row of the files and a generator seeded from the clock, for `sample`.
fn sample_rows(args: &FeedArgs) -> Result<(Vec<CsvRow>, SplitMix64), String> {
    let rows = Reader::new(args.files.clone(), args.csv.columns.clone()).all_rows()?;
    if rows.is_empty() {
        return Err(format!("{}: no row is a tick, nothing to sample", args.csv.path));
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    Ok((rows, SplitMix64(seed)))
}

impl FeedState {
    /// Deals up to a turn's rows, then hands each symbol its batch; `Some(wait)`: the next is
    /// not due yet, or too many are in flight.
    async fn turn(&mut self, myself: &ActorRef<FeedMsg>) -> Result<Option<Duration>, ActorProcessingErr> {
        self.next_id = self.args.acks.next_id();
        let dealt = match self.sample.is_some() {
            true => self.sample_turn(myself).await,
            false => self.replay_turn(myself).await,
        };
        self.hand_out()?;
        dealt
    }

    async fn replay_turn(&mut self, myself: &ActorRef<FeedMsg>) -> Result<Option<Duration>, ActorProcessingErr> {
        if self.args.acks.in_flight() >= MAX_IN_FLIGHT {
            return Ok(Some(Duration::from_millis(5)));
        }
        for _ in 0..ROWS_PER_TURN {
            let (id, row, due) = match self.held.take() {
                Some(held) => held,
                None => match self.reader.read()? {
                    Next::Row(id, row) if self.resume_at.is_some_and(|at| id < at) => {
                        self.count(&row);
                        continue;
                    }
                    Next::Row(id, row) => {
                        let due = self.pass_started + self.schedule.due(row.timestamp_ms);
                        (id, row, due)
                    }
                    Next::Bad(bad) => {
                        if let (Some(bad), Some(topic)) = (bad, &self.args.csv.dead_letter_topic) {
                            dead_letters::send(&self.args.producer, topic, &bad).await?;
                        }
                        continue;
                    }
                    Next::End
                        if self.args.csv.repeat && (self.args.acks.in_flight() > 0 || !self.batch_ids.is_empty()) =>
                    {
                        // A new pass's rows have the same places: it waits for this one's acks.
                        return Ok(Some(Duration::from_millis(5)));
                    }
                    Next::End => {
                        self.end_of_files();
                        if self.finished {
                            return Ok(None);
                        }
                        continue;
                    }
                },
            };
            let now = Instant::now();
            if due > now {
                self.held = Some((id, row, due));
                return Ok(Some(due - now));
            }
            self.deal(myself, Some(id), row).await?;
        }
        Ok(None)
    }

    /// Random rows as they come due (a row may go any number of times: not tracked, no
    /// checkpoint; each is a new tick of its symbol in this process's run).
    async fn sample_turn(&mut self, myself: &ActorRef<FeedMsg>) -> Result<Option<Duration>, ActorProcessingErr> {
        for _ in 0..ROWS_PER_TURN {
            let due = self.pass_started + self.schedule.due(0);
            let now = Instant::now();
            if due > now {
                // Not taken yet: the schedule counted it, so it is the next one due.
                self.schedule.undo();
                return Ok(Some(due - now));
            }
            let Some((rows, rng)) = &mut self.sample else { break };
            let row = rows[(rng.next_u64() % rows.len() as u64) as usize].clone();
            self.deal(myself, None, row).await?;
        }
        Ok(None)
    }

    /// The row's `seq` and `change` in its symbol's order (counting it).
    fn count(&mut self, row: &CsvRow) -> (u64, f64) {
        if !self.symbols.contains_key(&row.symbol) {
            self.symbols.insert(row.symbol.clone(), Symbol::default());
        }
        let Some(s) = self.symbols.get_mut(&row.symbol) else {
            return (0, 0.0);
        };
        let seq = s.next_seq;
        s.next_seq += 1;
        (seq, row.price - *s.first_price.get_or_insert(row.price))
    }

    /// Adds `row` to its symbol's batch (starting the symbol's actor at its first row); `id`:
    /// where it is, for the checkpoint (`None`: untracked).
    async fn deal(
        &mut self,
        myself: &ActorRef<FeedMsg>,
        id: Option<RowId>,
        row: CsvRow,
    ) -> Result<(), ActorProcessingErr> {
        if self.symbols.get(&row.symbol).is_none_or(|s| s.actor.is_none()) {
            let args = SymbolArgs {
                symbol: row.symbol.clone(),
                topic: self.args.topic.clone(),
                exchange: self.args.exchange.clone(),
                producer: self.args.producer.clone(),
                stats: self.args.stats.clone(),
            };
            let (actor, _) = Actor::spawn_linked(None, SymbolActor, args, myself.get_cell()).await?;
            self.symbols.entry(row.symbol.clone()).or_default().actor = Some(actor);
        }
        let delivery = match id {
            Some(id) => {
                self.batch_ids.push(id);
                self.next_id + self.batch_ids.len() - 1
            }
            None => 0,
        };
        let (seq, change) = self.count(&row);
        let timestamp = chrono::DateTime::from_timestamp_millis(row.timestamp_ms).unwrap_or_default();
        let tick = SymbolRow {
            id: delivery,
            quote: Quote {
                seq,
                price: row.price,
                volume: row.volume,
                change: (change * 100.0).round() / 100.0,
            },
            timestamp: Timestamp::of(timestamp),
        };
        if let Some(s) = self.symbols.get_mut(&row.symbol) {
            s.batch.push(tick);
        }
        self.dealt += 1;
        Ok(())
    }

    /// Hands every symbol the rows dealt to it this turn (one message each), after telling the
    /// acknowledgements which rows they are.
    fn hand_out(&mut self) -> Result<(), ActorProcessingErr> {
        self.args.acks.dealt(&self.batch_ids);
        events::csv_rows_dealt(self.batch_ids.len() as u64);
        self.batch_ids.clear();
        for s in self.symbols.values_mut().filter(|s| !s.batch.is_empty()) {
            let rows = std::mem::take(&mut s.batch);
            if let Some(actor) = &s.actor {
                actor.cast(SymbolMsg {
                    run_id: self.run_id.clone(),
                    rows,
                })?;
            }
        }
        Ok(())
    }

    /// After the last file: a new pass (`loop`), or the end of the replay.
    fn end_of_files(&mut self) {
        if !self.args.csv.repeat {
            self.finished = true;
            tracing::info!(
                rows_sent = self.dealt,
                bad_rows = self.reader.bad_rows(),
                "the replay went through every file"
            );
            return;
        }
        self.pass += 1;
        self.run_id = files::run_id(&self.args.files, self.pass);
        self.reader.rewind();
        self.reader.quiet_before(None);
        self.resume_at = None;
        self.args.acks.new_pass();
        self.schedule = Schedule::new(self.args.pacing);
        self.pass_started = Instant::now();
        for s in self.symbols.values_mut() {
            (s.next_seq, s.first_price) = (0, None);
        }
    }

    /// Writes where a restart goes on: the first row not acknowledged (or, before any row was
    /// dealt, where this run started).
    fn save(&self) {
        if self.sample.is_some() {
            return;
        }
        let acks = &self.args.acks;
        let at = acks.safe_from().or(self.resume_at).unwrap_or(RowId::new(0, 0));
        let cp = Checkpoint {
            files: self.args.files.clone(),
            pass: self.pass,
            file: at.file(),
            line: at.line(),
            finished: self.finished && acks.in_flight() == 0,
        };
        if let Err(e) = checkpoint::save(&self.args.checkpoint, &cp) {
            tracing::warn!(checkpoint = %self.args.checkpoint.display(), "writing the replay checkpoint: {e}");
        }
    }
}
