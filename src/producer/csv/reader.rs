//! The replay's files read row by row, in order: each row a [`CsvRow`] with its place, or a bad
//! row counted and logged with file:line.

use std::fs::File;
use std::path::PathBuf;

use super::acks::RowId;
use super::rows::{ColumnNames, Columns, CsvRow};
use crate::telemetry::events;

/// What the next read gave.
#[derive(Debug)]
pub enum Next {
    Row(RowId, CsvRow),
    /// A row that is not a tick (logged and counted); what it was, unless an earlier run
    /// reported it already.
    Bad(Option<BadRow>),
    /// Past the last row of the last file (again at every call, until [`Reader::rewind`]).
    End,
}

/// A row that is not a tick, as it was in its file.
#[derive(Debug)]
pub struct BadRow {
    pub file: String,
    pub line: u64,
    /// The row's fields written back as CSV (empty when the file's bytes were not CSV at all).
    pub raw: Vec<u8>,
    pub why: String,
}

/// Bad rows of a file logged one by one; past them, one in a thousand.
const LOGGED_BAD_ROWS: u64 = 10;

pub struct Reader {
    files: Vec<PathBuf>,
    names: ColumnNames,
    /// The file read now (or next).
    file: usize,
    open: Option<Open>,
    /// Bad rows met since the start.
    bad_rows: u64,
    /// Rows before it were read by an earlier run (re-read to count `seq`): a bad one there was
    /// logged and counted then.
    quiet_before: Option<RowId>,
}

struct Open {
    rows: csv::Reader<File>,
    columns: Columns,
    record: csv::StringRecord,
    bad: u64,
}

impl Reader {
    pub fn new(files: Vec<PathBuf>, names: ColumnNames) -> Self {
        Self {
            files,
            names,
            file: 0,
            open: None,
            bad_rows: 0,
            quiet_before: None,
        }
    }

    /// Bad rows before `at` are passed over without a word (an earlier run reported them).
    pub fn quiet_before(&mut self, at: Option<RowId>) {
        self.quiet_before = at;
    }

    /// Bad rows met since the start (every pass).
    pub fn bad_rows(&self) -> u64 {
        self.bad_rows
    }

    /// Every row of every file (bad rows logged and counted).
    pub fn all_rows(mut self) -> Result<Vec<CsvRow>, String> {
        let mut rows = Vec::new();
        loop {
            match self.read()? {
                Next::Row(_, row) => rows.push(row),
                Next::Bad(_) => {}
                Next::End => return Ok(rows),
            }
        }
    }

    /// Back to the first row of the first file.
    pub fn rewind(&mut self) {
        (self.file, self.open) = (0, None);
    }

    /// The next row; `Err` names the file that cannot be opened or whose header has no
    /// column for a field.
    pub fn read(&mut self) -> Result<Next, String> {
        loop {
            let Some(path) = self.files.get(self.file) else {
                return Ok(Next::End);
            };
            let (file, quiet_before) = (self.file, self.quiet_before);
            let reported = |line: u64| quiet_before.is_none_or(|q| RowId::new(file, line) >= q);
            let open = match &mut self.open {
                Some(open) => open,
                None => self.open.insert(open(path, &self.names)?),
            };
            match open.rows.read_record(&mut open.record) {
                Ok(true) => {}
                Ok(false) => {
                    (self.file, self.open) = (self.file + 1, None);
                    continue;
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    if !reported(line) {
                        return Ok(Next::Bad(None));
                    }
                    self.bad_rows += 1;
                    return Ok(bad(path, line, Vec::new(), e.to_string(), &mut open.bad));
                }
            }
            let line = open.record.position().map_or(0, |p| p.line());
            return Ok(match open.columns.parse(&open.record) {
                Ok(row) => Next::Row(RowId::new(self.file, line), row),
                Err(_) if !reported(line) => Next::Bad(None),
                Err(why) => {
                    self.bad_rows += 1;
                    bad(path, line, as_csv(&open.record), why, &mut open.bad)
                }
            });
        }
    }
}

/// The file's reader past its header, and where each field's column is.
pub fn open_file(path: &std::path::Path, names: &ColumnNames) -> Result<(csv::Reader<File>, Columns), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let header = rows
        .headers()
        .map_err(|e| format!("{}: reading the header: {e}", path.display()))?
        .clone();
    let columns = Columns::find(&header, names).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((rows, columns))
}

fn open(path: &std::path::Path, names: &ColumnNames) -> Result<Open, String> {
    let (rows, columns) = open_file(path, names)?;
    Ok(Open {
        rows,
        columns,
        record: csv::StringRecord::new(),
        bad: 0,
    })
}

/// A record's fields as one CSV line (quoted where they need it), without its line ending.
fn as_csv(record: &csv::StringRecord) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    if w.write_record(record).is_err() {
        return Vec::new();
    }
    let mut raw = w.into_inner().unwrap_or_default();
    while raw.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        raw.pop();
    }
    raw
}

fn bad(path: &std::path::Path, line: u64, raw: Vec<u8>, why: String, count: &mut u64) -> Next {
    *count += 1;
    if *count <= LOGGED_BAD_ROWS || (*count).is_multiple_of(1_000) {
        tracing::warn!(
            file = %path.display(),
            line,
            bad_rows_in_file = *count,
            "skipping a row that is not a tick: {why}"
        );
    }
    events::csv_row_bad();
    Next::Bad(Some(BadRow {
        file: path.display().to_string(),
        line,
        raw,
        why,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(r: &mut Reader) -> Vec<Next> {
        let mut out = Vec::new();
        loop {
            match r.read().unwrap() {
                Next::End => return out,
                n => out.push(n),
            }
        }
    }

    #[test]
    fn rows_come_in_order_with_their_place_and_bad_rows_before_a_resume_are_not_reported_again() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        std::fs::write(&a, "symbol,price,timestamp\nX,1,2026-12-01\nX,oops,2026-12-01\n").unwrap();
        std::fs::write(&b, "Name,Close,Date\nY,2,2026-12-02\n").unwrap();
        let mut r = Reader::new(vec![a, b], ColumnNames::default());
        let rows = read_all(&mut r);
        let places: Vec<String> = rows
            .iter()
            .map(|n| match n {
                Next::Row(id, row) => format!("{}:{} {}", id.file(), id.line(), row.symbol),
                Next::Bad(Some(b)) => format!("bad {}:{} {}", b.line, String::from_utf8_lossy(&b.raw), b.why),
                Next::Bad(None) => "bad, reported before".into(),
                Next::End => "end".into(),
            })
            .collect();
        assert_eq!(
            places,
            [
                "0:2 X",
                "bad 3:X,oops,2026-12-01 price: \"oops\" is not a price",
                "1:2 Y"
            ]
        );
        assert_eq!(r.bad_rows(), 1);
        let mut resumed = Reader::new(r.files.clone(), ColumnNames::default());
        resumed.quiet_before(Some(RowId::new(1, 2)));
        assert_eq!(read_all(&mut resumed).len(), 3);
        assert_eq!(resumed.bad_rows(), 0, "reported by the run before");
        r.rewind();
        assert_eq!(read_all(&mut r).len(), 3, "a new pass reads every file again");
    }
}
