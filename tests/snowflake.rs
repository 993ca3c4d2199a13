//! Snowflake mode without Snowflake (it cannot be reached from here): a local HTTP server plays
//! the SQL API, answering with the documented response shapes in `tests/fixtures/snowflake/`
//! (202 then polling, a result in two partitions, 429 then a resubmission, 422), and checks what
//! the client sends: the key-pair JWT headers, one request id per statement, `retry=true` on the
//! resubmission. Then `tickstream status` runs against it as an operator would.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use tickstream::warehouse::snowflake::jwt::KeyPairAuth;
use tickstream::warehouse::snowflake::pipe;
use tickstream::warehouse::snowflake::sql_api::{SqlApi, SqlApiConfig};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/snowflake");
const COPY_HANDLE: &str = "01b8a0f2-0001-4a7e-0000-00012a3b4c6e";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).expect(name)
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    uri: String,
    authorization: String,
    token_type: String,
    statement: String,
}

#[derive(Default)]
struct FakeState {
    seen: Vec<Seen>,
    copy_polls: u32,
}

/// The fake SQL API on 127.0.0.1; stops when dropped.
struct FakeSnowflake {
    addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSnowflake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(state: &Mutex<FakeState>, seen: &Seen) -> (u16, String) {
    let mut st = state.lock().unwrap();
    st.seen.push(seen.clone());
    let s = &seen.statement;
    match seen.method.as_str() {
        "POST" if s.contains("MISSING") => (422, fixture("error_422.json")),
        "POST" if s.contains("SYSTEM$PIPE_STATUS") => (200, fixture("pipe_status_200.json")),
        "POST" if s.contains("COPY_HISTORY") => (202, fixture("statement_202.json")),
        "POST" if s.contains("APPROX_PERCENTILE") && seen.uri.contains("retry=true") => {
            (200, fixture("latency_200.json"))
        }
        "POST" if s.contains("APPROX_PERCENTILE") => (429, fixture("error_429.json")),
        "POST" => (400, r#"{"code":"000400","message":"unexpected statement"}"#.into()),
        "GET" if seen.uri.ends_with(&format!("{COPY_HANDLE}?partition=1")) => {
            (200, fixture("copy_history_partition_1.json"))
        }
        "GET" if seen.uri.ends_with(COPY_HANDLE) => {
            st.copy_polls += 1;
            if st.copy_polls == 1 {
                (202, fixture("statement_202.json"))
            } else {
                (200, fixture("copy_history_200.json"))
            }
        }
        _ => (404, r#"{"code":"000404","message":"not found"}"#.into()),
    }
}

async fn start_fake() -> FakeSnowflake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(Mutex::new(FakeState::default()));
    let shared = state.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = shared.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let state = state.clone();
                    async move {
                        let header = |n: &str| {
                            req.headers()
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned()
                        };
                        let (method, uri) = (req.method().to_string(), req.uri().to_string());
                        let (authorization, token_type) =
                            (header("authorization"), header("x-snowflake-authorization-token-type"));
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let statement = serde_json::from_slice::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v["statement"].as_str().map(str::to_owned))
                            .unwrap_or_default();
                        let seen = Seen {
                            method,
                            uri,
                            authorization,
                            token_type,
                            statement,
                        };
                        let (status, body) = answer(&state, &seen);
                        let response = Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body)))
                            .unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    FakeSnowflake { addr, state, task }
}

fn client(fake: &FakeSnowflake) -> SqlApi {
    let key = std::fs::read_to_string(format!("{DIR}/test_rsa_key.p8")).unwrap();
    let auth = KeyPairAuth::from_pem("myorg-myaccount", "tickstream_monitor", &key).unwrap();
    SqlApi::new(
        SqlApiConfig {
            base_url: format!("http://{}", fake.addr),
            database: "KAFKA_DB".into(),
            schema: "KAFKA_SCHEMA".into(),
            warehouse: Some("MONITOR_WH".into()),
            role: None,
            statement_timeout_s: 10,
        },
        auth,
    )
    .unwrap()
}

fn request_id(uri: &str) -> &str {
    uri.split("requestId=")
        .nth(1)
        .unwrap_or("")
        .split('&')
        .next()
        .unwrap_or("")
}

#[tokio::test]
async fn the_client_authenticates_polls_pages_and_resubmits() {
    let fake = start_fake().await;
    let api = client(&fake);
    let sf = tickstream::config::SnowflakeConfig::default();

    let status = pipe::parse_pipe_status(&api.execute(&pipe::pipe_status_sql(&sf)).await.unwrap()).unwrap();
    assert_eq!(
        (status.execution_state.as_str(), status.pending_file_count),
        ("RUNNING", 2)
    );

    // 202, then a poll that is still 202, then the result, then its second partition.
    let history = api
        .execute(&pipe::copy_history_sql(&sf, "STOCK_MARKET_DATA", 60))
        .await
        .unwrap();
    let files = pipe::parse_copy_history(&history).unwrap();
    assert_eq!(files.len(), 5, "both partitions");
    assert_eq!(files.iter().filter(|f| !f.loaded()).count(), 1);

    // 429, then the same request id again with retry=true.
    let latency = pipe::parse_latency(&api.execute(&pipe::latency_sql(&sf, "STOCK_MARKET_DATA")).await.unwrap());
    assert_eq!(latency.map(|l| l.rows), Some(8_400));

    let err = api
        .execute("SELECT SYSTEM$PIPE_STATUS('MISSING')")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 422 (code 002003)") && err.contains("does not exist"),
        "{err}"
    );

    let seen = fake.state.lock().unwrap().seen.clone();
    let posts: Vec<&Seen> = seen.iter().filter(|s| s.method == "POST").collect();
    assert_eq!(posts.len(), 5, "{seen:#?}");
    for s in &seen {
        assert_eq!(s.token_type, "KEYPAIR_JWT");
        let jwt = s.authorization.strip_prefix("Bearer ").expect("a bearer token");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["sub"], "MYORG-MYACCOUNT.TICKSTREAM_MONITOR");
        let fp = serde_json::from_str::<serde_json::Value>(&fixture("jwt.json")).unwrap()["fingerprint"].clone();
        assert_eq!(
            claims["iss"],
            format!("MYORG-MYACCOUNT.TICKSTREAM_MONITOR.{}", fp.as_str().unwrap())
        );
    }
    let latency_posts: Vec<&&Seen> = posts.iter().filter(|s| s.statement.contains("APPROX")).collect();
    assert_eq!(latency_posts.len(), 2);
    assert!(!latency_posts[0].uri.contains("retry=true") && latency_posts[1].uri.contains("retry=true"));
    assert_eq!(request_id(&latency_posts[0].uri), request_id(&latency_posts[1].uri));
    assert_ne!(
        request_id(&posts[0].uri),
        request_id(&posts[1].uri),
        "a new id per statement"
    );
    let gets: Vec<&str> = seen
        .iter()
        .filter(|s| s.method == "GET")
        .map(|s| s.uri.as_str())
        .collect();
    assert_eq!(
        gets,
        vec![
            format!("/api/v2/statements/{COPY_HANDLE}"),
            format!("/api/v2/statements/{COPY_HANDLE}"),
            format!("/api/v2/statements/{COPY_HANDLE}?partition=1"),
        ]
    );
}

fn snowflake_config(dir: &std::path::Path, api_url: &str) -> std::path::PathBuf {
    let file = dir.join("snowflake.toml");
    std::fs::write(
        &file,
        format!(
            "[warehouse]\nkind = \"snowflake\"\n[warehouse.snowflake]\naccount = \"myorg-myaccount\"\n\
             user = \"tickstream_monitor\"\nprivate_key_path = \"{DIR}/test_rsa_key.p8\"\napi_url = \"{api_url}\"\n"
        ),
    )
    .unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickstream_status_reads_snowpipe_through_the_sql_api() {
    let fake = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let config = snowflake_config(dir.path(), &format!("http://{}", fake.addr));
    let run = |json: bool| {
        let config = config.clone();
        async move {
            let mut args = vec!["status".to_owned(), "--config".into(), config.display().to_string()];
            if json {
                args.push("--json".into());
            }
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_tickstream"))
                    .args(&args)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let out = run(false).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("executionState          RUNNING"), "{text}");
    assert!(text.contains("pendingFileCount        2"), "{text}");
    assert!(text.contains("failedFiles             1"), "{text}");
    assert!(text.contains("p50 41.250 s"), "{text}");

    fake.state.lock().unwrap().copy_polls = 0;
    let out = run(true).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["executionState"], "RUNNING");
    assert_eq!(json["loadedFiles"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_snowflake_is_a_clear_error_not_a_hang() {
    // A port nothing listens on: every attempt is refused, then the client gives up and says so.
    let (_held, port) = crate::common::refused_port();
    let dir = tempfile::tempdir().unwrap();
    let config = snowflake_config(dir.path(), &format!("http://127.0.0.1:{port}"));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tickstream"))
            .args(["status", "--config", config.to_str().unwrap()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("snowflake SQL API") && err.contains("after 5 retries"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_snowflake_mode_the_pipeline_runs_the_snowpipe_monitor_instead_of_the_loader() {
    let fake = start_fake().await;
    let env = crate::common::TestEnv::start().await;
    let mut config = env.config(1, 20, 10, 200);
    config.warehouse.kind = tickstream::config::WarehouseKind::Snowflake;
    let sf = &mut config.warehouse.snowflake;
    sf.account = Some("myorg-myaccount".into());
    sf.user = Some("tickstream_monitor".into());
    sf.private_key_path = Some(format!("{DIR}/test_rsa_key.p8").into());
    sf.api_url = Some(format!("http://{}", fake.addr));
    let pipeline =
        tickstream::pipeline::Pipeline::start(&config, &env.infra(), tickstream::pipeline::RunOptions::new(Some(5)))
            .await
            .expect("start in snowflake mode");
    let state = fake.state.clone();
    crate::common::eventually(
        std::time::Duration::from_secs(30),
        "the monitor read the pipe and its history",
        || {
            let st = state.lock().unwrap();
            st.seen.iter().any(|s| s.statement.contains("SYSTEM$PIPE_STATUS"))
                && st.seen.iter().any(|s| s.uri.ends_with("?partition=1"))
        },
    )
    .await;
    assert!(pipeline.warehouse_supervisor().is_some(), "the monitor is supervised");
    pipeline.shutdown().await;
    assert!(
        !env.warehouse_path().exists(),
        "nothing loads into SQLite in snowflake mode"
    );
}
