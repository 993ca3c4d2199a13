//! The `tickstream` binary: parse the command line, start logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use tickstream::app::{self, Outcome};
use tickstream::cli::{AuthCommand, Cli, Command, OutputFormat, SnowflakeCommand};
use tickstream::config;

/// Exit code for a configuration that cannot be used.
const EXIT_CONFIG: u8 = 2;
/// Exit code of `verify` when Kafka or S3 cannot be read.
const EXIT_UNREADABLE: u8 = 3;

/// Loads and validates a configuration, or prints why not and gives the exit code.
fn load(file: &std::path::Path) -> Result<config::Config, ExitCode> {
    config::load(file).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("starting the async runtime: {e}");
            None
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,librdkafka=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    match cli.command {
        Command::CheckConfig { file } => match load(&file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Verify {
            config: file,
            json,
            timeout_secs,
        } => {
            let config = match load(&file) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let Some(runtime) = runtime() else {
                return ExitCode::FAILURE;
            };
            match runtime.block_on(app::verify(&config, std::time::Duration::from_secs(timeout_secs))) {
                Ok(report) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
                    } else {
                        print!("{}", tickstream::verify::report::table(&report));
                    }
                    if report.ok() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("tickstream verify: {e:#}");
                    ExitCode::from(EXIT_UNREADABLE)
                }
            }
        }
        Command::Status { config, json } => status(&config, json),
        Command::Query { config, sql, format } => {
            table_command(&config, format, |c| tickstream::warehouse::commands::query(c, &sql))
        }
        Command::Stats { config, ohlc, format } => {
            let secs = match ohlc.as_deref().map(tickstream::warehouse::query::parse_interval) {
                None => None,
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    eprintln!("--ohlc {e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            table_command(&config, format, |c| tickstream::warehouse::commands::stats(c, secs))
        }
        Command::Snowflake(SnowflakeCommand::Ddl { config }) => match load(&config) {
            Ok(c) => {
                print!("{}", tickstream::warehouse::snowflake::ddl(&c));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Snowflake(SnowflakeCommand::Fingerprint { config }) => match load(&config) {
            Ok(c) => snowflake_fingerprint(&c),
            Err(code) => code,
        },
        Command::CheckAuth { config, timeout_secs } => check_auth(&config, timeout_secs),
        Command::Auth(AuthCommand::Token { region, role_arn }) => print_token(&region, role_arn.as_deref()),
        Command::Run { config: file, seed } => {
            let config = match load(&file) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let Some(runtime) = runtime() else {
                return ExitCode::FAILURE;
            };
            match runtime.block_on(app::run(config, seed, app::shutdown_signal())) {
                Ok(Outcome::Stopped) => ExitCode::SUCCESS,
                Ok(Outcome::Failed) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("tickstream: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `tickstream check-auth`.
fn check_auth(file: &std::path::Path, timeout_secs: u64) -> ExitCode {
    let config = match load(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if config.kafka.mode != config::KafkaMode::MskIam {
        eprintln!(
            "{}: kafka.mode is not \"msk_iam\": there is no IAM authentication to check",
            file.display()
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let timeout = std::time::Duration::from_secs(timeout_secs);
    match runtime.block_on(tickstream::auth::check::check_auth(&config, timeout)) {
        Ok(report) => {
            print!("{}", report.render());
            if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("tickstream check-auth: {e}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// `tickstream auth token`.
fn print_token(region: &str, role_arn: Option<&str>) -> ExitCode {
    use tickstream::auth::credentials::{AwsCredentialChain, CredentialSource};
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let signed = runtime.block_on(async {
        let chain = AwsCredentialChain::load(region, role_arn).await?;
        let credentials = chain.credentials().await?;
        tickstream::auth::token::sign_token(
            region,
            &credentials,
            std::time::SystemTime::now(),
            &tickstream::auth::token::user_agent(),
        )
    });
    match signed {
        Ok(token) => {
            println!("{}", token.secret_value());
            let expires = chrono::DateTime::<chrono::Utc>::from(token.expires_at);
            eprintln!("expires {}", expires.format("%Y-%m-%dT%H:%M:%SZ"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tickstream auth token: {e}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// `tickstream status`.
fn status(file: &std::path::Path, json: bool) -> ExitCode {
    let config = match load(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(tickstream::warehouse::commands::status(&config)) {
        Ok(s) if json => {
            println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(s) => {
            print!("{}", s.render());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tickstream status: {e}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// `tickstream query` and `stats`: run, then print in the chosen format.
fn table_command(
    file: &std::path::Path,
    format: OutputFormat,
    run: impl FnOnce(&config::Config) -> Result<tickstream::warehouse::query::Table, tickstream::warehouse::WarehouseError>,
) -> ExitCode {
    let config = match load(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match run(&config) {
        Ok(t) => {
            match format {
                OutputFormat::Table => print!("{}", t.render()),
                OutputFormat::Csv => print!("{}", t.csv()),
                OutputFormat::Json => println!("{}", t.json()),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tickstream: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `tickstream snowflake fingerprint`: what to register on the Snowflake user.
fn snowflake_fingerprint(c: &tickstream::config::Config) -> ExitCode {
    use tickstream::warehouse::snowflake::jwt::KeyPairAuth;
    let sf = &c.warehouse.snowflake;
    let (Some(account), Some(user), Some(path)) = (&sf.account, &sf.user, &sf.private_key_path) else {
        eprintln!(
            "warehouse.snowflake.account, user and private_key_path must all be set \
             (or TICKSTREAM_SNOWFLAKE_ACCOUNT, _USER, _PRIVATE_KEY_PATH)"
        );
        return ExitCode::from(EXIT_CONFIG);
    };
    match KeyPairAuth::from_file(account, user, path) {
        Ok(auth) => {
            println!("RSA_PUBLIC_KEY_FP  {}", auth.fingerprint());
            println!("ALTER USER {user} SET RSA_PUBLIC_KEY='{}';", auth.public_key_base64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}
