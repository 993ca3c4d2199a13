//! Checks of `[producer]`: the topic, the simulated symbols and rate, and the CSV replay.

use super::source::Source;
use super::validate::{topic_name, Problems};
use super::ProducerConfig;

/// The simulated producers.
pub(super) fn producer(pr: &ProducerConfig, p: &mut Problems) {
    if let Err(e) = topic_name(&pr.topic) {
        p.check(false, "producer.topic", e);
    }
    if pr.enabled && pr.source == Source::Simulated {
        p.check(
            !pr.symbols.is_empty(),
            "producer.symbols",
            "must list at least one symbol".into(),
        );
    }
    csv_source(pr, p);
    let mut seen = std::collections::HashSet::new();
    for (i, s) in pr.symbols.iter().enumerate() {
        let valid = !s.is_empty()
            && s.len() <= 16
            && s.chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '.' || ch == '-');
        p.check(
            valid,
            &format!("producer.symbols[{i}]"),
            format!("must be 1–16 of A–Z 0–9 . -, got {s:?}"),
        );
        p.check(
            seen.insert(s),
            &format!("producer.symbols[{i}]"),
            format!("{s} is listed twice"),
        );
    }
    p.check(
        pr.ticks_per_second.is_finite() && pr.ticks_per_second > 0.0 && pr.ticks_per_second <= 1_000_000.0,
        "producer.ticks_per_second",
        format!("must be > 0 and ≤ 1000000, got {}", pr.ticks_per_second),
    );
    p.check(!pr.exchange.is_empty(), "producer.exchange", "must not be empty".into());
}

/// `[producer.csv]`, needed (and only read) under `source = "csv"`.
fn csv_source(pr: &ProducerConfig, p: &mut Problems) {
    let Some(csv) = &pr.csv else {
        p.check(
            pr.source != Source::Csv,
            "producer.csv",
            "source = \"csv\" needs a [producer.csv] table with the files' path".into(),
        );
        return;
    };
    p.check(
        !csv.path.trim().is_empty(),
        "producer.csv.path",
        "must name a file or a glob".into(),
    );
    let positive = |v: f64| v.is_finite() && v > 0.0 && v <= 1e7;
    p.check(
        positive(csv.rate),
        "producer.csv.rate",
        format!("must be > 0 and ≤ 10000000 rows a second, got {}", csv.rate),
    );
    p.check(
        positive(csv.speed),
        "producer.csv.speed",
        format!("must be > 0 and ≤ 10000000, got {}", csv.speed),
    );
}

#[cfg(test)]
mod tests {
    use super::super::validate::tests::problems_text;

    #[test]
    fn a_csv_replay_needs_its_table_and_sane_numbers() {
        assert_eq!(
            problems_text("[producer]\nsource = \"csv\"\n"),
            "producer.csv: source = \"csv\" needs a [producer.csv] table with the files' path\n"
        );
        let text = problems_text(
            "[producer]\nsource = \"csv\"\nsymbols = []\n[producer.csv]\npath = \" \"\npacing = \"rate\"\nrate = 0\nspeed = -1\n",
        );
        assert_eq!(
            text,
            "producer.csv.path: must name a file or a glob\n\
             producer.csv.rate: must be > 0 and ≤ 10000000 rows a second, got 0\n\
             producer.csv.speed: must be > 0 and ≤ 10000000, got -1\n"
        );
        let typo = problems_text("[producer]\nsource = \"csv\"\n[producer.csv]\npath = \"a.csv\"\npacing = \"fast\"\n");
        assert!(
            typo.starts_with("producer.csv.pacing: unknown variant `fast`"),
            "{typo}"
        );
        assert_eq!(
            problems_text("[producer]\nsource = \"csv\"\n[producer.csv]\npath = \"a.csv\"\n"),
            ""
        );
    }
}
