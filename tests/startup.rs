//! Dependencies that do not answer are named at once: a broker, an S3 endpoint, a broker that
//! refuses the SASL login, a Snowflake API. The first failed attempt is logged (its retry is
//! the backoff's first step) with the address and the underlying error, one WARN line per retry
//! (not a line per broker and reconnect); `/readyz` says which one; start-up gives up after
//! `runtime.startup_timeout_ms` with the same cause as the process's last line and exit status
//! 1; a stop signal during the wait stops it, although start-up would wait 15 minutes more. All
//! against real `tickstream run` processes. Deadlines here only bound a hang: how fast things
//! happen is the bench's to say.

use std::time::{Duration, Instant};

use crate::common::refused_port;
use crate::process::Tickstream;
use crate::sasl_broker::SaslBroker;

/// AWS credentials that sign tokens offline (no STS, no instance metadata).
const AWS_OFFLINE: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9"),
];

/// A `tickstream run` in `msk_iam` mode against a broker that refuses every token: it signs
/// tokens (its token gauges are real) and waits for Kafka, naming the refusal.
pub fn msk_iam_process(broker: &SaslBroker) -> Tickstream {
    Tickstream::start(
        "msk",
        &format!(
            "[kafka]\nmode = \"msk_iam\"\nbootstrap_servers = \"{}\"\nregion = \"us-east-1\"\ncreate_topics = false\n\
             [kafka.librdkafka]\n\"security.protocol\" = \"SASL_PLAINTEXT\"\n",
            broker.addr
        ),
        &AWS_OFFLINE,
    )
}

/// How long a test waits for a line it expects before it calls the process stuck.
const HANG: Duration = Duration::from_secs(30);

/// The delay the first line naming `needle` announces (`retrying in 1.4 s`): the start-up
/// wait's backoff starts at 1 s, with up to as much again of jitter, so under 2 s is the
/// first attempt's.
fn first_retry_delay(log: &str, needle: &str) -> f64 {
    let line = log.lines().find(|l| l.contains(needle)).unwrap_or_default();
    let delay = line.split("retrying in ").nth(1).and_then(|r| r.split(' ').next());
    delay
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no retry delay in {line:?}"))
}

/// Waits for the process to exit; its status and how long that took.
async fn exit_of(t: &mut Tickstream, limit: Duration) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = t.exited() {
            return (status, started.elapsed());
        }
        assert!(
            started.elapsed() < limit,
            "{} still running after {limit:?}:\n{}",
            t.name,
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_unreachable_broker_is_named_by_the_first_attempt_and_ends_start_up_with_its_cause() {
    let (_held, port) = refused_port();
    let mut t = Tickstream::start_with_runtime(
        "no-broker",
        &format!("[kafka]\nmode = \"plaintext\"\nbootstrap_servers = \"127.0.0.1:{port}\"\n"),
        "startup_timeout_ms = 8000\n",
        &[],
    );
    let named = format!("waiting for kafka at 127.0.0.1:{port}: ");
    t.until_logged(&named, HANG).await;
    assert!(
        first_retry_delay(&t.log(), &named) < 2.05,
        "named by the first attempt:\n{}",
        t.log()
    );
    let (status, body) = t.http("GET", "/readyz").await.expect("/readyz answers while waiting");
    assert_eq!(status, 503);
    assert!(
        body.contains(&format!("kafka at 127.0.0.1:{port}: ")) && body.contains("Connection refused"),
        "{body}"
    );

    let (status, _) = exit_of(&mut t, Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(1), "{}", t.log());
    let log = t.log();
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.contains("not reachable after") && last.contains("runtime.startup_timeout_ms"),
        "{last}"
    );
    assert!(
        last.contains(&format!("kafka at 127.0.0.1:{port}")) && last.contains("Connection refused"),
        "{last}"
    );
    // One WARN per failed attempt that is retried: how many fit in 8 s depends on how long each
    // 3 s probe takes on a loaded machine (one, when the second attempt ends past the limit);
    // what must not happen is a line per broker or per librdkafka event.
    let warns = log.lines().filter(|l| l.contains(&named)).count();
    let retries = log.lines().filter(|l| l.contains("retrying in ")).count();
    assert!(
        (1..=8).contains(&warns) && warns == retries,
        "one WARN per retry over 8 s, got {warns} for {retries} retries:\n{log}"
    );
    assert!(!log.contains("FAIL"), "no librdkafka per-broker lines:\n{log}");
}

#[tokio::test]
async fn a_stop_signal_during_the_wait_stops_the_wait() {
    let (_held, port) = refused_port();
    let mut t = Tickstream::start(
        "stop-while-waiting",
        &format!("[kafka]\nmode = \"plaintext\"\nbootstrap_servers = \"127.0.0.1:{port}\"\n"),
        &[],
    );
    t.until_logged("waiting for kafka at", HANG).await;
    t.signal("TERM");
    // Start-up would go on waiting for 15 minutes (`startup_timeout_ms = 900000`).
    let (status, _) = exit_of(&mut t, HANG).await;
    assert_eq!(status.code(), Some(0), "a requested stop is a clean exit:\n{}", t.log());
    assert!(t.log().contains("stopped before the pipeline started"), "{}", t.log());
}

#[tokio::test]
async fn an_unreachable_s3_endpoint_is_named_by_the_first_attempt() {
    let (_held, port) = refused_port();
    let t = Tickstream::start_with_runtime(
        "no-s3",
        &format!("[s3]\nmode = \"endpoint\"\nendpoint = \"http://127.0.0.1:{port}\"\n"),
        "startup_timeout_ms = 60000\n",
        &[("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y")],
    );
    let named = format!("waiting for s3 at http://127.0.0.1:{port} (bucket ");
    t.until_logged(&named, HANG).await;
    assert!(
        first_retry_delay(&t.log(), &named) < 2.05,
        "named by the first attempt:\n{}",
        t.log()
    );
    assert!(t.log().contains("Connection refused"), "{}", t.log());
    let (_, body) = t.http("GET", "/readyz").await.expect("/readyz");
    assert!(body.contains(&format!("s3 at http://127.0.0.1:{port}")), "{body}");
}

#[tokio::test]
async fn a_broker_that_refuses_the_sasl_login_is_named_with_its_answer() {
    let broker = SaslBroker::start();
    let t = msk_iam_process(&broker);
    t.until_logged(
        &format!("waiting for kafka at {}: ", broker.addr),
        Duration::from_secs(8),
    )
    .await;
    let log = t.log();
    assert!(
        log.contains(crate::sasl_broker::REFUSAL),
        "the broker's own words: {log}"
    );
    for token in broker.tokens() {
        assert!(!log.contains(&token), "no token in the log");
    }
}

#[tokio::test]
async fn an_unreachable_snowflake_api_is_named_by_the_first_poll_and_in_readyz() {
    let (_held, port) = refused_port();
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/snowflake/test_rsa_key.p8");
    let t = Tickstream::start(
        "no-snowflake",
        &format!(
            "[warehouse]\nkind = \"snowflake\"\n[warehouse.snowflake]\naccount = \"myorg-myaccount\"\n\
             user = \"tickstream_monitor\"\nprivate_key_path = \"{key}\"\napi_url = \"http://127.0.0.1:{port}\"\n"
        ),
        &[],
    );
    t.until_logged("pipeline started", HANG).await;
    // The monitor's next poll would be a minute later (`poll_interval_ms` 60000): its first
    // one names the API.
    t.until_logged(&format!("cannot reach snowflake at http://127.0.0.1:{port}: "), HANG)
        .await;
    let (_, body) = t.http("GET", "/readyz").await.expect("/readyz");
    assert!(
        body.contains(&format!("snowflake at http://127.0.0.1:{port}: ")),
        "{body}"
    );
}
