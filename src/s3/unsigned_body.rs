//! A request body that carries its own CRC32 goes unsigned (`x-amz-content-sha256:
//! UNSIGNED-PAYLOAD`), set once on the client instead of per request.
//!
//! SigV4 would otherwise hash every byte uploaded with SHA-256; the body's CRC32
//! (`x-amz-checksum-crc32`, which S3 checks, see `store::crc32_base64`) protects it instead,
//! and the request itself stays signed. Bodies without one (the parts of a multipart upload,
//! its completion) stay signed. The SDK's own switch, `.customize()
//! .disable_payload_signing()`, adds an operation runtime plugin to each request, so every
//! PUT also layered a copy of the client's configuration over itself (2% of the client's
//! instructions per PUT in callgrind, `benches/RESULTS.md`); this interceptor, registered once
//! on the client, only stores the override in the request's configuration bag before it is
//! signed.

use aws_runtime::auth::PayloadSigningOverride;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::dyn_dispatch_hint;

/// The header S3 checks a body's CRC32 against.
const CRC32: &str = "x-amz-checksum-crc32";

/// Sends request bodies with a CRC32 unsigned: see the module documentation.
#[derive(Debug, Default)]
pub struct UnsignedBody;

#[dyn_dispatch_hint]
impl Intercept for UnsignedBody {
    fn name(&self) -> &'static str {
        "tickstream::UnsignedBody"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.request().headers().contains_key(CRC32) {
            cfg.interceptor_state()
                .store_put(PayloadSigningOverride::unsigned_payload());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::s3::recording_server::{client_of, header, next, put_one_record, recording_server};

    #[tokio::test]
    async fn a_body_with_its_crc32_goes_unsigned_and_one_without_stays_signed() {
        let (url, mut heads) = recording_server().await;
        let client = client_of(url).await;
        put_one_record(&client, "k1").await;
        let put = next(&mut heads).await;
        assert!(put.starts_with("put /b/k1?"), "{put}");
        assert_eq!(header(&put, "x-amz-content-sha256"), Some("unsigned-payload"), "{put}");
        assert!(header(&put, "x-amz-checksum-crc32").is_some(), "{put}");
        assert!(
            header(&put, "authorization").is_some_and(|a| a.contains("signature=")),
            "{put}"
        );

        // The same PUT without a checksum (as a multipart upload's parts go) is hashed.
        client
            .put_object()
            .bucket("b")
            .key("k2")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"abc"))
            .send()
            .await
            .unwrap();
        let plain = next(&mut heads).await;
        assert_eq!(
            header(&plain, "x-amz-content-sha256"),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            "the SHA-256 of `abc`: {plain}"
        );
    }
}
