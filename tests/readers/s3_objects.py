"""What S3 kept with each object, read with boto3 (shares nothing with tickstream).

    s3_objects.py kms-key ENDPOINT                 -> {"arn": ...} of a new KMS key
    s3_objects.py inspect-head ENDPOINT BUCKET KEY -> one object's encryption, KMS key, type, tags
    s3_objects.py inspect ENDPOINT BUCKET PREFIX   -> one JSON object per S3 object under PREFIX:
        key, HEAD's encryption, KMS key, storage class, content type and encoding, the tags, the
        ACL's grants, and the (symbol, seq) of each JSON line of the body.
"""

import json
import sys

import boto3
from botocore.config import Config


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}),
    )


def kms_key(endpoint):
    key = client("kms", endpoint).create_key(Description="tickstream test")
    return {"arn": key["KeyMetadata"]["Arn"]}


def grantee(g):
    return g.get("URI") or g.get("ID") or g.get("EmailAddress") or g["Type"]


def inspect(endpoint, bucket, prefix):
    s3 = client("s3", endpoint)
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            head = s3.head_object(Bucket=bucket, Key=key)
            tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
            acl = s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            ticks = [json.loads(line) for line in body.splitlines() if line]
            out.append(
                {
                    "key": key,
                    "sse": head.get("ServerSideEncryption"),
                    "kms_key": head.get("SSEKMSKeyId"),
                    "storage_class": head.get("StorageClass", "STANDARD"),
                    "content_type": head.get("ContentType"),
                    "content_encoding": head.get("ContentEncoding"),
                    "tags": {t["Key"]: t["Value"] for t in tags},
                    "grants": sorted(f'{grantee(g["Grantee"])} {g["Permission"]}' for g in acl),
                    "ticks": [[t["symbol"], t["seq"]] for t in ticks],
                }
            )
    return out


def inspect_head(endpoint, bucket, key):
    s3 = client("s3", endpoint)
    head = s3.head_object(Bucket=bucket, Key=key)
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {
        "sse": head.get("ServerSideEncryption"),
        "kms_key": head.get("SSEKMSKeyId"),
        "content_type": head.get("ContentType"),
        "tags": {t["Key"]: t["Value"] for t in tags},
    }


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    commands = {"kms-key": kms_key, "inspect": inspect, "inspect-head": inspect_head}
    result = commands[cmd](*args)
    json.dump(result, sys.stdout)
