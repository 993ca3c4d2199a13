//! `config/grafana/tickstream.json`: importable as it is (the Prometheus datasource is a dashboard
//! variable, every panel uses it), and every panel's expression evaluates on a real Prometheus
//! scraping real tickstream processes (`alerting::` runs that check while its scenarios run).

use std::collections::BTreeSet;

use crate::prometheus::Prometheus;

/// The dashboard as shipped.
pub fn dashboard() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/grafana/tickstream.json");
    let text = std::fs::read_to_string(path).expect("read the dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

fn panels(d: &serde_json::Value) -> Vec<serde_json::Value> {
    d["panels"].as_array().cloned().unwrap_or_default()
}

/// Every `(panel title, expression)` of the dashboard, with its variables as Grafana fills them
/// when "All" instances are selected.
pub fn expressions(d: &serde_json::Value) -> Vec<(String, String)> {
    panels(d)
        .iter()
        .filter(|p| p["type"] != "row")
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_owned();
            p["targets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |t| {
                    let expr = t["expr"].as_str().unwrap_or_default().replace("$instance", ".+");
                    (title.clone(), expr)
                })
        })
        .collect()
}

/// Evaluates every panel's expression now; the panels that erred or returned no series.
pub async fn empty_or_failing_panels(prom: &Prometheus) -> Vec<String> {
    let mut bad = Vec::new();
    for (title, expr) in expressions(&dashboard()) {
        match prom.query(&expr).await {
            Ok(series) if !series.is_empty() => {}
            Ok(_) => bad.push(format!("{title}: no series for {expr}")),
            Err(e) => bad.push(format!("{title}: {e} for {expr}")),
        }
    }
    bad
}

#[test]
fn the_dashboard_imports_as_it_is() {
    let d = dashboard();
    assert_eq!(d["uid"], "tickstream");
    let vars = d["templating"]["list"].as_array().expect("templating");
    let ds = vars
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("a datasource variable");
    assert_eq!(
        (ds["type"].as_str(), ds["query"].as_str()),
        (Some("datasource"), Some("prometheus"))
    );
    assert!(
        vars.iter().any(|v| v["name"] == "instance" && v["allValue"] == ".+"),
        "an instance variable with All"
    );
    let mut ids = BTreeSet::new();
    for p in panels(&d) {
        assert!(
            ids.insert(p["id"].as_i64().expect("panel id")),
            "duplicate id {}",
            p["id"]
        );
        assert!(p["gridPos"]["w"].as_i64().is_some(), "{} has a gridPos", p["title"]);
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(
            p["datasource"]["uid"], "${datasource}",
            "{} uses the variable",
            p["title"]
        );
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{} has a query", p["title"]);
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${datasource}");
            let expr = t["expr"].as_str().expect("expr");
            assert!(
                expr.contains("$instance"),
                "{}: {expr} follows the instance variable",
                p["title"]
            );
        }
    }
    let titles: BTreeSet<String> = panels(&d)
        .iter()
        .filter_map(|p| p["title"].as_str().map(str::to_owned))
        .collect();
    for wanted in [
        "Ticks per second",
        "Consumer lag per partition",
        "Files uploaded per second",
        "Bytes uploaded per second",
        "Upload (flush) duration",
        "Tick → S3 latency",
        "Tick → queryable latency",
        "Records buffered",
        "Dead letters (5 min) and halted partitions",
        "Restarts by actor (5 min)",
        "Escalations (10 min)",
        "MSK IAM token expiry",
        "Ingest pending files",
        "Ingest errors (5 min)",
    ] {
        assert!(titles.contains(wanted), "no panel {wanted:?}");
    }
}
