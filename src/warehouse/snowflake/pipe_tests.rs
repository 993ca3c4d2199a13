use super::*;
use crate::warehouse::snowflake::sql_api::{interpret, Answer};

fn fixture(name: &str) -> ResultSet {
    let path = format!("{}/tests/fixtures/snowflake/{name}", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match interpret(200, &body) {
        Answer::Done { result, .. } => result,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn pipe_status_is_read_from_its_json_string() {
    let s = parse_pipe_status(&fixture("pipe_status_200.json")).unwrap();
    assert_eq!(s.execution_state, "RUNNING");
    assert_eq!(s.pending_file_count, 2);
    assert_eq!(
        s.last_ingested_file_path.as_deref(),
        Some("partition=1/stock-market-data+1+0000004200.json")
    );
    assert_eq!(s.num_outstanding_messages_on_channel, Some(1));
    assert!(s.notification_channel_name.unwrap().starts_with("arn:aws:sqs:"));
    assert_eq!(s.error, None);
}

#[test]
fn an_empty_or_foreign_pipe_status_is_an_error_not_a_default() {
    let empty = ResultSet::default();
    assert!(parse_pipe_status(&empty).unwrap_err().to_string().contains("no value"));
    let odd = ResultSet {
        rows: vec![vec![Some("not json".into())]],
        ..ResultSet::default()
    };
    assert!(parse_pipe_status(&odd).unwrap_err().to_string().contains("not json"));
}

#[test]
fn copy_history_rows_become_files() {
    let mut rs = fixture("copy_history_200.json");
    let more = std::fs::read(format!(
        "{}/tests/fixtures/snowflake/copy_history_partition_1.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let Answer::Done { result, .. } = interpret(200, &more) else {
        panic!("partition 1 is a result page")
    };
    rs.rows.extend(result.rows);
    let files = parse_copy_history(&rs).unwrap();
    assert_eq!(files.len(), 5);
    assert!(files[0].loaded() && files[0].row_count == 100);
    assert_eq!(files[0].last_load_ms, Some(1_795_329_600_120));
    assert!(!files[3].loaded());
    assert_eq!(
        files[3].first_error.as_deref(),
        Some("Error parsing JSON: incomplete object value")
    );
}

#[test]
fn our_status_counts_the_window_and_names_the_last_failure() {
    let pipe = parse_pipe_status(&fixture("pipe_status_200.json")).unwrap();
    let mut rs = fixture("copy_history_200.json");
    rs.rows.push(vec![
        Some("topics/stock-market-data/partition=0/stock-market-data+0+0000004200.json".into()),
        Some("Load failed".into()),
        Some("0".into()),
        Some("Error parsing JSON".into()),
        Some("1795329669410".into()),
    ]);
    let files = parse_copy_history(&rs).unwrap();
    let latency = parse_latency(&fixture("latency_200.json"));
    let s = to_pipe_status(&pipe, &files, latency);
    assert_eq!((s.loaded_files, s.loaded_rows, s.failed_files), (3, 300, 1));
    assert_eq!(s.pending_file_count, 2);
    assert_eq!(s.last_error.as_deref(), Some("Error parsing JSON"));
    assert!(s.last_failed_file_path.clone().unwrap().ends_with("+0000004200.json"));
    let l = s.latency.clone().unwrap();
    assert_eq!((l.rows, l.p50, l.p99), (8_400, 41.25, 63.12));
    assert!(s.render().contains("pendingFileCount        2"));
}

#[test]
fn no_rows_means_no_latency() {
    let rs = ResultSet {
        columns: vec!["ROWS_LOADED".into(), "P50".into()],
        rows: vec![vec![Some("0".into()), None]],
        ..ResultSet::default()
    };
    assert_eq!(parse_latency(&rs), None);
}

#[test]
fn the_statements_name_the_configured_objects() {
    let sf = SnowflakeConfig::default();
    assert_eq!(
        pipe_status_sql(&sf),
        "SELECT SYSTEM$PIPE_STATUS('KAFKA_DB.KAFKA_SCHEMA.STOCK_MARKET_PIPE') AS PIPE_STATUS"
    );
    let h = copy_history_sql(&sf, "STOCK_MARKET_DATA", 60);
    assert!(h.contains("KAFKA_DB.INFORMATION_SCHEMA.COPY_HISTORY("), "{h}");
    assert!(
        h.contains("TABLE_NAME => 'KAFKA_DB.KAFKA_SCHEMA.STOCK_MARKET_DATA'"),
        "{h}"
    );
    assert!(h.contains("DATEADD(minute, -60, CURRENT_TIMESTAMP())"), "{h}");
    assert!(latency_sql(&sf, "STOCK_MARKET_DATA").contains("FROM KAFKA_DB.KAFKA_SCHEMA.STOCK_MARKET_DATA"));
}
