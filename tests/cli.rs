//! The binary's contract: configuration errors name the file and key and exit 2; `--help` teaches.

use std::process::Command;

fn tickstream(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tickstream"))
        .args(args)
        .output()
        .expect("run tickstream")
}

#[test]
fn the_shipped_configs_are_valid() {
    for file in ["config/local.toml", "config/msk.example.toml"] {
        let out = tickstream(&["check-config", file]);
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_bad_value_names_the_file_and_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[sink]\n\"flush.size\" = 0\n\"s3.bucket.name\" = \"Bad_Bucket\"\n",
    )
    .unwrap();
    let out = tickstream(&["check-config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}: sink.flush.size: must be ≥ 1, got 0", file.display())),
        "{err}"
    );
    assert!(err.contains("sink.s3.bucket.name"), "every problem is reported: {err}");
}

#[test]
fn run_refuses_an_unknown_key_before_starting_anything() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[producer]\nsymbol = [\"AAPL\"]\n").unwrap();
    let out = tickstream(&["run", "--config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("producer.symbol: unknown field `symbol`"), "{err}");
}

#[test]
fn a_missing_file_is_named() {
    let out = tickstream(&["check-config", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("no/such/file.toml: cannot read the file"));
}

#[test]
fn help_lists_the_commands_and_the_environment_overrides() {
    let out = tickstream(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "run",
        "check-config",
        "TICKSTREAM_KAFKA_BOOTSTRAP_SERVERS",
        "Exit codes",
    ] {
        assert!(help.contains(needle), "--help mentions {needle}");
    }
}

/// systemd's `LoadCredential=snowflake_rsa_key.p8:/etc/tickstream/snowflake_rsa_key.p8` (the
/// Snowflake drop-in): the service's user cannot read the root-owned key at the configured path,
/// and reads the copy systemd places in `$CREDENTIALS_DIRECTORY` (mode 0400) instead.
#[test]
fn the_snowflake_key_is_read_from_the_systemd_credential_where_the_configured_path_is_unreadable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    let key = credentials.join("snowflake_rsa_key.p8");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/snowflake/test_rsa_key.p8"),
        &key,
    )
    .unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
    let config = dir.path().join("tickstream.toml");
    std::fs::write(
        &config,
        "[warehouse]\nkind = \"snowflake\"\n[warehouse.snowflake]\naccount = \"myorg-myaccount\"\nuser = \"tickstream_monitor\"\nprivate_key_path = \"/etc/tickstream/no-such-dir/snowflake_rsa_key.p8\"\n",
    )
    .unwrap();
    let run = |credentials: Option<&std::path::Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickstream"));
        cmd.args(["snowflake", "fingerprint", "-c", config.to_str().unwrap()])
            .env_remove("TICKSTREAM_SNOWFLAKE_PRIVATE_KEY_PATH")
            .env_remove("CREDENTIALS_DIRECTORY");
        if let Some(c) = credentials {
            cmd.env("CREDENTIALS_DIRECTORY", c);
        }
        cmd.output().expect("run tickstream")
    };
    let without = run(None);
    assert!(!without.status.success(), "the configured path is unreadable");
    assert!(
        String::from_utf8_lossy(&without.stderr).contains("/etc/tickstream/no-such-dir/snowflake_rsa_key.p8"),
        "{}",
        String::from_utf8_lossy(&without.stderr)
    );
    let with = run(Some(&credentials));
    let out = String::from_utf8_lossy(&with.stdout);
    assert!(with.status.success(), "{}", String::from_utf8_lossy(&with.stderr));
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/snowflake/jwt.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let fp = fixture["fingerprint"].as_str().unwrap();
    assert!(out.contains(fp), "the fixture key's fingerprint {fp}: {out}");
}
