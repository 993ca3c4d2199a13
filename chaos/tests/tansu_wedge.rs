//! The suite's remedy for a wedged tansu group, against a real tansu process (needs `tansu` on
//! PATH: `chaos/install`; `.ci/run` runs it after that with `--ignored`).
//!
//! The wedge is written into tansu's store by the test: the group `Forming` with a leader that is
//! a dead member holding the live member's `group.instance.id` (tansu keeps such a member for
//! ever). A static consumer then never gets an assignment, across broker restarts; after
//! `reset_membership` it does.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use chaos::procs::{self, free_port, Proc};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

const GROUP: &str = "wedge-group";
const TOPIC: &str = "wedge";

fn start_tansu(dir: &Path, port: u16) -> Proc {
    let mut broker = procs::tansu(dir, port, "sqlite://tansu.db");
    broker.start().expect("tansu on PATH (chaos/install)");
    broker
        .wait_listening(SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(60))
        .expect("tansu listening");
    broker
}

/// The partitions a static member `chaos-sink` is assigned within `limit` (empty: none).
fn assigned_within(port: u16, limit: Duration) -> usize {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", format!("127.0.0.1:{port}"))
        .set("group.id", GROUP)
        .set("group.instance.id", "chaos-sink")
        .set("session.timeout.ms", "10000")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[TOPIC]).expect("subscribe");
    let started = Instant::now();
    while started.elapsed() < limit {
        let _ = consumer.poll(Duration::from_millis(200));
        let n = consumer.assignment().map_or(0, |a| a.count());
        if n > 0 {
            return n;
        }
    }
    0
}

/// Makes the stored group `Forming` under a dead leader that has the live member's instance id.
fn wedge(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let (id, detail): (i64, String) = conn
        .query_row("SELECT id, detail FROM consumer_group_detail", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let mut d: serde_json::Value = serde_json::from_str(&detail).unwrap();
    let members = d["members"].as_object_mut().unwrap();
    let mut dead = members.values().next().expect("the live member").clone();
    dead["join_response"]["member_id"] = "chaos-sink-zzzz-dead".into();
    members.insert("chaos-sink-zzzz-dead".into(), dead);
    let formed = d["state"]["Formed"].clone();
    d["state"] = serde_json::json!({"Forming": {
        "protocol_type": formed["protocol_type"],
        "protocol_name": formed["protocol_name"],
        "leader": "chaos-sink-zzzz-dead",
    }});
    conn.execute(
        "UPDATE consumer_group_detail SET detail = ?1 WHERE id = ?2",
        rusqlite::params![d.to_string(), id],
    )
    .unwrap();
}

#[test]
#[ignore = "needs tansu on PATH (chaos/install); run by .ci/run with --ignored"]
fn a_group_wedged_under_a_dead_leader_assigns_again_once_its_members_are_expired() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let mut broker = start_tansu(dir.path(), port);
    procs::tansu_create_topic(dir.path(), &format!("tcp://127.0.0.1:{port}"), TOPIC, 3).unwrap();
    assert_eq!(
        assigned_within(port, Duration::from_secs(60)),
        3,
        "a fresh group assigns"
    );

    broker.kill();
    let db = dir.path().join("tansu.db");
    wedge(&db);
    let mut broker = start_tansu(dir.path(), port);
    assert_eq!(
        assigned_within(port, Duration::from_secs(30)),
        0,
        "the wedged group must not assign (else this test proves nothing)"
    );

    broker.kill();
    assert_eq!(chaos::tansu_groups::reset_membership(&db).unwrap(), 2);
    let _broker = start_tansu(dir.path(), port);
    assert_eq!(
        assigned_within(port, Duration::from_secs(60)),
        3,
        "after the expiry the live member is assigned every partition"
    );
}
