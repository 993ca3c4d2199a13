//! One connection to the feed: connect (the token in the URL's query, never logged), subscribe
//! every symbol, then hand each text frame on until the connection ends, pinging every
//! `ping_interval_secs` and giving it up when nothing at all arrives for `dead_after_secs`.
//! [`Ended`] says why it ended, and whether the server asked for a wait.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::Connector;

use crate::telemetry::feed_events::Reconnect;

/// What a query value escapes: all but RFC 3986's unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where the feed is and how its connection is kept.
pub struct Endpoint {
    /// As configured (no token in it).
    pub url: String,
    pub token: Option<String>,
    pub token_param: String,
    pub tls: Arc<rustls::ClientConfig>,
    pub max_frame_bytes: usize,
    pub ping_every: Duration,
    pub dead_after: Duration,
}

/// Why a connection ended.
#[derive(Debug, PartialEq)]
pub enum Ended {
    /// The server or the network closed it.
    Closed(String),
    /// Nothing arrived for `dead_after_secs`.
    Dead,
    /// The server asked to wait (HTTP 429 with `Retry-After`, or a close with code 1013 "try
    /// again later" or 1008 naming a rate limit, its reason holding the seconds).
    RateLimited { wait: Option<Duration>, why: String },
    /// Connecting or subscribing failed.
    ConnectFailed(String),
    /// A frame over `max_frame_bytes`, or not WebSocket.
    Protocol { oversized: bool, why: String },
}

impl Ended {
    pub fn reason(&self) -> Reconnect {
        match self {
            Ended::Closed(_) => Reconnect::Closed,
            Ended::Dead => Reconnect::Dead,
            Ended::RateLimited { .. } => Reconnect::RateLimited,
            Ended::ConnectFailed(_) => Reconnect::ConnectFailed,
            Ended::Protocol { .. } => Reconnect::ProtocolError,
        }
    }
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Closed(why) => write!(f, "closed: {why}"),
            Ended::Dead => f.write_str("no frame within dead_after_secs (not even a pong)"),
            Ended::RateLimited { wait: Some(w), why } => write!(f, "rate limited ({why}): waiting {} s", w.as_secs()),
            Ended::RateLimited { wait: None, why } => write!(f, "rate limited ({why})"),
            Ended::ConnectFailed(why) => write!(f, "connecting: {why}"),
            Ended::Protocol { why, .. } => f.write_str(why),
        }
    }
}

/// The token, from `token_env`'s variable or `token_file`'s first line (`Err` names which is
/// missing or empty, never the token).
pub fn token(ws: &crate::config::websocket::WebsocketSourceConfig) -> Result<Option<String>, String> {
    let token = if let Some(var) = &ws.token_env {
        let t = std::env::var(var).map_err(|_| format!("producer.websocket.token_env: ${var} is not set"))?;
        (t.trim().to_owned(), format!("${var}"))
    } else if let Some(file) = &ws.token_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("producer.websocket.token_file {}: {e}", file.display()))?;
        (
            text.lines().next().unwrap_or("").trim().to_owned(),
            file.display().to_string(),
        )
    } else {
        return Ok(None);
    };
    match token {
        (t, from) if t.is_empty() => Err(format!("the token in {from} is empty")),
        (t, _) => Ok(Some(t)),
    }
}

impl Endpoint {
    /// The URL with the token.
    fn request_url(&self) -> String {
        let Some(token) = &self.token else {
            return self.url.clone();
        };
        let sep = if self.url.contains('?') { '&' } else { '?' };
        let value = percent_encoding::utf8_percent_encode(token, QUERY_VALUE);
        format!("{}{sep}{}={value}", self.url, self.token_param)
    }

    /// `text` with the token, however it was written, replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let Some(token) = self.token.as_deref().filter(|t| !t.is_empty()) else {
            return text.to_owned();
        };
        let encoded = percent_encoding::utf8_percent_encode(token, QUERY_VALUE).to_string();
        text.replace(&encoded, "***").replace(token, "***")
    }

    /// Connects, sends `subscribes`, calls `subscribed`, then `on_text` with each text frame
    /// and when it arrived, until the connection ends.
    pub async fn session(
        &self,
        subscribes: &[String],
        subscribed: impl FnOnce(),
        mut on_text: impl FnMut(&str, Instant),
    ) -> Ended {
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.max_frame_bytes))
            .max_frame_size(Some(self.max_frame_bytes));
        let connector = Some(Connector::Rustls(self.tls.clone()));
        let connect =
            tokio_tungstenite::connect_async_tls_with_config(self.request_url(), Some(config), true, connector);
        let mut ws = match timeout(self.dead_after, connect).await {
            Err(_) => return Ended::ConnectFailed(format!("{}: no answer in {:?}", self.url, self.dead_after)),
            Ok(Err(WsError::Http(response))) => return self.refused(&response),
            Ok(Err(e)) => return Ended::ConnectFailed(self.redact(&format!("{}: {e}", self.url))),
            Ok(Ok((ws, _))) => ws,
        };
        for s in subscribes {
            match timeout(self.dead_after, ws.send(Message::text(s.as_str()))).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Ended::ConnectFailed(self.redact(&format!("subscribing: {e}"))),
                Err(_) => return Ended::ConnectFailed("subscribing: the server does not read".into()),
            }
        }
        subscribed();
        let mut heard = Instant::now();
        let mut ping = tokio::time::interval_at(Instant::now() + self.ping_every, self.ping_every);
        loop {
            let frame = tokio::select! {
                frame = ws.next() => frame,
                _ = ping.tick() => {
                    if timeout(self.dead_after, ws.send(Message::Ping(Default::default()))).await.is_err() {
                        return Ended::Dead;
                    }
                    continue;
                }
                _ = tokio::time::sleep_until(heard + self.dead_after) => return Ended::Dead,
            };
            heard = Instant::now();
            match frame {
                None => return Ended::Closed("the connection ended".into()),
                Some(Ok(Message::Text(text))) => on_text(text.as_str(), heard),
                Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                    Ok(text) => on_text(text, heard),
                    Err(_) => on_text("", heard),
                },
                Some(Ok(Message::Close(frame))) => return closed(frame),
                Some(Ok(_)) => {} // ping (answered by tungstenite), pong
                Some(Err(e)) => return self.failed(e),
            }
        }
    }

    fn failed(&self, e: WsError) -> Ended {
        match e {
            WsError::Capacity(e) => Ended::Protocol {
                oversized: true,
                why: format!("a frame over max_frame_bytes ({}): {e}", self.max_frame_bytes),
            },
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                Ended::Closed("the connection was reset without a close".into())
            }
            WsError::Protocol(e) => Ended::Protocol {
                oversized: false,
                why: format!("WebSocket protocol: {e}"),
            },
            WsError::ConnectionClosed | WsError::AlreadyClosed => Ended::Closed("closed".into()),
            e => Ended::Closed(self.redact(&e.to_string())),
        }
    }

    /// The server answered the upgrade with an HTTP error.
    fn refused(&self, response: &tokio_tungstenite::tungstenite::http::Response<Option<Vec<u8>>>) -> Ended {
        let status = response.status();
        let why = format!("{}: HTTP {status}", self.url);
        if status.as_u16() == 429 {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Ended::RateLimited { wait, why };
        }
        let hint = match status.as_u16() {
            401 | 403 => " (is the token right? token_env / token_file)",
            _ => "",
        };
        Ended::ConnectFailed(format!("{why}{hint}"))
    }
}

/// A close frame: a rate limit (1013, or 1008 whose reason says "rate"), with the first number
/// of its reason as the seconds to wait; otherwise closed.
fn closed(frame: Option<tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> Ended {
    let Some(frame) = frame else {
        return Ended::Closed("the server closed the connection".into());
    };
    let reason = frame.reason.as_str();
    let limited = frame.code == CloseCode::Again
        || (frame.code == CloseCode::Policy && reason.to_ascii_lowercase().contains("rate"));
    let why = format!("close {} {reason:?}", u16::from(frame.code));
    if !limited {
        return Ended::Closed(why);
    }
    let digits: String = reason
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    Ended::RateLimited {
        wait: digits.parse().ok().map(Duration::from_secs),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    fn endpoint(token: Option<&str>) -> Endpoint {
        Endpoint {
            url: "wss://feed.example/ws?x=1".into(),
            token: token.map(str::to_owned),
            token_param: "token".into(),
            tls: Arc::new(crate::tls::client_config(rustls::RootCertStore::empty()).unwrap()),
            max_frame_bytes: 1024,
            ping_every: Duration::from_secs(1),
            dead_after: Duration::from_secs(3),
        }
    }

    #[test]
    fn the_token_goes_in_the_query_and_never_in_what_is_shown() {
        let e = endpoint(Some("s3-cr/t"));
        assert_eq!(e.request_url(), "wss://feed.example/ws?x=1&token=s3-cr%2Ft");
        assert_eq!(
            e.redact("GET /ws?x=1&token=s3-cr%2Ft failed; token s3-cr/t"),
            "GET /ws?x=1&token=*** failed; token ***"
        );
        assert_eq!(endpoint(None).request_url(), "wss://feed.example/ws?x=1");
    }

    #[test]
    fn the_token_comes_from_its_file_or_variable_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "abc123\nsecond line ignored\n").unwrap();
        let mut ws: crate::config::websocket::WebsocketSourceConfig =
            toml::from_str("url = \"wss://x\"\n").expect("a minimal table");
        assert_eq!(token(&ws), Ok(None));
        ws.token_file = Some(file.clone());
        assert_eq!(token(&ws), Ok(Some("abc123".into())));
        std::fs::write(&file, "\n").unwrap();
        assert_eq!(token(&ws), Err(format!("the token in {} is empty", file.display())));
        ws.token_file = Some(dir.path().join("absent"));
        assert!(token(&ws).unwrap_err().starts_with("producer.websocket.token_file"));
        ws.token_file = None;
        ws.token_env = Some("TICKSTREAM_TEST_NO_SUCH_VARIABLE".into());
        assert_eq!(
            token(&ws),
            Err("producer.websocket.token_env: $TICKSTREAM_TEST_NO_SUCH_VARIABLE is not set".into())
        );
    }

    #[test]
    fn a_try_again_close_waits_the_seconds_its_reason_gives() {
        let close = |code: u16, reason: &str| {
            closed(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            }))
        };
        assert_eq!(
            close(1013, "retry in 7 s"),
            Ended::RateLimited {
                wait: Some(Duration::from_secs(7)),
                why: "close 1013 \"retry in 7 s\"".into()
            }
        );
        assert!(matches!(
            close(1008, "Rate limit exceeded"),
            Ended::RateLimited { wait: None, .. }
        ));
        assert!(matches!(close(1008, "bad subscription"), Ended::Closed(_)));
        assert!(matches!(close(1000, ""), Ended::Closed(_)));
    }
}
