//! The Prometheus endpoint answers on loopback with the pipeline's metrics.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tickstream::telemetry::http::{recorder, MetricsServer};

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn metrics_and_healthz_answer() {
    let handle = recorder().unwrap();
    let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), handle, Default::default(), false)
        .await
        .unwrap();
    let stats = tickstream::telemetry::PipelineStats::default();
    tickstream::telemetry::events::tick_acked(&stats);
    let tp = tickstream::record::TopicPartition::new("t", 1);
    tickstream::telemetry::sink_events::sink_started(&tp);
    tickstream::telemetry::sink_events::file_uploaded(
        &stats,
        &tp,
        &tickstream::telemetry::sink_events::UploadedFile {
            key: "topics/t/partition=1/t+1+0000000000.json",
            bytes: 10,
            records: 1,
            dead_letter: false,
            took: std::time::Duration::from_millis(20),
            waited: Some(std::time::Duration::from_millis(1_100)),
        },
    );

    let metrics = get(server.addr(), "/metrics").await;
    assert!(
        metrics.starts_with("HTTP/1.0 200") || metrics.starts_with("HTTP/1.1 200"),
        "{metrics}"
    );
    assert!(metrics.contains("tickstream_ticks_acked_total 1"), "{metrics}");
    assert!(
        metrics.contains("tickstream_sink_flush_duration_seconds_bucket{le=\"0.025\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"tickstream_sink_offsets_missing_total{topic="t",partition="1"} 0"#),
        "a partition's data-loss counter exists at 0 from its sink's start: {metrics}"
    );
    assert!(
        metrics.contains("# HELP tickstream_sink_files_uploaded_total Data files written to S3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tickstream_sink_file_latency_seconds_bucket{le=\"1.25\"} 1"),
        "{metrics}"
    );
    assert!(get(server.addr(), "/healthz").await.ends_with("ok\n"));
    assert!(get(server.addr(), "/nope").await.contains("404"));
    server.stop().await;
}
