//! Loading files: every row of a file and its LOAD_HISTORY entry commit together, or nothing does.
//! A key already in LOAD_HISTORY is skipped (Snowpipe semantics: a path loads once); a file
//! that does not parse is recorded as LOAD_FAILED with its first error (Snowpipe's
//! `ON_ERROR = SKIP_FILE`) and never blocks the files after it.

use rusqlite::{params, Connection};

use super::WarehouseError;
use crate::record::tick::Tick;

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadOutcome {
    Loaded { rows: usize },
    AlreadyLoaded,
    Failed { first_error: String },
}

/// Parses a JSON-lines file into ticks; the first bad line is the error.
pub fn parse(body: &[u8]) -> Result<Vec<Tick>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str::<Tick>(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// One fetched object, ready to load.
#[derive(Clone, Debug)]
pub struct FetchedFile {
    pub key: String,
    pub etag: Option<String>,
    pub partition: i32,
    pub body: bytes::Bytes,
}

/// What loading one file did, and each loaded row's seconds from tick to load.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub key: String,
    pub outcome: LoadOutcome,
    pub latencies_s: Vec<f64>,
}

/// Loads each of `files` into `table` exactly once, all in one transaction: every file's rows
/// and its LOAD_HISTORY entry commit together, or nothing does. One commit for a whole poll's
/// files, not one per file: at 1,000 symbols × 64 partitions a poll finds dozens of small files.
pub fn load_files(conn: &mut Connection, table: &str, files: &[FetchedFile]) -> Result<Vec<Loaded>, WarehouseError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut done = Vec::with_capacity(files.len());
    for f in files {
        let (outcome, latencies_s) = load_in(&tx, table, f)?;
        done.push(Loaded {
            key: f.key.clone(),
            outcome,
            latencies_s,
        });
    }
    tx.commit()?;
    Ok(done)
}

fn load_in(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    f: &FetchedFile,
) -> Result<(LoadOutcome, Vec<f64>), WarehouseError> {
    let known = tx
        .prepare_cached("SELECT 1 FROM LOAD_HISTORY WHERE s3_key = ?1")?
        .exists([&f.key])?;
    if known {
        return Ok((LoadOutcome::AlreadyLoaded, Vec::new()));
    }
    let ticks = match parse(&f.body) {
        Ok(ticks) => ticks,
        Err(first_error) => {
            tx.execute(
                "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, status, first_error) VALUES (?1, ?2, 0, 'LOAD_FAILED', ?3)",
                params![f.key, f.etag, first_error],
            )?;
            return Ok((LoadOutcome::Failed { first_error }, Vec::new()));
        }
    };
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO {table} (symbol, price, volume, change, timestamp, exchange, run_id, seq, s3_key, partition)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    ))?;
    let mut rows_inserted: Option<(i64, i64)> = None;
    for t in &ticks {
        let row = insert.insert(params![
            t.symbol,
            t.price,
            t.volume as i64,
            t.change,
            t.timestamp,
            t.exchange,
            t.run_id,
            t.seq as i64,
            f.key,
            f.partition
        ])?;
        let first = rows_inserted.map_or(row, |(first, _)| first);
        rows_inserted = Some((first, row));
    }
    tx.execute(
        "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, status) VALUES (?1, ?2, ?3, 'LOADED')",
        params![f.key, f.etag, ticks.len() as i64],
    )?;
    // The rows just inserted, by rowid (the table has no index on s3_key).
    let latencies_s = match rows_inserted {
        Some((first, last)) => {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT (julianday(loaded_at) - julianday(timestamp)) * 86400.0 FROM {table} WHERE rowid BETWEEN ?1 AND ?2"
            ))?;
            let rows = stmt.query_map([first, last], |r| r.get::<_, Option<f64>>(0))?;
            rows.filter_map(|r| r.ok().flatten()).collect()
        }
        None => Vec::new(),
    };
    Ok((LoadOutcome::Loaded { rows: ticks.len() }, latencies_s))
}

/// Which of `keys` LOAD_HISTORY already has (loaded or failed).
pub fn known_keys(conn: &Connection, keys: &[String]) -> Result<std::collections::HashSet<String>, WarehouseError> {
    let mut known = std::collections::HashSet::new();
    let mut stmt = conn.prepare_cached("SELECT 1 FROM LOAD_HISTORY WHERE s3_key = ?1")?;
    for k in keys {
        if stmt.exists([k])? {
            known.insert(k.clone());
        }
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: &str, partition: i32, body: &str) -> FetchedFile {
        FetchedFile {
            key: key.into(),
            etag: None,
            partition,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    fn line(seq: u64) -> String {
        format!(
            r#"{{"symbol":"AAPL","price":1.5,"volume":1,"change":0.0,"timestamp":"2026-11-22T10:00:00.000Z","exchange":"NASDAQ","run_id":"r","seq":{seq}}}"#
        ) + "\n"
    }

    #[test]
    fn one_transaction_loads_each_file_once_and_times_only_its_own_rows() {
        let dir = std::env::temp_dir().join(format!("tickstream-load-{}", uuid::Uuid::new_v4()));
        let mut db = crate::warehouse::schema::open(&dir.join("w.db"), "T").unwrap();
        let first = [file("a", 0, &(line(0) + &line(1))), file("bad", 1, "{not json\n")];
        let loaded = load_files(&mut db, "T", &first).unwrap();
        assert_eq!(loaded[0].outcome, LoadOutcome::Loaded { rows: 2 });
        assert_eq!(loaded[0].latencies_s.len(), 2);
        assert!(
            loaded[0].latencies_s.iter().all(|l| *l > 0.0),
            "{:?}",
            loaded[0].latencies_s
        );
        assert!(matches!(&loaded[1].outcome, LoadOutcome::Failed { first_error } if first_error.starts_with("line 1")));

        // "a" again (a re-listed key) is skipped; "b" in the same batch loads its 3 rows only.
        let second = [file("a", 0, &line(0)), file("b", 2, &(line(2) + &line(3) + &line(4)))];
        let loaded = load_files(&mut db, "T", &second).unwrap();
        assert_eq!(loaded[0].outcome, LoadOutcome::AlreadyLoaded);
        assert_eq!(loaded[1].outcome, LoadOutcome::Loaded { rows: 3 });
        assert_eq!(loaded[1].latencies_s.len(), 3);
        let rows: i64 = db.query_row("SELECT count(*) FROM T", [], |r| r.get(0)).unwrap();
        let history: i64 = db
            .query_row("SELECT count(*) FROM LOAD_HISTORY", [], |r| r.get(0))
            .unwrap();
        assert_eq!((rows, history), (5, 3));
        let _ = std::fs::remove_dir_all(dir);
    }
}
