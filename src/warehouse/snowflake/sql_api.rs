//! A small client of Snowflake's SQL API: `POST /api/v2/statements` with key-pair JWT auth,
//! then (HTTP 202) polling `statementStatusUrl` until the result is ready, fetching the other
//! partitions of a large result, and resubmitting with the same `requestId` and `retry=true` after
//! 408/429/5xx or a dropped connection, as the API's documentation asks.
//! [`interpret`] and [`statement_body`] are pure and tested against documented response shapes;
//! `tests/snowflake.rs` drives the whole client against a local HTTP server replaying them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use backon::BackoffBuilder;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::telemetry::reachability::{Dependency, Reachability};

use super::jwt::KeyPairAuth;
use super::SnowflakeError;

/// Where and as whom statements run.
#[derive(Clone, Debug)]
pub struct SqlApiConfig {
    /// `https://<account>.snowflakecomputing.com` (or a private-link / test URL).
    pub base_url: String,
    pub database: String,
    pub schema: String,
    pub warehouse: Option<String>,
    pub role: Option<String>,
    /// Seconds Snowflake may spend on a statement (the body's `timeout`); the client waits this
    /// long plus 30 s for a running statement.
    pub statement_timeout_s: u64,
}

/// A statement's result: column names and rows of nullable strings (the API's `jsonv2`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub handle: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    /// The value of column `name` (case-insensitive) in row `row`.
    pub fn get(&self, row: usize, name: &str) -> Option<&str> {
        let col = self.columns.iter().position(|c| c.eq_ignore_ascii_case(name))?;
        self.rows.get(row)?.get(col)?.as_deref()
    }
}

/// What one HTTP answer means.
#[derive(Debug)]
pub enum Answer {
    /// Results are here; `partitions` > 1 means more to fetch by handle.
    Done {
        result: ResultSet,
        partitions: usize,
    },
    /// Still running: poll `status_url`.
    Running {
        handle: String,
        status_url: String,
    },
    /// Worth resubmitting (same request id).
    Retry(String),
    Failed(SnowflakeError),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    code: Option<String>,
    message: Option<String>,
    sql_state: Option<String>,
    statement_handle: Option<String>,
    statement_status_url: Option<String>,
    result_set_meta_data: Option<Meta>,
    data: Option<Vec<Vec<Option<String>>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    row_type: Vec<Column>,
    #[serde(default)]
    partition_info: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Column {
    name: String,
}

/// The JSON body of `POST /api/v2/statements`.
pub fn statement_body(sql: &str, cfg: &SqlApiConfig) -> serde_json::Value {
    let mut body = serde_json::json!({
        "statement": sql,
        "timeout": cfg.statement_timeout_s,
        "database": cfg.database,
        "schema": cfg.schema,
    });
    if let Some(w) = &cfg.warehouse {
        body["warehouse"] = w.clone().into();
    }
    if let Some(r) = &cfg.role {
        body["role"] = r.clone().into();
    }
    body
}

/// Reads an HTTP status and body from the SQL API.
pub fn interpret(status: u16, body: &[u8]) -> Answer {
    let parsed: Option<Body> = serde_json::from_slice(body).ok();
    let message = || {
        let b = parsed.as_ref();
        let mut m = b
            .and_then(|b| b.message.clone())
            .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect());
        if let Some(state) = b.and_then(|b| b.sql_state.as_deref()).filter(|s| *s != "00000") {
            m.push_str(&format!(" (sqlState {state})"));
        }
        m
    };
    match status {
        200 => {
            let Some(b) = parsed else {
                return Answer::Failed(SnowflakeError::Parse(format!(
                    "HTTP 200 without a JSON result: {}",
                    String::from_utf8_lossy(body).chars().take(200).collect::<String>()
                )));
            };
            let (columns, partitions) = match b.result_set_meta_data {
                Some(m) => (
                    m.row_type.into_iter().map(|c| c.name).collect(),
                    m.partition_info.len().max(1),
                ),
                None => (Vec::new(), 1),
            };
            Answer::Done {
                result: ResultSet {
                    handle: b.statement_handle.unwrap_or_default(),
                    columns,
                    rows: b.data.unwrap_or_default(),
                },
                partitions,
            }
        }
        202 => match parsed {
            Some(Body {
                statement_handle: Some(handle),
                statement_status_url: Some(status_url),
                ..
            }) => Answer::Running { handle, status_url },
            _ => Answer::Failed(SnowflakeError::Parse(
                "HTTP 202 without statementHandle and statementStatusUrl".into(),
            )),
        },
        408 | 429 | 500 | 502 | 503 | 504 => Answer::Retry(format!("HTTP {status}: {}", message())),
        401 => Answer::Failed(SnowflakeError::Auth(format!(
            "HTTP 401: {} (is the user's RSA_PUBLIC_KEY set to this key? compare DESC USER's \
             RSA_PUBLIC_KEY_FP with `tickstream snowflake fingerprint`)",
            message()
        ))),
        _ => Answer::Failed(SnowflakeError::Api {
            status,
            code: parsed.as_ref().and_then(|b| b.code.clone()),
            message: message(),
        }),
    }
}

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// The client; cheap to share behind an `Arc`.
pub struct SqlApi {
    cfg: SqlApiConfig,
    auth: KeyPairAuth,
    http: Client<Https, Full<Bytes>>,
    /// The current JWT and when it expires (Unix seconds).
    token: Mutex<Option<(Arc<str>, u64)>>,
    /// Where failures to reach the API are reported (the Snowpipe monitor's; a one-off command
    /// has its own).
    reach: Arc<Reachability>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// HTTPS with the system's CA certificates (rustls, aws-lc-rs), plain HTTP for local tests.
fn http_client(base_url: &str) -> Result<Client<Https, Full<Bytes>>, SnowflakeError> {
    let roots = crate::tls::host_roots();
    if roots.is_empty() && base_url.starts_with("https://") {
        return Err(SnowflakeError::Config(
            "no CA certificates found on this host (install ca-certificates)".into(),
        ));
    }
    let tls = crate::tls::client_config(roots).map_err(|e| SnowflakeError::Config(format!("TLS: {e}")))?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

impl SqlApi {
    pub fn new(cfg: SqlApiConfig, auth: KeyPairAuth) -> Result<Self, SnowflakeError> {
        let http = http_client(&cfg.base_url)?;
        let reach = Arc::new(Reachability::default());
        reach.register(Dependency::Snowflake, cfg.base_url.clone());
        Ok(Self {
            cfg,
            auth,
            http,
            token: Mutex::new(None),
            reach,
        })
    }

    /// Reports failures to reach the API into `reach` (the process's record).
    pub fn reporting_to(mut self, reach: Arc<Reachability>) -> Self {
        reach.register(Dependency::Snowflake, self.cfg.base_url.clone());
        self.reach = reach;
        self
    }

    pub fn config(&self) -> &SqlApiConfig {
        &self.cfg
    }

    /// A JWT with at least five minutes left, signing a new one (59 minutes) when needed.
    fn bearer(&self) -> Result<Arc<str>, SnowflakeError> {
        let now = unix_now();
        let mut cached = self
            .token
            .lock()
            .map_err(|_| SnowflakeError::Auth("token lock poisoned".into()))?;
        if let Some((t, _)) = cached.as_ref().filter(|(_, exp)| *exp > now + 300) {
            return Ok(t.clone());
        }
        let lifetime = 59 * 60;
        let token: Arc<str> = self.auth.token(now, lifetime)?.into();
        *cached = Some((token.clone(), now + lifetime));
        Ok(token)
    }

    /// One HTTP exchange; transport failures are `Err(reason)` so the caller can retry them.
    async fn send(
        &self,
        method: hyper::Method,
        path_and_query: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Bytes), String> {
        let url = format!("{}{path_and_query}", self.cfg.base_url.trim_end_matches('/'));
        let token = self.bearer().map_err(|e| e.to_string())?;
        let request = hyper::Request::builder()
            .method(method)
            .uri(&url)
            .header("Authorization", format!("Bearer {token}"))
            .header("X-Snowflake-Authorization-Token-Type", "KEYPAIR_JWT")
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .header("User-Agent", concat!("tickstream/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(Bytes::copy_from_slice(body.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok((status, bytes))
        };
        tokio::time::timeout(Duration::from_secs(60), exchange)
            .await
            .map_err(|_| "no answer within 60 s".to_string())?
    }

    /// Runs `sql` and returns all its rows.
    pub async fn execute(&self, sql: &str) -> Result<ResultSet, SnowflakeError> {
        let request_id = uuid::Uuid::new_v4();
        let body = statement_body(sql, &self.cfg).to_string();
        let mut delays = supervisors::backoff::exponential(Duration::from_millis(500), Duration::from_secs(8))
            .with_max_times(5)
            .build();
        let mut retry = false;
        loop {
            let path = format!(
                "/api/v2/statements?requestId={request_id}{}",
                if retry { "&retry=true" } else { "" }
            );
            let answer = match self.send(hyper::Method::POST, &path, Some(body.as_bytes())).await {
                Ok((status, bytes)) => interpret(status, &bytes),
                Err(reason) => Answer::Retry(reason),
            };
            match &answer {
                Answer::Retry(reason) => self.reach.failed(Dependency::Snowflake, reason),
                Answer::Failed(e @ SnowflakeError::Api { status: 401 | 403, .. }) => {
                    self.reach.failed(Dependency::Snowflake, &e.to_string())
                }
                _ => self.reach.answered(Dependency::Snowflake),
            }
            match answer {
                Answer::Done { result, partitions } => return self.rest(result, partitions).await,
                Answer::Running { handle, status_url } => return self.wait(handle, status_url).await,
                Answer::Failed(e) => return Err(e),
                Answer::Retry(reason) => match delays.next() {
                    Some(d) => {
                        tracing::debug!("snowflake: {reason}; resubmitting in {d:?}");
                        tokio::time::sleep(d).await;
                        retry = true;
                    }
                    None => {
                        return Err(SnowflakeError::Http {
                            url: format!("{}/api/v2/statements", self.cfg.base_url),
                            reason: format!("{reason} (after 5 retries)"),
                        })
                    }
                },
            }
        }
    }

    /// Polls a running statement until it finishes or the wait runs out.
    async fn wait(&self, handle: String, status_url: String) -> Result<ResultSet, SnowflakeError> {
        let started = Instant::now();
        let limit = Duration::from_secs(self.cfg.statement_timeout_s + 30);
        let mut pauses = supervisors::backoff::steady_delays(Duration::from_millis(250), Duration::from_secs(5));
        loop {
            tokio::time::sleep(pauses.next().unwrap_or(Duration::from_secs(5))).await;
            let answer = match self.send(hyper::Method::GET, &status_url, None).await {
                Ok((status, bytes)) => interpret(status, &bytes),
                Err(reason) => Answer::Retry(reason),
            };
            match answer {
                Answer::Done { result, partitions } => return self.rest(result, partitions).await,
                Answer::Failed(e) => return Err(e),
                Answer::Running { .. } | Answer::Retry(_) if started.elapsed() < limit => {}
                Answer::Running { .. } | Answer::Retry(_) => {
                    return Err(SnowflakeError::StillRunning {
                        handle,
                        waited_s: started.elapsed().as_secs(),
                    })
                }
            }
        }
    }

    /// Fetches partitions 1.. of a result and appends their rows.
    async fn rest(&self, mut result: ResultSet, partitions: usize) -> Result<ResultSet, SnowflakeError> {
        for partition in 1..partitions {
            let path = format!("/api/v2/statements/{}?partition={partition}", result.handle);
            let (status, bytes) =
                self.send(hyper::Method::GET, &path, None)
                    .await
                    .map_err(|reason| SnowflakeError::Http {
                        url: path.clone(),
                        reason,
                    })?;
            match interpret(status, &bytes) {
                Answer::Done { result: page, .. } => result.rows.extend(page.rows),
                Answer::Failed(e) => return Err(e),
                other => {
                    return Err(SnowflakeError::Parse(format!(
                        "partition {partition} of {}: {other:?}",
                        result.handle
                    )))
                }
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
#[path = "sql_api_tests.rs"]
mod tests;
