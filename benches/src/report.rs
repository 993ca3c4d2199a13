//! Medians of several runs, the JSON file and the table.

use std::collections::BTreeMap;

use serde::Serialize;

/// Median, min and max of one figure over the runs.
#[derive(Clone, Debug, Serialize)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Stat {
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Self {
            median,
            min: v[0],
            max: v[v.len() - 1],
            runs: v.len(),
        })
    }
}

/// Every figure by name, e.g. `sink.ours.flush100.records_per_sec`.
#[derive(Default)]
pub struct Samples(pub BTreeMap<String, Vec<f64>>);

impl Samples {
    pub fn add(&mut self, name: impl Into<String>, value: f64) {
        self.0.entry(name.into()).or_default().push(value);
    }

    pub fn stats(&self) -> BTreeMap<String, Stat> {
        self.0
            .iter()
            .filter_map(|(k, v)| Stat::of(v).map(|s| (k.clone(), s)))
            .collect()
    }
}

fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The short table: one line per figure, median [min–max].
pub fn table(stats: &BTreeMap<String, Stat>) -> String {
    let mut out =
        String::from("figure                                                median       [min – max]      runs\n");
    for (k, s) in stats {
        out.push_str(&format!(
            "{k:<52}  {:>10}  [{} – {}]  {}\n",
            fmt(s.median),
            fmt(s.min),
            fmt(s.max),
            s.runs
        ));
    }
    out
}

/// `a / b` of two medians, if both exist.
pub fn ratio(stats: &BTreeMap<String, Stat>, a: &str, b: &str) -> Option<f64> {
    Some(stats.get(a)?.median / stats.get(b)?.median)
}
