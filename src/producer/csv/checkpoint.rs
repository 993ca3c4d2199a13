//! Where a replay goes on after a stop or a crash: the first row Kafka had not acknowledged,
//! in a small JSON file written beside the process's other state (replaced whole, by rename).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A replay's position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The replay's files, in order: a checkpoint of another list is not used.
    pub files: Vec<PathBuf>,
    /// How many times the replay went through them all (`loop`).
    pub pass: u64,
    /// The file and line (1 is the header) to go on from.
    pub file: usize,
    pub line: u64,
    /// The replay went through every file (without `loop`): nothing is left to send.
    #[serde(default)]
    pub finished: bool,
}

/// The checkpoint at `path`, if there is one; `Err` names the file and what is wrong.
pub fn load(path: &Path) -> Result<Option<Checkpoint>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: not a replay checkpoint: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes `cp` to `path` (a temporary file renamed over it: a crash leaves the old one or the
/// new one, never half of one).
pub fn save(path: &Path, cp: &Checkpoint) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(cp).map_err(std::io::Error::other)?)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_and_a_damaged_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/csv-replay.json");
        assert_eq!(load(&path).unwrap(), None);
        let cp = Checkpoint {
            files: vec!["a.csv".into(), "b.csv".into()],
            pass: 1,
            file: 1,
            line: 42,
            finished: false,
        };
        save(&path, &cp).unwrap();
        assert_eq!(load(&path).unwrap(), Some(cp));
        std::fs::write(&path, b"{\"files\":").unwrap();
        assert!(load(&path)
            .unwrap_err()
            .contains("csv-replay.json: not a replay checkpoint"));
    }
}
