"""Reads tickstream's data files with DuckDB, an independent reader: newline-delimited JSON,
plain or gzip (by extension), and prints what it found as one JSON object.

usage: count.py GLOB
"""
import json
import sys

import duckdb

glob = sys.argv[1]
con = duckdb.connect()
rel = con.sql(
    "SELECT * FROM read_json(?, format = 'newline_delimited', union_by_name = true)",
    params=[glob],
)
types = dict(zip(rel.columns, [str(t) for t in rel.types]))
rows, distinct, total_volume = con.sql(
    "SELECT COUNT(*), COUNT(DISTINCT (run_id, symbol, seq)), SUM(volume) FROM rel"
).fetchone()
files = con.sql("SELECT COUNT(DISTINCT filename) FROM read_json(?, format = 'newline_delimited', filename = true)", params=[glob]).fetchone()[0]
print(json.dumps({"rows": rows, "distinct": distinct, "volume": int(total_volume or 0), "files": files, "types": types}))
