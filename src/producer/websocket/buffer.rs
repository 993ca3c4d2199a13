//! The trades received and not yet handed to Kafka: a queue per symbol (each symbol's actor
//! takes its own, in order), bounded in bytes across all of them. The exchange cannot be
//! paused: when the bound is reached the oldest trade of any symbol is dropped, and the drop
//! is counted for its symbol.

use std::collections::VecDeque;
use std::sync::Mutex;

/// A trade waiting for its symbol's actor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pending {
    pub price: f64,
    pub volume: u64,
    pub timestamp_ms: i64,
    /// When its frame arrived, in microseconds of the feed's clock (receive → ack latency).
    pub received_us: u64,
}

/// What [`Buffer::push`] did besides keeping the trade.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pushed {
    /// The symbol's actor must be told: its queue was idle.
    pub wake: bool,
    /// The symbol whose oldest trade was dropped to make room.
    pub dropped: Option<usize>,
}

struct Queue {
    /// Each trade with its arrival order across all symbols.
    trades: VecDeque<(u64, Pending)>,
    /// Its actor has been told and has not yet found the queue empty.
    told: bool,
}

struct Inner {
    queues: Vec<Queue>,
    len: usize,
    next_order: u64,
}

pub struct Buffer {
    inner: Mutex<Inner>,
    /// Most trades kept (the byte bound over a trade's size).
    capacity: usize,
}

/// What one kept trade costs.
pub const TRADE_BYTES: usize = std::mem::size_of::<(u64, Pending)>();

impl Buffer {
    /// A buffer for `symbols` symbols holding at most `bytes` of trades (at least one).
    pub fn new(symbols: usize, bytes: u64) -> Self {
        let capacity = (usize::try_from(bytes).unwrap_or(usize::MAX) / TRADE_BYTES).max(1);
        let queues = (0..symbols)
            .map(|_| Queue {
                trades: VecDeque::new(),
                told: false,
            })
            .collect();
        Self {
            inner: Mutex::new(Inner {
                queues,
                len: 0,
                next_order: 0,
            }),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `trade` for `symbol` (an index below the count given to [`Buffer::new`]).
    pub fn push(&self, symbol: usize, trade: Pending) -> Pushed {
        let mut inner = self.lock();
        let mut pushed = Pushed::default();
        if inner.len >= self.capacity {
            let oldest = inner
                .queues
                .iter()
                .enumerate()
                .filter_map(|(i, q)| q.trades.front().map(|(order, _)| (*order, i)))
                .min();
            if let Some((_, i)) = oldest {
                inner.queues[i].trades.pop_front();
                inner.len -= 1;
                pushed.dropped = Some(i);
            }
        }
        let order = inner.next_order;
        inner.next_order += 1;
        let Some(q) = inner.queues.get_mut(symbol) else {
            return pushed;
        };
        q.trades.push_back((order, trade));
        pushed.wake = !std::mem::replace(&mut q.told, true);
        inner.len += 1;
        pushed
    }

    /// Up to `max` of `symbol`'s trades, oldest first, into `out`. None left: its actor is no
    /// longer told (the next push tells it again).
    pub fn take(&self, symbol: usize, max: usize, out: &mut Vec<Pending>) {
        let mut inner = self.lock();
        let Some(q) = inner.queues.get_mut(symbol) else {
            return;
        };
        let n = max.min(q.trades.len());
        out.extend(q.trades.drain(..n).map(|(_, t)| t));
        if n == 0 {
            q.told = false;
        }
        inner.len -= n;
    }

    /// After the actors restarted: none has been told; the symbols with trades waiting.
    pub fn restart(&self) -> Vec<usize> {
        let mut inner = self.lock();
        let mut waiting = Vec::new();
        for (i, q) in inner.queues.iter_mut().enumerate() {
            q.told = !q.trades.is_empty();
            if q.told {
                waiting.push(i);
            }
        }
        waiting
    }

    pub fn bytes(&self) -> usize {
        self.lock().len * TRADE_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(n: i64) -> Pending {
        Pending {
            price: 1.0,
            volume: 1,
            timestamp_ms: n,
            received_us: 0,
        }
    }

    #[test]
    fn a_symbol_is_told_once_until_its_actor_finds_its_queue_empty() {
        let b = Buffer::new(2, 1 << 20);
        assert!(b.push(0, trade(1)).wake);
        assert!(!b.push(0, trade(2)).wake);
        assert!(b.push(1, trade(3)).wake);
        let mut out = Vec::new();
        b.take(0, 10, &mut out);
        assert_eq!(out.iter().map(|t| t.timestamp_ms).collect::<Vec<_>>(), [1, 2]);
        assert!(!b.push(0, trade(4)).wake, "its actor has not yet found the queue empty");
        out.clear();
        b.take(0, 10, &mut out);
        b.take(0, 10, &mut out);
        assert!(b.push(0, trade(5)).wake);
        assert_eq!(b.bytes(), 2 * TRADE_BYTES);
    }

    #[test]
    fn a_full_buffer_drops_the_oldest_trade_of_any_symbol() {
        let b = Buffer::new(3, 3 * TRADE_BYTES as u64);
        b.push(1, trade(10));
        b.push(0, trade(11));
        b.push(2, trade(12));
        assert_eq!(b.push(0, trade(13)).dropped, Some(1));
        assert_eq!(b.push(2, trade(14)).dropped, Some(0));
        assert_eq!(b.bytes(), 3 * TRADE_BYTES);
        let mut out = Vec::new();
        for s in 0..3 {
            b.take(s, 10, &mut out);
        }
        assert_eq!(out.iter().map(|t| t.timestamp_ms).collect::<Vec<_>>(), [13, 12, 14]);
    }

    #[test]
    fn after_a_restart_the_symbols_with_trades_are_told_again() {
        let b = Buffer::new(3, 1 << 20);
        b.push(2, trade(1));
        b.push(0, trade(2));
        assert_eq!(b.restart(), [0, 2]);
        assert!(!b.push(2, trade(3)).wake);
        assert!(b.push(1, trade(4)).wake);
    }
}
