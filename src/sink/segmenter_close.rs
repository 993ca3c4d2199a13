//! Closing a segmenter's batches: by their rotation timer, all at once (shutdown, revocation),
//! the oldest first, one directory's; each closed batch becomes a [`Segment`] to upload.

use super::{Batch, Segment, Segmenter};

impl Segmenter {
    /// The rotation timer of batch `id` fired: close it if it is still open.
    pub fn rotate(&mut self, id: u64, out: &mut Vec<Segment>) {
        if let Some(dir) = self.open.dir_of(id) {
            self.close_dir(&dir, out);
        }
        if self.dead.is_open(id) {
            self.close_dead(out);
        }
    }

    /// Closes every open batch (shutdown, revocation).
    pub fn close(&mut self, out: &mut Vec<Segment>) {
        self.close_data(out);
        self.close_dead(out);
    }

    /// Closes every open data file, oldest first.
    pub(super) fn close_data(&mut self, out: &mut Vec<Segment>) {
        while self.open.len() > 0 {
            self.close_oldest(out);
        }
    }

    pub(super) fn close_oldest(&mut self, out: &mut Vec<Segment>) {
        if let Some(b) = self.open.take_oldest() {
            self.finish(b, out);
        }
    }

    pub(super) fn close_dir(&mut self, dir: &str, out: &mut Vec<Segment>) {
        if let Some(b) = self.open.take(dir) {
            self.finish(b, out);
        }
    }

    pub(super) fn finish(&mut self, b: Batch, out: &mut Vec<Segment>) {
        let start = b.start;
        match b.into_segment(
            &self.layout,
            self.partition,
            &self.format,
            self.rules.companions.as_ref(),
        ) {
            Ok(segment) => out.push(segment),
            Err(e) => {
                // Rows that passed their columns' types always write; should one not, the
                // partition stops here (its records stay uncommitted in Kafka).
                self.halted = true;
                self.stuck_from = Some(self.stuck_from.map_or(start, |s| s.min(start)));
                self.failure = Some(format!("the file at offset {start}: {}", crate::error::chain(&e)));
            }
        }
    }

    pub(super) fn close_dead(&mut self, out: &mut Vec<Segment>) {
        if let Some(d) = self.dead.take() {
            out.push(d.into_segment(&self.layout, self.partition, !self.rules.dead_to_kafka));
        }
    }
}
