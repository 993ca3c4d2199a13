//! Every request says who sent it with one fixed header, `User-Agent: tickstream/<version>`,
//! which is what CloudTrail and S3's server access logs show for the sink's requests.
//!
//! The SDK's own interceptors would instead, for every request, build an `AwsUserAgent` from
//! the environment (OS, language, the features the request used) into two headers, and add an
//! invocation id and a retry counter (`amz-sdk-invocation-id`, `amz-sdk-request`) that only
//! AWS's SDK analytics read: S3 needs none of them, and they were 8% of a small PUT's
//! instructions (callgrind, `benches/RESULTS.md`). This interceptor, registered once on
//! the client, turns those three off in each request's configuration bag (the SDK's own switch
//! for them) and sets the fixed header. The clock-skew interceptor, which keeps SigV4's
//! signing time right on a skewed clock, stays.

use aws_runtime::invocation_id::InvocationIdInterceptor;
use aws_runtime::request_info::RequestInfoInterceptor;
use aws_runtime::user_agent::UserAgentInterceptor;
use aws_sdk_s3::config::interceptors::{BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::{disable_interceptor, dyn_dispatch_hint};

/// The header's value.
pub const USER_AGENT: &str = concat!("tickstream/", env!("CARGO_PKG_VERSION"));

/// Sets [`USER_AGENT`] in place of the SDK's per-request headers: see the module documentation.
#[derive(Debug, Default)]
pub struct FixedUserAgent;

#[dyn_dispatch_hint]
impl Intercept for FixedUserAgent {
    fn name(&self) -> &'static str {
        "tickstream::FixedUserAgent"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        const WHY: &str = "tickstream sends a fixed User-Agent and no SDK analytics headers";
        let state = cfg.interceptor_state();
        state.store_put(disable_interceptor::<UserAgentInterceptor>(WHY));
        state.store_put(disable_interceptor::<InvocationIdInterceptor>(WHY));
        state.store_put(disable_interceptor::<RequestInfoInterceptor>(WHY));
        Ok(())
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context.request_mut().headers_mut().insert("user-agent", USER_AGENT);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::USER_AGENT;
    use crate::s3::recording_server::{client_of, header, next, put_one_record, recording_server};

    /// A PUT (and a listing) carries the fixed user agent once, and none of the SDK's analytics
    /// headers; what S3 needs (the signature, the conditional PUT, the checksum) is still there.
    #[tokio::test]
    async fn requests_carry_the_fixed_user_agent_and_no_sdk_analytics_headers() {
        let (url, mut heads) = recording_server().await;
        let client = client_of(url).await;
        put_one_record(&client, "k1").await;
        let _ = client.list_objects_v2().bucket("b").send().await;
        for head in [next(&mut heads).await, next(&mut heads).await] {
            let agents: Vec<&str> = head.lines().filter(|l| l.starts_with("user-agent:")).collect();
            assert_eq!(
                agents,
                [format!("user-agent: {}", USER_AGENT.to_ascii_lowercase())],
                "{head}"
            );
            for gone in ["x-amz-user-agent", "amz-sdk-invocation-id", "amz-sdk-request"] {
                assert_eq!(header(&head, gone), None, "{gone}: {head}");
            }
            assert!(
                header(&head, "authorization").is_some_and(|a| a.contains("signature=")),
                "{head}"
            );
        }
    }
}
