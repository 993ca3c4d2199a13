//! A warehouse table for any records, in the Snowflake Kafka connector's layout:
//! `RECORD_CONTENT` (the record as written, JSON; SQLite's `json_extract` and `->>` query it),
//! `RECORD_METADATA` (`{"topic", "partition", "offset", "s3_key"}`), the typed columns the
//! configuration declares, and the row's identity `(topic, partition, offset)`, unique: a record
//! is loaded once even if two files hold it. Under `field` and `time` partitioners a row's
//! offset is not in its file: it comes from the metadata file beside it (`store.kafka.metadata`),
//! or else is NULL (and `RECORD_METADATA` names the row of the file), and only the file loading
//! once (by its key) keeps a record from loading twice.

use std::collections::HashSet;
use std::sync::Mutex;

use rusqlite::Connection;

use super::schema::NOW_MS;
use super::WarehouseError;
use crate::config::{Column, Config, WarehouseConfig};

/// One topic's table: its name and typed columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableLayout {
    pub table: String,
    pub columns: Vec<Column>,
}

impl TableLayout {
    /// The table `topic` lands in under `config`.
    pub fn for_topic(config: &Config, topic: &str) -> Self {
        Tables::new(config).layout(topic)
    }

    fn has(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The table's name quoted for SQL text: any name a topic maps to (`"1M_BARS"`, `"ORDER"`).
    pub fn sql_name(&self) -> String {
        quoted(&self.table)
    }

    /// The table and its indexes (`CREATE … IF NOT EXISTS`).
    pub fn ddl(&self) -> String {
        let t = self.sql_name();
        let index = |suffix: &str| quoted(&format!("{}_{suffix}", self.table));
        let typed: String = self
            .columns
            .iter()
            .map(|c| format!("            {} {},\n", c.name, c.kind.sql()))
            .collect();
        let mut out = format!(
            "CREATE TABLE IF NOT EXISTS {t} (
            RECORD_CONTENT  TEXT    NOT NULL,
            RECORD_METADATA TEXT    NOT NULL,
{typed}            topic     TEXT    NOT NULL,
            partition INTEGER NOT NULL,
            offset    INTEGER,
            s3_key    TEXT    NOT NULL,
            loaded_at TEXT    NOT NULL DEFAULT ({NOW_MS}),
            UNIQUE (topic, partition, offset)
        );
        CREATE INDEX IF NOT EXISTS {loaded} ON {t} (loaded_at);\n",
            loaded = index("loaded")
        );
        if self.has("timestamp") {
            let time = index("time");
            out.push_str(&format!("CREATE INDEX IF NOT EXISTS {time} ON {t} (timestamp);\n"));
            if self.has("symbol") {
                let symbol_time = index("symbol_time");
                out.push_str(&format!(
                    "CREATE INDEX IF NOT EXISTS {symbol_time} ON {t} (symbol, timestamp);\n"
                ));
            }
        }
        if self.has("run_id") && self.has("symbol") && self.has("seq") {
            let identity = index("identity");
            out.push_str(&format!(
                "CREATE INDEX IF NOT EXISTS {identity} ON {t} (run_id, symbol, seq);\n"
            ));
        }
        out
    }

    /// `INSERT OR IGNORE` of one row: content, metadata, the typed columns in order, then
    /// topic, partition, offset, s3_key (a record already loaded is ignored by its identity).
    pub fn insert_sql(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        let n = names.len();
        let params: Vec<String> = (1..=n + 6).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT OR IGNORE INTO {} (RECORD_CONTENT, RECORD_METADATA{}{}, topic, partition, offset, s3_key) VALUES ({})",
            self.sql_name(),
            if n > 0 { ", " } else { "" },
            names.join(", "),
            params.join(", ")
        )
    }

    /// Creates the table if it is not there.
    pub fn ensure(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(&self.ddl())
    }
}

/// Every topic's table: which it is, and whether this process made sure it exists.
#[derive(Debug)]
pub struct Tables {
    warehouse: WarehouseConfig,
    /// The first topic of `sink.topics` (it lands in `warehouse.table`).
    first_topic: Option<String>,
    /// The topics of `sink.topics` (empty under `topics.regex`).
    listed: Vec<String>,
    ready: Mutex<HashSet<String>>,
}

impl Tables {
    pub fn new(config: &Config) -> Self {
        let listed = config.sink.topic_list();
        Self {
            warehouse: config.warehouse.clone(),
            first_topic: listed.first().cloned(),
            listed,
            ready: Mutex::new(HashSet::new()),
        }
    }

    /// The table `topic` lands in.
    pub fn layout(&self, topic: &str) -> TableLayout {
        TableLayout {
            table: self.warehouse.table_for(topic, self.first_topic.as_deref()),
            columns: self.warehouse.columns_for(topic).to_vec(),
        }
    }

    /// The topics of `sink.topics` (none under `topics.regex`).
    pub fn listed_topics(&self) -> &[String] {
        &self.listed
    }

    /// The tables of the listed topics (each once: two topics may share a table).
    pub fn listed(&self) -> Vec<TableLayout> {
        let mut out: Vec<TableLayout> = Vec::new();
        for t in &self.listed {
            let l = self.layout(t);
            if !out.iter().any(|o| o.table == l.table) {
                out.push(l);
            }
        }
        out
    }

    /// Forgets which tables were made ready: the connection is new (the file may be too).
    pub fn forget_ready(&self) {
        if let Ok(mut r) = self.ready.lock() {
            r.clear();
        }
    }

    /// `topic`'s table, upgraded or created in `conn` the first time this process asks.
    pub fn ready(&self, conn: &mut Connection, topic: &str) -> Result<TableLayout, WarehouseError> {
        let layout = self.layout(topic);
        let known = self.ready.lock().map(|r| r.contains(topic)).unwrap_or(false);
        if !known {
            super::migrate::upgrade(conn, std::slice::from_ref(&layout))?;
            layout.ensure(conn)?;
            if let Ok(mut r) = self.ready.lock() {
                r.insert(topic.to_owned());
            }
        }
        Ok(layout)
    }
}

/// `name` as an SQL identifier in double quotes (a `"` in it doubled): SQLite takes any name so,
/// a keyword or one that starts with a digit too, and matches it as it matches a bare name
/// (without regard to ASCII case), so quoting changes no existing table's name.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The columns `table` has in `conn` (empty when it does not exist).
pub fn existing_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quoted(table)))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    names.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_table_has_the_connector_layout_its_columns_and_a_unique_identity() {
        let layout = TableLayout::for_topic(&Config::default(), "stock-market-data");
        assert_eq!(layout.table, "STOCK_MARKET_DATA");
        let conn = Connection::open_in_memory().unwrap();
        layout.ensure(&conn).unwrap();
        let cols = existing_columns(&conn, "STOCK_MARKET_DATA").unwrap();
        for c in [
            "RECORD_CONTENT",
            "RECORD_METADATA",
            "symbol",
            "price",
            "timestamp",
            "seq",
            "topic",
            "partition",
            "offset",
        ] {
            assert!(cols.iter().any(|x| x == c), "{c} in {cols:?}");
        }
        let insert = layout.insert_sql();
        let row = |offset: i64| {
            let mut v: Vec<rusqlite::types::Value> = vec!["{}".to_owned().into(), "{}".to_owned().into()];
            v.extend(std::iter::repeat_n(rusqlite::types::Value::Null, layout.columns.len()));
            v.extend([
                "t".to_owned().into(),
                0_i64.into(),
                offset.into(),
                "k".to_owned().into(),
            ]);
            v
        };
        for offset in [5, 5, 6] {
            conn.execute(&insert, rusqlite::params_from_iter(row(offset))).unwrap();
        }
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM STOCK_MARKET_DATA", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2, "(topic, partition, offset) is loaded once");
    }

    #[test]
    fn other_topics_get_a_table_named_for_them_unless_mapped() {
        let mut c = Config::default();
        c.sink.topics = "stock-market-data, finnhub-trades,csv.replay".into();
        c.warehouse.tables.insert("csv.replay".into(), "PRICES".into());
        assert_eq!(
            TableLayout::for_topic(&c, "stock-market-data").table,
            "STOCK_MARKET_DATA"
        );
        assert_eq!(TableLayout::for_topic(&c, "finnhub-trades").table, "FINNHUB_TRADES");
        assert_eq!(TableLayout::for_topic(&c, "csv.replay").table, "PRICES");
    }

    #[test]
    fn a_topic_whose_table_name_is_a_keyword_or_starts_with_a_digit_gets_its_table() {
        let c = Config::default();
        let conn = Connection::open_in_memory().unwrap();
        for (topic, table) in [("order", "ORDER"), ("1m-bars", "1M_BARS"), ("group.by", "GROUP_BY")] {
            let layout = TableLayout::for_topic(&c, topic);
            assert_eq!(layout.table, table);
            layout.ensure(&conn).unwrap_or_else(|e| panic!("{topic}: {e}"));
            layout.ensure(&conn).expect("again: IF NOT EXISTS");
            assert!(existing_columns(&conn, table)
                .unwrap()
                .contains(&"RECORD_CONTENT".to_owned()));
            let mut row: Vec<rusqlite::types::Value> = vec!["{}".to_owned().into(), "{}".to_owned().into()];
            row.extend(std::iter::repeat_n(rusqlite::types::Value::Null, layout.columns.len()));
            row.extend(["t".to_owned().into(), 0_i64.into(), 1_i64.into(), "k".to_owned().into()]);
            conn.execute(&layout.insert_sql(), rusqlite::params_from_iter(row))
                .unwrap();
            let n: i64 = conn
                .query_row(&format!("SELECT COUNT(*) FROM {}", quoted(table)), [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1, "{topic}");
        }
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
