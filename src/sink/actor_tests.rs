//! Sink actor tests: fakes for S3 and Kafka, tokio's paused clock for rotation and retries.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ractor::{Actor, ActorRef};

use super::actor::{SinkActor, SinkArgs, SinkMsg, SinkStatus};
use super::gate::Gate;
use super::segmenter::Rules;
use super::source::{Committed, PartitionSource, SourceError};
use super::testing::{tick, MemoryStore};
use super::Record;
use crate::s3::keys::KeyLayout;
use crate::telemetry::PipelineStats;

/// A Kafka side that remembers what the sink asked of it.
#[derive(Default)]
pub(super) struct FakeSource {
    committed: Option<i64>,
    /// The committed offset carries tickstream's checkpoint.
    checkpoint: bool,
    attached: Mutex<Vec<i64>>,
    commits: Mutex<Vec<(i64, bool)>>,
    /// The group coordinator does not answer: reads of the committed offset time out.
    coordinator_down: bool,
    /// Commits are refused (each one is still recorded in `commits`).
    refuse_commits: bool,
    /// Reads of the committed offset so far.
    reads: std::sync::atomic::AtomicU32,
    /// The high watermark a resume reads; `None`: past every offset (any record may be in a
    /// file an earlier writer left, so every directory is listed).
    pub(super) high: Option<i64>,
}

fn timeout(op: &'static str) -> SourceError {
    SourceError::Timeout {
        partition: 0,
        op,
        waited: Duration::from_secs(10),
    }
}

impl PartitionSource for FakeSource {
    async fn committed(&self, _: i32) -> Result<Option<Committed>, SourceError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.coordinator_down {
            return Err(timeout("reading the committed offset"));
        }
        Ok(self.committed.map(|offset| Committed {
            offset,
            checkpoint: self.checkpoint,
        }))
    }
    async fn watermarks(&self, _: i32) -> Result<(i64, i64), SourceError> {
        Ok((0, self.high.unwrap_or(i64::MAX)))
    }
    fn attach(&self, _: i32, _: ActorRef<SinkMsg>, start: i64, _: i64) -> Result<(), SourceError> {
        self.attached.lock().unwrap().push(start);
        Ok(())
    }
    async fn commit(&self, _: i32, offset: i64, wait: bool) -> Result<(), SourceError> {
        self.commits.lock().unwrap().push((offset, wait));
        match self.refuse_commits {
            true => Err(timeout("commit")),
            false => Ok(()),
        }
    }
}

pub(super) fn layout() -> KeyLayout {
    super::testing::layout(10)
}

pub(super) struct Harness {
    pub(super) sink: ActorRef<SinkMsg>,
    pub(super) store: Arc<MemoryStore>,
    source: Arc<FakeSource>,
    pub(super) gate: Arc<Gate>,
    stats: Arc<PipelineStats>,
}

async fn start(flush_size: u64, rotate_ms: u64, source: FakeSource, store: MemoryStore) -> Harness {
    start_paced(flush_size, rotate_ms, source, store, Duration::ZERO).await
}

/// [`start`] with an `offset.flush.interval.ms`.
async fn start_paced(
    flush_size: u64,
    rotate_ms: u64,
    source: FakeSource,
    store: MemoryStore,
    commit_interval: Duration,
) -> Harness {
    start_with(Rules::json(flush_size), rotate_ms, source, store, commit_interval).await
}

/// A sink of partition 0 with these rules, started and attached.
pub(super) async fn start_with(
    rules: Rules,
    rotate_ms: u64,
    source: FakeSource,
    store: MemoryStore,
    commit_interval: Duration,
) -> Harness {
    start_scheduled(rules, rotate_ms, None, source, store, commit_interval).await
}

/// [`start_with`] and a `rotate.schedule.interval.ms`.
pub(super) async fn start_scheduled(
    rules: Rules,
    rotate_ms: u64,
    rotate_schedule: Option<super::rotation::Schedule>,
    source: FakeSource,
    store: MemoryStore,
    commit_interval: Duration,
) -> Harness {
    let (store, source) = (Arc::new(store), Arc::new(source));
    let gate = Arc::new(Gate::new(1_000));
    let stats = Arc::new(PipelineStats::default());
    let args = SinkArgs {
        tp: crate::record::TopicPartition::new("t", 0),
        layout: layout(),
        rules,
        rotate_interval: Duration::from_millis(rotate_ms),
        rotate_schedule,
        max_inflight_uploads: 2,
        commit_interval,
        store: store.clone(),
        source: source.clone(),
        gate: gate.clone(),
        stats: stats.clone(),
        reach: Default::default(),
        landed: None,
        dead_topic: None,
        registry: None,
    };
    let (sink, _) = SinkActor::spawn(None, SinkActor::default(), args).await.unwrap();
    let h = Harness {
        sink,
        store,
        source,
        gate,
        stats,
    };
    h.wait_until(|h| !h.source.attached.lock().unwrap().is_empty()).await;
    h
}

impl Harness {
    pub(super) fn append(&self, offsets: std::ops::Range<i64>) {
        let records: Vec<Record> = offsets.map(tick).collect();
        self.gate.hold(records.len());
        self.sink.cast(SinkMsg::Append(records)).unwrap();
    }

    async fn status(&self) -> SinkStatus {
        ractor::call_t!(self.sink, SinkMsg::GetStatus, 5_000).unwrap()
    }

    /// Lets actors and timers run (the clock is paused, so this takes no real time).
    pub(super) async fn wait_until(&self, cond: impl Fn(&Self) -> bool) {
        for _ in 0..10_000 {
            if cond(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not reached");
    }

    pub(super) fn commits(&self) -> Vec<(i64, bool)> {
        self.source.commits.lock().unwrap().clone()
    }
}

#[tokio::test(start_paused = true)]
async fn an_idle_partition_still_flushes_after_the_rotate_interval() {
    let h = start(100, 60_000, FakeSource::default(), MemoryStore::default()).await;
    h.append(0..3);
    tokio::time::sleep(Duration::from_millis(59_000)).await;
    assert!(h.store.keys().is_empty(), "nothing is written before the interval");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    h.wait_until(|h| h.commits() == vec![(3, false)]).await;
    assert_eq!(h.store.keys(), vec![layout().object_key(0, 0)]);
    assert_eq!(h.gate.held(), 0, "committed records are released");
}

#[tokio::test(start_paused = true)]
async fn an_s3_outage_keeps_the_batch_and_commits_only_after_the_upload() {
    let store = MemoryStore::default();
    store.failing_puts.store(5, Ordering::SeqCst);
    let h = start(2, 60_000, FakeSource::default(), store).await;
    h.append(0..2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(h.commits().is_empty(), "no commit while S3 fails");
    assert_eq!(h.status().await.uploading, 1);
    h.wait_until(|h| !h.commits().is_empty()).await;
    assert_eq!(h.commits(), vec![(2, false)]);
    assert_eq!(h.store.put_attempts.load(Ordering::SeqCst), 6);
    let (body, meta) = h.store.object(&layout().object_key(0, 0)).unwrap();
    assert_eq!(body.iter().filter(|b| **b == b'\n').count(), 2);
    assert_eq!((meta.start_offset, meta.end_offset, meta.records), (0, 2, 2));
}

#[tokio::test(start_paused = true)]
async fn a_restart_resumes_after_the_last_durable_file_without_rewriting_it() {
    // An earlier incarnation wrote [0,2) and [2,4) but committed only 2.
    let store = MemoryStore::default();
    store.insert(&layout().object_key(0, 0), 0, 2);
    store.insert(&layout().object_key(0, 2), 2, 4);
    let h = start(
        2,
        60_000,
        FakeSource {
            committed: Some(2),
            ..FakeSource::default()
        },
        store,
    )
    .await;
    assert_eq!(*h.source.attached.lock().unwrap(), vec![2]);
    h.append(2..6);
    h.wait_until(|h| h.commits().last() == Some(&(6, false))).await;
    assert_eq!(
        h.store.keys(),
        vec![
            layout().object_key(0, 0),
            layout().object_key(0, 2),
            layout().object_key(0, 4)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn drain_uploads_the_open_batch_commits_synchronously_and_stops() {
    let h = start(100, 60_000, FakeSource::default(), MemoryStore::default()).await;
    h.append(0..5);
    let committed = ractor::call_t!(h.sink, |reply| SinkMsg::Drain { commit: true, reply }, 5_000).unwrap();
    assert_eq!(committed, Some(5));
    assert_eq!(h.commits(), vec![(5, false), (5, true)]);
    h.wait_until(|h| h.sink.get_status() == ractor::ActorStatus::Stopped)
        .await;
}

#[tokio::test(start_paused = true)]
async fn uploads_within_the_offset_flush_interval_share_one_commit_and_the_last_does_not_wait() {
    let every = Duration::from_millis(500);
    let store = MemoryStore::default();
    store.put_delay_ms.store(50, Ordering::SeqCst);
    let h = start_paced(1, 60_000, FakeSource::default(), store, every).await;
    let t0 = tokio::time::Instant::now();
    // Five files, two uploads at a time, 50 ms each: done by ~150 ms.
    h.append(0..5);
    h.wait_until(|h| h.commits().last() == Some(&(5, false))).await;
    assert!(
        t0.elapsed() < every,
        "no upload was left under way, so the last commit went at once"
    );
    let commits = h.commits();
    assert_eq!(
        commits.len(),
        2,
        "the first file at once, then one commit for the rest: {commits:?}"
    );
    assert!(commits[0].0 < 5, "{commits:?}");
    tokio::time::sleep(every * 4).await;
    assert_eq!(h.commits().len(), 2, "the wake-up found nothing more to commit");
}

#[tokio::test(start_paused = true)]
async fn a_drain_commits_what_the_pacing_still_holds() {
    let h = start_paced(
        1,
        60_000,
        FakeSource::default(),
        MemoryStore::default(),
        Duration::from_secs(60),
    )
    .await;
    h.append(0..5);
    h.wait_until(|h| h.store.keys().len() == 5 && !h.commits().is_empty())
        .await;
    let committed = ractor::call_t!(h.sink, |reply| SinkMsg::Drain { commit: true, reply }, 5_000).unwrap();
    assert_eq!(committed, Some(5));
    assert_eq!(h.commits().last(), Some(&(5, true)), "{:?}", h.commits());
}

/// A zombie (a member the group moved on without, e.g. paused past its session) must not write
/// a file the new owner's files overlap: the chaos group run found one (a 3-record file inside
/// the owner's 50-record file) when the lost member uploaded its open batch while draining.
#[tokio::test(start_paused = true)]
async fn a_drain_after_the_assignment_was_lost_sends_nothing_new_and_never_commits() {
    let h = start(3, 60_000, FakeSource::default(), MemoryStore::default()).await;
    h.append(0..5);
    h.wait_until(|h| h.store.keys().len() == 1 && !h.commits().is_empty())
        .await;
    let committed = ractor::call_t!(h.sink, |reply| SinkMsg::Drain { commit: false, reply }, 5_000).unwrap();
    assert_eq!(committed, Some(3), "what is in S3: the first file, not the open batch");
    assert_eq!(
        h.store.keys(),
        vec![layout().object_key(0, 0)],
        "the open batch 3..5 is dropped"
    );
    assert!(
        h.commits().iter().all(|c| c.0 <= 3),
        "a lost member commits nothing new: {:?}",
        h.commits()
    );
}

#[tokio::test(start_paused = true)]
async fn uploads_beyond_the_in_flight_limit_wait_and_commits_stay_in_order() {
    let store = MemoryStore::default();
    store.failing_puts.store(3, Ordering::SeqCst);
    let h = start(1, 60_000, FakeSource::default(), store).await;
    h.append(0..6);
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(h.status().await.uploading, 6, "six files closed");
    assert!(
        h.store.put_attempts.load(Ordering::SeqCst) <= 2,
        "only two uploads start at once"
    );
    h.wait_until(|h| h.commits().last() == Some(&(6, false))).await;
    let offsets: Vec<i64> = h.commits().iter().map(|(o, _)| *o).collect();
    assert!(
        offsets.windows(2).all(|w| w[0] < w[1]),
        "commits only move forward: {offsets:?}"
    );
    assert_eq!(h.store.keys().len(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_killed_sink_leaves_no_upload_behind() {
    let store = MemoryStore::default();
    store.failing_puts.store(u32::MAX, Ordering::SeqCst);
    let h = start(2, 60_000, FakeSource::default(), store).await;
    h.append(0..4);
    h.wait_until(|h| h.store.put_attempts.load(Ordering::SeqCst) >= 4).await;
    h.sink.kill();
    h.wait_until(|h| h.sink.get_status() == ractor::ActorStatus::Stopped)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after_kill = h.store.put_attempts.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(
        h.store.put_attempts.load(Ordering::SeqCst),
        after_kill,
        "no orphaned upload keeps retrying"
    );
}

#[test]
fn a_live_batch_rotates_one_interval_after_its_first_record_was_made() {
    use super::rotation::rotate_delay;
    let second = Duration::from_secs(1);
    assert_eq!(rotate_delay(second, Some(10_000), 10_250), Duration::from_millis(750));
    assert_eq!(rotate_delay(second, Some(10_000), 10_000), second);
    // Old records (a backlog) and stamps from the future rotate one interval from now.
    assert_eq!(rotate_delay(second, Some(10_000), 11_000), second);
    assert_eq!(rotate_delay(second, Some(10_000), 60_000), second);
    assert_eq!(rotate_delay(second, Some(10_500), 10_000), second);
    assert_eq!(rotate_delay(second, None, 10_000), second);
}

#[tokio::test(start_paused = true)]
async fn a_refused_commit_is_not_reported_as_committed() {
    let source = FakeSource {
        refuse_commits: true,
        ..FakeSource::default()
    };
    let h = start(2, 60_000, source, MemoryStore::default()).await;
    h.append(0..2);
    h.wait_until(|h| !h.commits().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let progress = h
        .stats
        .snapshot()
        .partitions
        .get(&crate::record::TopicPartition::new("t", 0))
        .copied()
        .unwrap_or_default();
    assert_eq!(progress.files, 1, "the file is in S3");
    assert_eq!(progress.committed, None, "but its offset was not committed");
}

#[tokio::test(start_paused = true)]
async fn a_sink_that_cannot_plan_fails_after_its_attempts_so_its_supervisor_sees_it() {
    let (store, source) = (
        Arc::new(MemoryStore::default()),
        Arc::new(FakeSource {
            coordinator_down: true,
            ..FakeSource::default()
        }),
    );
    let args = SinkArgs {
        tp: crate::record::TopicPartition::new("t", 0),
        layout: layout(),
        rules: Rules::json(10),
        rotate_interval: Duration::from_secs(1),
        rotate_schedule: None,
        max_inflight_uploads: 2,
        commit_interval: Duration::ZERO,
        store,
        source: source.clone(),
        gate: Arc::new(Gate::new(1_000)),
        stats: Arc::default(),
        reach: Default::default(),
        landed: None,
        dead_topic: None,
        registry: None,
    };
    let (sink, ended) = SinkActor::spawn(None, SinkActor::default(), args).await.unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        sink.get_status(),
        ractor::ActorStatus::Running,
        "still retrying after 10 s"
    );
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(sink.get_status(), ractor::ActorStatus::Stopped, "it gave up and failed");
    assert_eq!(source.reads.load(Ordering::SeqCst), 8, "after 8 attempts");
    let _ = ended.await;
}
