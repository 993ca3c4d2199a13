use super::*;
use crate::config::Config;
use crate::record::TopicPartition;
use crate::warehouse::load::{load_files, FetchedFile, LoadOutcome, LoadRules};

/// The warehouse exactly as tickstream 0.x (before records were data) created it.
const TICK_LAYOUT_V1: &str = "
    CREATE TABLE STOCK_MARKET_DATA (
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
        loaded_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE INDEX STOCK_MARKET_DATA_symbol_time ON STOCK_MARKET_DATA (symbol, timestamp);
    CREATE INDEX STOCK_MARKET_DATA_time ON STOCK_MARKET_DATA (timestamp);
    CREATE INDEX STOCK_MARKET_DATA_loaded ON STOCK_MARKET_DATA (loaded_at);
    CREATE INDEX STOCK_MARKET_DATA_identity ON STOCK_MARKET_DATA (run_id, symbol, seq);
    CREATE TABLE LOAD_HISTORY (
        s3_key      TEXT PRIMARY KEY,
        etag        TEXT,
        rows        INTEGER NOT NULL,
        status      TEXT    NOT NULL CHECK (status IN ('LOADED', 'LOAD_FAILED')),
        first_error TEXT,
        loaded_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE INDEX LOAD_HISTORY_loaded ON LOAD_HISTORY (loaded_at);
    CREATE TABLE PIPE_STATE (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        state       TEXT NOT NULL,
        last_poll   TEXT NOT NULL,
        last_error  TEXT,
        poll_interval_ms INTEGER NOT NULL
    );";

fn key(partition: i32, start: i64) -> String {
    format!("topics/stock-market-data/partition={partition}/stock-market-data+{partition}+{start:010}.json")
}

/// Writes what the old loader wrote: one row per tick, in file order, and a history entry.
fn write_v1(conn: &rusqlite::Connection, partition: i32, start: i64, seqs: std::ops::Range<i64>) {
    let k = key(partition, start);
    for seq in seqs.clone() {
        conn.execute(
            "INSERT INTO STOCK_MARKET_DATA (symbol, price, volume, change, timestamp, exchange, run_id, seq, s3_key, partition)
             VALUES ('AAPL', 150.25, 10, 0.5, '2026-11-22T10:00:00.000Z', 'NASDAQ', 'run-1', ?1, ?2, ?3)",
            params![seq, k, partition],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, status) VALUES (?1, NULL, ?2, 'LOADED')",
        params![k, seqs.end - seqs.start],
    )
    .unwrap();
}

#[test]
fn a_warehouse_in_the_tick_layout_is_migrated_in_place_with_every_row_and_its_identity() {
    let dir = std::env::temp_dir().join(format!("tickstream-migrate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("warehouse.db");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(TICK_LAYOUT_V1).unwrap();
        write_v1(&old, 0, 0, 0..3);
        write_v1(&old, 0, 3, 3..5);
        write_v1(&old, 1, 0, 5..7);
        old.execute(
            "INSERT INTO LOAD_HISTORY (s3_key, etag, rows, status, first_error) VALUES ('bad', NULL, 0, 'LOAD_FAILED', 'line 1')",
            [],
        )
        .unwrap();
    }
    let layout = TableLayout::for_topic(&Config::default(), "stock-market-data");
    let mut conn = crate::warehouse::schema::open(&path, std::slice::from_ref(&layout)).unwrap();

    let rows: Vec<(i32, i64, i64, String)> = conn
        .prepare("SELECT partition, offset, seq, RECORD_CONTENT ->> '$.symbol' FROM STOCK_MARKET_DATA ORDER BY partition, offset")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let identities: Vec<(i32, i64, i64)> = rows.iter().map(|(p, o, s, _)| (*p, *o, *s)).collect();
    assert_eq!(
        identities,
        vec![
            (0, 0, 0),
            (0, 1, 1),
            (0, 2, 2),
            (0, 3, 3),
            (0, 4, 4),
            (1, 0, 5),
            (1, 1, 6)
        ],
        "every row kept, its offset from its file's start and its place in the file"
    );
    assert!(
        rows.iter().all(|r| r.3 == "AAPL"),
        "RECORD_CONTENT rebuilt from the columns"
    );
    let meta: String = conn
        .query_row(
            "SELECT RECORD_METADATA FROM STOCK_MARKET_DATA WHERE partition = 0 AND offset = 4",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    assert_eq!(meta["topic"], "stock-market-data");
    assert_eq!(meta["offset"], 4);
    assert_eq!(meta["s3_key"], key(0, 3));
    let history: Vec<(String, String)> = conn
        .prepare("SELECT s3_key, status FROM LOAD_HISTORY ORDER BY s3_key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        history.len(),
        4,
        "the load history is kept: no file loads twice after the upgrade"
    );

    // The upgraded file loads new files, and a record it already has is not loaded again.
    let rules = LoadRules {
        reader: crate::format::Reader::lines(),
        on_error: crate::config::OnError::SkipFile,
        positional_offsets: true,
        companions: None,
    };
    let body = "{\"symbol\":\"MSFT\",\"price\":1.0}\n{\"symbol\":\"MSFT\",\"price\":2.0}\n";
    let overlapping = FetchedFile {
        key: "topics/stock-market-data/partition=0/stock-market-data+0+0000000004.json".into(),
        etag: None,
        tp: TopicPartition::new("stock-market-data", 0),
        start: 4,
        body: bytes::Bytes::from(body),
        companions: Default::default(),
    };
    let l = layout.clone();
    let loaded = load_files(&mut conn, &move |_| l.clone(), &rules, &[overlapping]).unwrap();
    assert_eq!(
        loaded[0].outcome,
        LoadOutcome::Loaded {
            rows: 1,
            rejected: 0,
            first_error: None
        },
        "offset 4 was migrated, offset 5 is new"
    );
    // Opening again changes nothing.
    drop(conn);
    let conn = crate::warehouse::schema::open(&path, &[layout]).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM STOCK_MARKET_DATA", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 8);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_foreign_table_of_the_same_name_is_refused_with_its_columns() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE STOCK_MARKET_DATA (id INTEGER, note TEXT)")
        .unwrap();
    let layout = TableLayout::for_topic(&Config::default(), "stock-market-data");
    let err = upgrade(&mut conn, &[layout]).unwrap_err().to_string();
    assert!(err.contains("STOCK_MARKET_DATA") && err.contains("id, note"), "{err}");
}

#[test]
fn file_names_give_their_topic_and_start_offset() {
    assert_eq!(
        file_identity("topics/a.b-c/partition=3/a.b-c+3+0000000042.json"),
        Some(("a.b-c".into(), 42))
    );
    assert_eq!(file_identity("topics/t/partition=0/notes.txt"), None);
}

#[test]
fn a_table_whose_offset_is_not_null_is_rebuilt_nullable_with_its_rows_and_indexes() {
    let dir = std::env::temp_dir().join(format!("tickstream-migrate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("warehouse.db");
    let layout = TableLayout::for_topic(&Config::default(), "stock-market-data");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        let ddl = layout.ddl();
        assert!(ddl.contains("offset    INTEGER,"), "{ddl}");
        old.execute_batch(&ddl.replace("offset    INTEGER,", "offset    INTEGER NOT NULL,"))
            .unwrap();
        old.execute(
            "INSERT INTO STOCK_MARKET_DATA (RECORD_CONTENT, RECORD_METADATA, symbol, topic, partition, offset, s3_key)
             VALUES ('{}', '{}', 'AAPL', 't', 0, 7, 'k')",
            [],
        )
        .unwrap();
    }
    let conn = crate::warehouse::schema::open(&path, std::slice::from_ref(&layout)).unwrap();
    conn.execute(
        "INSERT INTO STOCK_MARKET_DATA (RECORD_CONTENT, RECORD_METADATA, topic, partition, offset, s3_key)
         VALUES ('{}', '{}', 't', 0, NULL, 'k2')",
        [],
    )
    .expect("offset takes NULL now");
    let kept: (String, i64) = conn
        .query_row(
            "SELECT symbol, offset FROM STOCK_MARKET_DATA WHERE s3_key = 'k'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kept, ("AAPL".into(), 7));
    let indexes: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'STOCK_MARKET_DATA' AND sql IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(indexes >= 2, "the table's indexes are made again: {indexes}");
    std::fs::remove_dir_all(&dir).ok();
}
