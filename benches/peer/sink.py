#!/usr/bin/env python3
"""The seed's approach, faithfully: a Python consumer that batches records per partition, PUTs
each batch to S3 under the Confluent S3 sink's key, and commits the offset after the upload.

(seeds 002/004: confluent-kafka + boto3; "1,000+ records/s"). Sequential on purpose: that is
how the seed's consumer works. It flushes a partition's batch at --flush-size records or when
--rotate-ms has passed since the batch's first record.
"""
import argparse
import time

import boto3
from botocore.config import Config
from confluent_kafka import Consumer, TopicPartition


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--flush-size", type=int, default=100)
    ap.add_argument("--rotate-ms", type=int, default=60000)
    a = ap.parse_args()

    s3 = boto3.client(
        "s3",
        endpoint_url=a.endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required"),
    )
    consumer = Consumer(
        {
            "bootstrap.servers": a.bootstrap,
            "group.id": a.group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([a.topic])
    batches = {}  # partition -> (first offset, first seen, [values], last offset)

    def flush(p):
        start, _, values, last = batches.pop(p)
        key = f"topics/{a.topic}/partition={p}/{a.topic}+{p}+{start:010d}.json"
        s3.put_object(Bucket=a.bucket, Key=key, Body=b"\n".join(values) + b"\n")
        consumer.commit(offsets=[TopicPartition(a.topic, p, last + 1)], asynchronous=False)

    while True:
        msgs = consumer.consume(num_messages=1000, timeout=0.1)
        now = time.monotonic()
        for m in msgs:
            if m.error():
                continue
            p = m.partition()
            if p not in batches:
                batches[p] = [m.offset(), now, [], m.offset()]
            batches[p][2].append(m.value())
            batches[p][3] = m.offset()
            if len(batches[p][2]) >= a.flush_size:
                flush(p)
        for p in [p for p, b in batches.items() if (now - b[1]) * 1000 >= a.rotate_ms]:
            flush(p)


if __name__ == "__main__":
    main()
