//! The warehouse file: tables, indexes, and how it is opened.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::WarehouseError;

/// `loaded_at` and friends: UTC with milliseconds (CURRENT_TIMESTAMP has only seconds, too
/// coarse for a 1 s rotation's latency).
pub const NOW_MS: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

fn ddl(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (
            symbol    TEXT    NOT NULL,
            price     REAL    NOT NULL,
            volume    INTEGER NOT NULL,
            change    REAL    NOT NULL,
            timestamp TEXT    NOT NULL,
            exchange  TEXT    NOT NULL,
            run_id    TEXT    NOT NULL,
            seq       INTEGER NOT NULL,
            s3_key    TEXT    NOT NULL,
            partition INTEGER NOT NULL,
            loaded_at TEXT    NOT NULL DEFAULT ({NOW_MS})
        );
        CREATE INDEX IF NOT EXISTS {table}_symbol_time ON {table} (symbol, timestamp);
        CREATE INDEX IF NOT EXISTS {table}_time ON {table} (timestamp);
        CREATE INDEX IF NOT EXISTS {table}_loaded ON {table} (loaded_at);
        CREATE INDEX IF NOT EXISTS {table}_identity ON {table} (run_id, symbol, seq);
        CREATE TABLE IF NOT EXISTS LOAD_HISTORY (
            s3_key      TEXT PRIMARY KEY,
            etag        TEXT,
            rows        INTEGER NOT NULL,
            status      TEXT    NOT NULL CHECK (status IN ('LOADED', 'LOAD_FAILED')),
            first_error TEXT,
            loaded_at   TEXT    NOT NULL DEFAULT ({NOW_MS})
        );
        CREATE INDEX IF NOT EXISTS LOAD_HISTORY_loaded ON LOAD_HISTORY (loaded_at);
        CREATE TABLE IF NOT EXISTS PIPE_STATE (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            state       TEXT NOT NULL,
            last_poll   TEXT NOT NULL,
            last_error  TEXT,
            poll_interval_ms INTEGER NOT NULL
        );"
    )
}

/// Opens (creating if needed) the warehouse for the watcher: WAL, so `query` and `status` read
/// while it writes.
pub fn open(path: &Path, table: &str) -> Result<Connection, WarehouseError> {
    let err = |source| WarehouseError::Open {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| WarehouseError::Other(format!("creating {}: {e}", dir.display())))?;
    }
    let conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
    conn.execute_batch(&ddl(table)).map_err(err)?;
    Ok(conn)
}

/// Opens an existing warehouse read-only (`query`, `stats`, `status`): SQL that writes fails.
pub fn open_read_only(path: &Path) -> Result<Connection, WarehouseError> {
    if !path.exists() {
        return Err(WarehouseError::Other(format!(
            "{} does not exist: run the pipeline first (warehouse.path)",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|source| WarehouseError::Open {
            path: path.display().to_string(),
            source,
        })?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}
