//! The S3 client's cost per PUT, alone (`--put-cost N`): N files of a flush.size-100 body
//! written one after another through the sink's own store (`S3SegmentStore::put_new`: the
//! conditional PUT with its CRC32 and metadata) to the run's s3s-fs, from this process, or
//! the same request through another client (`--put-client`, see `put_clients.rs`). The
//! figure is this process's CPU per PUT, S3 server apart: what each file costs the sink on top
//! of its records. For counts that do not move with the machine's noise, run it under
//! callgrind at two values of N and divide the difference (see README.md).

use std::time::Instant;

use bytes::Bytes;
use tickstream::s3::client::S3Endpoint;
use tickstream::s3::{S3SegmentStore, SegmentMeta, SegmentStore};

use crate::infra::{Servers, ACCESS_KEY, SECRET_KEY};
use crate::put_clients::{PutClient, Putter};
use crate::report::Samples;
use crate::usage::cpu_secs;

/// A file of 100 ticks as the sink writes them (JSON lines of ~150 bytes).
fn body() -> Bytes {
    let line = br#"{"symbol":"S0003","price":101.37,"volume":412,"change":-0.12,"timestamp":"2026-12-07T03:21:07.123456Z","exchange":"NASDAQ","run_id":"put-cost","seq":1}"#;
    let mut b = Vec::with_capacity(100 * (line.len() + 1));
    for _ in 0..100 {
        b.extend_from_slice(line);
        b.push(b'\n');
    }
    b.into()
}

pub async fn scenario(servers: &Servers, puts: u64, client: PutClient, samples: &mut Samples) -> anyhow::Result<()> {
    let endpoint = S3Endpoint {
        url: Some(servers.s3_url.clone()),
        region: "us-east-1".into(),
        static_credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
    };
    let store = S3SegmentStore::new(tickstream::s3::client::build(&endpoint).await, "put-cost");
    store.ensure_bucket().await?;
    let putter = Putter::new(client, &endpoint, &store).await?;
    let body = body();
    let key = |i: i64| format!("topics/t/partition=0/t+0+{:010}.json", i * 100);
    // One PUT first: the connection and the credentials are set up once, not per file.
    let meta = |i: i64| SegmentMeta {
        start_offset: i * 100,
        end_offset: i * 100 + 100,
        records: 100,
        error: None,
    };
    putter.put("warm-up", &body, &meta(0)).await?;
    let (cpu0, wall0, s3_0) = (own_cpu(), Instant::now(), servers.s3_cpu_secs());
    for i in 0..puts as i64 {
        putter.put(&key(i), &body, &meta(i)).await?;
    }
    let (cpu, wall, s3) = (own_cpu() - cpu0, wall0.elapsed(), servers.s3_cpu_secs() - s3_0);
    let per = |secs: f64| secs * 1e6 / puts as f64;
    // Each client did write them: the last one, read back by the sink's store, with its
    // metadata.
    let last = key(puts as i64 - 1);
    anyhow::ensure!(
        store.get(&last).await? == body,
        "{last} does not hold the body PUT there"
    );
    anyhow::ensure!(
        store.end_offset(&last).await? == Some(meta(puts as i64 - 1).end_offset),
        "{last} lacks its end offset"
    );
    eprintln!(
        "  {client:?}: {puts} PUTs of {} bytes in {:.2} s: {:.1} CPU µs per PUT (S3 server {:.1})",
        body.len(),
        wall.as_secs_f64(),
        per(cpu),
        per(s3)
    );
    // Named for the client, so one results file can hold several.
    let name = |figure: &str| format!("put.{}.{figure}", format!("{client:?}").to_lowercase());
    samples.add(name("cpu_us_per_put"), per(cpu));
    samples.add(name("s3_server_cpu_us_per_put"), per(s3));
    samples.add(name("puts_per_sec"), puts as f64 / wall.as_secs_f64());
    Ok(())
}

fn own_cpu() -> f64 {
    cpu_secs(std::process::id()).unwrap_or(0.0)
}
