//! Loading files: every row of a file and its LOAD_HISTORY entry commit together, or nothing does.
//! A key already in LOAD_HISTORY is skipped (Snowpipe semantics: a path loads once); a row
//! already in its table (same topic, partition, offset) is ignored, so no record is loaded twice
//! even from two overlapping files.
//!
//! Each line of a data file is one record (a Parquet file is read as one JSON line per row:
//! its `RECORD_CONTENT`, or an object of its typed columns); its offset is the file's start offset (in its key)
//! plus the line's index, since under the default partitioner (and `Wallclock`) the sink only
//! writes consecutive offsets into a file. Under `field` and `time` partitioners a file holds
//! its directory's records among others', so a row's offset is not in the file: it is NULL, and
//! `RECORD_METADATA` names the file and the row (`s3_key`, `row`), which is what Snowpipe knows
//! of a file it loads. The file still loads once, by its key. A line that
//! is not JSON, or a value that cannot take its column's type, follows `warehouse.on_error`:
//! `skip_file` records the file LOAD_FAILED with that first error (Snowpipe's `ON_ERROR =
//! SKIP_FILE`), `continue` leaves the row out, loads the rest and records the file
//! PARTIALLY_LOADED with its count of rejected rows. A bad file never blocks the files after it.

use rusqlite::types::Value as Sql;
use rusqlite::{params, params_from_iter, Connection};
use serde_json::Value;

use super::table::TableLayout;
use super::values::column_value;
use super::WarehouseError;
use crate::config::{ColumnType, OnError};
use crate::format::companions::Beside;
use crate::format::{FileRecords, Reader};
use crate::record::{RecordError, TopicPartition};

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadOutcome {
    /// `rejected` rows were left out (`on_error = continue`); `first_error` says why.
    Loaded {
        rows: usize,
        rejected: usize,
        first_error: Option<String>,
    },
    AlreadyLoaded,
    Failed {
        first_error: String,
    },
}

/// One fetched object, ready to load.
#[derive(Clone, Debug)]
pub struct FetchedFile {
    pub key: String,
    pub etag: Option<String>,
    pub tp: TopicPartition,
    /// The offset of its first record (from its key).
    pub start: i64,
    pub body: bytes::Bytes,
    /// Its keys, headers and metadata files' lines (`store.kafka.keys`, …), one per record,
    /// where there is such a file.
    pub companions: Beside<Option<Vec<Value>>>,
}

/// What loading one file did, and each loaded row's seconds from its timestamp to its load.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub key: String,
    pub outcome: LoadOutcome,
    pub latencies_s: Vec<f64>,
}

/// How the loader reads and where rows go.
#[derive(Clone, Debug)]
pub struct LoadRules {
    /// How a file is read back and split into records (a raw-value file at
    /// `format.bytearray.separator`).
    pub reader: Reader,
    pub on_error: OnError,
    /// A row's offset is its file's start offset plus its place (files of consecutive offsets:
    /// the default partitioner, `Wallclock`); false under `field` and `time` partitioners.
    pub positional_offsets: bool,
    /// `store.kafka.keys`, `store.kafka.headers`: the files whose lines go into
    /// `RECORD_METADATA` (`key`, `headers`), as the Snowflake Kafka connector puts them there.
    pub companions: Option<crate::format::companions::Companions>,
}

/// One row: its values in [`TableLayout::insert_sql`] order, and its timestamp column's value.
struct Row {
    values: Vec<Sql>,
    timestamp: Option<String>,
}

/// The row of one record of `file` (at `offset`, or at a row of its file), or why it cannot
/// be loaded.
fn row(
    layout: &TableLayout,
    f: &FetchedFile,
    offset: Result<i64, usize>,
    raw: &[u8],
    file: &FileRecords,
) -> Result<Row, RecordError> {
    let by_name = file.by_column_name;
    let (content, value) = match file.raw {
        false => {
            let text = std::str::from_utf8(raw).map_err(|e| RecordError::NotUtf8(e.to_string()))?;
            let text = text.strip_suffix('\r').unwrap_or(text);
            let value: Value = serde_json::from_str(text).map_err(RecordError::not_json)?;
            (text.to_owned(), value)
        }
        true => {
            let value = Value::String(String::from_utf8_lossy(raw).into_owned());
            (value.to_string(), value)
        }
    };
    let mut metadata = match offset {
        Ok(offset) => serde_json::json!({
            "topic": &*f.tp.topic,
            "partition": f.tp.partition,
            "offset": offset,
            "s3_key": f.key,
        }),
        Err(row) => serde_json::json!({
            "topic": &*f.tp.topic,
            "partition": f.tp.partition,
            "offset": null,
            "s3_key": f.key,
            "row": row,
        }),
    };
    add_companions(
        &mut metadata,
        f,
        offset.map_or_else(|row| row, |o| (o - f.start) as usize),
    );
    let mut values = Vec::with_capacity(layout.columns.len() + 6);
    values.push(Sql::Text(content));
    values.push(Sql::Text(metadata.to_string()));
    let mut timestamp = None;
    for c in &layout.columns {
        let v = column_value(&value, c, by_name)?;
        if c.kind == ColumnType::Timestamp && c.name.eq_ignore_ascii_case("timestamp") {
            if let Sql::Text(t) = &v {
                timestamp = Some(t.clone());
            }
        }
        values.push(v);
    }
    values.extend([
        Sql::Text(f.tp.topic.to_string()),
        Sql::Integer(f.tp.partition.into()),
        offset.map_or(Sql::Null, Sql::Integer),
        Sql::Text(f.key.clone()),
    ]);
    Ok(Row { values, timestamp })
}

/// `f` without companion files of another line count than its data file's, or a metadata file
/// whose first offset is not the data file's: they are not this data file's.
fn aligned<'a>(f: &'a FetchedFile, file: &FileRecords) -> std::borrow::Cow<'a, FetchedFile> {
    let c = &f.companions;
    if c.keys.is_none() && c.headers.is_none() && c.metadata.is_none() {
        return std::borrow::Cow::Borrowed(f);
    }
    let n = file.iter().count();
    let fits = |lines: &Option<Vec<Value>>| lines.clone().filter(|l| l.len() == n);
    let starts_here = |lines: &Vec<Value>| lines.first().and_then(|l| l.get("offset")?.as_i64()) == Some(f.start);
    std::borrow::Cow::Owned(FetchedFile {
        companions: Beside {
            keys: fits(&c.keys),
            headers: fits(&c.headers),
            metadata: fits(&c.metadata).filter(starts_here),
        },
        ..f.clone()
    })
}

/// Row `row`'s offset from the metadata file beside its data file, when there is one.
fn line_offset(f: &FetchedFile, row: usize) -> Option<i64> {
    f.companions.metadata.as_ref()?.get(row)?.get("offset")?.as_i64()
}

/// The record's key, headers and timestamp from its data file's companion files (line `row`),
/// as the Snowflake Kafka connector writes them: `key` as written, `headers` an object of names
/// to values, `CreateTime` (or `LogAppendTime`) in ms. Files whose line count differs from the
/// data file's are not used.
fn add_companions(metadata: &mut Value, f: &FetchedFile, row: usize) {
    let line = |lines: &Option<Vec<Value>>| lines.as_ref().and_then(|l| l.get(row)).cloned();
    if let Some(key) = line(&f.companions.keys) {
        metadata["key"] = key;
    }
    if let Some(Value::Array(list)) = line(&f.companions.headers) {
        let headers: serde_json::Map<String, Value> = list
            .iter()
            .filter_map(|h| Some((h.get("key")?.as_str()?.to_owned(), h.get("value")?.clone())))
            .collect();
        metadata["headers"] = Value::Object(headers);
    }
    if let Some(Value::Object(stamp)) = line(&f.companions.metadata) {
        for (kind, ms) in stamp {
            if matches!(kind.as_str(), "CreateTime" | "LogAppendTime") && ms.is_i64() {
                metadata[kind] = ms;
            }
        }
    }
}

/// Loads each of `files` exactly once, all in one transaction: every file's rows and its
/// LOAD_HISTORY entry commit together, or nothing does. One commit for a whole poll's files,
/// not one per file: at 1,000 symbols × 64 partitions a poll finds dozens of small files.
/// `table_of` gives each topic's table (created beforehand).
pub fn load_files(
    conn: &mut Connection,
    table_of: &dyn Fn(&str) -> TableLayout,
    rules: &LoadRules,
    files: &[FetchedFile],
) -> Result<Vec<Loaded>, WarehouseError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut done = Vec::with_capacity(files.len());
    for f in files {
        let layout = table_of(&f.tp.topic);
        let (outcome, latencies_s) = load_in(&tx, &layout, rules, f)?;
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
    layout: &TableLayout,
    rules: &LoadRules,
    f: &FetchedFile,
) -> Result<(LoadOutcome, Vec<f64>), WarehouseError> {
    let known = tx
        .prepare_cached("SELECT 1 FROM LOAD_HISTORY WHERE s3_key = ?1")?
        .exists([&f.key])?;
    if known {
        return Ok((LoadOutcome::AlreadyLoaded, Vec::new()));
    }
    let file = match rules.reader.read(&f.key, f.body.clone()) {
        Ok(file) => file,
        Err(e) => {
            // Not a gzip, zstd or Parquet file after all: nothing of it can load, whatever
            // `on_error` says.
            let first_error = format!("cannot be read: {}", crate::error::chain(&e));
            tx.execute(
                "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, rows_rejected, status, first_error)
                 VALUES (?1, ?2, 0, 0, 'LOAD_FAILED', ?3)",
                params![f.key, f.etag, first_error],
            )?;
            return Ok((LoadOutcome::Failed { first_error }, Vec::new()));
        }
    };
    let f = &*aligned(f, &file);
    let mut rows = Vec::new();
    let (mut rejected, mut first_error) = (0usize, None);
    for (i, raw) in file.iter().enumerate() {
        // A file of consecutive offsets gives each row's; under `field` and `time` a metadata
        // file beside it does (`store.kafka.metadata`); else the row's place in its file.
        let offset = match rules.positional_offsets {
            true => Ok(f.start + i as i64),
            false => line_offset(f, i).ok_or(i),
        };
        match row(layout, f, offset, raw, &file) {
            Ok(r) => rows.push(r),
            Err(e) => {
                rejected += 1;
                first_error.get_or_insert_with(|| format!("line {}: {e}", i + 1));
            }
        }
    }
    if let (OnError::SkipFile, Some(first_error)) = (rules.on_error, &first_error) {
        tx.execute(
            "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, rows_rejected, status, first_error)
             VALUES (?1, ?2, 0, ?3, 'LOAD_FAILED', ?4)",
            params![f.key, f.etag, rejected as i64, first_error],
        )?;
        let first_error = first_error.clone();
        return Ok((LoadOutcome::Failed { first_error }, Vec::new()));
    }
    let mut insert = tx.prepare_cached(&layout.insert_sql())?;
    let now = chrono::Utc::now();
    let mut latencies_s = Vec::new();
    let mut loaded = 0usize;
    for r in rows {
        if insert.execute(params_from_iter(r.values))? == 0 {
            continue; // loaded before, from another file
        }
        loaded += 1;
        if let Some(t) = r.timestamp.and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok()) {
            latencies_s.push((now - t.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0) as f64 / 1e6);
        }
    }
    let status = if rejected > 0 { "PARTIALLY_LOADED" } else { "LOADED" };
    tx.execute(
        "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, rows_rejected, status, first_error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![f.key, f.etag, loaded as i64, rejected as i64, status, first_error],
    )?;
    let outcome = LoadOutcome::Loaded {
        rows: loaded,
        rejected,
        first_error,
    };
    Ok((outcome, latencies_s))
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
#[path = "load_tests.rs"]
mod tests;
