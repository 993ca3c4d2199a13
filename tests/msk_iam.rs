//! MSK IAM against a broker that takes SASL/OAUTHBEARER logins (see `sasl_broker`): real
//! librdkafka clients must send the token our token cell holds, and `check-auth` must report the
//! broker's refusal in plain words without printing the token.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::sasl_broker::{SaslBroker, REFUSAL};
use aws_credential_types::Credentials;
use base64::Engine;
use rdkafka::consumer::Consumer;
use tickstream::auth::token::sign_token;
use tickstream::config::{KafkaConfig, KafkaMode};
use tickstream::kafka::producer::TickProducer;
use tickstream::kafka::token::TokenCell;
use tickstream::kafka::{client_config, oauth};
use tickstream::telemetry::PipelineStats;

fn msk_config(broker: &SaslBroker) -> KafkaConfig {
    KafkaConfig {
        mode: KafkaMode::MskIam,
        region: Some("us-east-1".into()),
        bootstrap_servers: broker.addr.to_string(),
        // The fake broker has no TLS: everything else is the MSK client configuration.
        librdkafka: BTreeMap::from([("security.protocol".to_owned(), "SASL_PLAINTEXT".to_owned())]),
        ..KafkaConfig::default()
    }
}

fn wait_for_tokens(broker: &SaslBroker, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while broker.tokens().len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    broker.tokens()
}

fn decode(token: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).unwrap()).unwrap()
}

#[test]
fn producer_and_consumer_log_in_with_the_token_from_the_cell() {
    let broker = SaslBroker::start();
    let kafka = msk_config(&broker);
    let cell = TokenCell::new();
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    cell.publish(sign_token("us-east-1", &creds, SystemTime::now(), "tickstream/test").unwrap());
    let expected = cell.current().unwrap().secret_value().to_owned();

    let producer_config = client_config::producer(&kafka, &kafka.bootstrap_servers);
    let producer = TickProducer::new(
        &producer_config,
        Arc::new(PipelineStats::default()),
        Some(cell.clone()),
        Default::default(),
    )
    .expect("producer");
    let producer_tokens = wait_for_tokens(&broker, 1);
    assert!(
        !producer_tokens.is_empty(),
        "the producer never sent a SASL/OAUTHBEARER login"
    );
    drop(producer);

    let consumer_config = client_config::base(&kafka, &kafka.bootstrap_servers);
    let consumer = oauth::consumer(&consumer_config, Some(&cell)).expect("consumer");
    let _ = consumer.fetch_metadata(None, Duration::from_secs(2));
    let tokens = wait_for_tokens(&broker, producer_tokens.len() + 1);
    assert!(tokens.len() > producer_tokens.len(), "the consumer never logged in");

    assert!(
        broker.mechanisms().iter().all(|m| m == "OAUTHBEARER"),
        "{:?}",
        broker.mechanisms()
    );
    for t in &tokens {
        assert_eq!(t, &expected, "a client sent a token that is not the cell's");
    }
    assert!(
        consumer.context().last_error().is_some_and(|e| e.contains(REFUSAL)),
        "the broker's refusal reaches the client context: {:?}",
        consumer.context().last_error()
    );
}

#[test]
fn without_a_token_the_client_does_not_log_in() {
    let broker = SaslBroker::start();
    let kafka = msk_config(&broker);
    let empty = TokenCell::new();
    let consumer = oauth::consumer(&client_config::base(&kafka, &kafka.bootstrap_servers), Some(&empty)).unwrap();
    let result = consumer.fetch_metadata(None, Duration::from_secs(2));
    assert!(result.is_err());
    assert!(
        broker.tokens().is_empty(),
        "nothing to send, nothing sent: {:?}",
        broker.tokens()
    );
}

#[test]
fn check_auth_reports_the_refusal_and_never_prints_the_token() {
    let broker = SaslBroker::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("msk.toml");
    std::fs::write(
        &file,
        format!(
            "[kafka]\nmode = \"msk_iam\"\nbootstrap_servers = \"{}\"\nregion = \"eu-west-1\"\ncreate_topics = false\n\
             [kafka.librdkafka]\n\"security.protocol\" = \"SASL_PLAINTEXT\"\n",
            broker.addr
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tickstream"))
        .args(["check-auth", "--config", file.to_str().unwrap(), "--timeout-secs", "5"])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // No AWS here: STS fails fast on a closed port instead of waiting on the network.
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run tickstream");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused → exit 1\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("credentials:   the AWS default credential chain"),
        "{stdout}"
    );
    assert!(
        stdout.contains("principal:     unknown (sts:GetCallerIdentity failed"),
        "{stdout}"
    );
    assert!(stdout.contains("token:         signed, expires"), "{stdout}");
    assert!(
        stdout.contains("kafka:         FAILED:") && stdout.contains(REFUSAL),
        "{stdout}"
    );

    let tokens = broker.tokens();
    assert!(!tokens.is_empty(), "check-auth logged in with a token");
    let url = decode(&tokens[0]);
    assert!(
        url.starts_with("https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect&"),
        "{url}"
    );
    assert!(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F"), "{url}");
    for t in &tokens {
        assert!(
            !stdout.contains(t.as_str()) && !stderr.contains(t.as_str()),
            "the token was printed"
        );
    }
    assert!(!stderr.contains("wJalrXUtnFEMI"), "the secret key was printed");
}
