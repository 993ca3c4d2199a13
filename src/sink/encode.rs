//! Record value → one JSON line, or the reason it belongs in the dead-letter prefix.

use std::borrow::Cow;

/// Larger values are dead-lettered: a tick is ~200 bytes, and a JSON-lines file of huge lines
/// would stall every loader downstream.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The line to write for `value` (without the trailing newline): the value as produced, or
/// re-serialised on one line if it spans several.
pub fn json_line(value: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if value.is_empty() {
        return Err("empty value".into());
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "value of {} bytes exceeds the {MAX_VALUE_BYTES}-byte limit",
            value.len()
        ));
    }
    if crate::record::tick_scan::is_plain_tick(value) {
        return Ok(Cow::Borrowed(value)); // one line, as produced
    }
    crate::record::tick::check(value)?;
    if value.contains(&b'\n') {
        let v: serde_json::Value = serde_json::from_slice(value).map_err(|e| format!("not JSON: {e}"))?;
        return serde_json::to_vec(&v).map(Cow::Owned).map_err(|e| e.to_string());
    }
    Ok(Cow::Borrowed(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: &str = r#"{"symbol":"AAPL","price":189.51,"volume":120,"change":0.01,"timestamp":"2026-11-22T01:02:03.456Z","exchange":"NASDAQ","run_id":"r","seq":0}"#;

    #[test]
    fn a_tick_is_written_as_produced() {
        assert_eq!(json_line(TICK.as_bytes()).unwrap().as_ref(), TICK.as_bytes());
    }

    #[test]
    fn a_multi_line_tick_is_folded_onto_one_line() {
        let pretty = TICK.replace(",\"volume\"", ",\n  \"volume\"");
        let line = json_line(pretty.as_bytes()).unwrap();
        assert!(!line.contains(&b'\n'));
    }

    #[test]
    fn malformed_values_say_why() {
        assert_eq!(json_line(b"").unwrap_err(), "empty value");
        assert!(json_line(b"not json").unwrap_err().starts_with("not a tick"));
        let wrong_type = TICK.replace("\"volume\":120", "\"volume\":\"lots\"");
        assert!(json_line(wrong_type.as_bytes())
            .unwrap_err()
            .starts_with("not a tick: invalid type"));
        assert!(json_line(&vec![b' '; MAX_VALUE_BYTES + 1])
            .unwrap_err()
            .contains("exceeds"));
    }
}
