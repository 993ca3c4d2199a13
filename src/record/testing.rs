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

/// `value` with `edits` random one-byte changes, deletions or insertions of `alphabet`'s bytes.
pub fn mutated(rng: &mut Rng, value: &[u8], edits: usize, alphabet: &[u8]) -> Vec<u8> {
    let mut v = value.to_vec();
    for _ in 0..edits {
        let at = (rng.next_u64() as usize) % v.len().max(1);
        let c = alphabet[(rng.next_u64() as usize) % alphabet.len()];
        match rng.next_u64() % 3 {
            0 if at < v.len() => v[at] = c,
            1 if at < v.len() => {
                v.remove(at);
            }
            _ => v.insert(at.min(v.len()), c),
        }
    }
    v
}
