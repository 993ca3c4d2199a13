//! One writer per warehouse file. Instances scaled out in one consumer group each run an
//! ingestion watcher; pointed at one SQLite file, only the one holding its lease loads. The
//! lease is an exclusive lock on `<warehouse>.lease` beside the file (the operating system
//! releases it when the holder exits, killed or not), and the file names the holder. The others
//! stand by: they write nothing, `/readyz` and `tickstream status` say who loads, and each poll
//! tries the lease again, so one of them takes over within a poll interval of the holder
//! stopping. Each file is still loaded exactly once: LOAD_HISTORY is in the warehouse itself.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::telemetry::reachability::{Dependency, Reachability};

/// What this watcher is for the warehouse file.
#[derive(Debug, PartialEq, Eq)]
pub enum Role {
    /// It holds the lease (`taken_now`: it took it at this call).
    Writer { taken_now: bool },
    /// Another process holds it; `holder` is what that process wrote (pid, host, since when).
    Standby { holder: String },
}

/// The lease on one warehouse file, held from the first successful [`Lease::take`] until drop.
#[derive(Debug)]
pub struct Lease {
    path: PathBuf,
    held: Mutex<Option<File>>,
}

impl Lease {
    /// The lease of the warehouse at `db`: the file `<db>.lease`.
    pub fn beside(db: &Path) -> Self {
        Self {
            path: lease_path(db),
            held: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the lease if no other process holds it (idempotent once held).
    pub fn take(&self) -> Result<Role, std::io::Error> {
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.is_some() {
            return Ok(Role::Writer { taken_now: false });
        }
        let mut file = open(&self.path)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)?;
                file.rewind()?;
                writeln!(file, "{}", identity())?;
                *held = Some(file);
                Ok(Role::Writer { taken_now: true })
            }
            Err(TryLockError::WouldBlock) => Ok(Role::Standby {
                holder: read_holder(&mut file),
            }),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

/// Whether the watcher may load now: it holds `lease` (or there is none: a warehouse that is
/// not a local file). A change of role is logged once and shown by `/readyz`; a lease that
/// cannot even be tried (its directory unwritable) counts as the warehouse failing.
pub fn may_load(lease: Option<&Lease>, reach: &Reachability) -> Result<bool, String> {
    let Some(lease) = lease else {
        return Ok(true);
    };
    match lease.take() {
        Ok(Role::Writer { taken_now }) => {
            if taken_now {
                tracing::info!(lease = %lease.path().display(), "this instance loads the warehouse (it holds its lease)");
            }
            reach.set_note(Dependency::Warehouse, None);
            Ok(true)
        }
        Ok(Role::Standby { holder }) => {
            let note = format!("standby: {holder} loads it; this instance takes over when that one stops");
            if reach.set_note(Dependency::Warehouse, Some(note.clone())) {
                tracing::info!(lease = %lease.path().display(), "warehouse {note}");
            }
            Ok(false)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Who holds the lease of the warehouse at `db`, if a process does (for `tickstream status`).
pub fn holder(db: &Path) -> Option<String> {
    let mut file = OpenOptions::new().read(true).open(lease_path(db)).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None, // free (released again as `file` closes)
        Err(_) => Some(read_holder(&mut file)),
    }
}

fn lease_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lease");
    PathBuf::from(name)
}

fn open(path: &Path) -> Result<File, std::io::Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating {} for the warehouse lease: {e}", dir.display()),
            )
        })?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("opening the warehouse lease {}: {e}", path.display())))
}

fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.take(512).read_to_string(&mut text);
    match text.trim() {
        "" => "another process".to_owned(),
        t => t.to_owned(),
    }
}

/// `pid 4242 on host-a since 2026-12-06T18:00:00Z`.
fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "this host".to_owned());
    format!(
        "pid {} on {host} since {}",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_next_takes_over_when_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("warehouse.db");
        let (first, second) = (Lease::beside(&db), Lease::beside(&db));
        assert_eq!(holder(&db), None, "nobody holds it yet");
        assert_eq!(first.take().unwrap(), Role::Writer { taken_now: true });
        assert_eq!(first.take().unwrap(), Role::Writer { taken_now: false });
        let Role::Standby { holder: who } = second.take().unwrap() else {
            panic!("two writers");
        };
        assert!(who.starts_with(&format!("pid {} on ", std::process::id())), "{who}");
        assert_eq!(holder(&db).as_deref(), Some(who.as_str()), "status names the holder");
        drop(first);
        assert_eq!(holder(&db), None);
        assert_eq!(second.take().unwrap(), Role::Writer { taken_now: true }, "takes over");
        assert_eq!(first_line(&db), holder(&db).unwrap());
    }

    fn first_line(db: &Path) -> String {
        std::fs::read_to_string(lease_path(db)).unwrap().trim().to_owned()
    }
}
