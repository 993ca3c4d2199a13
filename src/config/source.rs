//! `[producer] source` and `[producer.csv]`: where the producers' ticks come from (the live feed's
//! table is [`super::websocket`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[producer] source`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A seeded random walk per symbol (`symbols`, `ticks_per_second`).
    #[default]
    Simulated,
    /// Rows of CSV files replayed (`[producer.csv]`).
    Csv,
    /// A live trade feed (`[producer.websocket]`).
    Websocket,
}

/// `[producer.csv]`: a CSV archive replayed through the per-symbol producers.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSourceConfig {
    /// A file, or a glob of files (`archive/*.csv`: `*` and `?` in the last part), replayed in
    /// name order (required). Each file starts with a header row.
    pub path: String,
    /// `max` (default: as fast as Kafka acknowledges, a backfill), `rate` (`rate` rows a
    /// second), `original` (the file's own spacing, divided by `speed`) or `sample` (random
    /// rows, `rate` a second, for ever).
    #[serde(default)]
    pub pacing: PacingKind,
    /// Rows a second under `rate` and `sample` (default 1000).
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Under `original`: 1 (default) replays in real time, 60 an hour a minute.
    #[serde(default = "default_speed")]
    pub speed: f64,
    /// After the last file, start again from the first (a new pass: a new `run_id`); default
    /// false: the replay ends, the rest of the pipeline goes on.
    #[serde(default, rename = "loop")]
    pub repeat: bool,
    /// Which columns are the tick's fields.
    #[serde(default)]
    pub columns: ColumnNames,
    /// Where the replay's checkpoint is kept; default `<data_dir>/csv-replay.json`.
    #[serde(default)]
    pub checkpoint: Option<PathBuf>,
    /// Bad rows also go to this Kafka topic: the row as it was in the file, with headers naming
    /// it (`tickstream.csv.file`, `tickstream.csv.line`, `tickstream.csv.error`); unset (default):
    /// they are only logged and counted. Like Connect's dead-letter topic it is at-least-once: a
    /// replay resumed from its checkpoint sends a bad row after it again.
    #[serde(default)]
    pub dead_letter_topic: Option<String>,
}

fn default_rate() -> f64 {
    1_000.0
}

fn default_speed() -> f64 {
    1.0
}

/// `[producer.csv] pacing`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PacingKind {
    /// The file's own spacing between timestamps, divided by `speed`.
    Original,
    /// `rate` rows a second, in file order.
    Rate,
    /// As fast as Kafka takes them (a backfill): the producer's queue is the only brake.
    #[default]
    Max,
    /// Random rows, `rate` a second, for ever (as `data.sample(1)` in a loop does).
    Sample,
}

/// `[producer.csv.columns]`: the header names of the tick's fields; unset, the usual names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnNames {
    /// The symbol's column (default: the first of `symbol`, `name`, `ticker`, `s`).
    #[serde(default)]
    pub symbol: Option<String>,
    /// The price's column (default: `price`, `close`, `last`, `p`).
    #[serde(default)]
    pub price: Option<String>,
    /// The volume's column (default: `volume`, `size`, `qty`, `v`; absent: volume 0).
    #[serde(default)]
    pub volume: Option<String>,
    /// The timestamp's column (default: `timestamp`, `datetime`, `date`, `time`, `t`).
    #[serde(default)]
    pub timestamp: Option<String>,
}
