//! Test inputs for the record model: a seeded generator of numbers and quotes (SplitMix64, so a
//! failing case is the same on every run).

use super::tick::Quote;

/// SplitMix64 (Steele, Lea, Flood 2014).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A quote with a price of two decimals in 0.01 ..= 10,000 and a change of either sign.
    pub fn quote(&mut self, seq: u64) -> Quote {
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
