//! `tickstream auth token`: one signed MSK IAM token on stdout (a 15-minute credential).

use std::process::ExitCode;

use super::{Outcome, EXIT_UNREADABLE};

pub fn run(region: &str, role_arn: Option<&str>) -> Outcome {
    let runtime = super::runtime()?;
    Ok(
        match runtime.block_on(tickstream::auth::setup::sign_once(region, role_arn)) {
            Ok(token) => {
                println!("{}", token.secret_value());
                let expires = chrono::DateTime::<chrono::Utc>::from(token.expires_at);
                eprintln!("expires {}", expires.format("%Y-%m-%dT%H:%M:%SZ"));
                ExitCode::SUCCESS
            }
            Err(e) => super::fail("tickstream auth token", &e, ExitCode::from(EXIT_UNREADABLE)),
        },
    )
}
