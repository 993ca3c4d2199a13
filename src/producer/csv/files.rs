//! The files a replay reads: one path, or a glob whose last part has `*` or `?`, in name order.

use std::path::{Path, PathBuf};

/// The files `pattern` names, sorted; `Err` says what is wrong (no such file, a directory
/// that cannot be read, a glob that matches nothing).
pub fn resolve(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(pattern);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return match path.is_file() {
            true => Ok(vec![path.to_owned()]),
            false => Err(format!("{pattern}: no such file")),
        };
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| p.file_name().is_some_and(|n| matches(&name, &n.to_string_lossy())))
        .collect();
    files.sort();
    match files.is_empty() {
        true => Err(format!("{pattern}: matches no file")),
        false => Ok(files),
    }
}

/// Whether `name` matches `glob` (`*`: any run of characters, `?`: one character).
fn matches(glob: &str, name: &str) -> bool {
    let (g, n): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    // Classic wildcard matching with one backtrack point for the last `*`.
    let (mut gi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == n[ni]) {
            (gi, ni) = (gi + 1, ni + 1);
        } else if gi < g.len() && g[gi] == '*' {
            (star, mark) = (Some(gi), ni);
            gi += 1;
        } else if let Some(s) = star {
            (gi, mark) = (s + 1, mark + 1);
            ni = mark;
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// `csv-<8 hex digits of the files' names>-<pass>`: the same files replayed again in a new pass
/// are new ticks; the same row sent twice has the same identity.
pub fn run_id(files: &[PathBuf], pass: u64) -> std::sync::Arc<str> {
    let mut h: u32 = 0x811c_9dc5;
    for f in files {
        for b in f.to_string_lossy().bytes().chain([0]) {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    format!("csv-{h:08x}-{pass}").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_names_the_matching_files_in_order() {
        assert!(matches("*.csv", "a.csv") && matches("day-??.csv", "day-01.csv") && matches("*", ""));
        assert!(!matches("*.csv", "a.csv.bak") && !matches("day-?.csv", "day-01.csv"));
        let dir = tempfile::tempdir().unwrap();
        for f in ["b.csv", "a.csv", "notes.txt"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        let glob = dir.path().join("*.csv");
        let files = resolve(&glob.to_string_lossy()).unwrap();
        assert_eq!(files, vec![dir.path().join("a.csv"), dir.path().join("b.csv")]);
        let none = dir.path().join("*.parquet");
        assert!(resolve(&none.to_string_lossy())
            .unwrap_err()
            .ends_with("matches no file"));
        let missing = dir.path().join("c.csv");
        assert!(resolve(&missing.to_string_lossy())
            .unwrap_err()
            .ends_with("no such file"));
    }
}
