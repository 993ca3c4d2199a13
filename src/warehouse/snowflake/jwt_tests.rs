use super::*;

const FIXTURE: &str = include_str!("../../../tests/fixtures/snowflake/jwt.json");
const KEY: &str = include_str!("../../../tests/fixtures/snowflake/test_rsa_key.p8");

fn fixture() -> serde_json::Value {
    serde_json::from_str(FIXTURE).expect("fixture is JSON")
}

fn auth() -> KeyPairAuth {
    let f = fixture();
    KeyPairAuth::from_pem(f["account"].as_str().unwrap(), f["user"].as_str().unwrap(), KEY).expect("test key parses")
}

#[test]
fn the_fingerprint_equals_openssls() {
    assert_eq!(auth().fingerprint(), fixture()["fingerprint"].as_str().unwrap());
}

#[test]
fn the_jwt_equals_the_one_openssl_signed() {
    let f = fixture();
    let iat = f["iat"].as_u64().unwrap();
    let lifetime = f["exp"].as_u64().unwrap() - iat;
    // RSASSA-PKCS1-v1_5 is deterministic: same key, same input, same signature.
    assert_eq!(auth().token(iat, lifetime).unwrap(), f["jwt"].as_str().unwrap());
}

#[test]
fn the_claims_name_the_upper_case_account_and_user_and_the_key() {
    let token = auth().token(1_000, 60).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["sub"], "MYORG-MYACCOUNT.TICKSTREAM_MONITOR");
    assert!(claims["iss"]
        .as_str()
        .unwrap()
        .starts_with("MYORG-MYACCOUNT.TICKSTREAM_MONITOR.SHA256:"));
    assert_eq!(
        (claims["iat"].as_u64(), claims["exp"].as_u64()),
        (Some(1_000), Some(1_060))
    );
}

#[test]
fn the_lifetime_is_capped_at_one_hour() {
    let token = auth().token(0, 86_400).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["exp"].as_u64(), Some(MAX_LIFETIME_S));
}

#[test]
fn account_identifiers_lose_region_and_cloud() {
    assert_eq!(jwt_account("xy12345.us-east-2.aws"), "XY12345");
    assert_eq!(jwt_account("myorg-myaccount"), "MYORG-MYACCOUNT");
}

#[test]
fn unusable_keys_are_explained() {
    let err = |pem: &str| KeyPairAuth::from_pem("a", "u", pem).unwrap_err();
    assert!(
        err("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----").contains("encrypted")
    );
    assert!(err("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----").contains("PKCS#1"));
    assert!(err("hello").contains("BEGIN PRIVATE KEY"));
    assert!(err("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----").contains("base64"));
    assert!(err("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").contains("not an RSA PKCS#8 key"));
}

#[test]
fn a_missing_key_file_is_named() {
    let e = KeyPairAuth::from_file("a", "u", Path::new("/nonexistent/rsa_key.p8")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/rsa_key.p8"), "{e}");
}

#[test]
fn debug_output_never_shows_the_key() {
    let shown = format!("{:?}", auth());
    assert!(shown.contains("SHA256:") && !shown.contains("MII"), "{shown}");
}

#[test]
fn long_der_lengths_use_the_long_form() {
    assert_eq!(der(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
    let long = der(0x04, &[0; 300]);
    assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
}

#[test]
fn the_public_key_is_what_openssl_prints() {
    // `openssl pkey -in test_rsa_key.p8 -pubout`, without its PEM lines.
    assert_eq!(auth().public_key_base64(), fixture()["public_key"].as_str().unwrap());
}
