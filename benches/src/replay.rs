//! The CSV replay's backfill (`source = "csv"`, `pacing = "max"`): a file of trades written
//! here, replayed to the broker as fast as it acknowledges, against the run's bare producer
//! ceiling.

use crate::contenders::{measure, tickstream_proc, Figures, Programs};
use crate::infra::Servers;
use crate::measure::scrape_counter;
use crate::report::Samples;

/// Measures the backfill of `rows` rows of `symbols` symbols and records it beside `ceiling`
/// (ticks per second of the bare producer in this run).
pub async fn backfill(
    servers: &Servers,
    p: &Programs,
    symbols: usize,
    rows: i64,
    ceiling: f64,
    run: usize,
    samples: &mut Samples,
) -> anyhow::Result<()> {
    crate::measure::settle();
    let broker0 = servers.broker_cpu_secs();
    let f = self::run(servers, p, symbols, rows, &format!("s{symbols}-r{run}")).await?;
    let broker = (servers.broker_cpu_secs() - broker0) / (rows as f64 / 1e6);
    eprintln!(
        "  CSV backfill {symbols:>3} symbols: {:>8.0} ticks/s acked ({:.0}% of the ceiling), {:>6.2} CPU s per million \
         (broker {broker:.2}), peak RSS {:.0} MiB",
        f.records_per_sec,
        100.0 * f.records_per_sec / ceiling,
        f.cpu_s_per_million,
        f.peak_rss_mib
    );
    samples.add("producer.csv.ticks_per_sec", f.records_per_sec);
    samples.add("producer.csv.share_of_ceiling", f.records_per_sec / ceiling);
    samples.add("producer.csv.cpu_s_per_million", f.cpu_s_per_million);
    samples.add("producer.csv.peak_rss_mib", f.peak_rss_mib);
    Ok(())
}

/// tickstream's CSV replay (`source = "csv"`, `pacing = "max"`): a backfill of `rows` rows of
/// `symbols` symbols (the seed's trade-log shape), written here first, sent as fast as the
/// broker acknowledges.
async fn run(servers: &Servers, p: &Programs, symbols: usize, rows: i64, tag: &str) -> anyhow::Result<Figures> {
    use std::io::Write;
    let topic = format!("csv-{tag}");
    servers.create_topic(&topic)?;
    let dir = servers.dir.join(format!("csv-{tag}"));
    std::fs::create_dir_all(&dir)?;
    let archive = dir.join("trades.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&archive)?);
    writeln!(out, "symbol,price,volume,timestamp")?;
    for i in 0..rows {
        let ms = 1_796_119_200_000 + i;
        writeln!(
            out,
            "S{:04},{}.{:02},{},{ms}",
            i % symbols as i64,
            100 + i % 50,
            i % 100,
            100 + i % 900
        )?;
    }
    out.flush()?;
    drop(out);
    let port = chaos::procs::free_port()?;
    let config = dir.join("producer.toml");
    std::fs::write(
        &config,
        format!(
            r#"[kafka]
mode = "plaintext"
bootstrap_servers = "{broker}"
create_topics = false
[producer]
topic = "{topic}"
source = "csv"
[producer.csv]
path = "{archive}"
pacing = "max"
[sink]
enabled = false
[metrics]
listen = "127.0.0.1:{port}"
[warehouse]
enabled = false
[runtime]
data_dir = "data"
progress_interval_ms = 0
"#,
            broker = servers.broker,
            archive = archive.display(),
        ),
    )?;
    measure(tickstream_proc(p, &dir, &config), rows, move || {
        scrape_counter(port, "tickstream_ticks_acked_total")
    })
}
