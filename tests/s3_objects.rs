//! What S3 keeps beside each file's bytes, against moto's S3 server (a separate process) and read
//! back with boto3: SSE-KMS with the configured key, the storage class, the canned ACL, the
//! Confluent sink's offset tags plus extra pairs, the content type; and every tick once.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tickstream::config::{CannedAcl, ServerSideEncryption, StorageClass, TagPairs};

use crate::common::moto::Moto;
use crate::common::{run_until_acked_on, TestEnv};

const PYTHON: &str = "target/test-venv/bin/python";

/// `s3_objects.py` with `args`; its JSON.
fn boto3(args: &[&str]) -> Value {
    let out = std::process::Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(PYTHON))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/readers/s3_objects.py"))
        .args(args)
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_is_stored_with_its_encryption_class_acl_tags_and_content_type() {
    let env = TestEnv::start().await;
    let moto = Moto::start();
    let kms_key = boto3(&["kms-key", &moto.url])["arn"].as_str().unwrap().to_owned();

    let (symbols, ticks) = (4, 40);
    let mut config = env.config(symbols, ticks, 16, 400);
    config.s3.endpoint = Some(moto.url.clone());
    config.sink.sse = ServerSideEncryption::Kms;
    config.sink.sse_kms_key_id = Some(kms_key.clone());
    config.sink.storage_class = Some(StorageClass("STANDARD_IA".into()));
    // moto keeps authenticated-read as a grant it shows (it keeps bucket-owner-full-control as
    // nothing it can show: same account).
    config.sink.acl_canned = Some(CannedAcl("authenticated-read".into()));
    config.sink.object_tagging = true;
    config.sink.object_tag_pairs = TagPairs(vec![("team".into(), "market data".into())]);
    assert!(tickstream::config::validate(&config).is_empty());

    let mut infra = env.infra();
    infra.s3 = moto.endpoint();
    let expected = symbols as u64 * ticks;
    run_until_acked_on(&infra, &config, 7, expected).await;

    let objects = boto3(&[
        "inspect",
        &moto.url,
        &config.sink.bucket,
        &format!("topics/{}/", env.topic),
    ]);
    let objects = objects.as_array().unwrap();
    assert!(objects.len() >= 10, "files of 16 ticks: {objects:?}");
    let mut seen = BTreeSet::new();
    for o in objects {
        let key = o["key"].as_str().unwrap();
        assert_eq!(o["sse"], "aws:kms", "{key}");
        assert_eq!(o["kms_key"], kms_key.as_str(), "{key}");
        assert_eq!(o["storage_class"], "STANDARD_IA", "{key}");
        assert_eq!(o["content_type"], "application/json", "{key}");
        assert_eq!(
            o["content_encoding"],
            Value::Null,
            "{key}: no client may unpack a file on the way"
        );
        assert!(
            o["grants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g == "http://acs.amazonaws.com/groups/global/AuthenticatedUsers READ"),
            "{key}: {}",
            o["grants"]
        );
        // `<topic>+<partition>+<start offset>.json`: the tags say where the file starts and ends.
        let start: i64 = key
            .rsplit('+')
            .next()
            .unwrap()
            .trim_end_matches(".json")
            .parse()
            .unwrap();
        let count = o["ticks"].as_array().unwrap().len() as i64;
        let tag = |t: &str| o["tags"][t].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            (tag("startOffset"), tag("endOffset"), tag("recordCount"), tag("team")),
            (
                start.to_string(),
                (start + count - 1).to_string(),
                count.to_string(),
                "market data".into()
            ),
            "{key}: {}",
            o["tags"]
        );
        for t in o["ticks"].as_array().unwrap() {
            assert!(seen.insert(t.to_string()), "{t} twice");
        }
    }
    assert_eq!(seen.len() as u64, expected, "every tick once");

    // tickstream's own audit reads the encrypted files back and agrees.
    let report = tickstream::verify::audit(
        &config,
        env.kafka.bootstrap_servers(),
        &moto.endpoint(),
        Duration::from_secs(60),
    )
    .await
    .expect("audit");
    assert!(report.ok(), "{report:?}");
    assert_eq!(crate::common::records_in_s3(&report), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_takes_the_same_settings_and_keeps_the_bytes() {
    let env = TestEnv::start().await;
    let (symbols, ticks) = (2, 30);
    let mut config = env.config(symbols, ticks, 16, 400);
    config.sink.sse = ServerSideEncryption::Kms;
    config.sink.sse_kms_key_id = Some("alias/market-data".into());
    config.sink.storage_class = Some(StorageClass("REDUCED_REDUNDANCY".into()));
    config.sink.acl_canned = Some(CannedAcl("bucket-owner-full-control".into()));
    config.sink.object_tagging = true;
    crate::common::run_until_acked(&env, &config, 3, symbols as u64 * ticks).await;
    let report = env.audit(&config).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(crate::common::records_in_s3(&report), symbols as u64 * ticks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_customer_key_every_read_of_the_sink_resume_verify_and_the_watcher_sends_it() {
    use tickstream::s3::SegmentStore;
    let env = TestEnv::start().await;
    let moto = Moto::start();
    // moto serves an SSE-C object to anyone; the gate answers a read without the key as S3 does.
    let gate = crate::common::sse_c::SseCGate::start(&moto.url).await;
    let mut endpoint = moto.endpoint();
    endpoint.url = Some(gate.url());

    let (symbols, ticks) = (3, 30);
    let mut config = env.config(symbols, ticks, 16, 400);
    config.s3.endpoint = Some(gate.url());
    config.sink.sse = ServerSideEncryption::Aes256;
    config.sink.sse_customer_key = Some(tickstream::config::Secret(
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into(),
    ));
    assert!(tickstream::config::validate(&config).is_empty());
    let mut infra = env.infra();
    infra.s3 = endpoint.clone();

    // Two runs: the second resumes from the first's files (HEADs), the watcher loads them all.
    run_until_acked_on(&infra, &config, 1, symbols as u64 * ticks).await;
    run_until_acked_on(&infra, &config, 2, symbols as u64 * ticks).await;
    let report = tickstream::verify::audit(
        &config,
        env.kafka.bootstrap_servers(),
        &endpoint,
        Duration::from_secs(60),
    )
    .await
    .expect("audit");
    assert!(report.ok(), "{report:?}");
    assert_eq!(crate::common::records_in_s3(&report), 2 * symbols as u64 * ticks);
    crate::common::watcher::assert_rows_exactly_once(&env, 2 * (symbols as i64) * ticks as i64);
    {
        let seen = gate.seen.lock().unwrap();
        assert_eq!(seen.refused, 0, "every read sent the key");
        assert!(seen.reads_with_key > 0, "files were read back");
    }

    // Without the key a read is refused: the gate does what S3 does, so the count above means something.
    let bare = tickstream::s3::S3SegmentStore::new(
        tickstream::s3::client::build(&endpoint).await,
        config.sink.bucket.clone(),
    );
    let prefix = format!("topics/{}/", env.topic);
    let first = bare.list(&prefix, None).await.expect("list")[0].clone();
    let refused = bare.get(&first).await.expect_err("a read without the key");
    assert!(refused.to_string().contains("InvalidRequest"), "{refused}");
    assert_eq!(gate.seen.lock().unwrap().refused, 1);
}

/// 12 MiB that differ from part to part.
fn big_body(seed: u8) -> bytes::Bytes {
    bytes::Bytes::from((0..12 << 20).map(|i: u32| (i / 4099) as u8 ^ seed).collect::<Vec<u8>>())
}

/// A store of `endpoint` with 5 MiB parts and `sink`'s other settings, its bucket made.
async fn store_in_parts(
    endpoint: &tickstream::s3::client::S3Endpoint,
    mut sink: tickstream::config::SinkConfig,
) -> tickstream::s3::S3SegmentStore {
    sink.part_size = 5 << 20;
    let store = tickstream::s3::S3SegmentStore::for_sink(tickstream::s3::client::build(endpoint).await, &sink);
    store.ensure_bucket().await.expect("bucket");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_larger_than_the_part_size_goes_up_in_parts_with_its_settings_and_is_never_overwritten() {
    use tickstream::s3::{PutOutcome, SegmentMeta, SegmentStore};
    let env = TestEnv::start().await;
    let moto = Moto::start();
    let kms_key = boto3(&["kms-key", &moto.url])["arn"].as_str().unwrap().to_owned();
    let mut sink = env.config(1, 1, 1, 1).sink;
    sink.sse = ServerSideEncryption::Kms;
    sink.sse_kms_key_id = Some(kms_key.clone());
    sink.object_tagging = true;
    let meta = SegmentMeta {
        start_offset: 100,
        end_offset: 140,
        records: 40,
        error: None,
    };
    let key = "topics/t/partition=0/t+0+0000000100.json";
    for (server, endpoint) in [("s3s-fs", env.s3.endpoint()), ("moto", moto.endpoint())] {
        let store = store_in_parts(&endpoint, sink.clone()).await;
        let body = big_body(1);
        assert_eq!(
            store.put_new(key, body.clone(), meta.clone()).await.unwrap(),
            PutOutcome::Created,
            "{server}"
        );
        let (got, etag) = store.get_with_etag(key).await.unwrap();
        assert!(got == body, "{server}: the bytes as sent");
        assert!(
            etag.unwrap_or_default().ends_with("-3\""),
            "{server}: three parts of 5 MiB"
        );
        assert_eq!(
            store.end_offset(key).await.unwrap(),
            Some(140),
            "{server}: the file's metadata"
        );
        assert_eq!(
            store.put_new(key, body.clone(), meta.clone()).await.unwrap(),
            PutOutcome::AlreadyIdentical,
            "{server}: a retried upload"
        );
        let other = store.put_new(key, big_body(2), meta.clone()).await.unwrap_err();
        assert!(other.is_conflict(), "{server}: {other}");
        assert!(store.get(key).await.unwrap() == body, "{server}: never overwritten");
    }
    // What moto kept beside the bytes of the file in parts.
    let objects = boto3(&["inspect-head", &moto.url, &sink.bucket, key]);
    assert_eq!(objects["sse"], "aws:kms");
    assert_eq!(objects["kms_key"], kms_key.as_str());
    assert_eq!(objects["tags"]["endOffset"], "139");
    assert_eq!(objects["content_type"], "application/json");
}
