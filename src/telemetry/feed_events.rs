//! Named events of the live trade feed (`[producer] source = "websocket"`): per symbol, trades
//! received, trades dropped from the full buffer and the last trade's time (a stale symbol
//! alerts); for the connection, reconnects by reason, frames or trades ignored by reason, the
//! buffer's bytes, and receive → producer and receive → Kafka acknowledgement latencies.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter, Gauge, Unit};

const RECEIVED: &str = "tickstream_feed_trades_total";
const DROPPED: &str = "tickstream_feed_trades_dropped_total";
const LAST_TRADE: &str = "tickstream_feed_last_trade_timestamp_seconds";
const RECONNECTS: &str = "tickstream_feed_reconnects_total";
const IGNORED: &str = "tickstream_feed_ignored_total";
const CONNECTED: &str = "tickstream_feed_connected";
const BUFFER_BYTES: &str = "tickstream_feed_buffer_bytes";
pub(super) const ACK_LATENCY: &str = "tickstream_feed_receive_to_ack_seconds";
pub(super) const SEND_LATENCY: &str = "tickstream_feed_receive_to_send_seconds";
pub(super) const ACK_LATENCY_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.001_5, 0.002, 0.003, 0.004, 0.005, 0.007_5, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Why a connection ended and another is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconnect {
    /// The server closed it, or the network did.
    Closed,
    /// Nothing arrived within `dead_after_secs`.
    Dead,
    /// The server asked to wait (HTTP 429 or a try-again-later close).
    RateLimited,
    /// Connecting failed (refused, TLS, HTTP error).
    ConnectFailed,
    /// A frame over `max_frame_bytes`, or not a WebSocket frame.
    ProtocolError,
}

impl Reconnect {
    pub const ALL: [Reconnect; 5] = [
        Self::Closed,
        Self::Dead,
        Self::RateLimited,
        Self::ConnectFailed,
        Self::ProtocolError,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Dead => "dead",
            Self::RateLimited => "rate_limited",
            Self::ConnectFailed => "connect_failed",
            Self::ProtocolError => "protocol_error",
        }
    }
}

/// Why something the feed sent was not a trade of ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// A trade of a symbol not in `[producer] symbols`.
    Unsubscribed,
    /// A message that is not JSON, or a trade missing a field or with one of the wrong type.
    Malformed,
    /// A frame over `max_frame_bytes` (the connection is replaced).
    Oversized,
}

impl Ignored {
    const ALL: [Ignored; 3] = [Self::Unsubscribed, Self::Malformed, Self::Oversized];

    fn label(self) -> &'static str {
        match self {
            Self::Unsubscribed => "unsubscribed",
            Self::Malformed => "malformed",
            Self::Oversized => "oversized",
        }
    }
}

pub fn describe() {
    describe_counter!(RECEIVED, Unit::Count, "Trades received from the live feed, by symbol");
    describe_counter!(
        DROPPED,
        Unit::Count,
        "Trades dropped (oldest first) because the feed's buffer was full while Kafka was slow, by symbol"
    );
    describe_gauge!(
        LAST_TRADE,
        Unit::Seconds,
        "When the symbol's last trade was received (Unix time)"
    );
    describe_counter!(
        RECONNECTS,
        Unit::Count,
        "Connections to the live feed replaced, by reason"
    );
    describe_counter!(
        IGNORED,
        Unit::Count,
        "Trades or frames of the live feed not sent on: unsubscribed symbol, malformed, oversized frame"
    );
    describe_gauge!(CONNECTED, Unit::Count, "1 while subscribed to the live feed");
    describe_gauge!(
        BUFFER_BYTES,
        Unit::Bytes,
        "Bytes of trades received and not yet handed to Kafka"
    );
    describe_histogram!(
        SEND_LATENCY,
        Unit::Seconds,
        "From a trade's frame received to its record handed to the Kafka producer (tickstream's part of receive to ack)"
    );
    describe_histogram!(
        ACK_LATENCY,
        Unit::Seconds,
        "From a trade's frame received to its record acknowledged by Kafka"
    );
}

/// A symbol's metrics, made once when the feed starts (the counters exist from 0).
#[derive(Clone)]
pub struct SymbolMetrics {
    received: Counter,
    dropped: Counter,
    last_trade: Gauge,
}

impl SymbolMetrics {
    pub fn new(symbol: &str) -> Self {
        let s = symbol.to_owned();
        let m = Self {
            received: counter!(RECEIVED, "symbol" => s.clone()),
            dropped: counter!(DROPPED, "symbol" => s.clone()),
            last_trade: gauge!(LAST_TRADE, "symbol" => s),
        };
        m.received.increment(0);
        m.dropped.increment(0);
        m
    }

    /// A trade received at `unix_secs`.
    pub fn received(&self, unix_secs: f64) {
        self.received.increment(1);
        self.last_trade.set(unix_secs);
    }

    pub fn dropped(&self, n: u64) {
        self.dropped.increment(n);
    }
}

/// The feed started: every reason counts from 0, and it is not connected yet.
pub fn feed_started() {
    for r in Reconnect::ALL {
        counter!(RECONNECTS, "reason" => r.label()).increment(0);
    }
    for i in Ignored::ALL {
        counter!(IGNORED, "reason" => i.label()).increment(0);
    }
    gauge!(CONNECTED).set(0.0);
}

/// Subscribed (`true`) or not any more.
pub fn connected(yes: bool) {
    gauge!(CONNECTED).set(if yes { 1.0 } else { 0.0 });
}

pub fn reconnect(why: Reconnect) {
    counter!(RECONNECTS, "reason" => why.label()).increment(1);
}

pub fn ignored(why: Ignored, n: u64) {
    counter!(IGNORED, "reason" => why.label()).increment(n);
}

pub fn buffer_bytes(bytes: usize) {
    gauge!(BUFFER_BYTES).set(bytes as f64);
}

/// A trade's record handed to the producer `latency` after its frame arrived.
pub fn sent_after(latency: Duration) {
    histogram!(SEND_LATENCY).record(latency.as_secs_f64());
}

/// A trade's record acknowledged `latency` after its frame arrived.
pub fn acked_after(latency: Duration) {
    histogram!(ACK_LATENCY).record(latency.as_secs_f64());
}
