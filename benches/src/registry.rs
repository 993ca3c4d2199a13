//! The Schema Registry the Avro contenders read their records' schema from: one schema (the
//! tick's, id 1) served on 127.0.0.1 by a thread of the bench process. A sink asks for it once.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// The tick as an Avro record: the JSON tick's fields, its timestamp a `timestamp-millis`.
pub const TICK_SCHEMA: &str = r#"{"type": "record", "name": "Tick", "namespace": "tickstream", "fields": [
  {"name": "symbol", "type": "string"}, {"name": "price", "type": "double"},
  {"name": "volume", "type": "long"}, {"name": "change", "type": "double"},
  {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "exchange", "type": "string"}, {"name": "run_id", "type": "string"}, {"name": "seq", "type": "long"}]}"#;

/// Its registry id.
pub const TICK_SCHEMA_ID: u32 = 1;

/// Serves `GET /schemas/ids/1` until the process ends; its URL.
pub fn start() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Headers up to the blank line (a GET has no body).
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let (status, body) = match request.split_whitespace().nth(1) {
                Some(path) if path == format!("/schemas/ids/{TICK_SCHEMA_ID}") => {
                    ("200 OK", serde_json::json!({ "schema": TICK_SCHEMA }).to_string())
                }
                _ => (
                    "404 Not Found",
                    r#"{"error_code": 40403, "message": "Schema not found"}"#.to_owned(),
                ),
            };
            let _ = write!(
                &stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(url)
}
