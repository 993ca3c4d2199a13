//! Supervision of the real pipeline (mock cluster + s3s-fs): a failed actor restarts alone and
//! loses or duplicates nothing; a spent restart budget ends the pipeline.

use std::time::{Duration, Instant};

use crate::common::{assert_ticks_per_symbol, eventually, records_in_s3, TestEnv};
use ractor::ActorRef;
use supervisors::{ChildInfo, SupervisorMsg};
use tickstream::config::Config;
use tickstream::pipeline::{Pipeline, RunOptions};
use tickstream::record::TopicPartition;

async fn children(sup: &ActorRef<SupervisorMsg>) -> Vec<ChildInfo> {
    ractor::call_t!(sup, SupervisorMsg::GetChildren, 2_000).unwrap()
}

async fn wait_running(sup: &ActorRef<SupervisorMsg>, id: &str, restarts: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = children(sup).await;
        if c.iter()
            .any(|c| c.id == id && c.running && c.recent_restarts == restarts)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{id} running again after {restarts} restart(s): {c:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// 6 symbols × 1,200 ticks at 200 a second (~6 s of production, so records keep coming after a
/// fault), running once every partition has written a file.
async fn flowing(env: &TestEnv, seed: u64) -> (Pipeline, Config) {
    let mut config = env.config(6, 1_200, 10, 300);
    config.producer.ticks_per_second = 200.0;
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(seed)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(30), "files flowing on every partition", || {
        stats.snapshot().partitions.values().filter(|p| p.files > 0).count() == 3
    })
    .await;
    (pipeline, config)
}

/// Waits for all of [`flowing`]'s ticks to be acknowledged, stops, and audits: every one in S3
/// exactly once, each symbol's seqs without a gap.
async fn all_exactly_once(env: &TestEnv, pipeline: Pipeline, config: &Config) {
    let stats = pipeline.stats().clone();
    eventually(Duration::from_secs(60), "every tick acked", || {
        stats.snapshot().ticks_acked == 7_200
    })
    .await;
    let report = pipeline.shutdown().await;
    assert!(report.producer_flushed);
    let r = env.verified(config, 10).await;
    assert_eq!(records_in_s3(&r), 7_200, "nothing lost, nothing duplicated");
    assert_ticks_per_symbol(&r, 6, 1_200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sink_restarts_alone_and_its_partition_stays_exactly_once() {
    let env = TestEnv::start().await;
    let (pipeline, config) = flowing(&env, 5).await;
    let (stats, control) = (pipeline.stats().clone(), pipeline.admin());
    let sinks = pipeline.partitions_supervisor().unwrap();

    let killed = Instant::now();
    control.fail_actor("sink-1").await.expect("fail sink-1");
    wait_running(&sinks, "sink-1", 1).await;
    let running = killed.elapsed();
    let files_before = stats.snapshot().partitions[&TopicPartition::new(&env.topic, 1)].files;
    eventually(Duration::from_secs(30), "partition 1 writing again", || {
        stats.snapshot().partitions[&TopicPartition::new(&env.topic, 1)].files > files_before
    })
    .await;
    eprintln!(
        "sink restart: running again after {running:?}, next file after {:?}",
        killed.elapsed()
    );

    let siblings: Vec<(String, usize)> = children(&sinks)
        .await
        .into_iter()
        .filter(|c| c.kind == "sink")
        .map(|c| (c.id, c.recent_restarts))
        .collect();
    assert_eq!(
        siblings,
        vec![("sink-0".into(), 0), ("sink-1".into(), 1), ("sink-2".into(), 0)]
    );

    all_exactly_once(&env, pipeline, &config).await;
}

/// A panic in the router thread, the one long-lived thread outside the actor system: its
/// watching actor (`consumer`) fails, and the rest-for-one `sinks` supervisor stops
/// `partitions` (every sink with it), restarts the consumer (counted like any restart), then
/// starts `partitions` again; the new consumer joins the group again and starts new sinks
/// there, and every tick is in S3 exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_consumer_thread_restarts_the_consumer_and_loses_nothing() {
    let handle = tickstream::telemetry::http::recorder().expect("recorder");
    let env = TestEnv::start().await;
    let (pipeline, config) = flowing(&env, 9).await;
    let stats = pipeline.stats().clone();
    let sinks = pipeline.sinks_supervisor().unwrap();
    let partitions_before = pipeline.partitions_supervisor().unwrap();
    let sinks_before: Vec<ractor::ActorCell> = children(&partitions_before)
        .await
        .into_iter()
        .filter_map(|c| c.actor)
        .collect();
    assert_eq!(sinks_before.len(), 3);
    assert!(pipeline.inject_consumer_panic(), "a consumer runs");
    wait_running(&sinks, "consumer", 1).await;
    for sink in &sinks_before {
        eventually(Duration::from_secs(30), "the old sinks stopped", || {
            sink.get_status() == ractor::ActorStatus::Stopped
        })
        .await;
    }
    assert_eq!(
        partitions_before.get_status(),
        ractor::ActorStatus::Stopped,
        "partitions was stopped with the consumer's restart"
    );
    assert!(
        handle
            .render()
            .contains(r#"tickstream_actor_restarts_total{actor_kind="consumer",actor="consumer"} 1"#),
        "the panic counts as a restart:\n{}",
        handle.render()
    );
    let files_before = stats.snapshot().files_uploaded;
    eventually(
        Duration::from_secs(60),
        "files flowing again through the new consumer",
        || stats.snapshot().files_uploaded > files_before,
    )
    .await;
    let partitions = pipeline.partitions_supervisor().unwrap();
    assert_ne!(
        partitions.get_id(),
        partitions_before.get_id(),
        "a new partitions supervisor"
    );
    let info = children(&sinks).await;
    let restarts: Vec<(&str, usize)> = info.iter().map(|c| (c.id.as_str(), c.recent_restarts)).collect();
    assert_eq!(
        restarts,
        vec![("consumer", 1), ("partitions", 0)],
        "one failure: partitions only followed it"
    );
    all_exactly_once(&env, pipeline, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_producer_continues_its_seq_without_a_gap() {
    let env = TestEnv::start().await;
    let mut config = env.config(3, 300, 50, 300);
    config.producer.ticks_per_second = 150.0;
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(8)))
        .await
        .expect("start");
    let (stats, control) = (pipeline.stats().clone(), pipeline.admin());
    let producers = pipeline.producers_supervisor().unwrap();
    eventually(Duration::from_secs(30), "ticks flowing", || {
        stats.snapshot().ticks_acked > 150
    })
    .await;

    let killed = Instant::now();
    control.fail_actor("producer-SYM1").await.expect("fail producer");
    wait_running(&producers, "producer-SYM1", 1).await;
    eprintln!("producer restart: running again after {:?}", killed.elapsed());

    eventually(Duration::from_secs(60), "every tick acked", || {
        stats.snapshot().ticks_acked == 900
    })
    .await;
    let restarts: Vec<usize> = children(&producers).await.iter().map(|c| c.recent_restarts).collect();
    assert_eq!(restarts, vec![0, 1, 0], "only SYM1 restarted");
    pipeline.shutdown().await;
    let r = env.verified(&config, 50).await;
    assert_ticks_per_symbol(&r, 3, 300);
}

/// `partitions` failing on its own (as when its sinks fail past its intensity): the rest-for-one
/// `sinks` supervisor restarts it alone, the consumer keeps its group membership and starts a
/// new sink for each partition it holds there, and every tick is in S3 exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partitions_supervisor_restarting_alone_gets_new_sinks_from_the_same_consumer() {
    let env = TestEnv::start().await;
    let (pipeline, config) = flowing(&env, 12).await;
    let (stats, control) = (pipeline.stats().clone(), pipeline.admin());
    let sinks = pipeline.sinks_supervisor().unwrap();
    let consumer = children(&sinks).await[0].actor.clone().expect("the consumer runs");
    let before = pipeline.partitions_supervisor().unwrap();
    control.fail_actor("partitions").await.expect("fail partitions");
    wait_running(&sinks, "partitions", 1).await;
    let after = pipeline.partitions_supervisor().unwrap();
    assert_ne!(after.get_id(), before.get_id(), "a new partitions supervisor");
    let deadline = Instant::now() + Duration::from_secs(30);
    while children(&after)
        .await
        .iter()
        .filter(|c| c.kind == "sink" && c.running)
        .count()
        < 3
    {
        assert!(
            Instant::now() < deadline,
            "a new sink for every partition: {:?}",
            children(&after).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let info = children(&sinks).await;
    assert_eq!(
        info[0].actor.as_ref().map(ractor::ActorCell::get_id),
        Some(consumer.get_id()),
        "the same consumer: it did not restart"
    );
    let restarts: Vec<usize> = info.iter().map(|c| c.recent_restarts).collect();
    assert_eq!(restarts, vec![0, 1]);
    let files_before = stats.snapshot().files_uploaded;
    eventually(
        Duration::from_secs(60),
        "files flowing again through the new sinks",
        || stats.snapshot().files_uploaded > files_before,
    )
    .await;
    all_exactly_once(&env, pipeline, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_restart_budget_escalates_and_ends_the_pipeline() {
    let env = TestEnv::start().await;
    let mut config = env.config(2, 1_000_000, 100, 300);
    config.producer.ticks_per_second = 20.0;
    config.supervision.max_restarts = 2;
    config.supervision.backoff_min_ms = 10;
    config.supervision.backoff_max_ms = 50;
    let mut pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(9)))
        .await
        .expect("start");
    let control = pipeline.admin();
    let producers = pipeline.producers_supervisor().unwrap();
    for restarts in 1..=2 {
        control.fail_actor("producer-SYM0").await.expect("fail");
        wait_running(&producers, "producer-SYM0", restarts).await;
    }
    assert!(control.healthy(), "two restarts are within the budget");
    control.fail_actor("producer-SYM0").await.expect("fail a third time");
    tokio::time::timeout(Duration::from_secs(20), pipeline.failed())
        .await
        .expect("the root gave up");
    assert!(!control.healthy());
    pipeline.shutdown().await;
}

async fn http(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("{method} {path} HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_readiness_and_the_admin_endpoint_fails_an_actor() {
    use tickstream::telemetry::http::{recorder, MetricsServer, OperatorSlot};
    let env = TestEnv::start().await;
    let mut config = env.config(2, 1_000_000, 100, 300);
    config.producer.ticks_per_second = 20.0;
    let slot: OperatorSlot = Default::default();
    let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), recorder().unwrap(), slot.clone(), true)
        .await
        .unwrap();
    let addr = server.addr();
    assert_eq!(http(addr, "GET", "/readyz").await, (503, "starting\n".to_owned()));

    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(4)))
        .await
        .expect("start");
    *slot.write().unwrap() = Some(pipeline.admin());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = http(addr, "GET", "/readyz").await;
        if status == 200 {
            assert_eq!(body, "ready\n");
            break;
        }
        assert!(Instant::now() < deadline, "never ready: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (status, body) = http(addr, "POST", "/admin/actors/sink-0/fail").await;
    assert_eq!(status, 202, "{body}");
    wait_running(&pipeline.partitions_supervisor().unwrap(), "sink-0", 1).await;
    let (status, body) = http(addr, "POST", "/admin/actors/sink-9/fail").await;
    assert_eq!(status, 404);
    assert!(body.contains("no actor named \"sink-9\""), "{body}");

    pipeline.shutdown().await;
    server.stop().await;
}

#[tokio::test]
async fn the_admin_endpoint_is_off_unless_configured() {
    use tickstream::telemetry::http::{recorder, MetricsServer};
    let server = MetricsServer::start(
        "127.0.0.1:0".parse().unwrap(),
        recorder().unwrap(),
        Default::default(),
        false,
    )
    .await
    .unwrap();
    let (status, body) = http(server.addr(), "POST", "/admin/actors/sink-0/fail").await;
    assert_eq!(
        (status, body.as_str()),
        (404, "admin endpoints are off (metrics.admin = false)\n")
    );
    server.stop().await;
}

/// Credentials from a fixed key pair, counting how often the refresher asked.
#[derive(Default)]
struct CountingCredentials(std::sync::atomic::AtomicUsize);

impl tickstream::auth::credentials::CredentialSource for CountingCredentials {
    async fn credentials(&self) -> Result<aws_credential_types::Credentials, tickstream::auth::AuthError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
    }

    fn describe(&self) -> String {
        "a fixed test key".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_token_refresher_restarts_alone_and_the_token_keeps_serving() {
    use tickstream::auth::refresher::{system_clock, RefresherArgs};
    use tickstream::auth::setup::KafkaAuth;
    use tickstream::kafka::token::TokenCell;

    let env = TestEnv::start().await;
    let mut config = env.config(2, 200, 50, 300);
    config.producer.ticks_per_second = 100.0;
    let credentials = std::sync::Arc::new(CountingCredentials::default());
    let auth = KafkaAuth::start(RefresherArgs {
        region: "us-east-1".into(),
        user_agent: "tickstream/test".into(),
        credentials: credentials.clone(),
        cell: TokenCell::new(),
        clock: system_clock(),
    })
    .await
    .expect("first token");
    let token = auth.token.clone();
    let first = token.current().expect("signed before the pipeline starts");
    let mut infra = env.infra();
    infra.kafka_auth = Some(auth);
    let pipeline = Pipeline::start(&config, &infra, RunOptions::new(Some(9)))
        .await
        .expect("start");
    let control = pipeline.admin();
    let auth_sup = pipeline.auth_supervisor().expect("an auth supervisor in msk_iam mode");
    wait_running(&auth_sup, "token-refresher", 0).await;

    control.fail_actor("token-refresher").await.expect("fail the refresher");
    wait_running(&auth_sup, "token-refresher", 1).await;
    assert_eq!(
        token.current().unwrap(),
        first,
        "the restarted refresher reuses the valid token"
    );
    assert_eq!(
        credentials.0.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "no refresh before 80%"
    );
    let producers = pipeline.producers_supervisor().unwrap();
    let restarts: Vec<usize> = children(&producers).await.iter().map(|c| c.recent_restarts).collect();
    assert_eq!(restarts, vec![0, 0], "nothing else restarted");
    pipeline.shutdown().await;
}
