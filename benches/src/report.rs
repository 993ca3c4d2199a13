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

/// The ceiling every sink and the producer are compared with.
const CEILING: &str = "broker.ceiling.records_per_sec";

/// The bare consumer's CPU per record: the floor under any librdkafka-based sink.
const FLOOR: &str = "broker.ceiling.cpu_s_per_million";

/// A contender's figure: `(contender, figure)`.
type Figure = (&'static str, &'static str);

/// Each ratio the bench reports, `(name, numerator, denominator)` per flush size; a `None`
/// denominator is the broker's ceiling.
const SINK_RATIOS: [(&str, Figure, Option<Figure>); 18] = [
    (
        "ours_over_peer_records_per_sec",
        ("ours", "records_per_sec"),
        Some(("peer", "records_per_sec")),
    ),
    ("ours_over_ceiling", ("ours", "records_per_sec"), None),
    ("peer_over_ceiling", ("peer", "records_per_sec"), None),
    ("tick_over_ceiling", ("tick", "records_per_sec"), None),
    (
        "gzip_over_json_bytes_per_record",
        ("gzip", "bytes_per_record"),
        Some(("ours", "bytes_per_record")),
    ),
    (
        "gzip_over_json_cpu_per_record",
        ("gzip", "cpu_s_per_million"),
        Some(("ours", "cpu_s_per_million")),
    ),
    (
        "zstd_over_json_bytes_per_record",
        ("zstd", "bytes_per_record"),
        Some(("ours", "bytes_per_record")),
    ),
    (
        "zstd_over_json_cpu_per_record",
        ("zstd", "cpu_s_per_million"),
        Some(("ours", "cpu_s_per_million")),
    ),
    (
        "pq-snappy_over_json_bytes_per_record",
        ("pq-snappy", "bytes_per_record"),
        Some(("ours", "bytes_per_record")),
    ),
    (
        "pq-zstd_over_json_bytes_per_record",
        ("pq-zstd", "bytes_per_record"),
        Some(("ours", "bytes_per_record")),
    ),
    (
        "pq-snappy_over_json_cpu_per_record",
        ("pq-snappy", "cpu_s_per_million"),
        Some(("ours", "cpu_s_per_million")),
    ),
    (
        "pq-zstd_over_json_cpu_per_record",
        ("pq-zstd", "cpu_s_per_million"),
        Some(("ours", "cpu_s_per_million")),
    ),
    ("pq-zstd_over_ceiling", ("pq-zstd", "records_per_sec"), None),
    ("gzip_over_ceiling", ("gzip", "records_per_sec"), None),
    (
        "json_over_tick_cpu_per_record",
        ("ours", "cpu_s_per_million"),
        Some(("tick", "cpu_s_per_million")),
    ),
    (
        "ours_over_peer_cpu_per_record",
        ("ours", "cpu_s_per_million"),
        Some(("peer", "cpu_s_per_million")),
    ),
    (
        "avro-pq_over_json-pq_cpu_per_record",
        ("avro-pq", "cpu_s_per_million"),
        Some(("pq-snappy", "cpu_s_per_million")),
    ),
    (
        "avro-avro_over_json-pq_cpu_per_record",
        ("avro-avro", "cpu_s_per_million"),
        Some(("pq-snappy", "cpu_s_per_million")),
    ),
];

/// The ceiling of the topic of Avro ticks, which the Avro contenders read.
const AVRO_CEILING: &str = "broker.ceiling_avro.records_per_sec";

/// The Avro contenders' throughput over their topic's ceiling.
const AVRO_RATIOS: [(&str, &str); 2] = [
    ("avro-pq_over_ceiling", "avro-pq"),
    ("avro-avro_over_ceiling", "avro-avro"),
];

/// Every ratio whose two figures were measured, by name (`flush<N>.<ratio>`,
/// `producer.symbols<N>.ours_over_ceiling`).
pub fn ratios(
    stats: &BTreeMap<String, Stat>,
    flush_sizes: &[u64],
    symbols: &[usize],
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for &flush in flush_sizes {
        let k = |(who, what): (&str, &str)| format!("sink.{who}.flush{flush}.{what}");
        for (name, top, bottom) in SINK_RATIOS {
            let bottom = bottom.map_or(CEILING.to_owned(), k);
            if let Some(r) = ratio(stats, &k(top), &bottom) {
                out.insert(format!("flush{flush}.{name}"), serde_json::json!(r));
            }
        }
        // CPU per record over the bare consumer's (the floor), whole process and with the
        // sink's start-up taken out (`cpu_s_per_million_after_start`).
        for who in ["ours", "tick", "pq-snappy", "pq-zstd"] {
            for (name, what) in [
                ("cpu_over_floor", "cpu_s_per_million"),
                ("cpu_after_start_over_floor", "cpu_s_per_million_after_start"),
            ] {
                if let Some(r) = ratio(stats, &k((who, what)), FLOOR) {
                    out.insert(format!("flush{flush}.{who}_{name}"), serde_json::json!(r));
                }
            }
        }
        for (name, who) in AVRO_RATIOS {
            if let Some(r) = ratio(stats, &k((who, "records_per_sec")), AVRO_CEILING) {
                out.insert(format!("flush{flush}.{name}"), serde_json::json!(r));
            }
        }
    }
    for &n in symbols {
        let (top, bottom) = (
            format!("producer.symbols{n}.ticks_per_sec"),
            format!("producer.symbols{n}.ceiling_ticks_per_sec"),
        );
        if let Some(r) = ratio(stats, &top, &bottom) {
            out.insert(format!("producer.symbols{n}.ours_over_ceiling"), serde_json::json!(r));
        }
    }
    out
}

#[cfg(test)]
mod ratio_tests {
    use super::*;

    #[test]
    fn ratios_are_named_per_flush_size_and_need_both_figures() {
        let stat = |m: f64| Stat::of(&[m]).unwrap();
        let stats = BTreeMap::from([
            ("broker.ceiling.records_per_sec".to_owned(), stat(200.0)),
            ("sink.ours.flush100.records_per_sec".to_owned(), stat(180.0)),
            ("sink.ours.flush100.bytes_per_record".to_owned(), stat(150.0)),
            ("sink.pq-zstd.flush100.bytes_per_record".to_owned(), stat(9.0)),
            ("producer.symbols7.ticks_per_sec".to_owned(), stat(90.0)),
            ("producer.symbols7.ceiling_ticks_per_sec".to_owned(), stat(100.0)),
        ]);
        let r = ratios(&stats, &[100], &[7]);
        assert_eq!(r["flush100.ours_over_ceiling"], serde_json::json!(0.9));
        assert_eq!(
            r["flush100.pq-zstd_over_json_bytes_per_record"],
            serde_json::json!(0.06)
        );
        assert_eq!(r["producer.symbols7.ours_over_ceiling"], serde_json::json!(0.9));
        assert_eq!(r.len(), 3, "no ratio without both figures: {r:?}");
    }
}
