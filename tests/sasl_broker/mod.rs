//! A fake Kafka broker that speaks just enough of the protocol to take a SASL/OAUTHBEARER login:
//! ApiVersions, SaslHandshake and SaslAuthenticate. It records the bearer token each connection
//! sends and refuses the login (SASL_AUTHENTICATION_FAILED with a message), as MSK does for a
//! token it does not accept. Neither librdkafka's mock cluster nor tansu speak OAUTHBEARER, so
//! this is the most real check that a librdkafka client sends the token our context hands it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const API_VERSIONS: i16 = 18;
const SASL_HANDSHAKE: i16 = 17;
const SASL_AUTHENTICATE: i16 = 36;
const SASL_AUTHENTICATION_FAILED: i16 = 58;
type Shared = Arc<Mutex<Vec<String>>>;

pub const REFUSAL: &str = "fake broker: token received, access denied";

/// The broker thread; stopped (and joined) on drop.
pub struct SaslBroker {
    pub addr: SocketAddr,
    tokens: Arc<Mutex<Vec<String>>>,
    mechanisms: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SaslBroker {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tokens, mechanisms, stop) = (Arc::default(), Arc::default(), Arc::new(AtomicBool::new(false)));
        let thread = {
            let (tokens, mechanisms, stop): (Shared, Shared, Arc<AtomicBool>) =
                (Arc::clone(&tokens), Arc::clone(&mechanisms), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let (tokens, mechanisms) = (tokens.clone(), mechanisms.clone());
                            std::thread::spawn(move || {
                                let _ = serve(conn, &tokens, &mechanisms);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        Self {
            addr,
            tokens,
            mechanisms,
            stop,
            thread: Some(thread),
        }
    }

    /// Bearer tokens received, in order.
    pub fn tokens(&self) -> Vec<String> {
        self.tokens.lock().unwrap().clone()
    }

    /// SASL mechanisms clients asked for.
    pub fn mechanisms(&self) -> Vec<String> {
        self.mechanisms.lock().unwrap().clone()
    }
}

impl Drop for SaslBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut conn: TcpStream, tokens: &Mutex<Vec<String>>, mechanisms: &Mutex<Vec<String>>) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    loop {
        let mut len = [0u8; 4];
        conn.read_exact(&mut len)?;
        let mut req = vec![0u8; i32::from_be_bytes(len) as usize];
        conn.read_exact(&mut req)?;
        let mut r = Reader(&req);
        let (api_key, version, correlation) = (r.i16(), r.i16(), r.i32());
        let _client_id = r.nullable_string();
        let body = match api_key {
            API_VERSIONS => api_versions(version),
            SASL_HANDSHAKE => {
                mechanisms.lock().unwrap().push(r.string());
                let mut b = Vec::new();
                b.extend(0i16.to_be_bytes());
                b.extend(1i32.to_be_bytes());
                put_string(&mut b, "OAUTHBEARER");
                b
            }
            SASL_AUTHENTICATE => {
                // RFC 7628 client first message: "n,,\x01auth=Bearer <token>\x01\x01".
                let auth = String::from_utf8_lossy(r.bytes()).into_owned();
                if let Some(token) = auth.split('\x01').find_map(|kv| kv.strip_prefix("auth=Bearer ")) {
                    tokens.lock().unwrap().push(token.to_owned());
                }
                let mut b = Vec::new();
                b.extend(SASL_AUTHENTICATION_FAILED.to_be_bytes());
                put_string(&mut b, REFUSAL);
                b.extend(0i32.to_be_bytes()); // auth_bytes: empty
                if version >= 1 {
                    b.extend(0i64.to_be_bytes()); // session_lifetime_ms
                }
                b
            }
            _ => return Ok(()), // anything else: hang up
        };
        // Every response here uses response header v0: the correlation id only.
        let mut resp = Vec::with_capacity(body.len() + 8);
        resp.extend(((body.len() + 4) as i32).to_be_bytes());
        resp.extend(correlation.to_be_bytes());
        resp.extend(body);
        conn.write_all(&resp)?;
    }
}

/// ApiVersions: v3+ is flexible (compact array, tagged fields), v0–2 is not.
fn api_versions(version: i16) -> Vec<u8> {
    let apis: [(i16, i16, i16); 3] = [(API_VERSIONS, 0, 3), (SASL_HANDSHAKE, 0, 1), (SASL_AUTHENTICATE, 0, 1)];
    let mut b = Vec::new();
    b.extend(0i16.to_be_bytes());
    if version >= 3 {
        b.push(apis.len() as u8 + 1); // compact array length (uvarint, < 128)
        for (key, min, max) in apis {
            b.extend(key.to_be_bytes());
            b.extend(min.to_be_bytes());
            b.extend(max.to_be_bytes());
            b.push(0); // tagged fields
        }
        b.extend(0i32.to_be_bytes()); // throttle_time_ms
        b.push(0); // tagged fields
    } else {
        b.extend((apis.len() as i32).to_be_bytes());
        for (key, min, max) in apis {
            b.extend(key.to_be_bytes());
            b.extend(min.to_be_bytes());
            b.extend(max.to_be_bytes());
        }
        if version >= 1 {
            b.extend(0i32.to_be_bytes());
        }
    }
    b
}

fn put_string(b: &mut Vec<u8>, s: &str) {
    b.extend((s.len() as i16).to_be_bytes());
    b.extend(s.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        head
    }
    fn i16(&mut self) -> i16 {
        i16::from_be_bytes(self.take(2).try_into().unwrap_or([0; 2]))
    }
    fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take(4).try_into().unwrap_or([0; 4]))
    }
    fn nullable_string(&mut self) -> Option<String> {
        let len = self.i16();
        (len >= 0).then(|| String::from_utf8_lossy(self.take(len as usize)).into_owned())
    }
    fn string(&mut self) -> String {
        self.nullable_string().unwrap_or_default()
    }
    fn bytes(&mut self) -> &'a [u8] {
        let len = self.i32().max(0) as usize;
        self.take(len)
    }
}
