//! `[sink]`'s S3 object settings: what S3 keeps with each file besides its bytes (encryption,
//! canned ACL, storage class, tags), by the Confluent S3 sink's names.

use serde::{Deserialize, Serialize};

/// `s3.ssea.name`: server-side encryption of each object.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum ServerSideEncryption {
    /// The bucket's default encryption (`""`, Connect's default).
    #[default]
    BucketDefault,
    /// `AES256`: S3-managed keys (SSE-S3), or SSE-C when `s3.sse.customer.key` is set.
    Aes256,
    /// `aws:kms`: SSE-KMS, with `s3.sse.kms.key.id` or the account's `aws/s3` key.
    Kms,
    /// `aws:kms:dsse`: dual-layer SSE-KMS.
    KmsDsse,
}

impl TryFrom<String> for ServerSideEncryption {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        // Connect compares these ignoring case.
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "" => Self::BucketDefault,
            "aes256" => Self::Aes256,
            "aws:kms" => Self::Kms,
            "aws:kms:dsse" => Self::KmsDsse,
            _ => {
                return Err(format!(
                    "{s:?} is not a server-side encryption: AES256, aws:kms or aws:kms:dsse (or \"\" for the bucket's default)"
                ))
            }
        })
    }
}

impl From<ServerSideEncryption> for String {
    fn from(e: ServerSideEncryption) -> String {
        match e {
            ServerSideEncryption::BucketDefault => "",
            ServerSideEncryption::Aes256 => "AES256",
            ServerSideEncryption::Kms => "aws:kms",
            ServerSideEncryption::KmsDsse => "aws:kms:dsse",
        }
        .into()
    }
}

/// S3's canned ACLs (`s3.acl.canned`).
pub const CANNED_ACLS: [&str; 8] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
];

/// `s3.acl.canned`: one of S3's canned ACLs, sent with every PUT.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub struct CannedAcl(pub String);

impl TryFrom<String> for CannedAcl {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match CANNED_ACLS.contains(&s.trim()) {
            true => Ok(Self(s.trim().to_owned())),
            false => Err(format!("{s:?} is not a canned ACL: one of {}", CANNED_ACLS.join(", "))),
        }
    }
}

impl From<CannedAcl> for String {
    fn from(a: CannedAcl) -> String {
        a.0
    }
}

/// Storage classes a file may be written in: the ones whose objects can be read back at once
/// (resume, `verify` and the watcher read files; GLACIER and DEEP_ARCHIVE need a restore first:
/// move files there with a lifecycle rule instead).
pub const STORAGE_CLASSES: [&str; 6] = [
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "REDUCED_REDUNDANCY",
];

/// `s3.storage.class`: the storage class of every file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub struct StorageClass(pub String);

impl TryFrom<String> for StorageClass {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let class = s.trim().to_ascii_uppercase();
        if STORAGE_CLASSES.contains(&class.as_str()) {
            return Ok(Self(class));
        }
        Err(match class.as_str() {
            "GLACIER" | "DEEP_ARCHIVE" => format!(
                "{s:?}: objects in {class} cannot be read without a restore, and resume, verify and the watcher read \
                 files back; write STANDARD and let a lifecycle rule move them"
            ),
            _ => format!("{s:?} is not a storage class: one of {}", STORAGE_CLASSES.join(", ")),
        })
    }
}

impl From<StorageClass> for String {
    fn from(c: StorageClass) -> String {
        c.0
    }
}

/// Tags S3 allows on an object; `s3.object.tagging` takes three of them.
pub const MAX_TAGS: usize = 10;

/// The tags `s3.object.tagging` sets (Connect's names).
pub const OFFSET_TAGS: [&str; 3] = ["startOffset", "endOffset", "recordCount"];

/// `s3.object.tagging.key.value.pairs`: `key:value` pairs, comma-separated, set on every file.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub struct TagPairs(pub Vec<(String, String)>);

impl TryFrom<String> for TagPairs {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((k, v)) = item.split_once(':') else {
                return Err(format!("{item:?} is not a key:value pair"));
            };
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
                return Err(format!(
                    "{item:?}: S3 takes a tag key of 1 to 128 characters and a value of at most 256"
                ));
            }
            if k.starts_with("aws:") || OFFSET_TAGS.contains(&k) || pairs.iter().any(|(p, _)| p == k) {
                return Err(format!(
                    "{item:?}: the key {k:?} is reserved (aws:…, {}) or given twice",
                    OFFSET_TAGS.join(", ")
                ));
            }
            pairs.push((k.to_owned(), v.to_owned()));
        }
        if pairs.len() > MAX_TAGS - OFFSET_TAGS.len() {
            return Err(format!(
                "{} pairs: S3 keeps at most {MAX_TAGS} tags on an object, {} of them s3.object.tagging's",
                pairs.len(),
                OFFSET_TAGS.len()
            ));
        }
        Ok(Self(pairs))
    }
}

impl From<TagPairs> for String {
    fn from(t: TagPairs) -> String {
        t.0.iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The settings' problems together: a KMS key or a customer key without the encryption that
/// uses it, a customer key that is not 256 bits in base64 (not shown: it is a secret).
pub(super) fn validate(c: &super::Config) -> Vec<super::Problem> {
    use base64::Engine;
    let (sink, mut problems) = (&c.sink, Vec::new());
    if let Some(class) = sink
        .storage_class
        .as_ref()
        .filter(|s| !["STANDARD", "REDUCED_REDUNDANCY"].contains(&s.0.as_str()))
    {
        if c.s3.mode == super::S3Mode::Embedded {
            problems.push(super::Problem::new(
                "sink.s3.storage.class",
                format!(
                    "{}: the embedded store keeps STANDARD and REDUCED_REDUNDANCY only",
                    class.0
                ),
            ));
        }
    }
    let kms = matches!(sink.sse, ServerSideEncryption::Kms | ServerSideEncryption::KmsDsse);
    if sink.sse_kms_key_id.is_some() && !kms {
        problems.push(super::Problem::new(
            "sink.s3.sse.kms.key.id",
            "a KMS key needs s3.ssea.name = \"aws:kms\" or \"aws:kms:dsse\"".to_owned(),
        ));
    }
    if let Some(key) = &sink.sse_customer_key {
        if sink.sse != ServerSideEncryption::Aes256 {
            problems.push(super::Problem::new(
                "sink.s3.sse.customer.key",
                "a customer key (SSE-C) needs s3.ssea.name = \"AES256\"".to_owned(),
            ));
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(key.0.trim());
        if decoded.map(|k| k.len()) != Ok(32) {
            problems.push(super::Problem::new(
                "sink.s3.sse.customer.key",
                "not a 256-bit key in base64 (44 characters; `openssl rand -base64 32` makes one)".to_owned(),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_names_are_connects_in_any_case() {
        let sse = |s: &str| ServerSideEncryption::try_from(s.to_owned());
        assert_eq!(sse("aws:kms"), Ok(ServerSideEncryption::Kms));
        assert_eq!(sse("AWS:KMS:DSSE"), Ok(ServerSideEncryption::KmsDsse));
        assert_eq!(sse("aes256"), Ok(ServerSideEncryption::Aes256));
        assert_eq!(sse(""), Ok(ServerSideEncryption::BucketDefault));
        assert!(sse("kms").unwrap_err().contains("AES256, aws:kms or aws:kms:dsse"));
    }

    #[test]
    fn acls_and_storage_classes_are_s3s_and_readable_ones() {
        assert!(CannedAcl::try_from("bucket-owner-full-control".to_owned()).is_ok());
        assert!(CannedAcl::try_from("owner".to_owned())
            .unwrap_err()
            .contains("bucket-owner-read"));
        assert_eq!(
            StorageClass::try_from("standard_ia".to_owned()).unwrap().0,
            "STANDARD_IA"
        );
        let glacier = StorageClass::try_from("GLACIER".to_owned()).unwrap_err();
        assert!(glacier.contains("lifecycle rule"), "{glacier}");
    }

    #[test]
    fn keys_need_the_encryption_that_uses_them_and_a_bad_key_is_not_shown() {
        let problems = |toml: &str| {
            let config = crate::config::parse_str(&format!("[s3]\nmode = \"aws\"\n[sink]\n{toml}")).unwrap();
            validate(&config).into_iter().map(|p| p.to_string()).collect::<Vec<_>>()
        };
        let kms = problems("\"s3.sse.kms.key.id\" = \"arn:aws:kms:us-east-1:1:key/a\"");
        assert!(
            kms[0].contains("sink.s3.sse.kms.key.id") && kms[0].contains("aws:kms"),
            "{kms:?}"
        );
        assert!(problems("\"s3.ssea.name\" = \"aws:kms\"\n\"s3.sse.kms.key.id\" = \"k\"").is_empty());
        let good = "\"s3.sse.customer.key\" = \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"";
        assert!(problems(&format!("\"s3.ssea.name\" = \"AES256\"\n{good}")).is_empty());
        assert!(problems(good)[0].contains("needs s3.ssea.name = \"AES256\""));
        let short = problems("\"s3.ssea.name\" = \"AES256\"\n\"s3.sse.customer.key\" = \"c2VjcmV0\"");
        assert!(
            short[0].contains("not a 256-bit key") && !short[0].contains("c2VjcmV0"),
            "{short:?}"
        );
        assert!(problems("\"s3.storage.class\" = \"STANDARD_IA\"").is_empty());
        let embedded = crate::config::parse_str("[sink]\n\"s3.storage.class\" = \"STANDARD_IA\"").unwrap();
        assert!(validate(&embedded)[0]
            .to_string()
            .contains("the embedded store keeps STANDARD"));
    }

    #[test]
    fn tag_pairs_follow_s3s_rules() {
        let pairs = TagPairs::try_from(" team:md , env:prod".to_owned()).unwrap();
        assert_eq!(
            pairs.0,
            vec![("team".into(), "md".into()), ("env".into(), "prod".into())]
        );
        assert_eq!(String::from(pairs), "team:md,env:prod");
        assert!(TagPairs::try_from("team".to_owned())
            .unwrap_err()
            .contains("not a key:value"));
        assert!(TagPairs::try_from("endOffset:1".to_owned())
            .unwrap_err()
            .contains("reserved"));
        assert!(TagPairs::try_from("a:1,a:2".to_owned()).unwrap_err().contains("twice"));
        let eight = (0..8).map(|i| format!("k{i}:v")).collect::<Vec<_>>().join(",");
        assert!(TagPairs::try_from(eight).unwrap_err().contains("at most 10 tags"));
    }
}
