//! The seeded price walk that generates a symbol's quotes (the numbers of its ticks; the tick
//! itself is [`crate::record::tick::Tick`]).

pub use crate::record::tick::Quote;
use crate::rng::SplitMix64;

/// A symbol's price walk. Cloning it and stepping the clone is how a producer tries a tick
/// without losing its place if the tick cannot be sent.
#[derive(Clone, Debug)]
pub struct PriceWalk {
    rng: SplitMix64,
    open: f64,
    price: f64,
    next_seq: u64,
}

impl PriceWalk {
    /// The walk for `symbol` under `seed`: the same pair always yields the same quotes.
    pub fn new(seed: u64, symbol: &str) -> Self {
        let open = opening_price(symbol);
        Self {
            rng: SplitMix64(seed ^ fnv1a(symbol.as_bytes())),
            open,
            price: open,
            next_seq: 0,
        }
    }

    /// The sequence number the next quote will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Advances one tick: a move of at most ±0.2 %, a volume of 100–9,999 shares.
    pub fn step(&mut self) -> Quote {
        let move_pct = (self.rng.next_f64() * 2.0 - 1.0) * 0.002;
        self.price = round2((self.price * (1.0 + move_pct)).max(0.01));
        let volume = 100 + self.rng.next_u64() % 9_900;
        let seq = self.next_seq;
        self.next_seq += 1;
        Quote {
            seq,
            price: self.price,
            volume,
            change: round2(self.price - self.open),
        }
    }
}

/// Plausible opening prices for the seed's symbols; any other symbol gets one from its name.
fn opening_price(symbol: &str) -> f64 {
    match symbol {
        "AAPL" => 189.50,
        "GOOGL" => 141.80,
        "MSFT" => 378.90,
        "AMZN" => 153.40,
        "TSLA" => 248.50,
        "META" => 353.20,
        "NVDA" => 495.20,
        other => 20.0 + (fnv1a(other.as_bytes()) % 48_000) as f64 / 100.0,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// FNV-1a, to turn a symbol into a stable 64-bit number.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quotes(seed: u64, symbol: &str, n: usize) -> Vec<Quote> {
        let mut w = PriceWalk::new(seed, symbol);
        (0..n).map(|_| w.step()).collect()
    }

    #[test]
    fn same_seed_same_quotes() {
        assert_eq!(quotes(7, "AAPL", 500), quotes(7, "AAPL", 500));
    }

    #[test]
    fn different_seed_or_symbol_different_quotes() {
        assert_ne!(quotes(7, "AAPL", 50), quotes(8, "AAPL", 50));
        assert_ne!(quotes(7, "AAPL", 50), quotes(7, "MSFT", 50));
    }

    #[test]
    fn seqs_start_at_zero_without_gaps_and_a_clone_resumes_in_place() {
        let mut w = PriceWalk::new(1, "NVDA");
        let first: Vec<u64> = (0..3).map(|_| w.step().seq).collect();
        assert_eq!(first, vec![0, 1, 2]);
        let mut resumed = w.clone();
        assert_eq!(resumed.step(), w.step());
        assert_eq!(w.next_seq(), 4);
    }

    #[test]
    fn prices_stay_positive_with_two_decimals_and_volumes_in_range() {
        for q in quotes(3, "TSLA", 10_000) {
            assert!(q.price >= 0.01);
            assert_eq!(round2(q.price), q.price);
            assert!((100..10_000).contains(&q.volume));
        }
    }
}
