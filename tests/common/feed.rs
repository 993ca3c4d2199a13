//! A trade feed on 127.0.0.1 that speaks Finnhub's WebSocket protocol (`?token=` in the URL,
//! `{"type":"subscribe","symbol":…}` in, `{"type":"trade","data":[{"s","p","v","t","c"}]}` and
//! `{"type":"ping"}` out), each connection following a script: how many trades, then how the
//! connection ends (dropped, closed for a rate limit, an oversized frame, gone silent), or the
//! upgrade refused with HTTP 429. Between trades it sends what a real feed may: malformed
//! messages, trades of symbols nobody subscribed to, pings. It records every trade it sent on
//! a connection that was still open (each trade's volume is unique: its identity).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// One connection's part.
#[derive(Clone, Copy, Debug)]
pub enum Script {
    /// Send `trades`, then end as `End` says.
    Serve { trades: u64, end: End },
    /// Refuse the upgrade: HTTP 429 with `Retry-After: secs`.
    Refuse429 { secs: u64 },
}

#[derive(Clone, Copy, Debug)]
pub enum End {
    /// Drop the TCP connection without a close handshake.
    Drop,
    /// Close with 1013 "try again later", "retry in {secs} s".
    RateLimitClose { secs: u64 },
    /// Send one frame over the client's limit (holding 5 trades, not counted as sent).
    Oversized { bytes: usize },
    /// Neither read nor write again (no pong): the client must find the connection dead.
    Silent,
    /// Stay open, answering pings, until the server stops.
    Stay,
}

/// A trade as sent.
#[derive(Clone, Debug, PartialEq)]
pub struct SentTrade {
    pub symbol: String,
    pub price: f64,
    pub volume: u64,
    pub t: i64,
}

#[derive(Default)]
pub struct Sent {
    /// Trades of subscribed symbols on connections still open when sent.
    pub trades: Vec<SentTrade>,
    /// Trades of a symbol nobody subscribed to.
    pub unsubscribed: u64,
    /// Malformed messages (each counts as one ignored trade).
    pub malformed: u64,
    /// Connections accepted (upgrades included, refusals too).
    pub connections: u64,
    /// Query strings of the upgrades (the token checked).
    pub queries: Vec<String>,
    /// When each connection was accepted.
    pub accepted: Vec<std::time::Instant>,
    /// The last scripted connection sent its trades.
    pub done: bool,
}

pub struct FeedServer {
    pub url: String,
    pub sent: Arc<Mutex<Sent>>,
    /// While set, a connection that has its subscriptions waits before sending trades.
    pub hold: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const SYMBOLS_WANTED: usize = 3;

impl FeedServer {
    /// Plays `script` connection by connection (the last one again for later connections);
    /// `token`: refuse (401) an upgrade without it.
    pub async fn start(script: Vec<Script>, token: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the feed");
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let sent = Arc::new(Mutex::new(Sent::default()));
        let state = sent.clone();
        let hold = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let held = hold.clone();
        let task = tokio::spawn(async move {
            // Dropped with this task (the server stopped): every connection's task is aborted.
            let mut conns = tokio::task::JoinSet::new();
            let mut next_volume = 1;
            for n in 0.. {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let part = *script.get(n).or(script.last()).expect("a script");
                {
                    let mut st = state.lock().unwrap();
                    st.connections += 1;
                    st.accepted.push(std::time::Instant::now());
                }
                let (state, first, held) = (state.clone(), next_volume, held.clone());
                if let Script::Serve { trades, .. } = part {
                    next_volume += trades;
                }
                let last = n + 1 == script.len();
                conns.spawn(async move { serve(tcp, part, first, token, last, &state, &held).await });
            }
        });
        Self { url, sent, hold, task }
    }
}

/// `last`: the script's last connection, which says `done` once its trades are sent.
// The handshake callback's error type is tungstenite's own (an HTTP response).
#[allow(clippy::result_large_err)]
async fn serve(
    tcp: tokio::net::TcpStream,
    part: Script,
    first_volume: u64,
    token: &str,
    last: bool,
    state: &Mutex<Sent>,
    hold: &std::sync::atomic::AtomicBool,
) {
    let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let query = req.uri().query().unwrap_or("").to_owned();
        let has_token = query.split('&').any(|kv| {
            kv.strip_prefix("token=")
                .is_some_and(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy() == token)
        });
        state.lock().unwrap().queries.push(query);
        let refuse = |status: StatusCode, retry: Option<u64>| {
            let mut r = ErrorResponse::new(Some(status.to_string()));
            *r.status_mut() = status;
            if let Some(s) = retry {
                r.headers_mut().insert("retry-after", s.to_string().parse().unwrap());
            }
            Err(r)
        };
        match part {
            _ if !has_token => refuse(StatusCode::UNAUTHORIZED, None),
            Script::Refuse429 { secs } => refuse(StatusCode::TOO_MANY_REQUESTS, Some(secs)),
            Script::Serve { .. } => Ok(resp),
        }
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
        return;
    };
    let Script::Serve { trades, end } = part else { return };
    let (mut out, mut incoming) = ws.split();
    // Subscriptions first; then the reader keeps draining (pings are answered by tungstenite).
    let mut symbols = Vec::new();
    while symbols.len() < SYMBOLS_WANTED {
        let Some(Ok(Message::Text(text))) = incoming.next().await else {
            return;
        };
        let v: serde_json::Value = serde_json::from_str(text.as_str()).expect("a subscribe message is JSON");
        assert_eq!(v["type"], "subscribe", "{text}");
        symbols.push(v["symbol"].as_str().unwrap().to_owned());
    }
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = incoming.next().await {} });
    while hold.load(std::sync::atomic::Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut volume = first_volume;
    let mut left = trades;
    let mut frame_no = 0u64;
    while left > 0 {
        frame_no += 1;
        let n = left.min(1 + frame_no % 3);
        let batch: Vec<SentTrade> = (0..n)
            .map(|i| {
                let v = volume + i;
                SentTrade {
                    symbol: symbols[(v % symbols.len() as u64) as usize].clone(),
                    price: 100.0 + (v % 50) as f64 / 4.0,
                    volume: v,
                    t: 1_765_000_000_000 + v as i64,
                }
            })
            .collect();
        let mut data: Vec<serde_json::Value> = batch
            .iter()
            .map(|t| serde_json::json!({"s": t.symbol, "p": t.price, "v": t.volume, "t": t.t, "c": ["1", "12"]}))
            .collect();
        if frame_no.is_multiple_of(7) {
            data.push(serde_json::json!({"s": "ZZZZ", "p": 1.0, "v": 1, "t": 1_765_000_000_000i64}));
            state.lock().unwrap().unsubscribed += 1;
        }
        let msg = serde_json::json!({"type": "trade", "data": data}).to_string();
        if out.send(Message::text(msg)).await.is_err() {
            return;
        }
        state.lock().unwrap().trades.extend(batch);
        volume += n;
        left -= n;
        if frame_no.is_multiple_of(11) {
            let _ = out.send(Message::text(r#"{"type":"ping"}"#)).await;
            let _ = out
                .send(Message::text(
                    r#"{"type":"trade","data":[{"s":"AAPL","p":"n/a","t":1}]}"#,
                ))
                .await;
            let _ = out.send(Message::text("<html>502 Bad Gateway</html>")).await;
            state.lock().unwrap().malformed += 2;
        }
        if frame_no.is_multiple_of(20) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let _ = out.flush().await;
    if last {
        state.lock().unwrap().done = true;
    }
    match end {
        End::Drop => {
            reader.abort();
            drop(out);
        }
        End::RateLimitClose { secs } => {
            let _ = out
                .send(Message::Close(Some(CloseFrame {
                    code: CloseCode::Again,
                    reason: format!("retry in {secs} s").into(),
                })))
                .await;
            let _ = reader.await;
        }
        End::Oversized { bytes } => {
            let pad = "x".repeat(bytes);
            let big = serde_json::json!({"type": "trade", "pad": pad, "data": (0..5).map(|i| {
                serde_json::json!({"s": symbols[0], "p": 1.0, "v": 1_000_000_000 + i, "t": 1})
            }).collect::<Vec<_>>()});
            let _ = out.send(Message::text(big.to_string())).await;
            let _ = reader.await;
        }
        End::Silent => {
            reader.abort();
            std::future::pending::<()>().await;
        }
        End::Stay => {
            let _ = reader.await;
        }
    }
}
