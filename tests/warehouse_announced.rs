//! Files the sinks announce to the ingestion watcher (the typed file-landed channel), against
//! the real local S3 server and an SQLite warehouse: loaded at once, their partitions not listed
//! at the next poll, an unannounced file still found, and at shutdown the last announced files
//! loaded even where a poll lists nothing else.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ractor::Actor;
use tickstream::config::PartitionerClass;
use tickstream::record::TopicPartition;
use tickstream::s3::keys::KeyLayout;
use tickstream::warehouse::schema;
use tickstream::warehouse::watcher::IngestWatcher;

use crate::common::watcher::{catch_up, count, file, put, tick_line, warehouse_db, watcher_args};
use crate::common::{eventually, TestEnv};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_notification_loads_the_file_long_before_the_next_poll() {
    let env = TestEnv::start().await;
    env.store().await.ensure_bucket().await.unwrap();
    let db = warehouse_db(&env);
    let (landed, landed_rx) = tickstream::landed::channel();
    // The first poll runs at start; the next would be in an hour.
    let source = Arc::new(env.store().await);
    let args = watcher_args(&env, source, db, Duration::from_secs(3_600), Some(landed_rx));
    let (watcher, _) = Actor::spawn(None, IngestWatcher::default(), args).await.unwrap();
    // Answered after the start-up poll and one more: both ran before the file existed, so only
    // the notification can load it within the test's 20 s.
    catch_up(&watcher).await;
    let key = env.layout().object_key(2, 0);
    put(&env, &key, file(&[tick_line("CCC", 0), tick_line("CCC", 1)])).await;
    landed.send(&TopicPartition::new(&env.topic, 2), &key);
    let path = env.warehouse_path();
    eventually(Duration::from_secs(20), "the notified file is loaded", || {
        let conn = schema::open_read_only(&path).unwrap();
        count(&conn, "SELECT COUNT(*) FROM STOCK_MARKET_DATA") == 2
    })
    .await;
    watcher.stop(None);
}

/// Counts the listings the watcher makes, per prefix, over the real S3 store; the first read
/// of `fail_once` fails as an unreachable S3 would.
struct CountingSource {
    inner: tickstream::s3::S3SegmentStore,
    listed: Mutex<Vec<String>>,
    fail_once: Mutex<Option<String>>,
}

impl tickstream::warehouse::source::ObjectSource for CountingSource {
    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, tickstream::s3::S3Error> {
        self.listed.lock().unwrap().push(prefix.to_owned());
        tickstream::warehouse::source::ObjectSource::list(&self.inner, prefix, start_after).await
    }

    async fn fetch(&self, key: &str) -> Result<(Bytes, Option<String>), tickstream::s3::S3Error> {
        let fail = {
            let mut once = self.fail_once.lock().unwrap();
            once.take_if(|k| k == key).is_some()
        };
        if fail {
            return Err(tickstream::s3::S3Error::Transport {
                op: "GetObject",
                bucket: "test".into(),
                key: key.into(),
                source: "connection refused".into(),
            });
        }
        tickstream::warehouse::source::ObjectSource::fetch(&self.inner, key).await
    }

    async fn folders(&self, prefix: &str) -> Result<Vec<String>, tickstream::s3::S3Error> {
        self.inner.folders(prefix).await
    }
}

/// A partition whose sink announces its files is not listed at the next poll; a file nobody
/// announced there is still found: at the first poll with no announcement, and at the full
/// listing every 10th poll even while announcements keep coming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_partitions_skip_the_next_listing_but_unannounced_files_are_still_found() {
    let env = TestEnv::start().await;
    env.store().await.ensure_bucket().await.unwrap();
    let db = warehouse_db(&env);
    let (landed, landed_rx) = tickstream::landed::channel();
    let source = Arc::new(CountingSource {
        inner: env.store().await,
        listed: Mutex::default(),
        fail_once: Mutex::default(),
    });
    // Polls happen only when this test asks (catch-up); the first runs at start.
    let args = watcher_args(&env, source.clone(), db, Duration::from_secs(3_600), Some(landed_rx));
    let (watcher, _) = Actor::spawn(None, IngestWatcher::default(), args).await.unwrap();
    let (layout, path) = (env.layout(), env.warehouse_path());
    let rows = || {
        count(
            &schema::open_read_only(&path).unwrap(),
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA",
        )
    };
    let p1 = layout.partition_prefix(1);
    let listings_of_p1 = || source.listed.lock().unwrap().iter().filter(|p| **p == p1).count();
    let mut offset = 0i64;
    let mut seq = 0u64;
    // One file on partition 1, announced as a sink does; returns once it is loaded.
    let mut announce = async || {
        let key = layout.object_key(1, offset);
        put(&env, &key, file(&[tick_line("BBB", seq)])).await;
        (offset, seq) = (offset + 1, seq + 1);
        let want = rows() + 1;
        landed.send(&TopicPartition::new(&env.topic, 1), &key);
        eventually(Duration::from_secs(20), "the announced file is loaded", || {
            rows() == want
        })
        .await;
    };
    catch_up(&watcher).await; // poll 2: the start-up poll has run

    announce().await;
    // A file on partition 1 that no sink of this process announced (another host's sink).
    put(&env, &layout.object_key(1, 1_000), file(&[tick_line("ZZZ", 0)])).await;
    let listed = listings_of_p1();
    catch_up(&watcher).await;
    assert_eq!(
        listings_of_p1(),
        listed,
        "an announced partition is not listed at the next poll"
    );
    assert_eq!(rows(), 1, "so the unannounced file waits");
    catch_up(&watcher).await;
    assert_eq!(listings_of_p1(), listed + 1, "a poll after no announcement lists it");
    assert_eq!(rows(), 2, "and finds the unannounced file");

    // Announcements before every poll: partition 1 is still listed at the 10th poll.
    put(&env, &layout.object_key(1, 2_000), file(&[tick_line("ZZZ", 1)])).await;
    let listed = listings_of_p1();
    for _ in 0..10 {
        announce().await;
        catch_up(&watcher).await;
    }
    assert_eq!(listings_of_p1(), listed + 1, "one full listing in 10 polls");
    assert_eq!(
        count(
            &schema::open_read_only(&path).unwrap(),
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE symbol = 'ZZZ'"
        ),
        2,
        "which found the second unannounced file"
    );

    // An announced file that cannot be read at once: an announcement on the same partition
    // that loads fine does not hide it, the next poll lists the partition and loads it.
    let key = layout.object_key(1, 3_000);
    *source.fail_once.lock().unwrap() = Some(key.clone());
    put(&env, &key, file(&[tick_line("YYY", 0)])).await;
    landed.send(&TopicPartition::new(&env.topic, 1), &key);
    eventually(Duration::from_secs(20), "the announced file was tried", || {
        source.fail_once.lock().unwrap().is_none()
    })
    .await;
    announce().await;
    let listed = listings_of_p1();
    catch_up(&watcher).await;
    assert_eq!(listings_of_p1(), listed + 1, "the unsettled partition is listed");
    assert_eq!(
        count(
            &schema::open_read_only(&path).unwrap(),
            "SELECT COUNT(*) FROM STOCK_MARKET_DATA WHERE symbol = 'YYY'"
        ),
        1,
        "and its unread file loaded"
    );
    watcher.stop(None);
}

/// Under the `field` and `time` partitioners a poll lists the bucket only now and then, so the
/// sinks' announcements are how their files are found; at shutdown the catch-up loads the last
/// ones itself, without waiting for their nudge (one thread: the catch-up is in the watcher's
/// mailbox before the task that forwards announcements has run).
#[tokio::test]
async fn the_shutdown_catch_up_loads_the_last_announced_files_in_partitioner_directories() {
    let env = TestEnv::start().await;
    env.store().await.ensure_bucket().await.unwrap();
    let mut config = env.config(1, 1, 1, 1);
    config.sink.partitioner_class = PartitionerClass::Field;
    config.sink.partition_field_name = Some("symbol".into());
    let layout = KeyLayout::of(&config.sink, &env.topic);
    let db = warehouse_db(&env);
    let (landed, landed_rx) = tickstream::landed::channel();
    let source = Arc::new(env.store().await);
    let mut args = watcher_args(&env, source, db, Duration::from_secs(3_600), Some(landed_rx));
    args.layout = layout.clone();
    args.rules.positional_offsets = false; // a file's rows are not its offsets in directories
    let (watcher, _) = Actor::spawn(None, IngestWatcher::default(), args).await.unwrap();
    catch_up(&watcher).await; // poll 2 (the start-up poll listed the empty bucket)

    let key = layout.key_in("symbol=CCC", 2, 0);
    put(&env, &key, file(&[tick_line("CCC", 0), tick_line("CCC", 1)])).await;
    landed.send(&TopicPartition::new(&env.topic, 2), &key);
    catch_up(&watcher).await;
    let rows = count(
        &schema::open_read_only(&env.warehouse_path()).unwrap(),
        "SELECT COUNT(*) FROM STOCK_MARKET_DATA",
    );
    assert_eq!(rows, 2, "the catch-up loaded the announced file");
    watcher.stop(None);
}
