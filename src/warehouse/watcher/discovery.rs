//! Where the watcher looks for new files: each partition's prefix listed after a cursor.
//!
//! Files of one partition are named in offset order but may *land* out of order: a sink uploads
//! up to `max.inflight.uploads` files at once. So a cursor stays `lookback` files behind the
//! newest key seen, and those last few are listed again (they are in LOAD_HISTORY, so skipping
//! them is a lookup). Partitions `0..kafka.partitions` are listed from the start; every
//! [`REDISCOVER_EVERY`] polls the next partition number is probed, to find partitions added since.
//! A partition whose sink announced its files (and they loaded) need not be listed at the next
//! poll, except every [`FULL_LISTING_EVERY`] polls, which finds whatever an announcement missed.

use std::collections::{BTreeMap, BTreeSet};

use super::LIST_CONCURRENCY;
use crate::s3::keys::KeyLayout;
use crate::warehouse::source::ObjectSource;
use crate::warehouse::WarehouseError;

const REDISCOVER_EVERY: u64 = 30;
/// Every this many polls, partitions whose files were all announced are listed too: the
/// safety net for what an announcement cannot cover.
const FULL_LISTING_EVERY: u64 = 10;

/// The watcher's cursors and what the sinks announced.
pub struct Discovery {
    layout: KeyLayout,
    /// Files re-listed behind the newest key of a partition.
    lookback: usize,
    /// Partition → list after this key.
    cursors: BTreeMap<i32, Option<String>>,
    polls: u64,
    /// Partitions whose new files were announced by their sinks (and loaded) since the last
    /// poll: the poll need not list them, except every [`FULL_LISTING_EVERY`] polls.
    announced: BTreeSet<i32>,
    /// Partitions with an announced file that was not loaded since the last poll (unreadable,
    /// a failed load, or more files than were kept): the poll lists them whatever else was
    /// announced.
    unsettled: BTreeSet<i32>,
}

impl Discovery {
    pub fn new(layout: KeyLayout, lookback: usize, partitions: i32) -> Self {
        Self {
            layout,
            lookback,
            cursors: (0..partitions).map(|p| (p, None)).collect(),
            polls: 0,
            announced: BTreeSet::new(),
            unsettled: BTreeSet::new(),
        }
    }

    fn topic_prefix(&self) -> String {
        let l = &self.layout;
        format!("{}/{}/", l.topics_dir, l.topic)
    }

    /// The partition a data file of our topic belongs to (`None` for any other key).
    pub fn partition_of(&self, key: &str) -> Option<i32> {
        let rest = key.strip_prefix(&self.topic_prefix())?.strip_prefix("partition=")?;
        let p: i32 = rest.split('/').next()?.parse().ok()?;
        self.layout.parse_start_offset(p, key).map(|_| p)
    }

    /// One poll's listing: the partitions to look at, each listed after its cursor
    /// ([`LIST_CONCURRENCY`] listings at a time: at 64 partitions one after another took longer
    /// than the files took to land). Announced partitions are skipped but every
    /// [`FULL_LISTING_EVERY`] polls: listing all 64 while files landed held their loads back.
    pub async fn list<S: ObjectSource>(&mut self, source: &S) -> Result<BTreeMap<i32, Vec<String>>, WarehouseError> {
        use futures::{StreamExt, TryStreamExt};
        self.polls += 1;
        let announced = std::mem::take(&mut self.announced);
        let unsettled = std::mem::take(&mut self.unsettled);
        let skip = if self.polls % FULL_LISTING_EVERY == 1 {
            BTreeSet::new()
        } else {
            &announced - &unsettled
        };
        if self.polls % REDISCOVER_EVERY == 1 {
            // Partitions are numbered 0..n: one added since is the next number.
            let next = self.cursors.keys().next_back().map_or(0, |p| p + 1);
            if !source.list(&self.layout.partition_prefix(next), None).await?.is_empty() {
                tracing::info!(partition = next, "ingestion watcher: a new partition has files");
                self.cursors.insert(next, None);
            }
        }
        let wanted: Vec<(i32, String, Option<String>)> = self
            .cursors
            .iter()
            .filter(|(p, _)| !skip.contains(p))
            .map(|(p, after)| (*p, self.layout.partition_prefix(*p), after.clone()))
            .collect();
        let lists: Vec<(i32, Vec<String>)> = futures::stream::iter(wanted)
            .map(|(p, prefix, after)| async move { source.list(&prefix, after.as_deref()).await.map(|keys| (p, keys)) })
            .buffered(LIST_CONCURRENCY)
            .try_collect()
            .await?;
        tracing::trace!(poll = self.polls, cursors = ?self.cursors, "ingestion poll listed");
        Ok(lists
            .into_iter()
            .map(|(p, keys)| {
                (
                    p,
                    keys.into_iter().filter(|k| self.partition_of(k) == Some(p)).collect(),
                )
            })
            .collect())
    }

    /// Moves each listed partition's cursor past what is settled: up to its first unreadable
    /// file (`failed`), and never closer than `lookback` files to the newest.
    pub fn advance(&mut self, listed: BTreeMap<i32, Vec<String>>, failed: &BTreeMap<i32, String>) {
        for (p, keys) in listed {
            let resolved_until = match failed.get(&p) {
                Some(stuck) => keys.iter().position(|k| k == stuck).unwrap_or(0),
                None => keys.len(),
            };
            let keep = resolved_until.min(keys.len().saturating_sub(self.lookback));
            let cursor = self.cursors.entry(p).or_insert(None);
            if keep > 0 {
                *cursor = Some(keys[keep - 1].clone());
            }
        }
    }

    /// Announced files were loaded (`Ok`, with each partition's first unreadable key) or the
    /// load failed: a partition whose every file loaded, and whose sink's announcements were all
    /// kept (`complete`), need not be listed at the next poll; the others must be.
    pub fn announced(&mut self, complete: BTreeMap<i32, bool>, loaded: Result<&BTreeMap<i32, String>, ()>) {
        match loaded {
            Ok(failed) => {
                for (p, complete) in complete {
                    if complete && !failed.contains_key(&p) {
                        self.announced.insert(p);
                    } else {
                        self.unsettled.insert(p);
                    }
                }
            }
            Err(()) => self.unsettled.extend(complete.into_keys()),
        }
    }
}
