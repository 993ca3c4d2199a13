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
