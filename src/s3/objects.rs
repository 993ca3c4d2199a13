//! What every PUT asks S3 to keep besides the bytes (encryption, canned ACL, storage class,
//! tags, content type) and what every read must send (an SSE-C key), built once from `[sink]`.

use aws_sdk_s3::operation::complete_multipart_upload::builders::CompleteMultipartUploadFluentBuilder;
use aws_sdk_s3::operation::create_multipart_upload::builders::CreateMultipartUploadFluentBuilder;
use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::operation::head_object::builders::HeadObjectFluentBuilder;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::operation::upload_part::builders::UploadPartFluentBuilder;
use aws_sdk_s3::types::{ObjectCannedAcl, ServerSideEncryption, StorageClass};
use base64::Engine;

use crate::config::{self, SinkConfig};

use super::store::SegmentMeta;

/// A customer-provided key (SSE-C): the key and its MD5, both base64, as S3 wants them.
#[derive(Clone, PartialEq, Eq)]
struct CustomerKey {
    key: String,
    md5: String,
}

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKey(***)")
    }
}

/// The SSE-C headers (`Option<&CustomerKey>`) on a request builder: each S3 operation has a
/// builder type of its own, with the same setters.
macro_rules! with_customer_key {
    ($builder:expr, $key:expr) => {{
        let key: Option<&CustomerKey> = $key;
        $builder
            .set_sse_customer_algorithm(key.map(|_| "AES256".to_owned()))
            .set_sse_customer_key(key.map(|c| c.key.clone()))
            .set_sse_customer_key_md5(key.map(|c| c.md5.clone()))
    }};
}

/// Everything S3 keeps with a new object (a PUT or a multipart upload's start).
macro_rules! with_object_settings {
    ($options:expr, $builder:expr, $meta:expr) => {{
        let o: &ObjectOptions = $options;
        let builder = $builder
            .set_server_side_encryption(o.sse.clone())
            .set_ssekms_key_id(o.kms_key_id.clone())
            .set_acl(o.acl.clone())
            .set_storage_class(o.storage_class.clone())
            .set_tagging(o.tagging($meta));
        with_customer_key!(builder, o.customer_key.as_ref())
    }};
}

/// The object settings of every file the sink writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectOptions {
    sse: Option<ServerSideEncryption>,
    kms_key_id: Option<String>,
    customer_key: Option<CustomerKey>,
    acl: Option<ObjectCannedAcl>,
    storage_class: Option<StorageClass>,
    /// `s3.object.tagging`: the offsets and count as tags.
    offset_tags: bool,
    /// `s3.object.tagging.key.value.pairs`, already query-encoded (`k=v&…`).
    extra_tags: String,
}

fn query_pair(k: &str, v: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    format!(
        "{}={}",
        utf8_percent_encode(k, NON_ALPHANUMERIC),
        utf8_percent_encode(v, NON_ALPHANUMERIC)
    )
}

impl ObjectOptions {
    /// The settings `sink` asks for (checked by `config::validate`: a customer key that is
    /// not base64 is left out here, never sent half-formed).
    pub fn from_config(sink: &SinkConfig) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD;
        let customer_key = sink.sse_customer_key.as_ref().and_then(|k| {
            let raw = b64.decode(k.0.trim()).ok()?;
            use md5::Digest;
            Some(CustomerKey {
                key: b64.encode(&raw),
                md5: b64.encode(md5::Md5::digest(&raw)),
            })
        });
        let sse = match (sink.sse, &customer_key) {
            (config::ServerSideEncryption::BucketDefault, _) | (config::ServerSideEncryption::Aes256, Some(_)) => None,
            (config::ServerSideEncryption::Aes256, None) => Some(ServerSideEncryption::Aes256),
            (config::ServerSideEncryption::Kms, _) => Some(ServerSideEncryption::AwsKms),
            (config::ServerSideEncryption::KmsDsse, _) => Some(ServerSideEncryption::AwsKmsDsse),
        };
        Self {
            sse,
            kms_key_id: sink.sse_kms_key_id.clone().filter(|k| !k.trim().is_empty()),
            customer_key,
            acl: sink.acl_canned.as_ref().map(|a| ObjectCannedAcl::from(a.0.as_str())),
            storage_class: sink.storage_class.as_ref().map(|c| StorageClass::from(c.0.as_str())),
            offset_tags: sink.object_tagging,
            extra_tags: sink
                .object_tag_pairs
                .0
                .iter()
                .map(|(k, v)| query_pair(k, v))
                .collect::<Vec<_>>()
                .join("&"),
        }
    }

    /// The `x-amz-tagging` value of a file, or `None` without tags. Connect's `endOffset` is
    /// the file's last record's offset.
    pub fn tagging(&self, meta: &SegmentMeta) -> Option<String> {
        let mut tags: Vec<String> = Vec::new();
        if self.offset_tags {
            tags.push(query_pair("startOffset", &meta.start_offset.to_string()));
            tags.push(query_pair("endOffset", &(meta.end_offset - 1).to_string()));
            tags.push(query_pair("recordCount", &meta.records.to_string()));
        }
        if !self.extra_tags.is_empty() {
            tags.push(self.extra_tags.clone());
        }
        (!tags.is_empty()).then(|| tags.join("&"))
    }

    /// `put` with the file's object settings.
    pub fn put(&self, put: PutObjectFluentBuilder, meta: &SegmentMeta) -> PutObjectFluentBuilder {
        with_object_settings!(self, put, meta)
    }

    /// A multipart upload's start with the file's object settings (the same as [`Self::put`]'s).
    pub fn create_multipart(
        &self,
        create: CreateMultipartUploadFluentBuilder,
        meta: &SegmentMeta,
    ) -> CreateMultipartUploadFluentBuilder {
        with_object_settings!(self, create, meta)
    }

    /// A part, with the SSE-C key when there is one.
    pub fn upload_part(&self, part: UploadPartFluentBuilder) -> UploadPartFluentBuilder {
        with_customer_key!(part, self.customer_key.as_ref())
    }

    /// The completion, with the SSE-C key when there is one.
    pub fn complete(&self, done: CompleteMultipartUploadFluentBuilder) -> CompleteMultipartUploadFluentBuilder {
        with_customer_key!(done, self.customer_key.as_ref())
    }

    /// `get` with the SSE-C key, when there is one.
    pub fn get(&self, get: GetObjectFluentBuilder) -> GetObjectFluentBuilder {
        with_customer_key!(get, self.customer_key.as_ref())
    }

    /// `head` with the SSE-C key, when there is one (S3 refuses a HEAD of an SSE-C object
    /// without it).
    pub fn head(&self, head: HeadObjectFluentBuilder) -> HeadObjectFluentBuilder {
        with_customer_key!(head, self.customer_key.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(toml: &str) -> ObjectOptions {
        ObjectOptions::from_config(&crate::config::parse_str(&format!("[sink]\n{toml}")).unwrap().sink)
    }

    fn meta() -> SegmentMeta {
        SegmentMeta {
            start_offset: 100,
            end_offset: 200,
            records: 100,
            error: None,
        }
    }

    #[test]
    fn tags_are_connects_offsets_with_the_last_records_end_and_the_extra_pairs_encoded() {
        let o = options(
            "\"s3.object.tagging\" = true\n\"s3.object.tagging.key.value.pairs\" = \"team:market data,env:prod\"",
        );
        assert_eq!(
            o.tagging(&meta()).unwrap(),
            "startOffset=100&endOffset=199&recordCount=100&team=market%20data&env=prod"
        );
        assert_eq!(options("").tagging(&meta()), None);
        assert_eq!(
            options("\"s3.object.tagging.key.value.pairs\" = \"a:b\"")
                .tagging(&meta())
                .unwrap(),
            "a=b"
        );
    }

    #[test]
    fn aes256_with_a_customer_key_is_sse_c_and_its_md5_is_of_the_raw_key() {
        let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let o = options(&format!(
            "\"s3.ssea.name\" = \"AES256\"\n\"s3.sse.customer.key\" = \"{key}\""
        ));
        assert_eq!(
            o.sse, None,
            "SSE-C sends the customer-key headers, not x-amz-server-side-encryption"
        );
        let c = o.customer_key.clone().unwrap();
        assert_eq!(c.key, key);
        // md5("0123456789abcdef0123456789abcdef"), base64, as Python's hashlib computes it.
        assert_eq!(c.md5, "hRasmdxgYDKV3nvbahU1MA==");
        assert!(!format!("{o:?}").contains(key));
        assert_eq!(
            options("\"s3.ssea.name\" = \"AES256\"").sse,
            Some(ServerSideEncryption::Aes256)
        );
        let kms = options("\"s3.ssea.name\" = \"aws:kms:dsse\"\n\"s3.sse.kms.key.id\" = \"alias/md\"");
        assert_eq!(
            (kms.sse, kms.kms_key_id.as_deref()),
            (Some(ServerSideEncryption::AwsKmsDsse), Some("alias/md"))
        );
    }
}
