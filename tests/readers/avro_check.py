"""The far side of the Avro tests (tests/avro.rs), with clients that share nothing with tickstream.

    avro_check.py produce BOOTSTRAP REGISTRY TOPIC PLAN [--first-seq N] [--user-info U] [--garbage]
                          [--register-in-order]
        confluent-kafka's AvroSerializer writes trades through the registry into Kafka: PLAN is
        "v1:60,v2:40,v1:20" (that many trades of each schema version, in order; seq counts up
        from N, default 0, across them). --garbage adds three records no serializer writes: JSON (wrong
        magic byte), a schema id the registry does not have, a datum cut short.
        --register-in-order registers v1, then v2 first (their versions 1 and 2), whatever the
        plan produces first. Prints
        {"trades": [{"version", "value"}...], "ids": {"v1": id, "v2": id}, "garbage": n}.
    avro_check.py envelopes BOOTSTRAP TOPIC N
        writes N trades as JsonConverter envelopes ({"schema", "payload"}), schema version 1.
    avro_check.py avro FILE...
        fastavro reads Avro container files: prints [{"file", "codec", "schema", "records"}].
    avro_check.py parquet FILE...
        pyarrow reads Parquet files: prints [{"file", "types", "records"}].

Values are printed as JSON the same way on both sides: decimals as their text, timestamps as
epoch milliseconds, bytes as base64, maps as objects, a Parquet union's member struct as the
member that is set.
"""
import base64
import datetime
import decimal
import json
import sys

V1 = {
    "type": "record",
    "name": "Trade",
    "namespace": "market",
    "fields": [
        {"name": "symbol", "type": "string"},
        {"name": "seq", "type": "long"},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 6}},
        {"name": "size", "type": "long"},
        {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}},
        {"name": "venue", "type": ["null", "string"], "default": None},
        {"name": "traded_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "conditions", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "string"}},
    ],
}
V2 = dict(V1, fields=V1["fields"] + [
    {"name": "exchange", "type": "string", "default": "XNAS"},
    {"name": "note", "type": ["null", "string", "long"], "default": None},
])
SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN"]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def trade(seq, version):
    t = {
        "symbol": SYMBOLS[seq % len(SYMBOLS)],
        "seq": seq,
        "price": decimal.Decimal(100_000_000 + seq * 12_345).scaleb(-6),
        "size": 100 + seq,
        "side": ["BUY", "SELL"][seq % 2],
        "venue": None if seq % 3 == 0 else f"V{seq % 5}",
        "traded_at": EPOCH + datetime.timedelta(milliseconds=1_764_000_000_000 + seq),
        "conditions": [f"c{i}" for i in range(seq % 3)],
        "attrs": {"src": "feed", "n": str(seq)},
    }
    if version == 2:
        t["exchange"] = ["ARCX", "BATS"][seq % 2]
        t["note"] = [None, f"n{seq}", seq][seq % 3]
    return t


def plain(v):
    """A value as JSON, the same for every reader."""
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return (v - EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def produce(bootstrap, registry, topic, plan, user_info, garbage, first_seq, in_order):
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    conf = {"url": registry}
    if user_info:
        conf["basic.auth.user.info"] = user_info
    client = SchemaRegistryClient(conf)
    serializers = {v: AvroSerializer(client, json.dumps(s)) for v, s in (("v1", V1), ("v2", V2))}
    if in_order:
        for s in (V1, V2):
            client.register_schema(f"{topic}-value", _schema(s))
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    ctx = SerializationContext(topic, MessageField.VALUE)
    trades, seq = [], first_seq
    for step in plan.split(","):
        name, count = step.split(":")
        for _ in range(int(count)):
            t = trade(seq, int(name[1:]))
            producer.produce(topic, key=t["symbol"], value=serializers[name](t, ctx))
            trades.append({"version": int(name[1:]), "value": plain(t)})
            seq += 1
        producer.flush(30)
    ids = {}
    for name, schema in (("v1", V1), ("v2", V2)):
        ids[name] = client.lookup_schema(f"{topic}-value", _schema(schema)).schema_id
    bad = 0
    if garbage:
        good = serializers["v1"](trade(0, 1), ctx)
        for value in (b'{"symbol":"AAPL"}', b"\x00\x00\x01\x86\xa0" + good[5:], good[:8]):
            producer.produce(topic, key="BAD", value=value)
            bad += 1
    producer.flush(30)
    print(json.dumps({"trades": trades, "ids": ids, "garbage": bad}))


def _schema(s):
    from confluent_kafka.schema_registry import Schema

    return Schema(json.dumps(s), "AVRO")


def envelopes(bootstrap, topic, n):
    from confluent_kafka import Producer

    schema = {
        "type": "struct", "name": "market.Quote", "version": 1, "optional": False,
        "fields": [
            {"field": "symbol", "type": "string", "optional": False},
            {"field": "seq", "type": "int64", "optional": False},
            {"field": "bid", "type": "float64", "optional": True},
            {"field": "at", "type": "int64", "optional": False,
             "name": "org.apache.kafka.connect.data.Timestamp", "version": 1},
        ],
    }
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    out = []
    for seq in range(n):
        payload = {"symbol": SYMBOLS[seq % 4], "seq": seq, "bid": None if seq % 4 == 0 else seq / 4,
                   "at": 1_764_000_000_000 + seq}
        producer.produce(topic, key=payload["symbol"], value=json.dumps({"schema": schema, "payload": payload}))
        out.append(payload)
    producer.flush(30)
    print(json.dumps({"quotes": out}))


def read_avro(files):
    import fastavro

    out = []
    for f in files:
        with open(f, "rb") as fh:
            r = fastavro.reader(fh)
            out.append({
                "file": f,
                "codec": r.codec,
                "schema": r.writer_schema,
                "records": [plain(x) for x in r],
            })
    print(json.dumps(out))


def read_parquet(files):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = []
    for f in files:
        table = pq.read_table(f)
        types = {field.name: str(field.type) for field in table.schema}
        maps = [field.name for field in table.schema if pa.types.is_map(field.type)]
        unions = [
            field.name for field in table.schema
            if pa.types.is_struct(field.type) and [c.name for c in field.type][:1] == ["member0"]
        ]
        rows = []
        for row in table.to_pylist():
            for m in maps:
                if row[m] is not None:
                    row[m] = dict(row[m])
            for u in unions:
                if row[u] is not None:
                    row[u] = next((x for x in row[u].values() if x is not None), None)
            rows.append(plain(row))
        out.append({"file": f, "types": types, "records": rows})
    print(json.dumps(out))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "produce":
        user_info = args[args.index("--user-info") + 1] if "--user-info" in args else None
        first_seq = int(args[args.index("--first-seq") + 1]) if "--first-seq" in args else 0
        produce(args[0], args[1], args[2], args[3], user_info, "--garbage" in args, first_seq,
                "--register-in-order" in args)
    elif cmd == "envelopes":
        envelopes(args[0], args[1], int(args[2]))
    elif cmd == "avro":
        read_avro(args)
    elif cmd == "parquet":
        read_parquet(args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
