//! What librdkafka says about reaching the brokers. Every client context routes its log lines
//! and global errors here: connection, resolution, TLS and authentication failures go to the
//! process's [`Reachability`] record (one WARN per interval that names the bootstrap servers
//! and the cause, not a line per broker and reconnect), everything else to `tracing` under the
//! `librdkafka` target. [`probe`] asks the cluster for metadata on a client of its own.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::client::OAuthToken;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::{Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext};

use crate::kafka::token::TokenCell;
use crate::telemetry::reachability::{Dependency, Reachability};

/// Whether a global error means the brokers cannot be reached or will not let us in.
fn is_reachability(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::BrokerTransportFailure
            | C::AllBrokersDown
            | C::Resolve
            | C::SSL
            | C::Authentication
            | C::SaslAuthenticationFailed
            | C::ClusterAuthorizationFailed
            | C::TopicAuthorizationFailed
            | C::GroupAuthorizationFailed
    )
}

/// How a client's broker failures reach the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// Logged (at most once per interval): the pipeline's own clients.
    Log,
    /// Only recorded: a probe, whose caller reports the outcome.
    Quiet,
}

fn broker_failed(reach: &Reachability, report: Report, message: &str) {
    // librdkafka prefixes its thread: "[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: …".
    let cause = match message.strip_prefix("[thrd:").and_then(|m| m.split_once("]: ")) {
        Some((_, rest)) => rest,
        None => message,
    };
    match report {
        Report::Log => reach.failed(Dependency::Kafka, cause),
        Report::Quiet => reach.noted(Dependency::Kafka, cause),
    }
}

/// A client's global error callback.
pub fn error(reach: &Reachability, report: Report, err: &KafkaError, reason: &str) {
    match err.rdkafka_error_code() {
        // "1/1 brokers are down" says less than the broker's own failure that came before it.
        Some(RDKafkaErrorCode::AllBrokersDown) if reach.problem(Dependency::Kafka).is_some() => {}
        Some(code) if is_reachability(code) => broker_failed(reach, report, reason),
        _ => tracing::error!(target: "librdkafka", "{err}: {reason}"),
    }
}

/// A client's log callback. `FAIL` lines (a broker connection failed) repeat what the error
/// callback reports; they go to the reachability record too, so they are not a flood.
pub fn log(reach: &Reachability, report: Report, level: RDKafkaLogLevel, facility: &str, message: &str) {
    use RDKafkaLogLevel as L;
    if facility == "FAIL" {
        broker_failed(reach, report, message);
        return;
    }
    match level {
        L::Emerg | L::Alert | L::Critical | L::Error => tracing::error!(target: "librdkafka", "{facility}: {message}"),
        L::Warning => tracing::warn!(target: "librdkafka", "{facility}: {message}"),
        L::Notice | L::Info => tracing::info!(target: "librdkafka", "{facility}: {message}"),
        L::Debug => tracing::debug!(target: "librdkafka", "{facility}: {message}"),
    }
}

/// A client context of ours for clients without one of their own (a probe, the dead-letter
/// producer): diagnostics and the MSK IAM token.
pub struct ClientDiagnostics {
    pub reach: Arc<Reachability>,
    pub token: Option<TokenCell>,
    pub report: Report,
}

impl ClientContext for ClientDiagnostics {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        log(&self.reach, self.report, level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self::error(&self.reach, self.report, &error, reason);
    }

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        super::oauth::answer(self.token.as_ref())
    }
}

impl rdkafka::producer::ProducerContext for ClientDiagnostics {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: ()) {}
}

/// Asks the cluster for its metadata (blocking, up to `timeout`) on a client made for it.
/// `Err` carries the underlying cause when librdkafka reported one (connection refused, a name
/// that does not resolve, a TLS or SASL failure), else the metadata request's own error.
pub fn probe(
    config: &ClientConfig,
    reach: &Arc<Reachability>,
    token: Option<TokenCell>,
    timeout: Duration,
) -> Result<(), String> {
    let context = ClientDiagnostics {
        reach: reach.clone(),
        token,
        report: Report::Quiet,
    };
    // A threaded client polls while the request waits: that serves the OAUTHBEARER token
    // callback (no token, no login) and the error callbacks that carry the cause.
    let client: ThreadedProducer<ClientDiagnostics> = config
        .create_with_context(context)
        .map_err(|e| format!("creating a Kafka client: {e}"))?;
    let answer = client.client().fetch_metadata(None, timeout);
    match answer {
        Ok(_) => {
            reach.answered(Dependency::Kafka);
            Ok(())
        }
        Err(e) => Err(reach
            .problem(Dependency::Kafka)
            .and_then(|p| p.split_once(": ").map(|(_, cause)| cause.to_owned()))
            .unwrap_or_else(|| format!("no metadata within {timeout:?}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_is_named_with_its_cause() {
        let reach = Arc::new(Reachability::default());
        reach.register(Dependency::Kafka, "127.0.0.1:1");
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", "127.0.0.1:1");
        let err = probe(&config, &reach, None, Duration::from_secs(2)).expect_err("nothing listens on port 1");
        assert!(
            err.contains("127.0.0.1:1") && err.contains("Connection refused"),
            "{err}"
        );
        let problem = reach.problem(Dependency::Kafka).expect("recorded");
        assert!(problem.starts_with("kafka at 127.0.0.1:1: "), "{problem}");
    }

    #[test]
    fn a_name_that_does_not_resolve_is_named() {
        let reach = Arc::new(Reachability::default());
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", "no-such-host.invalid:9092");
        let err = probe(&config, &reach, None, Duration::from_secs(3)).expect_err("no such host");
        assert!(err.contains("no-such-host.invalid"), "{err}");
        assert!(err.to_lowercase().contains("resolve"), "{err}");
    }
}
