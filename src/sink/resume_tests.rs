use super::*;
use crate::sink::source::Committed;
use crate::sink::testing::MemoryStore;

fn layout() -> KeyLayout {
    crate::sink::testing::layout(10)
}

static READER: Reader = Reader::lines();

fn files<'a>(s: &'a MemoryStore, layout: &'a KeyLayout) -> Files<'a, MemoryStore> {
    Files {
        store: s,
        layout,
        reader: &READER,
    }
}

fn store_with(files: &[(i64, i64)]) -> MemoryStore {
    let s = MemoryStore::default();
    for (start, end) in files {
        s.insert(&layout().object_key(0, *start), *start, *end);
    }
    s
}

#[tokio::test]
async fn committed_offset_at_a_file_end_is_trusted() {
    let s = store_with(&[(0, 100), (100, 200)]);
    let p = plan(files(&s, &layout()), 0, Some(Committed::foreign(200)), 0, 100, true)
        .await
        .unwrap();
    assert_eq!(
        p,
        ResumePlan {
            start: 200,
            existing: vec![],
            existing_dead: vec![],
            committed_not_in_s3: None,
            foreign_commit: None,
        }
    );
}

#[tokio::test]
async fn files_uploaded_after_the_commit_are_skipped_not_rewritten() {
    // [100,200) never landed, [200,300) did, the commit stopped at 100.
    let s = store_with(&[(0, 100), (200, 300)]);
    let p = plan(files(&s, &layout()), 0, Some(Committed::foreign(100)), 0, 100, true)
        .await
        .unwrap();
    assert_eq!(p.start, 100);
    assert_eq!(p.existing, vec![Span { start: 200, end: 300 }]);
}

#[tokio::test]
async fn a_commit_not_backed_by_s3_rereads_from_the_earliest_offset() {
    let s = store_with(&[(0, 100)]);
    let p = plan(files(&s, &layout()), 0, Some(Committed::foreign(300)), 0, 100, true)
        .await
        .unwrap();
    assert_eq!(p.start, 0);
    assert_eq!(p.existing, vec![Span { start: 0, end: 100 }]);
    assert_eq!(p.committed_not_in_s3, Some(300));
}

#[tokio::test]
async fn no_commit_reads_from_the_earliest_offset_and_skips_what_exists() {
    let s = store_with(&[(100, 150)]);
    let p = plan(files(&s, &layout()), 0, None, 0, 100, true).await.unwrap();
    assert_eq!(p.start, 0);
    assert_eq!(p.existing, vec![Span { start: 100, end: 150 }]);
    assert_eq!(p.committed_not_in_s3, None);
}

#[tokio::test]
async fn files_older_than_retention_are_ignored() {
    let s = store_with(&[(0, 100), (100, 200)]);
    let p = plan(files(&s, &layout()), 0, None, 150, 100, true).await.unwrap();
    assert_eq!(p.start, 150);
    assert_eq!(p.existing, vec![Span { start: 100, end: 200 }]);
}

#[tokio::test]
async fn the_listing_is_bounded_by_flush_size_before_the_commit() {
    let s = store_with(&[(0, 100), (100, 200), (200, 300)]);
    plan(files(&s, &layout()), 0, Some(Committed::foreign(300)), 0, 100, true)
        .await
        .unwrap();
    assert_eq!(s.last_start_after(), Some(layout().object_key(0, 199)));
}

#[tokio::test]
async fn a_commit_at_the_end_of_a_dead_letter_batch_is_backed_and_its_spans_are_skipped() {
    let s = store_with(&[(0, 10)]);
    // Dead letters at 10..13 (committed), and a batch from 20 that landed after the commit
    // (it holds 20 and 29: the good records between are in data files or still to come).
    s.insert(&layout().dead_letter_key(0, 10), 10, 13);
    s.insert(&layout().dead_letter_key(0, 20), 20, 30);
    let p = plan(files(&s, &layout()), 0, Some(Committed::foreign(13)), 0, 100, true)
        .await
        .unwrap();
    assert_eq!((p.start, p.committed_not_in_s3), (13, None));
    assert_eq!(p.existing_dead, vec![Span { start: 20, end: 30 }]);
    let p = plan(files(&s, &layout()), 0, Some(Committed::foreign(13)), 0, 100, false)
        .await
        .unwrap();
    assert_eq!(p.start, 0, "without S3 dead letters, 13 is not backed by any file");
}

#[tokio::test]
async fn tickstreams_checkpoint_resumes_where_it_left_off_whatever_the_last_record_was() {
    // Records 10..13 went to a dead-letter topic (or were ignored tombstones): no file ends at
    // 13, and only the checkpoint tells that everything below it is durable.
    let s = store_with(&[(0, 10), (20, 30)]);
    let p = plan(files(&s, &layout()), 0, Some(Committed::checkpoint(13)), 0, 100, false)
        .await
        .unwrap();
    assert_eq!((p.start, p.committed_not_in_s3), (13, None));
    assert_eq!(
        p.existing,
        vec![Span { start: 20, end: 30 }],
        "a later file is still skipped"
    );
    let p = plan(files(&s, &layout()), 0, Some(Committed::foreign(13)), 0, 100, false)
        .await
        .unwrap();
    assert_eq!(
        (p.start, p.committed_not_in_s3),
        (0, Some(13)),
        "a foreign commit there is re-read"
    );
    // Under a field or time partitioner a foreign commit is followed and named.
    let l = layout();
    let ours = plan_partitioned(files(&s, &l), 0, Some(Committed::checkpoint(13)), 0, true)
        .await
        .unwrap();
    assert_eq!((ours.start, ours.foreign_commit), (13, None));
    let theirs = plan_partitioned(files(&s, &l), 0, Some(Committed::foreign(13)), 0, true)
        .await
        .unwrap();
    assert_eq!((theirs.start, theirs.foreign_commit), (13, Some(13)));
    let at_low = plan_partitioned(files(&s, &l), 0, Some(Committed::foreign(13)), 13, true)
        .await
        .unwrap();
    assert_eq!(
        at_low.foreign_commit, None,
        "nothing below the earliest offset Kafka has can be skipped"
    );
}

#[tokio::test]
async fn a_directory_lists_only_from_the_span_limit_before_the_resume_offset() {
    let s = MemoryStore::default();
    let l = layout();
    for (start, end) in [(0, 40), (500, 900), (950, 1_200), (1_300, 1_400)] {
        s.insert(&l.key_in("symbol=A", 0, start), start, end);
    }
    s.insert(&l.key_in("symbol=B", 0, 1_000), 1_000, 1_100);
    // Resuming at 1,000 with files spread at most 600 offsets: 0..40 is never listed,
    // 500..900 ends before the resume offset.
    s.insert_without_metadata(&l.key_in("symbol=A", 0, 1_500), &b"{}\n".repeat(7));
    let spans = dir_spans(files(&s, &l), "symbol=A", 0, 1_000, 600).await.unwrap();
    use Extent::{End, Records};
    let got: Vec<(i64, Extent)> = spans.iter().map(|(_, f)| (f.start, f.extent)).collect();
    assert_eq!(got, vec![(950, End(1_200)), (1_300, End(1_400)), (1_500, Records(7))]);
    assert_eq!(s.last_start_after(), Some(l.key_in("symbol=A", 0, 399)));
    let p = plan_partitioned(files(&s, &l), 0, Some(Committed::foreign(1_000)), 0, true)
        .await
        .unwrap();
    assert_eq!((p.start, p.existing, p.committed_not_in_s3), (1_000, vec![], None));
    let low = plan_partitioned(files(&s, &l), 0, Some(Committed::foreign(10)), 20, true)
        .await
        .unwrap();
    assert_eq!(low.start, 20, "never below what Kafka still has");
}
