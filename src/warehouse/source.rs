//! What the watcher needs from the object store. Listing with a start-after cursor is the
//! embedded default; S3 event notifications through SQS are the production option: an
//! implementation of this trait that drains the queue would slot in without touching the watcher.

use std::future::Future;

use bytes::Bytes;

use crate::s3::{S3Error, S3SegmentStore, SegmentStore};

/// New-object discovery and reads.
pub trait ObjectSource: Send + Sync + 'static {
    /// Keys under `prefix` after `start_after`, sorted.
    fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
    ) -> impl Future<Output = Result<Vec<String>, S3Error>> + Send;
    /// The object's bytes and ETag.
    fn fetch(&self, key: &str) -> impl Future<Output = Result<(Bytes, Option<String>), S3Error>> + Send;
    /// The folders right under `prefix` (`topics/<topic>/` under `topics/`): how a
    /// `topics.regex` sink's topics are found.
    fn folders(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, S3Error>> + Send;
}

impl ObjectSource for S3SegmentStore {
    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, S3Error> {
        SegmentStore::list(self, prefix, start_after).await
    }

    async fn fetch(&self, key: &str) -> Result<(Bytes, Option<String>), S3Error> {
        self.get_with_etag(key).await
    }

    async fn folders(&self, prefix: &str) -> Result<Vec<String>, S3Error> {
        S3SegmentStore::folders(self, prefix).await
    }
}
