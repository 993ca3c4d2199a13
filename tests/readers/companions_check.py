"""Reads a topic's data files with their keys and headers files (Connect's store.kafka.keys /
store.kafka.headers layout), as a user's job would: shares nothing with tickstream.

    companions_check.py TOPIC_DIR   -> {"files", "rows", "misaligned", "records": [[key, headers, value]]}

Each data file `<name>.json[.gz]` is zipped line by line with `<name>.keys.json[.gz]` and
`<name>.headers.json[.gz]`; a file whose three line counts differ is named in "misaligned".
"""

import glob
import gzip
import json
import os
import sys


def lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(topic_dir):
    out = {"files": 0, "rows": 0, "misaligned": [], "orphans": [], "records": []}
    paths = sorted(glob.glob(os.path.join(topic_dir, "partition=*", "*")))
    companions = {p for p in paths if ".keys.json" in p or ".headers.json" in p}
    data_files = [p for p in paths if p not in companions]
    for data in data_files:
        gz = ".gz" if data.endswith(".gz") else ""
        stem = data[: -len(".json" + gz)]
        keys_path, headers_path = f"{stem}.keys.json{gz}", f"{stem}.headers.json{gz}"
        companions.discard(keys_path)
        companions.discard(headers_path)
        values, keys, headers = lines(data), lines(keys_path), lines(headers_path)
        out["files"] += 1
        if not (len(values) == len(keys) == len(headers)):
            out["misaligned"].append(os.path.basename(data))
            continue
        out["rows"] += len(values)
        out["records"].extend([k, h, v] for k, h, v in zip(keys, headers, values))
    out["orphans"] = sorted(os.path.basename(p) for p in companions)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
