//! The S3 sink's storage settings: object settings (encryption, ACL, tags), the store's layout,
//! and the S3 client's knobs that tickstream does its own way.

use super::translate::{connect, text, Draft};

impl Draft<'_> {
    /// What S3 keeps with each file, and how the store is laid out and reached.
    pub(super) fn object_key(&mut self, k: &str, v: &str) -> bool {
        let value = v.trim();
        match k {
            "s3.ssea.name" | "s3.sse.kms.key.id" | "s3.acl.canned" | "s3.object.tagging.key.value.pairs" => {
                self.sink.set(k, text(value), &connect(k))
            }
            "s3.object.tagging" => self.sink.set(k, toml::Value::Boolean(value == "true"), &connect(k)),
            "s3.sse.customer.key" => self.out.ignored.push(format!(
                "{k}: a secret, not copied into the file; set TICKSTREAM_S3_SSE_CUSTOMER_KEY in the service's environment"
            )),
            "s3.object.behavior.on.tagging.error" => self.out.ignored.push(format!(
                "{k} = {value}: tickstream sets the tags in the file's own PUT, so a file is never without them"
            )),
            "enable.conditional.writes" | "max.files.scan.limit" => self.out.ignored.push(format!(
                "{k} = {value}: tickstream always writes with If-None-Match (a file is never overwritten) and resumes from \
                 the files it finds"
            )),
            "s3.part.size" => self.sink_int(k, v),
            "s3.send.digest" => self.out.ignored.push(format!(
                "{k} = {value}: every PUT carries the body's CRC32, which S3 checks"
            )),
            "s3.part.retries" | "s3.retry.backoff.ms" | "retry.backoff.ms" => self.out.ignored.push(format!(
                "{k} = {value}: tickstream retries S3 without a limit, backing off from 100 ms to 30 s, and holds the \
                 partition's commits meanwhile"
            )),
            "s3.wan.mode" | "s3.http.send.expect.continue" => self.out.ignored.push(format!(
                "{k} = {value}: a setting of Connect's S3 client with no counterpart in tickstream's"
            )),
            "s3.path.style.access.enabled" => self.out.ignored.push(format!(
                "{k} = {value}: tickstream addresses an S3-compatible store.url by path and Amazon S3 by host, always"
            )),
            "s3.proxy.url" | "s3.proxy.user" | "s3.proxy.password" => self.out.unsupported.push(format!(
                "{k}: tickstream reaches S3 directly, not through a proxy (a VPC endpoint for S3 is the usual way)"
            )),
            "s3.credentials.provider.class" if value.ends_with("DefaultAWSCredentialsProviderChain") => {
                self.out.ignored.push(format!("{k}: tickstream takes AWS credentials from the default chain too"))
            }
            _ if k.starts_with("s3.credentials.provider.") => self.out.ignored.push(format!(
                "{k}: not copied; tickstream takes AWS credentials from the default chain (environment, profile, \
                 web identity, instance role): give the service the role or profile the provider used"
            )),
            "directory.delim" | "file.delim" | "format.bytearray.extension" | "s3.schema.partition.affix.type" => {
                self.layout_key(k, value)
            }
            _ => return false,
        }
        true
    }

    /// Keys that change object names: accepted at Connect's defaults only.
    fn layout_key(&mut self, k: &str, value: &str) {
        let default = match k {
            "directory.delim" => "/",
            "file.delim" => "+",
            "format.bytearray.extension" => ".bin",
            _ => "NONE",
        };
        match value == default {
            true => self.out.ignored.push(format!(
                "{k} = {value}: Connect's default, which tickstream's names follow"
            )),
            false => self.out.unsupported.push(format!(
                "{k} = {value:?}: tickstream names files as Connect does by default ({default:?}); other names would \
                 not be found by resume or your readers"
            )),
        }
    }
}
