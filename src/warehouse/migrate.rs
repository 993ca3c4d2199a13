//! Upgrading a warehouse written by an earlier tickstream, in place and in one transaction:
//!
//! - a record table in the tick-only layout (`symbol … run_id, seq, s3_key, partition`) becomes
//!   the connector layout ([`super::table`]): every row kept, its `RECORD_CONTENT` rebuilt from
//!   its columns, its identity (topic, partition, offset) filled from its S3 key: the file's
//!   start offset plus the row's place in the file (rows were inserted in file order, and
//!   files held consecutive offsets);
//! - `LOAD_HISTORY` gains `rows_rejected` and the `PARTIALLY_LOADED` status;
//! - a typed column added to the configuration since is added to its table (NULL in old rows);
//! - a table whose `offset` is `NOT NULL` (before the `field` and `time` partitioners, whose
//!   rows have no offset) is rebuilt with it nullable, every row kept.
//!
//! A table of the configured name that is neither layout is refused, naming its columns.

use rusqlite::{params, Transaction};

use super::schema::load_history_ddl;
use super::table::{existing_columns, quoted, TableLayout};
use super::WarehouseError;

/// Brings the file at `conn` up to today's layout for `tables`.
pub fn upgrade(conn: &mut rusqlite::Connection, tables: &[TableLayout]) -> Result<(), WarehouseError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let history = existing_columns(&tx, "LOAD_HISTORY")?;
    if !history.is_empty() && !has(&history, "rows_rejected") {
        tracing::info!("warehouse: upgrading LOAD_HISTORY (rows_rejected, PARTIALLY_LOADED)");
        tx.execute_batch(&format!(
            "ALTER TABLE LOAD_HISTORY RENAME TO LOAD_HISTORY_v1;
             DROP INDEX IF EXISTS LOAD_HISTORY_loaded;
             {}
             INSERT INTO LOAD_HISTORY (s3_key, etag, rows, status, first_error, loaded_at)
                 SELECT s3_key, etag, rows, status, first_error, loaded_at FROM LOAD_HISTORY_v1;
             DROP TABLE LOAD_HISTORY_v1;",
            load_history_ddl("LOAD_HISTORY")
        ))?;
    }
    for t in tables {
        let cols = existing_columns(&tx, &t.table)?;
        if cols.is_empty() {
            continue;
        }
        if has(&cols, "RECORD_CONTENT") {
            if offset_not_null(&tx, &t.table)? {
                nullable_offset(&tx, t, &cols)?;
            }
            for c in t.columns.iter().filter(|c| !has(&cols, &c.name)) {
                tracing::info!(
                    table = t.table,
                    column = c.name,
                    "warehouse: adding a configured column"
                );
                tx.execute_batch(&format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    t.sql_name(),
                    c.name,
                    c.kind.sql()
                ))?;
            }
        } else if ["run_id", "seq", "s3_key", "partition"].iter().all(|c| has(&cols, c)) {
            from_tick_layout(&tx, t, &cols)?;
        } else {
            return Err(WarehouseError::ForeignTable {
                table: t.table.clone(),
                columns: cols.join(", "),
            });
        }
    }
    tx.commit()?;
    Ok(())
}

fn has(cols: &[String], name: &str) -> bool {
    cols.iter().any(|c| c.eq_ignore_ascii_case(name))
}

/// `(topic, start offset)` of a data file key `…/<topic>+<partition>+<start>.<ext>`.
pub fn file_identity(key: &str) -> Option<(String, i64)> {
    let name = key.rsplit('/').next()?;
    let (stem, _ext) = name.rsplit_once('.')?;
    let mut parts = stem.rsplitn(3, '+');
    let start = parts.next()?.parse().ok()?;
    let _partition: i32 = parts.next()?.parse().ok()?;
    Some((parts.next()?.to_owned(), start))
}

/// Whether `table`'s `offset` column is declared `NOT NULL`.
fn offset_not_null(tx: &Transaction<'_>, table: &str) -> Result<bool, WarehouseError> {
    let mut stmt = tx.prepare(&format!("PRAGMA table_info({})", quoted(table)))?;
    let cols = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(3)?)))?;
    for c in cols {
        let (name, not_null) = c?;
        if name.eq_ignore_ascii_case("offset") {
            return Ok(not_null != 0);
        }
    }
    Ok(false)
}

/// Renames `table` aside, drops its indexes, creates today's table (and indexes) in its place.
/// Returns the name it was renamed to.
fn set_aside(tx: &Transaction<'_>, t: &TableLayout, suffix: &str) -> Result<String, WarehouseError> {
    let table = &t.table;
    let legacy = format!("{table}_{suffix}");
    tx.execute_batch(&format!("ALTER TABLE {} RENAME TO {}", quoted(table), quoted(&legacy)))?;
    let indexes: Vec<String> = {
        let mut stmt =
            tx.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL")?;
        let names = stmt.query_map([&legacy], |r| r.get(0))?;
        names.collect::<Result<_, _>>()?
    };
    for i in indexes {
        tx.execute_batch(&format!("DROP INDEX {}", quoted(&i)))?;
    }
    t.ensure(tx)?;
    Ok(legacy)
}

fn nullable_offset(tx: &Transaction<'_>, t: &TableLayout, cols: &[String]) -> Result<(), WarehouseError> {
    let table = &t.table;
    tracing::info!(table, "warehouse: making offset nullable (rows kept)");
    let legacy = set_aside(tx, t, "v2")?;
    // The columns both tables have (a configured column added since is NULL in old rows).
    let now = existing_columns(tx, table)?;
    let both: Vec<&str> = cols.iter().map(String::as_str).filter(|c| has(&now, c)).collect();
    let list = both.join(", ");
    let (table, legacy) = (quoted(table), quoted(&legacy));
    tx.execute_batch(&format!(
        "INSERT INTO {table} ({list}) SELECT {list} FROM {legacy}; DROP TABLE {legacy};"
    ))?;
    Ok(())
}

fn from_tick_layout(tx: &Transaction<'_>, t: &TableLayout, legacy_cols: &[String]) -> Result<(), WarehouseError> {
    let table = &t.table;
    tracing::warn!(
        table,
        "warehouse: migrating the table from the tick-only layout (rows kept)"
    );
    let legacy = quoted(&set_aside(tx, t, "v1")?);
    tx.execute_batch(
        "CREATE TEMP TABLE key_start (s3_key TEXT PRIMARY KEY, topic TEXT NOT NULL, start INTEGER NOT NULL)",
    )?;
    let keys: Vec<String> = {
        let mut stmt = tx.prepare(&format!("SELECT DISTINCT s3_key FROM {legacy}"))?;
        let keys = stmt.query_map([], |r| r.get(0))?;
        keys.collect::<Result<_, _>>()?
    };
    {
        let mut insert = tx.prepare("INSERT INTO temp.key_start VALUES (?1, ?2, ?3)")?;
        for k in &keys {
            let (topic, start) = file_identity(k).ok_or_else(|| WarehouseError::Unmigratable {
                table: table.to_owned(),
                key: k.clone(),
            })?;
            insert.execute(params![k, topic, start])?;
        }
    }
    let content: Vec<String> = crate::record::tick::FIELDS
        .iter()
        .filter(|f| has(legacy_cols, f.name))
        .map(|f| format!("'{0}', l.{0}", f.name))
        .collect();
    let typed: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let from = c.source.as_deref().unwrap_or(&c.name);
            match has(legacy_cols, from) {
                true => format!("l.{from}"),
                false => "NULL".to_owned(),
            }
        })
        .collect();
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    let (names, typed) = match names.is_empty() {
        true => (String::new(), String::new()),
        false => (format!("{}, ", names.join(", ")), format!("{}, ", typed.join(", "))),
    };
    let moved = tx.execute(
        &format!(
            "INSERT OR IGNORE INTO {sql_table} (RECORD_CONTENT, RECORD_METADATA, {names}topic, partition, offset, s3_key, loaded_at)
             SELECT json_object({content}),
                    json_object('topic', k.topic, 'partition', l.partition, 'offset', k.start + l.n, 's3_key', l.s3_key),
                    {typed}k.topic, l.partition, k.start + l.n, l.s3_key, l.loaded_at
             FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY s3_key ORDER BY rowid) - 1 AS n FROM {legacy}) l
             JOIN temp.key_start k ON k.s3_key = l.s3_key",
            content = content.join(", "),
            sql_table = t.sql_name()
        ),
        [],
    )?;
    let before: i64 = tx.query_row(&format!("SELECT COUNT(*) FROM {legacy}"), [], |r| r.get(0))?;
    tx.execute_batch(&format!("DROP TABLE {legacy}; DROP TABLE temp.key_start;"))?;
    tracing::info!(table, rows = moved, of = before, "warehouse: table migrated");
    Ok(())
}

#[cfg(test)]
#[path = "migrate_tests.rs"]
mod tests;
