"""Reads tickstream's data files with DuckDB, an independent reader, and prints what it found as
one JSON object: newline-delimited JSON, plain or compressed (by extension), or with --parquet
Parquet files of any codec.

usage: count.py [--parquet] GLOB
"""
import json
import sys

import duckdb

parquet = sys.argv[1] == "--parquet"
glob = sys.argv[-1]
con = duckdb.connect()
if parquet:
    reader = "read_parquet(?, union_by_name = true{})"
else:
    reader = "read_json(?, format = 'newline_delimited', union_by_name = true{})"
rel = con.sql(f"SELECT * FROM {reader.format('')}", params=[glob])
types = dict(zip(rel.columns, [str(t) for t in rel.types]))
rows, distinct, total_volume = con.sql(
    "SELECT COUNT(*), COUNT(DISTINCT (run_id, symbol, seq)), SUM(volume) FROM rel"
).fetchone()
files = con.sql(
    f"SELECT COUNT(DISTINCT filename) FROM {reader.format(', filename = true')}", params=[glob]
).fetchone()[0]
out = {"rows": rows, "distinct": distinct, "volume": int(total_volume or 0), "files": files, "types": types}
if parquet:
    # The timestamp column is a point in time, not text: its range as epoch milliseconds.
    lo, hi = con.sql("SELECT epoch_ms(MIN(timestamp)), epoch_ms(MAX(timestamp)) FROM rel").fetchone()
    out["timestamp_ms"] = [lo, hi]
print(json.dumps(out))
