#!/usr/bin/env python3
"""Records MSK IAM tokens signed by AWS's own Python signer, for tickstream's known-answer test.

AWS's `aws-msk-iam-sasl-signer-python` (PyPI) signs with botocore's SigV4QueryAuth. This script
freezes botocore's clock, signs with fixed example credentials, and prints JSON that
tests/fixtures/msk_iam_tokens.json holds. Re-record (needs boto3 and the signer; no network):

    pip download --no-deps aws-msk-iam-sasl-signer-python==1.0.2 -d /tmp/signer
    (cd /tmp/signer && python3 -m zipfile -e *.whl .)
    PYTHONPATH=/tmp/signer python3 scripts/msk-token-fixture.py > tests/fixtures/msk_iam_tokens.json
"""
import datetime
import importlib.metadata
import json

import botocore.auth
from botocore.credentials import Credentials

from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

CASES = [
    {
        "name": "long-term keys",
        "region": "us-east-1",
        "time": "2026-11-22T10:00:00Z",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "session_token": None,
    },
    {
        "name": "temporary credentials with a session token",
        "region": "eu-west-1",
        "time": "2026-01-02T03:04:05Z",
        "access_key": "ASIAEXAMPLE",
        "secret_key": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        "session_token": "IQoJb3JpZ2luX2VjEXAMPLE/+=token",
    },
]


def sign(case):
    frozen = datetime.datetime.strptime(case["time"], "%Y-%m-%dT%H:%M:%SZ")
    botocore.auth.get_current_datetime = lambda *args, **kwargs: frozen
    creds = Credentials(case["access_key"], case["secret_key"], case["session_token"])
    # The signer's own token builder (module-private, so reached by name).
    construct = getattr(MSKAuthTokenProvider, "__construct_auth_token")
    token, expiry_ms = construct(case["region"], creds)
    return dict(case, token=token, expiry_ms=expiry_ms)


print(
    json.dumps(
        {
            "signer": "aws-msk-iam-sasl-signer-python/"
            + importlib.metadata.version("aws-msk-iam-sasl-signer-python"),
            "botocore": importlib.metadata.version("botocore"),
            "cases": [sign(c) for c in CASES],
        },
        indent=2,
    )
)
