//! `chaos smoke [--seed S]` (every fault kind once, ≤ 10 minutes) and
//! `chaos soak --minutes M --seed S`: real processes and a three-broker mock cluster, seeded
//! faults, then the exactly-once audit of each.
//! Needs `tansu` and `s3s-fs` on PATH (`chaos/install`) and a built `tickstream`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use chaos::run::{run, RunConfig};

/// Kills and stalls the broker, the S3 server and tickstream on a seeded schedule, then audits
/// that every record on the topic is in S3 exactly once.
///
/// Phase 1 runs real processes on 127.0.0.1 (tansu, s3s-fs behind a fault proxy, `tickstream
/// run`); phase 2 runs the pipeline in this process against librdkafka's three-broker mock
/// cluster, moving partition leaders and taking one broker down. Exit 0 only when both phases
/// verify: 0 lost, 0 duplicated.
///
/// Needs `tansu` and `s3s-fs` on PATH (`chaos/install`, once) and a built tickstream
/// (`cargo build -p tickstream -p chaos --bins`). Logs, data and report.json of each run are in
/// target/chaos/<mode>-<time>-seed<S>/.
#[derive(Parser, Debug)]
#[command(name = "chaos", version)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand, Debug)]
enum Mode {
    /// Every fault kind once: 8 process faults, then 6 failover faults (~2–3 minutes)
    ///
    /// Examples:
    ///   chaos smoke --seed 1
    ///   chaos smoke --seed 2 --sink s3.compression.type=gzip
    ///   chaos smoke --seed 3 --sink format.class=parquet --sink partitioner.class=hourly
    #[command(verbatim_doc_comment)]
    Smoke(Common),
    /// Faults back to back for --minutes: five sixths on the process phase, the rest on failover;
    /// then the group phase (`chaos group`, ~4 minutes more).
    Soak {
        /// How long to inject faults, in minutes.
        #[arg(long, default_value_t = 30, value_name = "M")]
        minutes: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Several instances in one consumer group (~3 minutes): a librdkafka mock cluster in a
    /// process of its own, s3s-fs, one producing and three sink-only tickstream instances; a
    /// member joins, one is SIGKILLed, one is stopped past its session (a zombie), a fourth
    /// joins, one leaves. Reports, per fault, the longest gap in files of the partitions that
    /// kept their owner and the first file of moved ones; then the time until the committed
    /// offsets reach the ends; exit 0 only when the audit finds 0 lost, 0 duplicated and every
    /// committed offset at its end.
    ///
    /// Examples:
    ///   chaos group
    ///   chaos group --eager      # the same with the eager protocol (range), to compare
    #[command(verbatim_doc_comment)]
    Group {
        /// Every instance uses the eager protocol (partition.assignment.strategy = range).
        #[arg(long)]
        eager: bool,
        /// The tickstream binary the instances run.
        #[arg(long, default_value = "target/debug/tickstream", value_name = "PATH")]
        tickstream: PathBuf,
    },
    /// Hosts a librdkafka mock cluster until killed; prints `bootstrap=HOST:PORT,...` (used by
    /// `chaos group`).
    #[command(hide = true)]
    MockCluster {
        #[arg(long, default_value_t = 3)]
        brokers: i32,
        #[arg(long)]
        topic: String,
        #[arg(long, default_value_t = 3)]
        partitions: i32,
    },
}

/// Hosts the cluster: prints its bootstrap servers, then waits to be killed.
fn mock_cluster(brokers: i32, topic: &str, partitions: i32) -> ExitCode {
    let cluster = match tickstream::kafka::EmbeddedKafka::start(brokers) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chaos mock-cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = cluster.create_topic(topic, partitions, brokers.min(3)) {
        eprintln!("chaos mock-cluster: creating {topic}: {e}");
        return ExitCode::FAILURE;
    }
    println!("bootstrap={}", cluster.bootstrap_servers());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// Runs `chaos group`: prints its table, keeps it in the run directory.
fn group(eager: bool, tickstream: PathBuf, rt: &tokio::runtime::Runtime) -> ExitCode {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let kind = if eager { "eager" } else { "cooperative" };
    let dir = PathBuf::from(format!("target/chaos/group-{stamp}-{kind}"));
    let (tickstream, chaos) = match (tickstream.canonicalize(), std::env::current_exe()) {
        (Ok(t), Ok(c)) => (t, c),
        (Err(e), _) => {
            eprintln!(
                "chaos: {}: {e} (build it: cargo build --bin tickstream)",
                tickstream.display()
            );
            return ExitCode::from(2);
        }
        (_, Err(e)) => {
            eprintln!("chaos: where is this binary? {e}");
            return ExitCode::FAILURE;
        }
    };
    let gc = chaos::group::GroupConfig {
        dir: dir.clone(),
        tickstream,
        chaos,
        eager,
    };
    match rt.block_on(chaos::group::run(&gc)) {
        Ok(o) => {
            let text = format!(
                "{}\n{}",
                tickstream::verify::report::table(&o.audit),
                chaos::group::table(&o, eager)
            );
            println!("{text}");
            let _ = std::fs::write(dir.join("report.txt"), &text);
            let ok = o.audit.ok() && o.commits_at_ends.is_some();
            println!(
                "{} (logs in {})",
                if ok {
                    "VERIFIED: 0 lost, 0 duplicated, committed offsets at the ends"
                } else {
                    "FAILED"
                },
                dir.display()
            );
            if ok {
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

#[derive(Args, Debug)]
struct Common {
    /// The schedule's seed: the same seed gives the same faults in the same order.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
    /// The tickstream binary the process phase runs.
    #[arg(long, default_value = "target/debug/tickstream", value_name = "PATH")]
    tickstream: PathBuf,
    /// A [sink] setting for every tickstream instance of both phases (repeatable), e.g.
    /// s3.compression.type=gzip. A number is written bare, anything else as a string.
    #[arg(long = "sink", value_name = "KEY=VALUE", value_parser = key_value)]
    sink: Vec<(String, String)>,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE, e.g. s3.compression.type=gzip")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (mode, minutes, common) = match cli.mode {
        Mode::Smoke(common) => ("smoke", None, common),
        Mode::Soak { minutes, common } => ("soak", Some(minutes), common),
        Mode::MockCluster {
            brokers,
            topic,
            partitions,
        } => return mock_cluster(brokers, &topic, partitions),
        Mode::Group { eager, tickstream } => {
            return match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => group(eager, tickstream, &rt),
                Err(e) => {
                    eprintln!("chaos: {e}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    let tickstream = match common.tickstream.canonicalize() {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "chaos: {}: {e} (build it: cargo build --bin tickstream)",
                common.tickstream.display()
            );
            return ExitCode::from(2);
        }
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let seed = common.seed;
    let dir = PathBuf::from(format!("target/chaos/{mode}-{stamp}-seed{seed}"));
    let rc = RunConfig {
        mode: mode.to_owned(),
        seed,
        faults: 8,
        failover_faults: 6,
        dir: dir.clone(),
        tickstream,
        minutes,
        sink: common.sink,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("chaos").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn ci_s_command_lines_parse_as_before() {
        let cli = parse(&[
            "smoke",
            "--seed",
            "3",
            "--sink",
            "format.class=parquet",
            "--sink",
            "parquet.codec=zstd",
        ])
        .expect("parses");
        let Mode::Smoke(c) = cli.mode else { panic!("smoke") };
        assert_eq!(c.seed, 3);
        assert_eq!(
            c.sink,
            vec![
                ("format.class".to_owned(), "parquet".to_owned()),
                ("parquet.codec".to_owned(), "zstd".to_owned())
            ]
        );
        let Mode::Soak { minutes, common } = parse(&["soak", "--seed", "7"]).expect("parses").mode else {
            panic!("soak")
        };
        assert_eq!((minutes, common.seed), (30, 7));
        let Mode::Group { eager, .. } = parse(&["group"]).expect("parses").mode else {
            panic!("group")
        };
        assert!(!eager, "cooperative unless asked");
        let Mode::MockCluster { partitions, .. } = parse(&["mock-cluster", "--topic", "t", "--partitions", "6"])
            .expect("parses")
            .mode
        else {
            panic!("mock-cluster")
        };
        assert_eq!(partitions, 6);
    }

    #[test]
    fn help_a_typo_and_a_bad_value_never_start_a_run() {
        use clap::error::ErrorKind;
        assert_eq!(parse(&["smoke", "--help"]).unwrap_err().kind(), ErrorKind::DisplayHelp);
        assert_eq!(
            parse(&["smoke", "--seeds", "4"]).unwrap_err().kind(),
            ErrorKind::UnknownArgument
        );
        let bad_seed = parse(&["smoke", "--seed", "four"]).unwrap_err();
        assert_eq!(bad_seed.kind(), ErrorKind::ValueValidation);
        let bad_sink = parse(&["smoke", "--sink", "gzip"]).unwrap_err().to_string();
        assert!(bad_sink.contains("\"gzip\" is not KEY=VALUE"), "{bad_sink}");
        assert!(parse(&[]).is_err(), "a mode is required");
    }
}
