"""Reads a topic's data files with their keys, headers and metadata files (Connect's
store.kafka.keys / store.kafka.headers layout, and tickstream's store.kafka.metadata), as a
user's job would: shares nothing with tickstream.

    companions_check.py TOPIC_DIR
      -> {"files", "rows", "misaligned", "orphans", "records": [[key, headers, timestamp, value]]}

Each data file `<name>.json[.gz]` is zipped line by line with `<name>.keys.json[.gz]`,
`<name>.headers.json[.gz]` and `<name>.metadata.json[.gz]`; a file whose four line counts
differ is named in "misaligned".
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
    kinds = (".keys.json", ".headers.json", ".metadata.json")
    companions = {p for p in paths if any(k in p for k in kinds)}
    data_files = [p for p in paths if p not in companions]
    for data in data_files:
        gz = ".gz" if data.endswith(".gz") else ""
        stem = data[: -len(".json" + gz)]
        beside = [f"{stem}{kind}{gz}" for kind in kinds]
        companions.difference_update(beside)
        keys, headers, stamps = (lines(p) for p in beside)
        values = lines(data)
        out["files"] += 1
        if not (len(values) == len(keys) == len(headers) == len(stamps)):
            out["misaligned"].append(os.path.basename(data))
            continue
        out["rows"] += len(values)
        out["records"].extend([k, h, t, v] for k, h, t, v in zip(keys, headers, stamps, values))
    out["orphans"] = sorted(os.path.basename(p) for p in companions)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
