//! The watcher's SQLite connection, opened at its first use and opened again after a failure a
//! new connection may cure (the file cannot be opened, is not a database, is corrupt, an I/O
//! error). A broken warehouse so stalls the watcher alone: the process starts, the sinks write
//! to S3 and commit, and the watcher loads again once the file is usable.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ErrorCode};

use crate::error::chain;
use crate::telemetry::ingest_events as events;
use crate::warehouse::table::Tables;
use crate::warehouse::WarehouseError;

/// The warehouse file and, while it is usable, a connection to it.
pub struct WarehouseDb {
    path: PathBuf,
    tables: Arc<Tables>,
    conn: Mutex<Option<Connection>>,
}

impl WarehouseDb {
    /// The warehouse at `path`, opened at first use; `tables` gives the listed topics' tables,
    /// made ready at each open.
    pub fn new(path: PathBuf, tables: Arc<Tables>) -> Self {
        Self {
            path,
            tables,
            conn: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection, opening the file first when no connection is open. A failure
    /// that a new connection may cure closes this one.
    pub fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, WarehouseError>) -> Result<T, WarehouseError> {
        let mut guard = self.conn.lock().map_err(|_| WarehouseError::Poisoned)?;
        let conn = match guard.as_mut() {
            Some(conn) => conn,
            None => guard.insert(self.open()?),
        };
        let out = f(conn);
        if out.as_ref().err().is_some_and(reopen_cures) {
            *guard = None;
        }
        out
    }

    /// Opens the file with tickstream's own tables, then each listed topic's table: a topic
    /// whose table cannot be made ready waits alone (its files load once it can).
    fn open(&self) -> Result<Connection, WarehouseError> {
        let mut conn = crate::warehouse::schema::open(&self.path, &[])?;
        // A new connection, perhaps to a new file: every table is made ready again.
        self.tables.forget_ready();
        for topic in self.tables.listed_topics() {
            if let Err(e) = self.tables.ready(&mut conn, topic) {
                events::table_unready(topic, None, &chain(&e));
            }
        }
        Ok(conn)
    }
}

/// Whether `e` may pass with a new connection: the file could not be opened, or SQLite found it
/// not a database, corrupt, read-only or failing to read or write. A busy or locked file is
/// retried on the same connection.
fn reopen_cures(e: &WarehouseError) -> bool {
    let code = match e {
        WarehouseError::Open { .. } | WarehouseError::CreateDir { .. } => return true,
        WarehouseError::Sql(rusqlite::Error::SqliteFailure(f, _)) => f.code,
        _ => return false,
    };
    matches!(
        code,
        ErrorCode::NotADatabase
            | ErrorCode::DatabaseCorrupt
            | ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(dir: &Path) -> WarehouseDb {
        let tables = Arc::new(Tables::new(&crate::config::Config::default()));
        WarehouseDb::new(dir.join("warehouse.db"), tables)
    }

    fn tables_in(db: &WarehouseDb) -> Result<i64, WarehouseError> {
        db.with(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('LOAD_HISTORY', 'STOCK_MARKET_DATA')",
                [],
                |r| r.get(0),
            )?)
        })
    }

    #[test]
    fn a_file_that_is_not_a_database_fails_each_use_and_loads_once_it_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        std::fs::write(db.path(), vec![0x55; 8192]).unwrap();
        let e = tables_in(&db).unwrap_err();
        assert!(chain(&e).contains("not a database"), "{}", chain(&e));
        assert!(tables_in(&db).is_err(), "still broken: no connection was kept");
        std::fs::remove_file(db.path()).unwrap();
        assert_eq!(
            tables_in(&db).unwrap(),
            2,
            "opened again: tickstream's table and the listed topic's"
        );
    }

    #[test]
    fn a_new_file_after_a_failure_gets_its_tables_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        assert_eq!(tables_in(&db).unwrap(), 2);
        // The file failed under the running watcher (SQLite said it cannot open it), and a
        // person moved it aside: the next use opens a new file, with the tables made again.
        let failed = db.with::<()>(|_| {
            Err(WarehouseError::Sql(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                None,
            )))
        });
        assert!(failed.is_err());
        std::fs::rename(db.path(), dir.path().join("aside.db")).unwrap();
        let rows = db.with(|c| {
            let layout = db.tables.ready(c, "stock-market-data")?;
            Ok(
                c.query_row(&format!("SELECT COUNT(*) FROM {}", layout.sql_name()), [], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        });
        assert_eq!(rows.unwrap(), 0, "the listed topic's table is in the new file");
    }

    #[test]
    fn a_listed_topic_whose_table_is_taken_does_not_fail_the_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        Connection::open(db.path())
            .unwrap()
            .execute_batch("CREATE TABLE STOCK_MARKET_DATA (note TEXT)")
            .unwrap();
        let history: i64 = db
            .with(|c| Ok(c.query_row("SELECT COUNT(*) FROM LOAD_HISTORY", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(history, 0, "the warehouse opened; only that topic waits");
    }
}
