//! When each row of a replay is due: at the file's own spacing scaled by `speed`, at a fixed
//! rate, as fast as Kafka acknowledges, or random rows at a rate.

use std::time::Duration;

pub use crate::config::source::PacingKind;

/// A pacing with its numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pacing {
    Original { speed: f64 },
    Rate(f64),
    Max,
    Sample(f64),
}

/// Tracks when the next row is due, from the start of a pass.
#[derive(Debug)]
pub struct Schedule {
    pacing: Pacing,
    /// Rows scheduled so far in this pass.
    rows: u64,
    /// The first row's timestamp of this pass (`Original`).
    first_ms: Option<i64>,
}

impl Schedule {
    pub fn new(pacing: Pacing) -> Self {
        Self {
            pacing,
            rows: 0,
            first_ms: None,
        }
    }

    /// Takes back the last [`Schedule::due`] (the row was not sent: it is due again next).
    pub fn undo(&mut self) {
        self.rows = self.rows.saturating_sub(1);
    }

    /// How long after the pass's start the next row (stamped `timestamp_ms`) is due. A
    /// timestamp before the first one's is due at once.
    pub fn due(&mut self, timestamp_ms: i64) -> Duration {
        let n = self.rows;
        self.rows += 1;
        match self.pacing {
            Pacing::Max => Duration::ZERO,
            Pacing::Rate(rate) | Pacing::Sample(rate) => Duration::from_secs_f64(n as f64 / rate),
            Pacing::Original { speed } => {
                let first = *self.first_ms.get_or_insert(timestamp_ms);
                let ms = (timestamp_ms - first).max(0) as f64 / speed;
                Duration::from_secs_f64(ms / 1000.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pacing_spaces_rows_as_it_says() {
        let mut max = Schedule::new(Pacing::Max);
        assert_eq!((max.due(5), max.due(0)), (Duration::ZERO, Duration::ZERO));
        let mut rate = Schedule::new(Pacing::Rate(4.0));
        let due: Vec<_> = (0..3).map(|_| rate.due(0)).collect();
        assert_eq!(due, [0, 250, 500].map(Duration::from_millis));
        let mut original = Schedule::new(Pacing::Original { speed: 2.0 });
        // A minute apart in the file, half a minute apart at twice the speed; one out of order
        // is due at once.
        let due = [60_000, 120_000, 30_000, 180_000].map(|t| original.due(t));
        assert_eq!(due, [0, 30_000, 0, 60_000].map(Duration::from_millis));
    }
}
