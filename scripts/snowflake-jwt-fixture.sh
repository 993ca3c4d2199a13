#!/usr/bin/env bash
# Re-records tests/fixtures/snowflake/jwt.json: a Snowflake key-pair JWT made with openssl alone,
# the way Snowflake's key-pair authentication guide does it, so src/warehouse/snowflake/jwt.rs is
# checked against an independent implementation. The key is a throwaway made for this test.
#   fingerprint: SHA-256 of the public key's DER (SubjectPublicKeyInfo), base64
#   JWT: base64url(header).base64url(payload).base64url(RS256 signature)
set -euo pipefail
cd "$(dirname "$0")/../tests/fixtures/snowflake"
key=test_rsa_key.p8
[ -f "$key" ] || openssl genrsa 2048 2>/dev/null | openssl pkcs8 -topk8 -inform PEM -out "$key" -nocrypt
b64url() { openssl enc -base64 -A | tr '+/' '-_' | tr -d '='; }
account=MYORG-MYACCOUNT user=TICKSTREAM_MONITOR iat=1795320000 exp=1795323600
fp="SHA256:$(openssl pkey -in "$key" -pubout -outform DER | openssl dgst -sha256 -binary | openssl enc -base64 -A)"
public_key=$(openssl pkey -in "$key" -pubout | grep -v '^-----' | tr -d '\n')
header='{"alg":"RS256","typ":"JWT"}'
payload="{\"iss\":\"$account.$user.$fp\",\"sub\":\"$account.$user\",\"iat\":$iat,\"exp\":$exp}"
signing_input="$(printf '%s' "$header" | b64url).$(printf '%s' "$payload" | b64url)"
signature=$(printf '%s' "$signing_input" | openssl dgst -sha256 -sign "$key" -binary | b64url)
cat > jwt.json <<JSON
{
  "generator": "scripts/snowflake-jwt-fixture.sh ($(openssl version | cut -d' ' -f1-2))",
  "account": "myorg-myaccount",
  "user": "tickstream_monitor",
  "iat": $iat,
  "exp": $exp,
  "public_key": "$public_key",
  "fingerprint": "$fp",
  "jwt": "$signing_input.$signature"
}
JSON
echo "wrote $(pwd)/jwt.json"
