//! The MSK IAM token: a SigV4-presigned `kafka-cluster:Connect` URL, base64url-encoded.
//!
//! This is what AWS's own signers (`aws-msk-iam-sasl-signer-*`) send as the OAUTHBEARER token:
//! `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect` presigned for the
//! signing name `kafka-cluster` with a 900 s expiry, a `User-Agent` query parameter appended after
//! signing, the whole URL base64url-encoded without padding. The query keeps the order botocore
//! writes (the action, then aws-sigv4's parameters as it emits them, the signature moved last), so the
//! token is byte-for-byte what AWS's Python signer produces for the same credentials and time
//! (the known-answer test holds two).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::AuthError;
pub use crate::kafka::token::MskToken;

/// How long a presigned token is valid (what AWS's signers use; MSK accepts at most 900 s).
pub const TOKEN_EXPIRY: Duration = Duration::from_secs(900);
const SIGNING_NAME: &str = "kafka-cluster";
const ACTION: &str = "kafka-cluster:Connect";

/// SigV4's URI encoding: everything but the unreserved characters.
const AWS_URI: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The `User-Agent` this build puts in its tokens (MSK logs it with the connection).
pub fn user_agent() -> String {
    format!("tickstream/{}", env!("CARGO_PKG_VERSION"))
}

/// Signs a token for `region` with `credentials` at `now`.
pub fn sign_token(
    region: &str,
    credentials: &Credentials,
    now: SystemTime,
    user_agent: &str,
) -> Result<MskToken, AuthError> {
    if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AuthError::Region(region.to_owned()));
    }
    let endpoint = format!("https://kafka.{region}.amazonaws.com/");
    let unsigned = format!("{endpoint}?Action={}", encode(ACTION));

    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_EXPIRY);
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_NAME)
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| AuthError::Signing(Box::new(e)))?
        .into();
    let request = SignableRequest::new("GET", &unsigned, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|e| AuthError::Signing(Box::new(e)))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| AuthError::Signing(Box::new(e)))?
        .into_parts();
    let (_headers, signed) = instructions.into_parts();

    let mut query: Vec<(String, String)> = vec![("Action".into(), ACTION.into())];
    query.extend(signed.into_iter().map(|(k, v)| (k.to_owned(), v.into_owned())));
    // botocore writes the signature last (after X-Amz-Security-Token); aws-sigv4 does not.
    query.sort_by_key(|(k, _)| k == "X-Amz-Signature");
    let mut url = endpoint;
    for (i, (k, v)) in query.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(&encode(k));
        url.push('=');
        url.push_str(&encode(v));
    }
    url.push_str("&User-Agent=");
    url.push_str(&encode(user_agent));

    let signed_at = truncate_to_seconds(now);
    let mut expires_at = signed_at + TOKEN_EXPIRY;
    if let Some(creds_expiry) = credentials.expiry() {
        expires_at = expires_at.min(creds_expiry);
    }
    Ok(MskToken::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url),
        signed_at,
        expires_at,
    ))
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, AWS_URI).to_string()
}

/// `X-Amz-Date` has whole seconds.
fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}
