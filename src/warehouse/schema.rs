//! The warehouse file: the record tables (one per topic, [`super::table`]), `LOAD_HISTORY`,
//! `PIPE_STATE`, and how it is opened; a file written by an earlier version is upgraded in place
//! ([`super::migrate`]).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::table::TableLayout;
use super::WarehouseError;

/// `loaded_at` and friends: UTC with milliseconds (CURRENT_TIMESTAMP has only seconds, too
/// coarse for a 1 s rotation's latency).
pub const NOW_MS: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/// `LOAD_HISTORY`: one entry per file (Snowflake's COPY_HISTORY statuses).
pub fn load_history_ddl(name: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {name} (
            s3_key        TEXT PRIMARY KEY,
            etag          TEXT,
            rows          INTEGER NOT NULL,
            rows_rejected INTEGER NOT NULL DEFAULT 0,
            status        TEXT    NOT NULL CHECK (status IN ('LOADED', 'PARTIALLY_LOADED', 'LOAD_FAILED')),
            first_error   TEXT,
            loaded_at     TEXT    NOT NULL DEFAULT ({NOW_MS})
        );"
    )
}

fn ddl() -> String {
    format!(
        "{}
        CREATE INDEX IF NOT EXISTS LOAD_HISTORY_loaded ON LOAD_HISTORY (loaded_at);
        CREATE TABLE IF NOT EXISTS PIPE_STATE (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            state       TEXT NOT NULL,
            last_poll   TEXT NOT NULL,
            last_error  TEXT,
            poll_interval_ms INTEGER NOT NULL
        );",
        load_history_ddl("LOAD_HISTORY")
    )
}

/// Opens (creating if needed) the warehouse for the watcher, with a table for each of
/// `tables`: WAL, so `query` and `status` read while it writes. A file in an earlier layout is
/// migrated first, in one transaction (rows kept).
pub fn open(path: &Path, tables: &[TableLayout]) -> Result<Connection, WarehouseError> {
    let err = |source| WarehouseError::Open {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| WarehouseError::CreateDir {
            dir: dir.display().to_string(),
            source,
        })?;
    }
    let mut conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
    super::migrate::upgrade(&mut conn, tables).map_err(|e| match e {
        WarehouseError::Sql(source) => err(source),
        other => other,
    })?;
    conn.execute_batch(&ddl()).map_err(err)?;
    for t in tables {
        t.ensure(&conn).map_err(err)?;
    }
    Ok(conn)
}

/// Opens an existing warehouse read-only (`query`, `stats`, `status`): SQL that writes fails.
pub fn open_read_only(path: &Path) -> Result<Connection, WarehouseError> {
    if !path.exists() {
        return Err(WarehouseError::Missing {
            path: path.display().to_string(),
        });
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|source| WarehouseError::Open {
            path: path.display().to_string(),
            source,
        })?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}
