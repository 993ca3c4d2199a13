//! `chaos smoke [--seed S]` (every fault kind once, ≤ 10 minutes) and
//! `chaos soak --minutes M --seed S`: real processes and a three-broker mock cluster, seeded
//! faults, then the exactly-once audit of each.
//! Needs `tansu` and `s3s-fs` on PATH (`chaos/install`) and a built `tickstream`.

use std::path::PathBuf;
use std::process::ExitCode;

use chaos::run::{run, RunConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mode = args.first().map(String::as_str).unwrap_or("");
    if !matches!(mode, "smoke" | "soak") {
        eprintln!(
            "usage: chaos smoke [--seed S] [--tickstream PATH] [--sink KEY=VALUE]… | chaos soak --minutes M [--seed S]\n\
             --sink adds a [sink] setting to every instance, e.g. --sink s3.compression.type=gzip"
        );
        return ExitCode::from(2);
    }
    let seed = value("--seed").and_then(|v| v.parse().ok()).unwrap_or(1);
    let minutes = value("--minutes").and_then(|v| v.parse().ok());
    let mut sink = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if a != "--sink" {
            continue;
        }
        match args.get(i + 1).and_then(|kv| kv.split_once('=')) {
            Some((k, v)) => sink.push((k.to_owned(), v.to_owned())),
            None => {
                eprintln!("chaos: --sink takes KEY=VALUE, e.g. --sink s3.compression.type=gzip");
                return ExitCode::from(2);
            }
        }
    }
    let tickstream = value("--tickstream")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/debug/tickstream"));
    let tickstream = match tickstream.canonicalize() {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "chaos: {}: {e} (build it: cargo build --bin tickstream)",
                tickstream.display()
            );
            return ExitCode::from(2);
        }
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let dir = PathBuf::from(format!("target/chaos/{mode}-{stamp}-seed{seed}"));
    let rc = RunConfig {
        mode: mode.to_owned(),
        seed,
        faults: 8,
        failover_faults: 6,
        dir: dir.clone(),
        tickstream,
        minutes: if mode == "soak" { minutes.or(Some(30)) } else { None },
        sink,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(rc)) {
        Ok(report) => {
            println!("{}", report.table());
            println!("chaos: report in {}/report.json", dir.display());
            if report.verified {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("chaos: {e} (logs in {})", dir.display());
            ExitCode::FAILURE
        }
    }
}
