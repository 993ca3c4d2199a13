//! `[producer.websocket]`: a live trade feed over WebSocket (Finnhub's protocol by default, any
//! JSON trade feed through `[producer.websocket.mapping]`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[producer.websocket]`, under `[producer] source = "websocket"`. The symbols subscribed are
/// `[producer] symbols`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebsocketSourceConfig {
    /// The feed's address, `wss://` (TLS with the host's CA certificates) or `ws://`
    /// (required; e.g. `wss://ws.finnhub.io`). The token is not written here.
    pub url: String,
    /// The environment variable that holds the API token (e.g. `FINNHUB_TOKEN`). Never logged;
    /// errors show it as `***`.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Or a file whose first line is the token (mode 0600 recommended).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The URL query parameter the token goes in (default `token`, Finnhub's).
    #[serde(default = "default_token_param")]
    pub token_param: String,
    /// A ping every this many seconds (default 15).
    #[serde(default = "default_ping")]
    pub ping_interval_secs: u64,
    /// No frame at all (trade, ping, pong) for this long: the connection is dead, and is
    /// replaced (default 45).
    #[serde(default = "default_dead_after")]
    pub dead_after_secs: u64,
    /// The first reconnect waits this long (default 500), doubling (with jitter) up to
    /// `reconnect_max_secs`.
    #[serde(default = "default_reconnect_min")]
    pub reconnect_min_ms: u64,
    /// The longest wait between reconnects (default 60), unless the server asks for longer (a
    /// rate limit's `Retry-After` or close reason).
    #[serde(default = "default_reconnect_max")]
    pub reconnect_max_secs: u64,
    /// Trades received and not yet handed to Kafka are kept up to this many bytes (the exchange
    /// cannot be paused while Kafka is slow); past it the oldest are dropped, counted in
    /// `tickstream_feed_trades_dropped_total` (default 64 MiB).
    #[serde(default = "default_buffer_bytes")]
    pub buffer_bytes: u64,
    /// A frame larger than this closes the connection (counted, then a reconnect; default 1 MiB).
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: u64,
    /// Where the trades are in the feed's messages (default: Finnhub's).
    #[serde(default)]
    pub mapping: FeedMapping,
}

/// `[producer.websocket.mapping]`: the feed's messages. Paths are field names joined by dots
/// (`payload.trades`); the defaults are Finnhub's.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeedMapping {
    /// Sent once per symbol after connecting, `{symbol}` replaced by the symbol (default
    /// `{"type":"subscribe","symbol":"{symbol}"}`).
    #[serde(default = "default_subscribe")]
    pub subscribe: String,
    /// The field that says what a message is (default `type`; empty: every message carries trades).
    #[serde(default = "default_type_field")]
    pub type_field: String,
    /// The value of `type_field` for trade messages (default `trade`); others (`ping`, news) are
    /// ignored.
    #[serde(default = "default_trade_type")]
    pub trade_type: String,
    /// The array of trades in a trade message (default `data`; empty: the message is one trade).
    #[serde(default = "default_trades")]
    pub trades: String,
    /// In a trade: the symbol (default `s`); trades of symbols not in `[producer] symbols` are
    /// counted and dropped.
    #[serde(default = "default_symbol")]
    pub symbol: String,
    /// In a trade: the price (default `p`).
    #[serde(default = "default_price")]
    pub price: String,
    /// In a trade: the volume (default `v`; rounded to a whole number; absent: 0).
    #[serde(default = "default_volume")]
    pub volume: String,
    /// In a trade: its time (default `t`).
    #[serde(default = "default_time")]
    pub timestamp: String,
    /// The unit of `timestamp` when it is a number: `s`, `ms` (default), `us` or `ns`. Strings
    /// are read as RFC 3339.
    #[serde(default)]
    pub timestamp_unit: TimeUnit,
}

default_from_serde!(FeedMapping);

/// `[producer.websocket.mapping] timestamp_unit`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    S,
    #[default]
    Ms,
    Us,
    Ns,
}

fn default_token_param() -> String {
    "token".into()
}
fn default_ping() -> u64 {
    15
}
fn default_dead_after() -> u64 {
    45
}
fn default_reconnect_min() -> u64 {
    500
}
fn default_reconnect_max() -> u64 {
    60
}
fn default_buffer_bytes() -> u64 {
    64 << 20
}
fn default_max_frame() -> u64 {
    1 << 20
}
fn default_subscribe() -> String {
    r#"{"type":"subscribe","symbol":"{symbol}"}"#.into()
}
fn default_type_field() -> String {
    "type".into()
}
fn default_trade_type() -> String {
    "trade".into()
}
fn default_trades() -> String {
    "data".into()
}
fn default_symbol() -> String {
    "s".into()
}
fn default_price() -> String {
    "p".into()
}
fn default_volume() -> String {
    "v".into()
}
fn default_time() -> String {
    "t".into()
}
