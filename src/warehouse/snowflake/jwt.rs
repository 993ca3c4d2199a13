//! Snowflake key-pair authentication: an RS256 JWT signed with the user's RSA private key
//! (unencrypted PKCS#8 PEM, as `openssl pkcs8 -topk8 -nocrypt` writes it), whose issuer names the
//! public key by its fingerprint, `SHA256:` + base64(SHA-256(DER SubjectPublicKeyInfo)).
//! Checked byte for byte against a JWT made with openssl alone
//! (`tests/fixtures/snowflake/jwt.json`, `scripts/snowflake-jwt-fixture.sh`).

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::SnowflakeError;

/// Longest lifetime Snowflake accepts for a key-pair JWT.
pub const MAX_LIFETIME_S: u64 = 3_600;

/// The user's key and the names the JWT carries.
pub struct KeyPairAuth {
    /// `ACCOUNT` as the JWT wants it: upper case, no region or cloud suffix.
    account: String,
    user: String,
    key: RsaKeyPair,
    /// DER SubjectPublicKeyInfo of the key.
    spki: Vec<u8>,
    fingerprint: String,
}

impl std::fmt::Debug for KeyPairAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("KeyPairAuth")
            .field("account", &self.account)
            .field("user", &self.user)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// The account identifier as the JWT's claims need it: `xy12345.us-east-2.aws` → `XY12345`,
/// `myorg-myaccount` → `MYORG-MYACCOUNT`.
pub fn jwt_account(account: &str) -> String {
    account.split('.').next().unwrap_or(account).to_ascii_uppercase()
}

impl KeyPairAuth {
    /// Reads the PEM private key at `path`.
    pub fn from_file(account: &str, user: &str, path: &Path) -> Result<Self, SnowflakeError> {
        let pem = std::fs::read_to_string(path).map_err(|e| SnowflakeError::Key {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_pem(account, user, &pem).map_err(|reason| SnowflakeError::Key {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Parses an unencrypted PKCS#8 PEM RSA key; the error says what is wrong with it.
    pub fn from_pem(account: &str, user: &str, pem: &str) -> Result<Self, String> {
        if pem.contains("BEGIN ENCRYPTED PRIVATE KEY") {
            return Err("the key is encrypted; write an unencrypted copy with \
                        `openssl pkcs8 -in rsa_key.p8 -out rsa_key_plain.p8` and keep it mode 0600"
                .into());
        }
        if pem.contains("BEGIN RSA PRIVATE KEY") {
            return Err("the key is PKCS#1; convert it with \
                        `openssl pkcs8 -topk8 -inform PEM -in key.pem -out rsa_key.p8 -nocrypt`"
                .into());
        }
        let body: String = pem
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        if body.is_empty() {
            return Err("no \"-----BEGIN PRIVATE KEY-----\" block (expected PKCS#8 PEM)".into());
        }
        let der = STANDARD
            .decode(body.trim())
            .map_err(|e| format!("the PEM body is not base64: {e}"))?;
        let key = RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("not an RSA PKCS#8 key: {e}"))?;
        let spki = subject_public_key_info(key.public_key().as_ref());
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &spki);
        Ok(Self {
            account: jwt_account(account),
            user: user.to_ascii_uppercase(),
            key,
            spki,
            fingerprint: format!("SHA256:{}", STANDARD.encode(digest.as_ref())),
        })
    }

    /// `SHA256:<base64>`: what `DESC USER` shows as RSA_PUBLIC_KEY_FP.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public key as `ALTER USER … SET RSA_PUBLIC_KEY` takes it (base64 DER, no PEM lines).
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(&self.spki)
    }

    /// A JWT issued at `iat` (Unix seconds), valid for `lifetime_s` (capped at one hour).
    pub fn token(&self, iat: u64, lifetime_s: u64) -> Result<String, SnowflakeError> {
        let qualified = format!("{}.{}", self.account, self.user);
        let claims = Claims {
            iss: format!("{qualified}.{}", self.fingerprint),
            sub: qualified,
            iat,
            exp: iat + lifetime_s.min(MAX_LIFETIME_S),
        };
        let claims = serde_json::to_string(&claims).map_err(|e| SnowflakeError::Auth(e.to_string()))?;
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims);
        let input = format!("{header}.{payload}");
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|e| SnowflakeError::Auth(format!("signing the JWT: {e}")))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The JWT's claims, in the order Snowflake's examples write them.
#[derive(serde::Serialize)]
struct Claims {
    iss: String,
    sub: String,
    iat: u64,
    exp: u64,
}

/// Wraps a DER `RSAPublicKey` in a `SubjectPublicKeyInfo` (rsaEncryption, NULL parameters), the
/// form `openssl pkey -pubout -outform DER` writes and Snowflake fingerprints.
fn subject_public_key_info(rsa_public_key: &[u8]) -> Vec<u8> {
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bit_string = vec![0x00];
    bit_string.extend_from_slice(rsa_public_key);
    let mut inner = RSA_ALGORITHM.to_vec();
    inner.extend(der(0x03, &bit_string));
    der(0x30, &inner)
}

/// One DER element: tag, definite length, contents.
fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
