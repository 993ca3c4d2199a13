//! Session expiry for tansu's consumer groups, done by the suite while the broker is down.
//!
//! A Kafka coordinator drops a member whose session timed out and starts a new generation
//! without it. tansu 0.6.0 skips that for static members (its group coordinator calls
//! `missed_heartbeat` only when the request has no `group.instance.id`), and keeps each group's
//! membership in its store across restarts. So a group can wedge for good: in the `Forming`
//! state with a leader that is a dead member id, the live member's SyncGroup is answered
//! `RebalanceInProgress` for ever, and neither a broker restart nor a tickstream restart ends
//! it (seen once in CI after a SIGKILL of tickstream seconds after a broker restart).
//!
//! [`reset_membership`] does what the coordinator would have done once every session expired:
//! an empty group (no members, no leader, no protocol: the next member to join chooses it, as
//! after an upgrade from `range` to `cooperative-sticky`, which tansu otherwise refuses with
//! InconsistentGroupProtocol for as long as it keeps the old one). Committed offsets live in
//! another table and are untouched; the live member's next request rejoins it within seconds.

use std::path::Path;

use serde_json::{json, Value};

/// Empties every group's membership in tansu's SQLite store at `db` (tansu must be stopped);
/// returns how many members were dropped.
pub fn reset_membership(db: &Path) -> Result<usize, String> {
    let name = db.display();
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("opening tansu's store {name}: {e}"))?;
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, detail FROM consumer_group_detail")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()
        })
        .map_err(|e| format!("reading consumer_group_detail in {name}: {e}"))?;
    let mut dropped = 0;
    for (id, detail) in rows {
        let mut detail: Value =
            serde_json::from_str(&detail).map_err(|e| format!("group detail {id} in {name} is not JSON: {e}"))?;
        dropped += expire_all(&mut detail);
        conn.execute(
            "UPDATE consumer_group_detail SET detail = ?1 WHERE id = ?2",
            rusqlite::params![detail.to_string(), id],
        )
        .map_err(|e| format!("writing group detail {id} in {name}: {e}"))?;
    }
    Ok(dropped)
}

/// Drops every member of one group detail (tansu's `GroupDetail` as JSON) and leaves it
/// `Forming` as an empty group (no leader, no protocol); returns how many members it had.
fn expire_all(detail: &mut Value) -> usize {
    let dropped = detail["members"].as_object().map_or(0, serde_json::Map::len);
    detail["members"] = json!({});
    detail["state"] = json!({"Forming": {"protocol_type": null, "protocol_name": null, "leader": null}});
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group detail as tansu 0.6.0 stored it in a chaos run (a static member, `Formed`).
    const FORMED: &str = r#"{"generation_id":0,"inception":{"nanos_since_epoch":207660011,"secs_since_epoch":1796581984},"members":{"chaos-sink-3d365e56":{"join_response":{"group_instance_id":"chaos-sink","member_id":"chaos-sink-3d365e56","metadata":[0,3,0,0,0,1]},"last_contact":{"nanos_since_epoch":3062395,"secs_since_epoch":1796582108}}},"rebalance_timeout_ms":300000,"session_timeout_ms":10000,"skip_assignment":false,"state":{"Formed":{"assignments":{"chaos-sink-3d365e56":[0,0,0,0]},"leader":"chaos-sink-3d365e56","protocol_name":"range","protocol_type":"consumer"}}}"#;

    #[test]
    fn a_formed_group_forms_again_as_an_empty_group() {
        let mut d: Value = serde_json::from_str(FORMED).unwrap();
        assert_eq!(expire_all(&mut d), 1);
        assert_eq!(d["members"], json!({}));
        assert_eq!(
            d["state"],
            json!({"Forming": {"protocol_type": null, "protocol_name": null, "leader": null}})
        );
        assert_eq!(d["generation_id"], 0, "the rest is kept");
        assert_eq!(d["session_timeout_ms"], 10000);
    }

    #[test]
    fn the_store_is_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tansu.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE consumer_group_detail (id INTEGER PRIMARY KEY, detail TEXT)")
            .unwrap();
        conn.execute("INSERT INTO consumer_group_detail VALUES (1, ?1)", [FORMED])
            .unwrap();
        assert_eq!(reset_membership(&db).unwrap(), 1);
        let after: String = conn
            .query_row("SELECT detail FROM consumer_group_detail WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        let after: Value = serde_json::from_str(&after).unwrap();
        assert!(after["state"]["Forming"]["leader"].is_null(), "{after}");
        assert_eq!(reset_membership(&db).unwrap(), 0, "nothing left to expire");
    }
}
