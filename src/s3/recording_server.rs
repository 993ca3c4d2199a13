//! A stand-in S3 for the client's own tests: it answers every request `200 OK` and hands each
//! request's head over, lowercased, so a test sees exactly what the client sent.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::s3::client::{build, S3Endpoint};
use crate::s3::{S3SegmentStore, SegmentMeta, SegmentStore};

/// A server that answers every request `200 OK` and hands each request's head over.
pub async fn recording_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (heads, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let heads = heads.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 65536];
                loop {
                    // One request per connection is enough here: read its head and body.
                    let Ok(n) = socket.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let Some(end) = text.find("\r\n\r\n") else { continue };
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() < end + 4 + length {
                        continue;
                    }
                    let _ = heads.send(text[..end].to_ascii_lowercase());
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    return;
                }
            });
        }
    });
    (url, rx)
}

/// The next request's head the server saw.
pub async fn next(heads: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), heads.recv())
        .await
        .expect("a request within 10 s")
        .expect("the server runs")
}

pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')).map(str::trim))
}

/// The sink's S3 client, as it is built, for the server at `url`.
pub async fn client_of(url: String) -> aws_sdk_s3::Client {
    let endpoint = S3Endpoint {
        url: Some(url),
        region: "us-east-1".into(),
        static_credentials: Some(("k".into(), "s".into())),
    };
    build(&endpoint).await
}

/// A one-record file PUT at `key` of bucket `b`, as the sink's store sends it.
pub async fn put_one_record(client: &aws_sdk_s3::Client, key: &str) {
    let meta = SegmentMeta {
        start_offset: 0,
        end_offset: 1,
        records: 1,
        error: None,
    };
    S3SegmentStore::new(client.clone(), "b")
        .put_new(key, Bytes::from_static(b"{\"a\":1}\n"), meta)
        .await
        .expect("the server answers 200");
}
