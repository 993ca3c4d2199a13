//! S3 killed under a running pipeline: every upload fails, the partitions pause, lag grows and
//! no file lands, so TickstreamSinkStalled fires; the failure is named in the log at once. S3
//! back on the same port, uploads resume and the alert clears.

use std::path::Path;
use std::time::{Duration, Instant};

use tickstream::s3::embedded::EmbeddedS3;

use super::Fired;
use crate::process::Tickstream;
use crate::prometheus::Prometheus;

pub async fn run(prom: &Prometheus, t: &Tickstream, s3: EmbeddedS3, root: &Path) -> Vec<Fired> {
    let port = s3.port();
    prom.until(
        r#"sum(increase(tickstream_sink_files_uploaded_total{scenario="s3"}[1m]))"#,
        Duration::from_secs(120),
        |v| v > 0.0,
    )
    .await;
    s3.kill().await;
    let killed = Instant::now();
    t.until_logged(
        &format!("cannot reach s3 at http://127.0.0.1:{port}"),
        Duration::from_secs(30),
    )
    .await;
    let named = killed.elapsed();
    prom.until_firing("TickstreamSinkStalled", "s3", Duration::from_secs(420))
        .await;
    let fired = killed.elapsed();
    let s3 = EmbeddedS3::start(root, port).await.expect("S3 back on its port");
    let cleared = prom
        .until_clear("TickstreamSinkStalled", "s3", Duration::from_secs(120))
        .await;
    t.until_logged("s3 at http://127.0.0.1", Duration::from_secs(30)).await;
    assert!(t.log().contains("answers again"), "{}", t.log());
    s3.stop().await;
    eprintln!(
        "sink_stalled: the S3 outage was named in the log after {:.1} s",
        named.as_secs_f64()
    );
    vec![Fired {
        alert: "TickstreamSinkStalled",
        provoked_by: "the S3 server killed (uploads fail, partitions pause); restarted on its port",
        fired_after: fired,
        cleared_after: Some(cleared),
    }]
}
