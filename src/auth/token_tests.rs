//! Known-answer tests: tokens recorded from AWS's own Python signer
//! (`aws-msk-iam-sasl-signer-python` 1.0.2 on botocore, clock frozen; see
//! `scripts/msk-token-fixture.py`), reproduced byte for byte.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use base64::Engine;
use serde::Deserialize;

use super::token::{sign_token, TOKEN_EXPIRY};
use super::AuthError;

#[derive(Deserialize)]
struct Fixture {
    signer: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    region: String,
    time: String,
    access_key: String,
    secret_key: String,
    session_token: Option<String>,
    token: String,
    expiry_ms: i64,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("../../tests/fixtures/msk_iam_tokens.json")).expect("fixture parses")
}

fn at(rfc3339: &str) -> SystemTime {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).expect("fixture time");
    SystemTime::UNIX_EPOCH + Duration::from_secs(t.timestamp() as u64)
}

fn decode(token: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .expect("base64url"),
    )
    .unwrap()
}

#[test]
fn tokens_match_aws_python_signer_byte_for_byte() {
    let f = fixture();
    let user_agent = f.signer.clone();
    assert_eq!(f.cases.len(), 2);
    for c in &f.cases {
        let creds = Credentials::new(&c.access_key, &c.secret_key, c.session_token.clone(), None, "fixture");
        let token = sign_token(&c.region, &creds, at(&c.time), &user_agent).expect("signs");
        assert_eq!(
            decode(token.secret_value()),
            decode(&c.token),
            "{}: the signed URL differs from AWS's signer",
            c.name
        );
        assert_eq!(token.secret_value(), c.token, "{}: the encoding differs", c.name);
        assert_eq!(token.expires_at_unix_ms(), c.expiry_ms, "{}: expiry", c.name);
    }
}

#[test]
fn a_different_secret_changes_the_signature() {
    let f = fixture();
    let c = &f.cases[0];
    let creds = Credentials::new(&c.access_key, "not-the-secret", None, None, "fixture");
    let token = sign_token(&c.region, &creds, at(&c.time), &f.signer).unwrap();
    assert_ne!(token.secret_value(), c.token);
}

#[test]
fn the_token_is_a_presigned_connect_url_without_padding() {
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let token = sign_token("ap-south-1", &creds, at("2026-11-22T10:00:00Z"), "tickstream/test").unwrap();
    assert!(!token.secret_value().contains('='), "no base64 padding");
    assert!(
        !token.secret_value().contains('+') && !token.secret_value().contains('/'),
        "base64url"
    );
    let url = decode(token.secret_value());
    assert!(url.starts_with("https://kafka.ap-south-1.amazonaws.com/?Action=kafka-cluster%3AConnect&"));
    assert!(url.contains("&X-Amz-Expires=900&"), "{url}");
    assert!(url.contains("%2Fap-south-1%2Fkafka-cluster%2Faws4_request"), "{url}");
    assert!(url.ends_with("&User-Agent=tickstream%2Ftest"), "{url}");
}

#[test]
fn lifetime_is_fifteen_minutes_from_the_signing_second() {
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let now = at("2026-11-22T10:00:00Z") + Duration::from_millis(750);
    let token = sign_token("us-east-1", &creds, now, "ua").unwrap();
    assert_eq!(
        token.signed_at,
        at("2026-11-22T10:00:00Z"),
        "X-Amz-Date has whole seconds"
    );
    assert_eq!(token.expires_at, token.signed_at + TOKEN_EXPIRY);
    assert_eq!(
        token.remaining(token.signed_at + Duration::from_secs(600)),
        Duration::from_secs(300)
    );
    assert_eq!(
        token.remaining(token.expires_at + Duration::from_secs(1)),
        Duration::ZERO
    );
}

#[test]
fn credentials_that_expire_sooner_cap_the_lifetime() {
    let now = at("2026-11-22T10:00:00Z");
    let soon = now + Duration::from_secs(120);
    let creds = Credentials::new("ASIAEXAMPLE", "secret", Some("session".into()), Some(soon), "test");
    let token = sign_token("us-east-1", &creds, now, "ua").unwrap();
    assert_eq!(token.expires_at, soon);
    let later = now + Duration::from_secs(3600);
    let creds = Credentials::new("ASIAEXAMPLE", "secret", Some("session".into()), Some(later), "test");
    assert_eq!(
        sign_token("us-east-1", &creds, now, "ua").unwrap().expires_at,
        now + TOKEN_EXPIRY
    );
}

#[test]
fn debug_output_never_shows_the_token() {
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let token = sign_token("us-east-1", &creds, at("2026-11-22T10:00:00Z"), "ua").unwrap();
    let shown = format!("{token:?}");
    assert!(shown.contains("<redacted>"));
    assert!(!shown.contains(token.secret_value()));
}

#[test]
fn a_malformed_region_is_named() {
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let err = sign_token("us-east-1/../evil", &creds, SystemTime::now(), "ua").unwrap_err();
    assert!(matches!(err, AuthError::Region(_)));
    assert!(err.to_string().contains("us-east-1/../evil"), "{err}");
}
