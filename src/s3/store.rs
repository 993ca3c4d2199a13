//! The three S3 operations the sink needs, behind a trait so actor tests can use a fake.

use std::future::Future;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;

use super::error::{from_sdk, S3Error};
use super::objects::ObjectOptions;

/// Metadata stored with every file (`x-amz-meta-…`), so a restart can learn where a file ends
/// without reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentMeta {
    /// Offset of the first record (also in the key).
    pub start_offset: i64,
    /// Offset after the last record: the offset to commit once the file is durable.
    pub end_offset: i64,
    /// Records in the file.
    pub records: u64,
    /// Why a dead-lettered record was rejected (`x-amz-meta-tickstream-error`).
    pub error: Option<String>,
}

/// The result of a conditional write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// The object was written.
    Created,
    /// The key already held exactly these bytes (an earlier attempt landed): nothing to do.
    AlreadyIdentical,
}

/// Storage for the sink's files.
pub trait SegmentStore: Send + Sync + 'static {
    /// Writes `body` at `key` unless the key exists. An existing key with the same bytes is
    /// [`PutOutcome::AlreadyIdentical`]; with other bytes it is [`S3Error::Conflict`].
    fn put_new(
        &self,
        key: &str,
        body: Bytes,
        meta: SegmentMeta,
    ) -> impl Future<Output = Result<PutOutcome, S3Error>> + Send;

    /// Every key under `prefix` that sorts after `start_after`, in order.
    fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
    ) -> impl Future<Output = Result<Vec<String>, S3Error>> + Send;

    /// Whether any key is under `prefix` (one short listing).
    fn holds_any(&self, prefix: &str) -> impl Future<Output = Result<bool, S3Error>> + Send {
        async move { self.list(prefix, None).await.map(|keys| !keys.is_empty()) }
    }

    /// The offset after the last record of the file at `key`, from its metadata (HEAD), or
    /// `None` when it has none: written by another tool, or its metadata was lost (s3s-fs
    /// writes an object's metadata after its body, so a crash or an aborted PUT between the two
    /// leaves a file without it; S3 writes both at once). A missing key is an error.
    fn end_offset(&self, key: &str) -> impl Future<Output = Result<Option<i64>, S3Error>> + Send;

    /// Reads a whole object.
    fn get(&self, key: &str) -> impl Future<Output = Result<Bytes, S3Error>> + Send;

    /// Writes `body` at `key` whether or not the key exists: only for a keys or headers file
    /// whose data file is not in S3 (left by an attempt that crashed between the two PUTs).
    fn put_replace(
        &self,
        key: &str,
        body: Bytes,
        meta: SegmentMeta,
    ) -> impl Future<Output = Result<(), S3Error>> + Send;

    /// Whether `key` exists (HEAD).
    fn exists(&self, key: &str) -> impl Future<Output = Result<bool, S3Error>> + Send {
        async move {
            match self.end_offset(key).await {
                Ok(_) => Ok(true),
                Err(e) if e.is_missing() => Ok(false),
                Err(e) => Err(e),
            }
        }
    }
}

pub(super) const META_END_OFFSET: &str = "tickstream-end-offset";
pub(super) const META_RECORDS: &str = "tickstream-records";
const META_ERROR: &str = "tickstream-error";

/// Adds the error text as metadata: printable ASCII only, at most 1 KiB (header rules).
trait SetErrorMeta {
    fn set_metadata_error(self, error: Option<&str>) -> Self;
}

impl SetErrorMeta for aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
    fn set_metadata_error(self, error: Option<&str>) -> Self {
        match error {
            None => self,
            Some(e) => {
                let clean: String = e
                    .chars()
                    .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
                    .take(1024)
                    .collect();
                self.metadata(META_ERROR, clean)
            }
        }
    }
}

/// An SDK request's future, or one that awaits SDK requests, on the heap. The SDK's futures
/// are about 10 KB (its orchestrator's state): held inline, every future that awaits one (the
/// retry loop, the upload task) is as large, and tokio copies the whole task when it is
/// spawned and again when it ends; moved here once, they travel as a pointer (callgrind,
/// `benches/RESULTS.md`).
fn boxed<F: Future>(request: F) -> std::pin::Pin<Box<F>> {
    Box::pin(request)
}

/// The body's CRC32 as S3's `x-amz-checksum-crc32` wants it (big-endian, base64). S3 checks it
/// and refuses a body that does not match (`BadDigest`, retried), and it takes the place of
/// SigV4's payload hash: SHA-256 over every byte uploaded was 8% of the sink's CPU at
/// flush.size 10,000, CRC32 (carry-less multiply) is well under 1%. The request itself stays
/// signed (the client's `unsigned_body::UnsignedBody` sends such a body unsigned).
fn crc32_base64(body: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(body).to_be_bytes())
}

/// [`SegmentStore`] on a real S3 API.
#[derive(Clone, Debug)]
pub struct S3SegmentStore {
    pub(super) client: Client,
    pub(super) bucket: String,
    pub(super) objects: ObjectOptions,
    /// `s3.part.size`: larger files are uploaded in parts of this size.
    pub(super) part_size: usize,
}

impl S3SegmentStore {
    /// The store of `bucket`, with S3's default object settings.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            objects: ObjectOptions::default(),
            part_size: 25 << 20,
        }
    }

    /// The store the sink's `[sink]` describes: its bucket and its object settings (every
    /// read of a file sends an SSE-C key when there is one).
    pub fn for_sink(client: Client, sink: &crate::config::SinkConfig) -> Self {
        Self {
            objects: ObjectOptions::from_config(sink),
            part_size: usize::try_from(sink.part_size).unwrap_or(usize::MAX),
            ..Self::new(client, sink.bucket.clone())
        }
    }

    /// What a conditional write's failure means: a 412 is fine if the key holds this very file
    /// (a retried PUT whose first answer was lost), a conflict otherwise; any other error is
    /// itself.
    pub(super) async fn refused(&self, key: &str, body: &Bytes, e: S3Error) -> Result<PutOutcome, S3Error> {
        match e {
            S3Error::Service { status: 412, .. } if self.get(key).await? == *body => Ok(PutOutcome::AlreadyIdentical),
            S3Error::Service { status: 412, .. } => Err(S3Error::Conflict {
                bucket: self.bucket.clone(),
                key: key.to_owned(),
            }),
            other => Err(other),
        }
    }

    /// The "folders" right under `prefix` (ListObjectsV2 with the `/` delimiter), e.g. each
    /// `topics/<topic>/` under `topics/`, sorted.
    pub async fn folders(&self, prefix: &str) -> Result<Vec<String>, S3Error> {
        let mut folders = Vec::new();
        self.list_pages(prefix, None, Some("/"), |out| {
            folders.extend(
                out.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
        })
        .await?;
        folders.sort();
        Ok(folders)
    }

    /// Every page of a listing of `prefix`, handed to `page`.
    // No `encoding-type=url`: s3s-fs claims to encode but does not, and `+` in our keys would
    // come back as spaces.
    async fn list_pages(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        delimiter: Option<&str>,
        mut page: impl FnMut(&aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output),
    ) -> Result<(), S3Error> {
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_start_after(start_after.map(str::to_owned))
                .set_delimiter(delimiter.map(str::to_owned))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| from_sdk("ListObjectsV2", &self.bucket, prefix, e))?;
            page(&out);
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => return Ok(()),
            }
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Reads a whole object and its ETag.
    pub async fn get_with_etag(&self, key: &str) -> Result<(Bytes, Option<String>), S3Error> {
        let get = self.objects.get(self.client.get_object().bucket(&self.bucket).key(key));
        let out = boxed(get.send())
            .await
            .map_err(|e| from_sdk("GetObject", &self.bucket, key, e))?;
        let etag = out.e_tag().map(str::to_owned);
        let body = out.body.collect().await.map_err(|e| S3Error::Body {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            source: Box::new(e),
        })?;
        Ok((body.into_bytes(), etag))
    }

    /// The same store with the SDK's own retries off: one attempt per call, so a probe sees the
    /// first failure's cause at once (the start-up wait and `/readyz` retry on their own).
    pub fn single_attempt(&self) -> Self {
        let conf = self
            .client
            .config()
            .to_builder()
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build();
        Self {
            client: Client::from_conf(conf),
            ..self.clone()
        }
    }

    /// Is the bucket there and reachable (HeadBucket)?
    pub async fn check(&self) -> Result<(), S3Error> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("HeadBucket", &self.bucket, "", e))
    }

    /// Creates the bucket unless it exists.
    pub async fn ensure_bucket(&self) -> Result<(), S3Error> {
        if self.client.head_bucket().bucket(&self.bucket).send().await.is_ok() {
            return Ok(());
        }
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = from_sdk("CreateBucket", &self.bucket, "", e);
                match &err {
                    S3Error::Service { code, .. }
                        if code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" =>
                    {
                        Ok(())
                    }
                    _ => Err(err),
                }
            }
        }
    }
}

impl SegmentStore for S3SegmentStore {
    async fn put_new(&self, key: &str, body: Bytes, meta: SegmentMeta) -> Result<PutOutcome, S3Error> {
        if body.len() > self.part_size {
            return boxed(self.put_new_in_parts(key, body, meta)).await;
        }
        let put = self.client.put_object().bucket(&self.bucket).key(key);
        let sent = boxed(
            self.objects
                .put(put, &meta)
                .content_type(crate::format::names::content_type(key))
                .metadata(META_END_OFFSET, meta.end_offset.to_string())
                .metadata(META_RECORDS, meta.records.to_string())
                .set_metadata_error(meta.error.as_deref())
                .if_none_match("*")
                .checksum_crc32(crc32_base64(&body))
                .body(ByteStream::from(body.clone()))
                .send(),
        )
        .await;
        match sent {
            Ok(_) => Ok(PutOutcome::Created),
            Err(e) => boxed(self.refused(key, &body, from_sdk("PutObject", &self.bucket, key, e))).await,
        }
    }

    async fn put_replace(&self, key: &str, body: Bytes, meta: SegmentMeta) -> Result<(), S3Error> {
        let put = self.client.put_object().bucket(&self.bucket).key(key);
        let put = self
            .objects
            .put(put, &meta)
            .content_type(crate::format::names::content_type(key))
            .metadata(META_END_OFFSET, meta.end_offset.to_string())
            .metadata(META_RECORDS, meta.records.to_string())
            .checksum_crc32(crc32_base64(&body))
            .body(ByteStream::from(body));
        boxed(put.send())
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("PutObject", &self.bucket, key, e))
    }

    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, S3Error> {
        let mut keys = Vec::new();
        self.list_pages(prefix, start_after, None, |out| {
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        })
        .await?;
        keys.sort();
        Ok(keys)
    }

    async fn holds_any(&self, prefix: &str) -> Result<bool, S3Error> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| from_sdk("ListObjectsV2", &self.bucket, prefix, e))?;
        Ok(out.key_count().unwrap_or(0) > 0 || !out.contents().is_empty())
    }

    async fn end_offset(&self, key: &str) -> Result<Option<i64>, S3Error> {
        let head = self
            .objects
            .head(self.client.head_object().bucket(&self.bucket).key(key));
        let head = boxed(head.send())
            .await
            .map_err(|e| from_sdk("HeadObject", &self.bucket, key, e))?;
        Ok(head
            .metadata()
            .and_then(|m| m.get(META_END_OFFSET))
            .and_then(|v| v.parse().ok()))
    }

    async fn get(&self, key: &str) -> Result<Bytes, S3Error> {
        Ok(self.get_with_etag(key).await?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::recording_server::client_of;

    /// The SDK's request futures live on the heap: a PUT's future, which the retry loop and
    /// the upload task hold and tokio copies, stays small (it was 10 KB with the SDK's inline).
    #[tokio::test]
    async fn a_put_future_holds_the_sdk_request_by_pointer() {
        let store = S3SegmentStore::new(client_of("http://127.0.0.1:9".into()).await, "b");
        let meta = SegmentMeta {
            start_offset: 0,
            end_offset: 1,
            records: 1,
            error: None,
        };
        let sdk = std::mem::size_of_val(&store.client.put_object().bucket("b").key("k").send());
        let put = std::mem::size_of_val(&store.put_new("k", Bytes::new(), meta.clone()));
        let replace = std::mem::size_of_val(&store.put_replace("k", Bytes::new(), meta));
        let head = std::mem::size_of_val(&store.end_offset("k"));
        for (what, size) in [("put_new", put), ("put_replace", replace), ("end_offset", head)] {
            assert!(size * 8 < sdk, "{what}: {size} bytes, the SDK's own {sdk}");
        }
    }
}
