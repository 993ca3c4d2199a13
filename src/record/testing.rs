//! Test inputs for the record model, seeded so a failing case is the same on every run.

use super::tick::Quote;
pub use crate::rng::SplitMix64 as Rng;

/// Quotes of any price, volume and change.
pub trait Quotes {
    fn quote(&mut self, seq: u64) -> Quote;
}

impl Quotes for Rng {
    /// A quote with a price of two decimals in 0.01 ..= 10,000 and a change of either sign.
    fn quote(&mut self, seq: u64) -> Quote {
        let price = (1 + self.next_u64() % 1_000_000) as f64 / 100.0;
        let change = (self.next_u64() % 20_001) as f64 / 100.0 - 100.0;
        Quote {
            seq,
            price,
            volume: 100 + self.next_u64() % 9_900,
            change,
        }
    }
}
