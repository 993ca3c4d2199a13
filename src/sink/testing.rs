//! Fakes and fixtures for sink tests: an in-memory [`SegmentStore`] that can be told to fail, a
//! key layout for topic `t`, and well-formed tick records.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::Bytes;

use crate::s3::{PutOutcome, S3Error, SegmentMeta, SegmentStore};

/// The layout of topic `t` with `pad_width` digits.
pub fn layout(pad_width: usize) -> crate::s3::keys::KeyLayout {
    crate::s3::keys::KeyLayout::json("topics", "t", pad_width)
}

/// A well-formed tick record at `offset` (its seq is the offset).
pub fn tick(offset: i64) -> super::Record {
    let v = format!(
        r#"{{"symbol":"A","price":1.0,"volume":1,"change":0.0,"timestamp":"2026-12-01T10:00:00.000Z","exchange":"N","run_id":"r","seq":{offset}}}"#
    );
    super::Record {
        offset,
        value: Some(Bytes::from(v)),
        timestamp_ms: None,
        extra: None,
    }
}

/// S3's 404 NoSuchKey to `op` on `key`.
fn no_such_key(op: &'static str, key: &str) -> S3Error {
    S3Error::Service {
        op,
        bucket: "mem".into(),
        key: key.into(),
        status: 404,
        code: "NoSuchKey".into(),
        message: "The specified key does not exist.".into(),
    }
}

/// S3's 503 SlowDown to `op` on `key`.
fn slow_down(op: &'static str, key: &str) -> S3Error {
    S3Error::Service {
        op,
        bucket: "mem".into(),
        key: key.into(),
        status: 503,
        code: "SlowDown".into(),
        message: String::new(),
    }
}

#[derive(Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, (Bytes, SegmentMeta)>>,
    last_start_after: Mutex<Option<String>>,
    /// The next this-many puts fail with a 503.
    pub failing_puts: AtomicU32,
    pub put_attempts: AtomicU32,
    /// The next this-many listings fail with a 503.
    pub failing_lists: AtomicU32,
    pub list_attempts: AtomicU32,
    /// Every put takes this many milliseconds (of tokio's clock, paused in tests).
    pub put_delay_ms: AtomicU64,
    /// Every listing takes this many milliseconds (likewise).
    pub list_delay_ms: AtomicU64,
    /// Listings under way now, and the most there were at once.
    lists_now: AtomicU32,
    pub most_lists_at_once: AtomicU32,
}

impl MemoryStore {
    pub fn insert(&self, key: &str, start: i64, end: i64) {
        let meta = SegmentMeta {
            start_offset: start,
            end_offset: end,
            records: (end - start) as u64,
            error: None,
        };
        self.objects.lock().unwrap().insert(key.into(), (Bytes::new(), meta));
    }

    /// A file whose metadata was lost: only its body is there to read.
    pub fn insert_without_metadata(&self, key: &str, body: &[u8]) {
        let meta = SegmentMeta {
            start_offset: -1,
            end_offset: -1,
            records: 0,
            error: None,
        };
        self.objects
            .lock()
            .unwrap()
            .insert(key.into(), (Bytes::copy_from_slice(body), meta));
    }

    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }

    /// The object at `key` and its metadata, as stored.
    pub fn object(&self, key: &str) -> Option<(Bytes, SegmentMeta)> {
        self.objects.lock().unwrap().get(key).cloned()
    }

    pub fn last_start_after(&self) -> Option<String> {
        self.last_start_after.lock().unwrap().clone()
    }
}

impl SegmentStore for MemoryStore {
    async fn put_new(&self, key: &str, body: Bytes, meta: SegmentMeta) -> Result<PutOutcome, S3Error> {
        self.put_attempts.fetch_add(1, Ordering::SeqCst);
        let delay = self.put_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        if self.failing_puts.load(Ordering::SeqCst) > 0 {
            self.failing_puts.fetch_sub(1, Ordering::SeqCst);
            return Err(slow_down("PutObject", key));
        }
        let mut objects = self.objects.lock().unwrap();
        match objects.get(key) {
            Some((existing, _)) if *existing == body => Ok(PutOutcome::AlreadyIdentical),
            Some(_) => Err(S3Error::Conflict {
                bucket: "mem".into(),
                key: key.into(),
            }),
            None => {
                objects.insert(key.into(), (body, meta));
                Ok(PutOutcome::Created)
            }
        }
    }

    async fn put_replace(&self, key: &str, body: Bytes, meta: SegmentMeta) -> Result<(), S3Error> {
        self.put_attempts.fetch_add(1, Ordering::SeqCst);
        self.objects.lock().unwrap().insert(key.into(), (body, meta));
        Ok(())
    }

    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, S3Error> {
        self.list_attempts.fetch_add(1, Ordering::SeqCst);
        let delay = self.list_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            let now = self.lists_now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_lists_at_once.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            self.lists_now.fetch_sub(1, Ordering::SeqCst);
        }
        if self.failing_lists.load(Ordering::SeqCst) > 0 {
            self.failing_lists.fetch_sub(1, Ordering::SeqCst);
            return Err(slow_down("ListObjectsV2", prefix));
        }
        *self.last_start_after.lock().unwrap() = start_after.map(str::to_owned);
        Ok(self
            .objects
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with(prefix) && start_after.is_none_or(|s| k.as_str() > s))
            .cloned()
            .collect())
    }

    async fn end_offset(&self, key: &str) -> Result<Option<i64>, S3Error> {
        match self.object(key) {
            Some((_, m)) => Ok((m.end_offset >= 0).then_some(m.end_offset)),
            None => Err(no_such_key("HeadObject", key)),
        }
    }

    async fn get(&self, key: &str) -> Result<Bytes, S3Error> {
        match self.object(key) {
            Some((body, _)) => Ok(body),
            None => Err(no_such_key("GetObject", key)),
        }
    }
}
