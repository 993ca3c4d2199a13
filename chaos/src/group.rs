//! `chaos group`: several tickstream instances in one consumer group, as users scale out. A
//! librdkafka mock cluster hosted by a process of its own (its group coordinator expires dead
//! members; tansu's does not), s3s-fs as a process, one producing instance and sink-only
//! instances `a`, `b`, `c` (each its own static member id), then: a member joins, one is
//! SIGKILLed and restarted, one is stopped past its session (SIGSTOP, then SIGCONT: a zombie),
//! a fourth joins, one leaves cleanly. After each, how long the partitions that kept their owner
//! went without a file, and how soon moved ones had a file from their new owner; after
//! production stops, how soon every committed offset reached its partition's end; then the
//! audit: 0 lost, 0 duplicated.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::group_watch::{effect, Effect, Watch};

use crate::procs::{self, free_port, Proc};
use crate::run::{setup, ChaosError};

const TOPIC: &str = "stock-market-data";
const BUCKET: &str = "chaos-bucket";
const ACCESS_KEY: &str = "chaos";
const SECRET_KEY: &str = "chaos-secret-key";
const PARTITIONS: i32 = 6;
/// How long each fault is watched before the next.
const WINDOW: Duration = Duration::from_secs(25);
/// Well past the consumers' `session.timeout.ms` (10 s): the group moves on without it.
const PAST_SESSION: Duration = Duration::from_secs(25);

/// What `chaos group` runs.
pub struct GroupConfig {
    pub dir: PathBuf,
    pub tickstream: PathBuf,
    /// The `chaos` binary itself (it hosts the mock cluster).
    pub chaos: PathBuf,
    /// The eager protocol (`range`) instead of the default incremental one.
    pub eager: bool,
}

/// One fault and what it did.
pub struct FaultEffect {
    pub name: &'static str,
    pub effect: Effect,
    /// For moved partitions, the longest time from the new owner's assignment (its log) to its
    /// first file (scraped, so up to 250 ms late): tickstream's own part of a move.
    pub assigned_to_file: Option<Duration>,
}

/// The longest time from a moved partition's assignment to its new owner's first file.
fn assigned_to_file(e: &Effect, w: &Watch, dir: &Path) -> Option<Duration> {
    e.moved_to
        .iter()
        .filter_map(|(partition, owner, first)| {
            let first = w.wall_start + chrono::Duration::from_std(*first).ok()?;
            let log = std::fs::read_to_string(dir.join(owner).join("tickstream.log")).ok()?;
            let assigned = crate::group_watch::assigned_at(&log, TOPIC, *partition, first)?;
            (first - assigned).to_std().ok()
        })
        .max()
}

/// The phase's outcome.
pub struct GroupOutcome {
    pub faults: Vec<FaultEffect>,
    /// From the producer's stop to every committed offset at its partition's end (`None`: not
    /// within the limit).
    pub commits_at_ends: Option<Duration>,
    pub audit: tickstream::verify::VerifyReport,
}

struct Instances {
    dir: PathBuf,
    tickstream: PathBuf,
    bootstrap: String,
    s3_url: String,
    eager: bool,
    running: std::collections::BTreeMap<String, Proc>,
    watch: Watch,
}

impl Instances {
    /// Starts instance `name` (`producer`: the ticks, no sink) and waits for its metrics port.
    fn start(&mut self, name: &str) -> Result<(), ChaosError> {
        let port = free_port().map_err(setup)?;
        let cwd = self.dir.join(name);
        std::fs::create_dir_all(&cwd).map_err(setup)?;
        let toml = instance_toml(name, &self.bootstrap, &self.s3_url, port, self.eager);
        std::fs::write(cwd.join("tickstream.toml"), toml).map_err(setup)?;
        let args = ["run", "--config", "tickstream.toml"].map(str::to_owned);
        let mut p = Proc::new("tickstream", &self.tickstream, &args, &cwd)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("RUST_LOG", "info,librdkafka=warn");
        p.start()?;
        p.wait_listening(SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(60))?;
        self.watch
            .instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), port);
        self.running.insert(name.to_owned(), p);
        Ok(())
    }

    fn get(&mut self, name: &str) -> Result<&mut Proc, ChaosError> {
        self.running
            .get_mut(name)
            .ok_or_else(|| setup(format!("instance {name} is not running")))
    }

    /// SIGTERM (it drains and leaves the group), waiting up to 60 s.
    fn stop(&mut self, name: &str) -> Result<(), ChaosError> {
        self.get(name)?.terminate(Duration::from_secs(60));
        self.running.remove(name);
        self.watch
            .instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        Ok(())
    }
}

/// The instance's configuration: a static member id of its own, the eager protocol if asked.
fn instance_toml(name: &str, bootstrap: &str, s3_url: &str, metrics: u16, eager: bool) -> String {
    let producer = name == "producer";
    let strategy = if eager {
        "[kafka.librdkafka]\n\"partition.assignment.strategy\" = \"range\"\n"
    } else {
        ""
    };
    format!(
        r#"[kafka]
mode = "plaintext"
bootstrap_servers = "{bootstrap}"
create_topics = false
partitions = {PARTITIONS}
group_instance_id = "chaos-{name}"
{strategy}[producer]
enabled = {producer}
topic = "{TOPIC}"
symbols = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM", "V", "WMT", "XOM", "KO"]
ticks_per_second = 20.0
[sink]
enabled = {sink}
topics = "{TOPIC}"
"flush.size" = 50
"rotate.interval.ms" = 1000
"s3.bucket.name" = "{BUCKET}"
[s3]
mode = "endpoint"
endpoint = "{s3_url}"
[metrics]
listen = "127.0.0.1:{metrics}"
[warehouse]
enabled = false
[runtime]
data_dir = "data"
"#,
        sink = !producer
    )
}

/// Starts the chaos binary's `mock-cluster` in a process of its own; its bootstrap servers.
fn host_cluster(chaos: &Path, dir: &Path) -> Result<(Proc, String), ChaosError> {
    let args = ["mock-cluster", "--brokers", "3", "--topic", TOPIC, "--partitions"]
        .map(str::to_owned)
        .into_iter()
        .chain([PARTITIONS.to_string()])
        .collect::<Vec<_>>();
    let mut p = Proc::new("mock-cluster", chaos, &args, dir);
    p.start()?;
    let log = dir.join("mock-cluster.log");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(b) = text.lines().find_map(|l| l.strip_prefix("bootstrap=")) {
            return Ok((p, b.trim().to_owned()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(setup(format!(
        "the mock cluster printed no bootstrap servers (see {})",
        log.display()
    )))
}

/// Runs the phase.
pub async fn run(gc: &GroupConfig) -> Result<GroupOutcome, ChaosError> {
    std::fs::create_dir_all(gc.dir.join("s3")).map_err(setup)?;
    let (_cluster, bootstrap) = host_cluster(&gc.chaos, &gc.dir)?;
    let s3_port = free_port().map_err(setup)?;
    let mut s3 = procs::s3s_fs(&gc.dir, s3_port, ACCESS_KEY, SECRET_KEY);
    s3.start()?;
    s3.wait_listening(SocketAddr::from(([127, 0, 0, 1], s3_port)), Duration::from_secs(30))?;
    let started = Instant::now();
    let mut g = Instances {
        dir: gc.dir.clone(),
        tickstream: gc.tickstream.clone(),
        bootstrap: bootstrap.clone(),
        s3_url: format!("http://127.0.0.1:{s3_port}"),
        eager: gc.eager,
        running: Default::default(),
        watch: Watch::default(),
    };
    let sampler = g.watch.spawn(started);
    for name in ["producer", "a", "b"] {
        g.start(name)?;
    }
    tokio::time::sleep(WINDOW).await;
    let faults = inject_all(&mut g, started).await?;
    sampler.abort();

    g.stop("producer")?;
    let config = audit_config(&g)?;
    let commits_at_ends = commits_reach_ends(&config, &g, Duration::from_secs(60)).await?;
    for name in g.running.keys().cloned().collect::<Vec<_>>() {
        g.stop(&name)?;
    }
    let audit = tickstream::verify::audit(&config, &bootstrap, &endpoint(&g), Duration::from_secs(120))
        .await
        .map_err(setup)?;
    Ok(GroupOutcome {
        faults,
        commits_at_ends,
        audit,
    })
}

/// The faults, each followed by [`WINDOW`] of watching.
async fn inject_all(g: &mut Instances, started: Instant) -> Result<Vec<FaultEffect>, ChaosError> {
    // No fault: the same measure over the steady window before the first one, to compare with.
    let now = started.elapsed();
    let mut out = vec![FaultEffect {
        name: "none",
        effect: effect(&g.watch.uploads(), None, now.saturating_sub(WINDOW / 2), now),
        assigned_to_file: None,
    }];
    let watched = |name: &'static str, subject: Option<&str>, at: Duration, g: &Instances| {
        let effect = effect(&g.watch.uploads(), subject, at, started.elapsed());
        FaultEffect {
            name,
            assigned_to_file: assigned_to_file(&effect, &g.watch, &g.dir),
            effect,
        }
    };
    println!("chaos group: c joins");
    let at = started.elapsed();
    g.start("c")?;
    tokio::time::sleep(WINDOW).await;
    out.push(watched("join", None, at, g));

    println!("chaos group: b SIGKILLed, back after 3 s");
    let at = started.elapsed();
    g.get("b")?.kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    g.running.remove("b");
    g.start("b")?;
    tokio::time::sleep(WINDOW).await;
    out.push(watched("kill", Some("b"), at, g));

    println!(
        "chaos group: c stopped for {} s (past its session), then continued",
        PAST_SESSION.as_secs()
    );
    let at = started.elapsed();
    g.get("c")?.signal("STOP")?;
    tokio::time::sleep(PAST_SESSION).await;
    g.get("c")?.signal("CONT")?;
    tokio::time::sleep(WINDOW).await;
    out.push(watched("zombie", Some("c"), at, g));

    println!("chaos group: d joins");
    let at = started.elapsed();
    g.start("d")?;
    tokio::time::sleep(WINDOW).await;
    out.push(watched("join (4th)", None, at, g));

    println!("chaos group: a leaves (SIGTERM)");
    let at = started.elapsed();
    g.stop("a")?;
    tokio::time::sleep(WINDOW).await;
    out.push(watched("leave", Some("a"), at, g));
    Ok(out)
}

fn endpoint(g: &Instances) -> tickstream::s3::client::S3Endpoint {
    tickstream::s3::client::S3Endpoint {
        url: Some(g.s3_url.clone()),
        region: "us-east-1".into(),
        static_credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
    }
}

fn audit_config(g: &Instances) -> Result<tickstream::config::Config, ChaosError> {
    let toml = instance_toml("audit", &g.bootstrap, &g.s3_url, 0, g.eager);
    tickstream::config::parse_str(&toml).map_err(|p| setup(p.message))
}

/// Waits until every partition's committed offset is its end (read from the group coordinator
/// and the partition leaders every 250 ms); how long that took.
async fn commits_reach_ends(
    config: &tickstream::config::Config,
    g: &Instances,
    limit: Duration,
) -> Result<Option<Duration>, ChaosError> {
    use rdkafka::consumer::BaseConsumer;
    let reader: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &g.bootstrap)
        .set("group.id", &config.kafka.consumer_group)
        .set("enable.auto.commit", "false")
        .create()
        .map_err(setup)?;
    let stopped = Instant::now();
    while stopped.elapsed() < limit {
        let at_ends = tokio::task::block_in_place(|| offsets_at_ends(&reader));
        if at_ends {
            return Ok(Some(stopped.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(None)
}

/// Whether every partition of the topic with records has its committed offset at its end.
fn offsets_at_ends(reader: &rdkafka::consumer::BaseConsumer) -> bool {
    use rdkafka::consumer::Consumer;
    let timeout = Duration::from_secs(5);
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition(TOPIC, p);
    }
    let Ok(committed) = reader.committed_offsets(tpl, timeout) else {
        return false;
    };
    (0..PARTITIONS).all(|p| {
        let Ok((low, high)) = reader.fetch_watermarks(TOPIC, p, timeout) else {
            return false;
        };
        let c = committed.find_partition(TOPIC, p).and_then(|e| match e.offset() {
            rdkafka::Offset::Offset(o) => Some(o),
            _ => None,
        });
        c == Some(high) || (c.is_none() && low == high)
    })
}

/// The phase's table.
pub fn table(o: &GroupOutcome, eager: bool) -> String {
    let mut out = format!(
        "chaos group ({}): {PARTITIONS} partitions, 1 producing and up to 4 sinking instances\n",
        if eager { "eager" } else { "cooperative-sticky" }
    );
    out += "fault        others kept  longest gap (others)  its own  gap (its own)  moved  first file (moved)  assigned -> file\n";
    for f in &o.faults {
        let e = &f.effect;
        out += &format!(
            "{:<12} {:>11} {:>18} ms {:>8} {:>11} ms {:>6} {:>16} ms {:>14}\n",
            f.name,
            e.kept.len(),
            e.kept_longest_gap.as_millis(),
            e.own.len(),
            e.own_longest_gap.as_millis(),
            e.moved.len(),
            e.moved_first_file.as_millis(),
            f.assigned_to_file
                .map_or("-".to_owned(), |d| format!("{} ms", d.as_millis()))
        );
    }
    out += &match o.commits_at_ends {
        Some(d) => format!(
            "committed offsets at the ends {} ms after production stopped\n",
            d.as_millis()
        ),
        None => "committed offsets NOT at the ends 60 s after production stopped\n".to_owned(),
    };
    out
}
