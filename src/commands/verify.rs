//! `tickstream verify`: the exactly-once audit against the configured broker and bucket.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use tickstream::config::{Config, KafkaMode};
use tickstream::s3::client::S3Endpoint;

use super::{Outcome, EXIT_UNREADABLE};

pub fn run(file: &Path, json: bool, timeout_secs: u64) -> Outcome {
    let config = super::load(file)?;
    let Some(s3) = endpoints(&config) else {
        return Err(ExitCode::from(EXIT_UNREADABLE));
    };
    let runtime = super::runtime()?;
    let timeout = Duration::from_secs(timeout_secs);
    let audit = tickstream::verify::audit(&config, &config.kafka.bootstrap_servers, &s3, timeout);
    Ok(match runtime.block_on(audit) {
        Ok(report) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                print!("{}", tickstream::verify::report::table(&report));
            }
            match report.ok() {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            }
        }
        Err(e) => super::fail("tickstream verify", &e, ExitCode::from(EXIT_UNREADABLE)),
    })
}

/// Where S3 is, or why verify cannot run against this configuration.
fn endpoints(config: &Config) -> Option<S3Endpoint> {
    if config.kafka.mode == KafkaMode::Embedded {
        eprintln!(
            "tickstream verify: kafka.mode is \"embedded\": the in-process broker keeps nothing after `run` \
             exits, so there is nothing to verify against; verify runs against a broker that outlives the pipeline"
        );
        return None;
    }
    let s3 = S3Endpoint::from_config(&config.s3);
    if s3.is_none() {
        eprintln!("tickstream verify: s3.mode is \"embedded\": point verify at the S3 server the pipeline wrote to");
    }
    s3
}
