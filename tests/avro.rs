//! Records through Schema Registry: written by a real client serializer (confluent-kafka's
//! `AvroSerializer`, Python, against the tests' registry) into the real pipeline (librdkafka's
//! mock cluster, s3s-fs), and read back by readers that share nothing with tickstream: fastavro
//! for Avro files, pyarrow for Parquet. Every trade lands once with its values; schema changes
//! cut or project files as `schema.compatibility` says; what no serializer writes is a dead
//! letter with its reason; a registry that is down or refuses credentials holds records back
//! and loses none; each schema is fetched once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tickstream::config::{AvroCodec, Config, FormatClass, RegistryUrls, ValueConverter};
use tickstream::pipeline::{Pipeline, RunOptions};
use tickstream::s3::SegmentStore;

use crate::any_records::{run_until_committed, sink_only};
use crate::common::registry::FakeRegistry;
use crate::common::{all_committed, eventually, records_in_s3, TestEnv};

const PYTHON: &str = "target/test-venv/bin/python";

/// `avro_check.py` with `args`; its JSON.
async fn check(args: &[&str]) -> Value {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(PYTHON);
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-test-deps (scripts/test does)",
        python.display()
    );
    let out = tokio::process::Command::new(&python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/readers/avro_check.py"))
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .expect("python runs");
    assert!(
        out.status.success(),
        "avro_check.py {}: {}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("avro_check.py prints JSON")
}

/// A sink of Avro records from `registry` into `format` files.
fn avro_config(env: &TestEnv, registry: &str, format: FormatClass) -> Config {
    let mut c = sink_only(env, &env.topic);
    c.sink.flush_size = 25;
    c.sink.rotate_interval_ms = 500;
    c.sink.value_converter = ValueConverter::Avro;
    c.sink.registry_url = Some(RegistryUrls::try_from(registry.to_owned()).expect("registry URL"));
    c.sink.format_class = format;
    // The warehouse's Avro loading is tested on its own (`warehouse`).
    c.warehouse.enabled = false;
    c
}

/// The topic's data files of `extension`, in S3 (s3s-fs keeps objects as files).
fn files(env: &TestEnv, extension: &str) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            match e.path().is_dir() {
                true => walk(&e.path(), out),
                false => out.push(e.path()),
            }
        }
    }
    let mut out = Vec::new();
    walk(&env.object_path(&format!("topics/{}", env.topic)), &mut out);
    let mut out: Vec<String> = out
        .into_iter()
        .map(|p| p.display().to_string())
        .filter(|p| p.ends_with(extension))
        .collect();
    out.sort();
    out
}

/// Each produced trade by seq: (schema version, value).
fn produced(p: &Value) -> BTreeMap<i64, (i64, Value)> {
    p["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["value"]["seq"].as_i64().unwrap(),
                (t["version"].as_i64().unwrap(), t["value"].clone()),
            )
        })
        .collect()
}

/// Asserts every produced trade is among `read` (each file's records) exactly once, with the
/// values it was produced with; fields its schema did not have hold `defaults`.
fn every_trade_once(produced: &BTreeMap<i64, (i64, Value)>, read: &Value, defaults: &Value) {
    let mut seen = BTreeSet::new();
    for file in read.as_array().unwrap() {
        for r in file["records"].as_array().unwrap() {
            let seq = r["seq"].as_i64().expect("a trade");
            assert!(seen.insert(seq), "seq {seq} twice");
            let (_, want) = &produced[&seq];
            for (k, v) in r.as_object().unwrap() {
                let expected = want.get(k).unwrap_or(&defaults[k]);
                assert_eq!(v, expected, "seq {seq} field {k} in {}", file["file"]);
            }
        }
    }
    assert_eq!(seen.len(), produced.len(), "every trade once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_trades_land_as_avro_files_of_their_writer_schema_that_fastavro_reads_exactly_once() {
    let env = TestEnv::start().await;
    let registry = FakeRegistry::start(100).await;
    let mut config = avro_config(&env, &registry.url(), FormatClass::Avro);
    // The warehouse loads the Avro files: the trade as JSON, and typed columns from its fields.
    config.warehouse.enabled = true;
    config.warehouse.columns = [("symbol", "TEXT"), ("seq", "INTEGER"), ("traded_at", "TIMESTAMP")]
        .iter()
        .map(|(name, kind)| tickstream::config::Column {
            name: (*name).into(),
            kind: tickstream::config::ColumnType::try_from((*kind).to_owned()).unwrap(),
            source: None,
        })
        .collect();
    env.create_topics(&config).await;
    let bootstrap = env.kafka.bootstrap_servers().to_owned();
    // Three runs of the sink, one per codec, each after more trades (seqs continue).
    let mut trades = BTreeMap::new();
    let mut p = Value::Null;
    for (codec, plan, first, total) in [
        (AvroCodec::Snappy, "v1:60,v2:40,v1:20", "0", 123),
        (AvroCodec::Zstandard, "v2:20", "120", 143),
        (AvroCodec::Deflate, "v1:20", "140", 163),
    ] {
        let garbage = if first == "0" { "--garbage" } else { "--" };
        p = check(&[
            "produce",
            &bootstrap,
            &registry.url(),
            &env.topic,
            plan,
            "--first-seq",
            first,
            garbage,
        ])
        .await;
        trades.extend(produced(&p));
        config.sink.avro_codec = codec;
        run_until_committed(&env, &config, total).await;
    }

    let report = env.audit(&config).await;
    assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
    assert_eq!(records_in_s3(&report), 160);
    let dead: u64 = report.partitions.iter().map(|p| p.dead_lettered).sum();
    assert_eq!(dead, 3, "JSON, an unknown schema id, a datum cut short");

    let read = check(
        &[
            &["avro"][..],
            &files(&env, ".avro").iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    )
    .await;
    every_trade_once(&trades, &read, &Value::Null);
    let codecs: BTreeSet<&str> = read
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["codec"].as_str().unwrap())
        .collect();
    assert_eq!(codecs, BTreeSet::from(["deflate", "snappy", "zstandard"]));
    for file in read.as_array().unwrap() {
        assert_eq!(file["schema"]["name"], "market.Trade", "{}", file["schema"]);
        // schema.compatibility = NONE: one writer schema per file, the one its trades had.
        let fields = file["schema"]["fields"].as_array().unwrap().len();
        for r in file["records"].as_array().unwrap() {
            let (version, _) = trades[&r["seq"].as_i64().unwrap()];
            assert_eq!(fields, if version == 1 { 9 } else { 11 }, "{}", file["file"]);
        }
    }
    // Each schema was fetched once per process that needed it (three sink runs and the audit),
    // however many partitions and records needed it: never per record.
    let ids = [
        p["ids"]["v1"].as_u64().unwrap() as u32,
        p["ids"]["v2"].as_u64().unwrap() as u32,
    ];
    let fetches = registry.fetches();
    for id in ids {
        assert!(
            (1..=4).contains(&fetches.get(&id).copied().unwrap_or(0)),
            "schema {id}: {fetches:?}"
        );
    }
    assert_eq!(
        fetches.get(&100_000),
        Some(&2),
        "the unknown id: once by the sink, once by the audit"
    );

    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
    let (rows, seqs, first): (i64, i64, String) = db
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT seq), MIN(traded_at) FROM STOCK_MARKET_DATA \
             WHERE RECORD_CONTENT ->> '$.symbol' = symbol AND RECORD_CONTENT ->> '$.side' IN ('BUY', 'SELL')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (rows, seqs),
        (160, 160),
        "every trade loaded once, typed from its fields"
    );
    assert_eq!(first, "2025-11-24T16:00:00.000Z", "timestamp-millis as a point in time");

    let store = env.store().await;
    let mut reasons = Vec::new();
    for key in SegmentStore::list(&store, &format!("dlq/{}/", env.topic), None)
        .await
        .unwrap()
    {
        let body = store.get(&key).await.unwrap();
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_slice(line).unwrap();
            reasons.push(v["error"].as_str().unwrap().to_owned());
        }
    }
    reasons.sort();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].starts_with("does not decode with schema id"), "{reasons:?}");
    assert!(reasons[1].contains("magic byte 0x7b"), "{reasons:?}");
    assert!(
        reasons[2].starts_with("schema id 100000: not in the registry"),
        "{reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_backward_older_trades_are_projected_into_parquet_columns_pyarrow_reads() {
    let env = TestEnv::start().await;
    let registry = FakeRegistry::start(7).await;
    let mut config = avro_config(&env, &registry.url(), FormatClass::Parquet);
    config.sink.schema_compatibility = tickstream::record::avro::compat::Compatibility::Backward;
    config.sink.flush_size = 1_000;
    config.sink.rotate_interval_ms = 5_000;
    env.create_topics(&config).await;
    let bootstrap = env.kafka.bootstrap_servers().to_owned();
    // v2 (version 2) first: each partition's file takes v2, and the v1 trades (version 1)
    // after it are projected onto it.
    let p = check(&[
        "produce",
        &bootstrap,
        &registry.url(),
        &env.topic,
        "v2:30,v1:30",
        "--register-in-order",
    ])
    .await;
    run_until_committed(&env, &config, 60).await;

    let report = env.audit(&config).await;
    assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
    assert_eq!(records_in_s3(&report), 60);
    let parquet = files(&env, ".snappy.parquet");
    let partitions: BTreeSet<&str> = parquet.iter().map(|f| f.rsplit_once('/').unwrap().0).collect();
    assert_eq!(
        partitions.len(),
        parquet.len(),
        "one file per partition: projected, not cut: {parquet:?}"
    );
    let read = check(
        &[
            &["parquet"][..],
            &parquet.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    )
    .await;
    every_trade_once(
        &produced(&p),
        &read,
        &serde_json::json!({"exchange": "XNAS", "note": null}),
    );
    let types = &read[0]["types"];
    assert_eq!(types["price"], "decimal128(18, 6)", "{types}");
    assert_eq!(types["traded_at"], "timestamp[ms, tz=UTC]", "{types}");
    assert_eq!(types["seq"], "int64", "{types}");
    assert_eq!(types["conditions"], "list<element: string not null>", "{types}");
    assert!(
        types["attrs"].as_str().unwrap().starts_with("map<string, string"),
        "{types}"
    );
    assert_eq!(types["note"], "struct<member0: string, member1: int64>", "{types}");
    assert_eq!(types["venue"], "string", "{types}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_down_or_refuses_credentials_holds_records_back_and_loses_none() {
    let env = TestEnv::start().await;
    let registry = FakeRegistry::start(1).await;
    // A dead URL first: the client moves on to the one that answers.
    let (_held, dead_port) = crate::common::refused_port();
    let dead_url = format!("http://127.0.0.1:{dead_port}");
    let mut config = avro_config(&env, &format!("{dead_url},{}", registry.url()), FormatClass::Json);
    config.sink.registry_user_info = Some(tickstream::config::Secret("sink:s3cret".into()));
    env.create_topics(&config).await;
    let bootstrap = env.kafka.bootstrap_servers().to_owned();
    let p = check(&["produce", &bootstrap, &registry.url(), &env.topic, "v1:20,v2:10"]).await;
    let trades = produced(&p);

    registry.set_down(true);
    let pipeline = Pipeline::start(&config, &env.infra(), RunOptions::new(Some(1)))
        .await
        .expect("start");
    let stats = pipeline.stats().clone();
    let asked = registry.asked();
    eventually(
        Duration::from_secs(30),
        "the sinks asked the registry while it was down",
        || registry.asked() > asked + 3,
    )
    .await;
    // Down, then refusing the sink's credentials: nothing is written, nothing dead-lettered.
    let s = stats.snapshot();
    assert_eq!((s.records_consumed, s.dead_letters), (0, 0), "{s:?}");
    registry.set_down(false);
    registry.require_auth("sink:another-password");
    eventually(Duration::from_secs(30), "the registry refused the credentials", || {
        registry.refused() > 0
    })
    .await;
    let s = stats.snapshot();
    assert_eq!((s.records_consumed, s.dead_letters), (0, 0), "{s:?}");
    assert!(files(&env, ".json").is_empty());
    // The right credentials: everything lands.
    registry.require_auth("sink:s3cret");
    all_committed(&stats, 30, Duration::from_secs(90)).await;
    pipeline.shutdown().await;

    let report = env.audit(&config).await;
    assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
    assert_eq!(records_in_s3(&report), 30);
    assert_eq!(report.partitions.iter().map(|p| p.dead_lettered).sum::<u64>(), 0);
    // JSON files hold the trades as Connect's JsonConverter writes them (decimals base64).
    let mut lines = 0;
    for f in files(&env, ".json") {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let (_, want) = &trades[&v["seq"].as_i64().unwrap()];
            assert_eq!(v["traded_at"], want["traded_at"], "epoch ms");
            assert_eq!(v["attrs"], want["attrs"]);
            assert!(v["price"].is_string(), "base64 of the unscaled value: {v}");
            lines += 1;
        }
    }
    assert_eq!(lines, 30);
}

/// A CA and a certificate for 127.0.0.1 it signed, made with openssl in `dir`: (ca, cert, key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=tickstream test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_is_reached_over_tls_with_its_ca_and_its_credentials_never_show() {
    use tickstream::record::avro::{Known, SchemaCache};
    use tickstream::registry::Registry;
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path());
    let registry = FakeRegistry::start_tls(40, &cert, &key).await;
    let id = registry.register(
        "quotes-value",
        r#"{"type": "record", "name": "Q", "fields": [{"name": "s", "type": "string"}]}"#,
    );
    registry.require_auth("sink:pa55word");
    let env = TestEnv::start().await;
    let mut config = avro_config(&env, &registry.url(), FormatClass::Json);
    config.sink.registry_user_info = Some(tickstream::config::Secret("sink:pa55word".into()));
    config.sink.registry_ca_location = Some(ca);
    let client = |sink: &tickstream::config::SinkConfig, cache: &SchemaCache| {
        Registry::from_config(sink, cache.clone(), Default::default())
            .expect("a client")
            .expect("values are Avro")
    };

    let cache = SchemaCache::default();
    client(&config.sink, &cache).fetch(id).await.expect("fetched over TLS");
    assert!(matches!(cache.get(id), Some(Known::Found(s)) if s.full_name().as_deref() == Some("Q")));
    client(&config.sink, &cache).fetch(id + 1).await.expect("an answer");
    assert!(
        matches!(&cache.get(id + 1), Some(Known::Unusable(why)) if why.contains("not in the registry")),
        "an id the registry does not have is unusable: {:?}",
        cache.get(id + 1)
    );

    // Without the CA the certificate is not trusted; with a wrong password the registry refuses:
    // both are errors (the records would wait), neither shows the password, nothing is cached.
    let mut untrusted = config.sink.clone();
    untrusted.registry_ca_location = None;
    let cache = SchemaCache::default();
    let e = client(&untrusted, &cache).fetch(id).await.unwrap_err().to_string();
    assert!(e.contains("certificate") || e.contains("UnknownIssuer"), "{e}");
    let mut wrong = config.sink.clone();
    wrong.registry_user_info = Some(tickstream::config::Secret("sink:guess".into()));
    let e = client(&wrong, &cache).fetch(id).await.unwrap_err();
    assert_eq!(e.class(), tickstream::error::ErrorClass::NeedsPerson);
    let text = e.to_string();
    assert!(
        text.contains("refused the credentials") && !text.contains("guess"),
        "{text}"
    );
    assert!(!format!("{:?}", config.sink).contains("pa55word"));
    assert!(cache.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_envelopes_take_their_schemas_columns_and_load_into_the_warehouse_typed() {
    use tickstream::config::{Column, ColumnType};
    let env = TestEnv::start().await;
    let mut config = sink_only(&env, &env.topic);
    config.sink.schemas_enable = true;
    config.sink.format_class = FormatClass::Parquet;
    config.sink.flush_size = 10;
    config.warehouse.columns = [("symbol", "TEXT"), ("bid", "REAL"), ("at", "TIMESTAMP")]
        .iter()
        .map(|(name, kind)| Column {
            name: (*name).into(),
            kind: ColumnType::try_from((*kind).to_owned()).unwrap(),
            source: None,
        })
        .collect();
    env.create_topics(&config).await;
    let bootstrap = env.kafka.bootstrap_servers().to_owned();
    let quotes = check(&["envelopes", &bootstrap, &env.topic, "40"]).await;
    run_until_committed(&env, &config, 40).await;
    let report = env.audit(&config).await;
    assert!(report.ok(), "{}", tickstream::verify::report::table(&report));
    assert_eq!(records_in_s3(&report), 40);

    // pyarrow: the envelope's Connect types as Parquet types, the payloads as written.
    let parquet = files(&env, ".snappy.parquet");
    let read = check(
        &[
            &["parquet"][..],
            &parquet.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    )
    .await;
    let types = &read[0]["types"];
    assert_eq!(types["bid"], "double", "{types}");
    assert_eq!(types["at"], "timestamp[ms, tz=UTC]", "{types}");
    assert_eq!(types["seq"], "int64", "{types}");
    let mut rows: Vec<Value> = read
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["records"].as_array().unwrap().clone())
        .collect();
    rows.sort_by_key(|r| r["seq"].as_i64());
    assert_eq!(rows, quotes["quotes"].as_array().unwrap().clone());

    // The warehouse: RECORD_CONTENT the payload, the typed columns filled from it.
    let db = tickstream::warehouse::schema::open_read_only(&env.warehouse_path()).unwrap();
    let q = |sql: &str| -> (i64, f64, String) {
        db.query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    let (rows, bids, symbols) = q(
        "SELECT COUNT(*), SUM(bid), GROUP_CONCAT(DISTINCT symbol) FROM STOCK_MARKET_DATA \
         WHERE RECORD_CONTENT ->> '$.seq' IS NOT NULL",
    );
    assert_eq!(rows, 40);
    // Bids are seq / 4, null every fourth: the sum of the others.
    let expected: f64 = (0..40).filter(|s| s % 4 != 0).map(|s| f64::from(s) / 4.0).sum();
    assert!((bids - expected).abs() < 1e-9, "{bids} vs {expected}");
    assert_eq!(symbols.split(',').count(), 4, "{symbols}");
    let (n, _, at) = q("SELECT COUNT(*), 0.0, MIN(at) FROM STOCK_MARKET_DATA WHERE at IS NOT NULL");
    assert_eq!(n, 40, "every row's timestamp typed from its epoch milliseconds");
    assert!(at.starts_with("2025-11-24T"), "{at}");
}
