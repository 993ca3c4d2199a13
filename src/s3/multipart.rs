//! A file larger than `s3.part.size`, uploaded in parts and completed with `If-None-Match: *`:
//! S3 refuses the completion when the key exists (412), as it refuses a single PUT, so a file in
//! parts is never overwritten either. Each part is signed with its payload's hash, which S3
//! checks. A failed upload is aborted (its parts would otherwise be stored, and billed, until a
//! lifecycle rule removes them).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;

use super::error::{from_sdk, S3Error};
use super::store::{S3SegmentStore, META_END_OFFSET, META_RECORDS};
use super::{PutOutcome, SegmentMeta};

impl S3SegmentStore {
    /// Writes `body` at `key` in parts of `s3.part.size`, unless the key exists (see
    /// [`super::SegmentStore::put_new`]).
    pub(super) async fn put_new_in_parts(
        &self,
        key: &str,
        body: Bytes,
        meta: SegmentMeta,
    ) -> Result<PutOutcome, S3Error> {
        let create = self.client.create_multipart_upload().bucket(&self.bucket).key(key);
        let started = self
            .objects
            .create_multipart(create, &meta)
            .content_type(crate::format::names::content_type(key))
            .metadata(META_END_OFFSET, meta.end_offset.to_string())
            .metadata(META_RECORDS, meta.records.to_string())
            .send()
            .await
            .map_err(|e| from_sdk("CreateMultipartUpload", &self.bucket, key, e))?;
        let Some(upload_id) = started.upload_id().map(str::to_owned) else {
            return Err(S3Error::Service {
                op: "CreateMultipartUpload",
                bucket: self.bucket.clone(),
                key: key.to_owned(),
                status: 200,
                code: "NoUploadId".into(),
                message: "the answer named no upload".into(),
            });
        };
        match self.upload_parts(key, &upload_id, &body).await {
            Ok(parts) => match self.complete(key, &upload_id, parts).await {
                Ok(()) => Ok(PutOutcome::Created),
                Err(e) => {
                    self.abort(key, &upload_id).await;
                    self.refused(key, &body, e).await
                }
            },
            Err(e) => {
                self.abort(key, &upload_id).await;
                Err(e)
            }
        }
    }

    async fn upload_parts(&self, key: &str, upload_id: &str, body: &Bytes) -> Result<Vec<CompletedPart>, S3Error> {
        let mut parts = Vec::new();
        for (i, start) in (0..body.len()).step_by(self.part_size.max(1)).enumerate() {
            let number = i32::try_from(i + 1).unwrap_or(i32::MAX);
            let chunk = body.slice(start..(start + self.part_size).min(body.len()));
            let part = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number);
            let sent = self
                .objects
                .upload_part(part)
                .body(ByteStream::from(chunk))
                .send()
                .await
                .map_err(|e| from_sdk("UploadPart", &self.bucket, key, e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(sent.e_tag().map(str::to_owned))
                    .build(),
            );
        }
        Ok(parts)
    }

    async fn complete(&self, key: &str, upload_id: &str, parts: Vec<CompletedPart>) -> Result<(), S3Error> {
        let done = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .if_none_match("*");
        self.objects
            .complete(done)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("CompleteMultipartUpload", &self.bucket, key, e))
    }

    /// Best effort: an abort that fails leaves parts a lifecycle rule removes.
    async fn abort(&self, key: &str, upload_id: &str) {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(e) = aborted {
            let e = from_sdk("AbortMultipartUpload", &self.bucket, key, e);
            tracing::debug!("{}", crate::error::chain(&e));
        }
    }
}
