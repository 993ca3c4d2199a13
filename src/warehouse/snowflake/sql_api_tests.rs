use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/snowflake/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cfg() -> SqlApiConfig {
    SqlApiConfig {
        base_url: "https://myorg-myaccount.snowflakecomputing.com".into(),
        database: "KAFKA_DB".into(),
        schema: "KAFKA_SCHEMA".into(),
        warehouse: Some("MONITOR_WH".into()),
        role: None,
        statement_timeout_s: 60,
    }
}

#[test]
fn the_body_carries_statement_context_and_timeout() {
    let body = statement_body("SELECT 1", &cfg());
    assert_eq!(body["statement"], "SELECT 1");
    assert_eq!(body["timeout"], 60);
    assert_eq!(
        (body["database"].as_str(), body["schema"].as_str()),
        (Some("KAFKA_DB"), Some("KAFKA_SCHEMA"))
    );
    assert_eq!(body["warehouse"], "MONITOR_WH");
    assert!(body.get("role").is_none(), "no role: the user's default");
}

#[test]
fn a_200_result_set_has_columns_rows_and_partitions() {
    let Answer::Done { result, partitions } = interpret(200, &fixture("copy_history_200.json")) else {
        panic!("a result")
    };
    assert_eq!(partitions, 2);
    assert_eq!(result.handle, "01b8a0f2-0001-4a7e-0000-00012a3b4c6e");
    assert_eq!(result.columns[0], "FILE_NAME");
    assert_eq!(result.rows.len(), 3);
    assert_eq!(result.get(0, "status"), Some("Loaded"));
    assert_eq!(result.get(0, "FIRST_ERROR_MESSAGE"), None, "SQL NULL is None");
    assert_eq!(result.get(9, "STATUS"), None);
}

#[test]
fn a_202_is_a_statement_to_poll() {
    match interpret(202, &fixture("statement_202.json")) {
        Answer::Running { handle, status_url } => {
            assert_eq!(handle, "01b8a0f2-0001-4a7e-0000-00012a3b4c6e");
            assert_eq!(status_url, format!("/api/v2/statements/{handle}"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_422_names_the_code_the_message_and_the_sql_state() {
    let Answer::Failed(e) = interpret(422, &fixture("error_422.json")) else {
        panic!("a failure")
    };
    let m = e.to_string();
    assert!(
        m.starts_with("snowflake answered HTTP 422 (code 002003): SQL compilation error"),
        "{m}"
    );
    assert!(
        m.contains("does not exist or not authorized") && m.contains("sqlState 02000"),
        "{m}"
    );
}

#[test]
fn a_401_points_at_the_key_registration() {
    let Answer::Failed(e) = interpret(401, &fixture("error_401.json")) else {
        panic!("a failure")
    };
    let m = e.to_string();
    assert!(
        m.contains("JWT token is invalid") && m.contains("RSA_PUBLIC_KEY_FP"),
        "{m}"
    );
}

#[test]
fn throttling_timeouts_and_server_errors_are_retried() {
    for status in [408, 429, 500, 502, 503, 504] {
        assert!(
            matches!(interpret(status, &fixture("error_429.json")), Answer::Retry(_)),
            "{status}"
        );
    }
    assert!(matches!(interpret(503, b"<html>busy</html>"), Answer::Retry(m) if m.contains("busy")));
}

#[test]
fn a_200_that_is_not_json_is_an_error() {
    let Answer::Failed(e) = interpret(200, b"<html>proxy login</html>") else {
        panic!("a failure")
    };
    assert!(e.to_string().contains("proxy login"), "{e}");
}
