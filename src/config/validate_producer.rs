//! Checks of `[producer]`: the topic, the symbols and rate, the CSV replay and the live feed.

use super::source::Source;
use super::validate::{topic_name, Problems};
use super::ProducerConfig;

/// The simulated producers.
pub(super) fn producer(pr: &ProducerConfig, p: &mut Problems) {
    if let Err(e) = topic_name(&pr.topic) {
        p.check(false, "producer.topic", e);
    }
    if pr.enabled && pr.source != Source::Csv {
        p.check(
            !pr.symbols.is_empty(),
            "producer.symbols",
            "must list at least one symbol".into(),
        );
    }
    csv_source(pr, p);
    websocket_source(pr, p);
    let mut seen = std::collections::HashSet::new();
    for (i, s) in pr.symbols.iter().enumerate() {
        let valid = !s.is_empty()
            && s.len() <= 32
            && s.chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || matches!(ch, '.' | '-' | ':' | '_'));
        p.check(
            valid,
            &format!("producer.symbols[{i}]"),
            format!("must be 1–32 of A–Z 0–9 . - : _ (e.g. AAPL, BINANCE:BTCUSDT), got {s:?}"),
        );
        p.check(
            seen.insert(s),
            &format!("producer.symbols[{i}]"),
            format!("{s} is listed twice"),
        );
    }
    p.check(
        pr.ticks_per_second.is_finite() && pr.ticks_per_second > 0.0 && pr.ticks_per_second <= 1_000_000.0,
        "producer.ticks_per_second",
        format!("must be > 0 and ≤ 1000000, got {}", pr.ticks_per_second),
    );
    p.check(!pr.exchange.is_empty(), "producer.exchange", "must not be empty".into());
}

/// `[producer.csv]`, needed (and only read) under `source = "csv"`.
fn csv_source(pr: &ProducerConfig, p: &mut Problems) {
    let Some(csv) = &pr.csv else {
        p.check(
            pr.source != Source::Csv,
            "producer.csv",
            "source = \"csv\" needs a [producer.csv] table with the files' path".into(),
        );
        return;
    };
    p.check(
        !csv.path.trim().is_empty(),
        "producer.csv.path",
        "must name a file or a glob".into(),
    );
    let positive = |v: f64| v.is_finite() && v > 0.0 && v <= 1e7;
    p.check(
        positive(csv.rate),
        "producer.csv.rate",
        format!("must be > 0 and ≤ 10000000 rows a second, got {}", csv.rate),
    );
    p.check(
        positive(csv.speed),
        "producer.csv.speed",
        format!("must be > 0 and ≤ 10000000, got {}", csv.speed),
    );
    if let Some(topic) = &csv.dead_letter_topic {
        if let Err(e) = topic_name(topic) {
            p.check(false, "producer.csv.dead_letter_topic", e);
        }
        p.check(
            *topic != pr.topic,
            "producer.csv.dead_letter_topic",
            format!("must not be the ticks' topic ({topic})"),
        );
    }
}

/// `[producer.websocket]`, needed (and only read) under `source = "websocket"`.
fn websocket_source(pr: &ProducerConfig, p: &mut Problems) {
    let Some(ws) = &pr.websocket else {
        p.check(
            pr.source != Source::Websocket,
            "producer.websocket",
            "source = \"websocket\" needs a [producer.websocket] table with the feed's url".into(),
        );
        return;
    };
    let scheme_ok = ws.url.starts_with("ws://") || ws.url.starts_with("wss://");
    p.check(
        scheme_ok,
        "producer.websocket.url",
        format!("must start with ws:// or wss://, got {:?}", ws.url),
    );
    let query = ws.url.split_once('?').map_or("", |(_, q)| q);
    p.check(
        !query
            .split('&')
            .any(|kv| kv.split('=').next() == Some(ws.token_param.as_str())),
        "producer.websocket.url",
        format!(
            "carries the token ({}=…): put it in token_env or token_file, which are never logged",
            ws.token_param
        ),
    );
    p.check(
        !(ws.token_env.is_some() && ws.token_file.is_some()),
        "producer.websocket.token_env",
        "set token_env or token_file, not both".into(),
    );
    p.check(
        (1..=3600).contains(&ws.ping_interval_secs),
        "producer.websocket.ping_interval_secs",
        format!("must be 1–3600, got {}", ws.ping_interval_secs),
    );
    p.check(
        ws.dead_after_secs > ws.ping_interval_secs,
        "producer.websocket.dead_after_secs",
        format!(
            "must be more than ping_interval_secs ({}), got {}",
            ws.ping_interval_secs, ws.dead_after_secs
        ),
    );
    p.check(
        ws.reconnect_min_ms >= 1 && ws.reconnect_max_secs.saturating_mul(1000) >= ws.reconnect_min_ms,
        "producer.websocket.reconnect_max_secs",
        format!(
            "must be at least reconnect_min_ms ({} ms) and reconnect_min_ms at least 1, got {} s",
            ws.reconnect_min_ms, ws.reconnect_max_secs
        ),
    );
    p.check(
        ws.buffer_bytes >= 64 << 10,
        "producer.websocket.buffer_bytes",
        format!("must be at least 65536, got {}", ws.buffer_bytes),
    );
    p.check(
        (1024..=64 << 20).contains(&ws.max_frame_bytes),
        "producer.websocket.max_frame_bytes",
        format!("must be 1024–67108864, got {}", ws.max_frame_bytes),
    );
    let m = &ws.mapping;
    let example = m.subscribe.replace("{symbol}", "AAPL");
    p.check(
        m.subscribe.contains("{symbol}") && serde_json::from_str::<serde_json::Value>(&example).is_ok(),
        "producer.websocket.mapping.subscribe",
        format!("must be JSON with {{symbol}} in it, got {:?}", m.subscribe),
    );
    for (key, path) in [("symbol", &m.symbol), ("price", &m.price), ("timestamp", &m.timestamp)] {
        p.check(
            !path.trim().is_empty(),
            &format!("producer.websocket.mapping.{key}"),
            "must name the trade's field".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate::tests::problems_text;

    #[test]
    fn a_csv_replay_needs_its_table_and_sane_numbers() {
        assert_eq!(
            problems_text("[producer]\nsource = \"csv\"\n"),
            "producer.csv: source = \"csv\" needs a [producer.csv] table with the files' path\n"
        );
        let text = problems_text(
            "[producer]\nsource = \"csv\"\nsymbols = []\n[producer.csv]\npath = \" \"\npacing = \"rate\"\nrate = 0\nspeed = -1\n",
        );
        assert_eq!(
            text,
            "producer.csv.path: must name a file or a glob\n\
             producer.csv.rate: must be > 0 and ≤ 10000000 rows a second, got 0\n\
             producer.csv.speed: must be > 0 and ≤ 10000000, got -1\n"
        );
        let typo = problems_text("[producer]\nsource = \"csv\"\n[producer.csv]\npath = \"a.csv\"\npacing = \"fast\"\n");
        assert!(
            typo.starts_with("producer.csv.pacing: unknown variant `fast`"),
            "{typo}"
        );
        assert_eq!(
            problems_text("[producer]\nsource = \"csv\"\n[producer.csv]\npath = \"a.csv\"\n"),
            ""
        );
        assert_eq!(
            problems_text(
                "[producer]\nsource = \"csv\"\ntopic = \"t\"\n[producer.csv]\npath = \"a.csv\"\ndead_letter_topic = \"t\"\n"
            ),
            "producer.csv.dead_letter_topic: must not be the ticks' topic (t)\n"
        );
    }

    #[test]
    fn a_live_feed_needs_its_table_a_ws_url_and_no_token_in_it() {
        assert_eq!(
            problems_text("[producer]\nsource = \"websocket\"\n"),
            "producer.websocket: source = \"websocket\" needs a [producer.websocket] table with the feed's url\n"
        );
        let text = problems_text(
            "[producer]\nsource = \"websocket\"\nsymbols = [\"BINANCE:BTCUSDT\"]\n[producer.websocket]\n\
             url = \"https://ws.finnhub.io/?token=abc\"\ntoken_env = \"T\"\ntoken_file = \"/t\"\n\
             ping_interval_secs = 30\ndead_after_secs = 30\nbuffer_bytes = 10\n\
             [producer.websocket.mapping]\nsubscribe = \"{\\\"sub\\\": 1}\"\nprice = \"\"\n",
        );
        assert_eq!(
            text,
            "producer.websocket.url: must start with ws:// or wss://, got \"https://ws.finnhub.io/?token=abc\"\n\
             producer.websocket.url: carries the token (token=…): put it in token_env or token_file, which are never logged\n\
             producer.websocket.token_env: set token_env or token_file, not both\n\
             producer.websocket.dead_after_secs: must be more than ping_interval_secs (30), got 30\n\
             producer.websocket.buffer_bytes: must be at least 65536, got 10\n\
             producer.websocket.mapping.subscribe: must be JSON with {symbol} in it, got \"{\\\"sub\\\": 1}\"\n\
             producer.websocket.mapping.price: must name the trade's field\n"
        );
        assert_eq!(
            problems_text("[producer]\nsource = \"websocket\"\n[producer.websocket]\nurl = \"wss://ws.finnhub.io\"\ntoken_env = \"FINNHUB_TOKEN\"\n"),
            ""
        );
    }
}
