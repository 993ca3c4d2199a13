//! Loading one file: every row and its LOAD_HISTORY entry commit together, or nothing does.
//! A key already in LOAD_HISTORY is skipped (Snowpipe semantics: a path loads once); a file
//! that does not parse is recorded as LOAD_FAILED with its first error (Snowpipe's
//! `ON_ERROR = SKIP_FILE`) and never blocks the files after it.

use rusqlite::{params, Connection, OptionalExtension};

use super::WarehouseError;
use crate::producer::tick::Tick;

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

/// Loads `body` (the object at `key`, partition `partition`) into `table` exactly once.
pub fn load_file(
    conn: &mut Connection,
    table: &str,
    key: &str,
    etag: Option<&str>,
    partition: i32,
    body: &[u8],
) -> Result<LoadOutcome, WarehouseError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let known: Option<String> = tx
        .query_row("SELECT status FROM LOAD_HISTORY WHERE s3_key = ?1", [key], |r| r.get(0))
        .optional()?;
    if known.is_some() {
        return Ok(LoadOutcome::AlreadyLoaded);
    }
    let outcome = match parse(body) {
        Ok(ticks) => {
            {
                let mut insert = tx.prepare_cached(&format!(
                    "INSERT INTO {table} (symbol, price, volume, change, timestamp, exchange, run_id, seq, s3_key, partition)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))?;
                for t in &ticks {
                    insert.execute(params![
                        t.symbol,
                        t.price,
                        t.volume as i64,
                        t.change,
                        t.timestamp,
                        t.exchange,
                        t.run_id,
                        t.seq as i64,
                        key,
                        partition
                    ])?;
                }
            }
            tx.execute(
                "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, status) VALUES (?1, ?2, ?3, 'LOADED')",
                params![key, etag, ticks.len() as i64],
            )?;
            LoadOutcome::Loaded { rows: ticks.len() }
        }
        Err(first_error) => {
            tx.execute(
                "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, status, first_error) VALUES (?1, ?2, 0, 'LOAD_FAILED', ?3)",
                params![key, etag, first_error],
            )?;
            LoadOutcome::Failed { first_error }
        }
    };
    tx.commit()?;
    Ok(outcome)
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
