//! Where the watcher looks for new files: each topic-partition's prefix listed after a cursor.
//!
//! Files of one partition are named in offset order but may *land* out of order: a sink uploads
//! up to `max.inflight.uploads` files at once. So a cursor stays `lookback` files behind the
//! newest key seen, and those last few are listed again (they are in LOAD_HISTORY, so skipping
//! them is a lookup). Partitions `0..kafka.partitions` of each listed topic are listed from the
//! start; every `REDISCOVER_EVERY` polls each topic's next partition number is probed, to find
//! partitions added since, and under `topics.regex` the topic folders are listed to find new
//! topics. A partition whose sink announced its files (and they loaded) need not be listed at the
//! next poll, except every `FULL_LISTING_EVERY` polls, which finds whatever an announcement
//! missed.
//!
//! Under the `field` and `time` partitioners a partition's files are spread over directories
//! (one per symbol, hour, …), so there is no per-partition prefix: a listing lists the topic's
//! prefix whole and sorts the keys into partitions by their names. Its cost grows with the
//! bucket, so it runs at the first poll (what landed while the watcher was down), when an
//! announcement was lost or a file failed to load, and every `DIRECTORY_LISTING_EVERY` polls;
//! otherwise the sinks' announcements are the watcher's event notifications (as S3's are
//! Snowpipe's).

use std::collections::{BTreeMap, BTreeSet};

use super::LIST_CONCURRENCY;
use crate::config::Topics;
use crate::record::TopicPartition;
use crate::s3::keys::KeyLayout;
use crate::warehouse::source::ObjectSource;
use crate::warehouse::WarehouseError;

const REDISCOVER_EVERY: u64 = 30;
/// Every this many polls, partitions whose files were all announced are listed too: the
/// safety net for what an announcement cannot cover.
const FULL_LISTING_EVERY: u64 = 10;
/// Under `field` and `time` partitioners, every this many polls the topic is listed whole.
const DIRECTORY_LISTING_EVERY: u64 = 100;

/// Listed keys, per topic-partition, sorted.
pub type Listing = BTreeMap<TopicPartition, Vec<String>>;

/// The watcher's cursors and what the sinks announced.
pub struct Discovery {
    /// The key layout (its topic is replaced by each file's).
    layout: KeyLayout,
    topics: Topics,
    /// Files re-listed behind the newest key of a partition.
    lookback: usize,
    /// Topic-partition → list after this key.
    cursors: BTreeMap<TopicPartition, Option<String>>,
    polls: u64,
    /// Partitions whose new files were announced by their sinks (and loaded) since the last
    /// poll: the poll need not list them, except every `FULL_LISTING_EVERY` polls.
    announced: BTreeSet<TopicPartition>,
    /// Partitions with an announced file that was not loaded since the last poll (unreadable,
    /// a failed load, or more files than were kept): the poll lists them whatever else was
    /// announced.
    unsettled: BTreeSet<TopicPartition>,
    /// Files are in partitioner directories (`field`, `time`), not `partition=<p>/`
    /// ([`KeyLayout::by_directory`]).
    by_directory: bool,
}

impl Discovery {
    pub fn new(layout: KeyLayout, topics: Topics, lookback: usize, partitions: i32) -> Self {
        let by_directory = layout.by_directory;
        let listed = match &topics {
            Topics::List(l) => l.clone(),
            Topics::Pattern(_) => Vec::new(),
        };
        let cursors = listed
            .iter()
            .flat_map(|t| (0..partitions).map(move |p| (TopicPartition::new(t, p), None)))
            .collect();
        Self {
            layout,
            topics,
            lookback,
            cursors,
            polls: 0,
            announced: BTreeSet::new(),
            unsettled: BTreeSet::new(),
            by_directory,
        }
    }

    /// The topic-partition and start offset of a data file of a topic we load (`None` for any
    /// other key).
    pub fn identify(&self, key: &str) -> Option<(TopicPartition, i64)> {
        let rest = key.strip_prefix(&self.layout.topics_dir)?.strip_prefix('/')?;
        let (topic, rest) = rest.split_once('/')?;
        if !self.topics.contains(topic) {
            return None;
        }
        let layout = self.layout.for_topic(topic);
        if self.by_directory {
            let file = layout.parse_any(key)?;
            return Some((TopicPartition::new(topic, file.partition), file.start));
        }
        let p: i32 = rest.strip_prefix("partition=")?.split('/').next()?.parse().ok()?;
        let start = layout.parse_start_offset(p, key)?;
        Some((TopicPartition::new(topic, p), start))
    }

    fn track(&mut self, tp: TopicPartition) {
        if let std::collections::btree_map::Entry::Vacant(e) = self.cursors.entry(tp) {
            let tp = e.key();
            tracing::info!(
                topic = &*tp.topic,
                partition = tp.partition,
                "ingestion watcher: a new partition has files"
            );
            e.insert(None);
        }
    }

    /// Finds topic-partitions added since the watcher started (new partition numbers, and
    /// under `topics.regex` new topic folders).
    async fn rediscover<S: ObjectSource>(&mut self, source: &S) -> Result<(), WarehouseError> {
        if let Topics::Pattern(_) = &self.topics {
            let root = format!("{}/", self.layout.topics_dir);
            for folder in source.folders(&root).await? {
                let Some(topic) = folder.strip_prefix(&root).and_then(|f| f.strip_suffix('/')) else {
                    continue;
                };
                if self.topics.contains(topic) && !self.cursors.keys().any(|tp| &*tp.topic == topic) {
                    self.track(TopicPartition::new(topic, 0));
                }
            }
        }
        // Partitions are numbered 0..n: one added since is the next number of its topic.
        let mut next: BTreeMap<std::sync::Arc<str>, i32> = BTreeMap::new();
        for tp in self.cursors.keys() {
            let n = next.entry(tp.topic.clone()).or_insert(0);
            *n = (*n).max(tp.partition + 1);
        }
        for (topic, p) in next {
            let prefix = self.layout.for_topic(&topic).partition_prefix(p);
            if !source.list(&prefix, None).await?.is_empty() {
                self.track(TopicPartition::new(&topic, p));
            }
        }
        Ok(())
    }

    /// One poll's listing: the partitions to look at, each listed after its cursor
    /// (`LIST_CONCURRENCY` listings at a time: at 64 partitions one after another took longer
    /// than the files took to land). Announced partitions are skipped but every
    /// `FULL_LISTING_EVERY` polls: listing all 64 while files landed held their loads back.
    pub async fn list<S: ObjectSource>(&mut self, source: &S) -> Result<Listing, WarehouseError> {
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
            self.rediscover(source).await?;
        }
        if self.by_directory {
            let due = self.polls % DIRECTORY_LISTING_EVERY == 1 || !unsettled.is_empty();
            if !due {
                return Ok(Listing::new());
            }
            return self.list_topics(source, &BTreeSet::new()).await;
        }
        let wanted: Vec<(TopicPartition, String, Option<String>)> = self
            .cursors
            .iter()
            .filter(|(tp, _)| !skip.contains(*tp))
            .map(|(tp, after)| {
                let prefix = self.layout.for_topic(&tp.topic).partition_prefix(tp.partition);
                (tp.clone(), prefix, after.clone())
            })
            .collect();
        let lists: Vec<(TopicPartition, Vec<String>)> =
            futures::stream::iter(wanted)
                .map(|(tp, prefix, after)| async move {
                    source.list(&prefix, after.as_deref()).await.map(|keys| (tp, keys))
                })
                .buffered(LIST_CONCURRENCY)
                .try_collect()
                .await?;
        tracing::trace!(poll = self.polls, cursors = ?self.cursors, "ingestion poll listed");
        Ok(lists
            .into_iter()
            .map(|(tp, keys)| {
                let keys = keys
                    .into_iter()
                    .filter(|k| self.identify(k).is_some_and(|(t, _)| t == tp));
                let keys: Vec<String> = keys.collect();
                (tp, keys)
            })
            .collect())
    }

    /// A poll's listing when files are in partitioner directories: each topic's prefix whole,
    /// its keys sorted into partitions (new partitions tracked), `skip`ped ones left out.
    async fn list_topics<S: ObjectSource>(
        &mut self,
        source: &S,
        skip: &BTreeSet<TopicPartition>,
    ) -> Result<Listing, WarehouseError> {
        let topics: BTreeSet<std::sync::Arc<str>> = self.cursors.keys().map(|tp| tp.topic.clone()).collect();
        let mut out = Listing::new();
        for topic in topics {
            for key in source.list(&self.layout.for_topic(&topic).topic_prefix(), None).await? {
                if let Some((tp, _)) = self.identify(&key) {
                    out.entry(tp).or_default().push(key);
                }
            }
        }
        for tp in out.keys() {
            self.track(tp.clone());
        }
        out.retain(|tp, _| !skip.contains(tp));
        for keys in out.values_mut() {
            keys.sort_by_key(|k| self.identify(k).map(|(_, start)| start));
        }
        Ok(out)
    }

    /// Keeps the announced keys of each topic-partition that are data files of it, sorted; a
    /// topic-partition seen for the first time is tracked from now on.
    pub fn sort_announced(&mut self, landed: Listing) -> Listing {
        let ours: Listing = landed
            .into_iter()
            .map(|(tp, keys)| {
                let mut keys: Vec<String> = keys
                    .into_iter()
                    .filter(|k| self.identify(k).is_some_and(|(t, _)| t == tp))
                    .collect();
                keys.sort();
                (tp, keys)
            })
            .collect();
        for tp in ours.keys() {
            self.track(tp.clone());
        }
        ours
    }

    /// Moves each listed partition's cursor past what is settled: up to its first unreadable
    /// file (`failed`), and never closer than `lookback` files to the newest.
    pub fn advance(&mut self, listed: Listing, failed: &BTreeMap<TopicPartition, String>) {
        if self.by_directory {
            return; // no per-partition prefix to hold a cursor in
        }
        for (tp, keys) in listed {
            let resolved_until = match failed.get(&tp) {
                Some(stuck) => keys.iter().position(|k| k == stuck).unwrap_or(0),
                None => keys.len(),
            };
            let keep = resolved_until.min(keys.len().saturating_sub(self.lookback));
            let cursor = self.cursors.entry(tp).or_insert(None);
            if keep > 0 {
                *cursor = Some(keys[keep - 1].clone());
            }
        }
    }

    /// Announced files were loaded (`Ok`, with each partition's first unreadable key) or the
    /// load failed: a partition whose every file loaded, and whose sink's announcements were all
    /// kept (`complete`), need not be listed at the next poll; the others must be.
    pub fn announced(
        &mut self,
        complete: BTreeMap<TopicPartition, bool>,
        loaded: Result<&BTreeMap<TopicPartition, String>, ()>,
    ) {
        match loaded {
            Ok(failed) => {
                for (tp, complete) in complete {
                    if complete && !failed.contains_key(&tp) {
                        self.announced.insert(tp);
                    } else {
                        self.unsettled.insert(tp);
                    }
                }
            }
            Err(()) => self.unsettled.extend(complete.into_keys()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::s3::S3Error;

    #[derive(Default)]
    struct Keys(Vec<String>, AtomicU32);

    impl ObjectSource for Keys {
        async fn list(&self, prefix: &str, _: Option<&str>) -> Result<Vec<String>, S3Error> {
            self.1.fetch_add(1, Ordering::SeqCst);
            Ok(self.0.iter().filter(|k| k.starts_with(prefix)).cloned().collect())
        }
        async fn fetch(&self, _: &str) -> Result<(bytes::Bytes, Option<String>), S3Error> {
            Ok((bytes::Bytes::new(), None))
        }
        async fn folders(&self, _: &str) -> Result<Vec<String>, S3Error> {
            Ok(Vec::new())
        }
    }

    #[tokio::test]
    async fn files_in_partitioner_directories_are_listed_at_the_first_poll_then_when_unsettled() {
        let layout = KeyLayout {
            by_directory: true,
            ..KeyLayout::json("topics", "t", 4)
        };
        let source = Keys(
            vec![
                layout.key_in("symbol=B", 0, 7),
                layout.key_in("symbol=A", 0, 3),
                layout.key_in("symbol=A", 1, 0),
                "topics/t/notes.txt".into(),
            ],
            AtomicU32::new(0),
        );
        let mut d = Discovery::new(layout.clone(), Topics::List(vec!["t".into()]), 2, 2);
        let first = d.list(&source).await.unwrap();
        let p0 = &first[&TopicPartition::new("t", 0)];
        assert_eq!(
            p0,
            &vec![layout.key_in("symbol=A", 0, 3), layout.key_in("symbol=B", 0, 7)],
            "by offset"
        );
        assert_eq!(first[&TopicPartition::new("t", 1)].len(), 1);
        assert_eq!(
            d.identify(&layout.key_in("symbol=A", 1, 0)),
            Some((TopicPartition::new("t", 1), 0))
        );
        let lists = source.1.load(Ordering::SeqCst);
        assert!(
            d.list(&source).await.unwrap().is_empty(),
            "announcements cover the next polls"
        );
        assert_eq!(source.1.load(Ordering::SeqCst), lists, "no listing");
        d.announced(
            BTreeMap::from([(TopicPartition::new("t", 0), false)]),
            Ok(&BTreeMap::new()),
        );
        assert_eq!(
            d.list(&source).await.unwrap().len(),
            2,
            "an announcement was lost: listed again"
        );
    }
}
