//! The verify report for people (an aligned table) and machines (JSON).

use std::fmt::Write;

use super::check::VerifyReport;

/// The table `tickstream verify` prints.
pub fn table(r: &VerifyReport) -> String {
    let mut out = String::new();
    let w = r.partitions.iter().map(|p| p.topic.len()).max().unwrap_or(0).max(5);
    let _ = writeln!(
        out,
        "{:<w$} {:>9} {:>10} {:>10} {:>7} {:>5} {:>9} {:>10} {:>10} {:>10} {:>10}  verdict",
        "topic",
        "partition",
        "in kafka",
        "in s3",
        "files",
        "dlq",
        "missing",
        "duplicated",
        "mismatched",
        "s3 end",
        "committed"
    );
    for p in &r.partitions {
        let missing: i64 = p.missing.iter().map(|(a, b)| b - a).sum();
        let duplicated: i64 = p.duplicated.iter().map(|(a, b)| b - a).sum();
        let opt = |v: Option<i64>| v.map_or("-".to_owned(), |v| v.to_string());
        let verdict = verdict(p, missing, duplicated);
        let _ = writeln!(
            out,
            "{:<w$} {:>9} {:>10} {:>10} {:>7} {:>5} {:>9} {:>10} {:>10} {:>10} {:>10}  {verdict}",
            p.topic,
            p.partition,
            p.records_in_kafka,
            p.records_in_s3,
            p.files,
            p.dead_lettered + p.skipped,
            missing,
            duplicated,
            p.mismatched,
            opt(p.s3_end),
            opt(p.committed)
        );
    }
    footer(r, &mut out);
    out
}

/// `ok`, or `FAIL:` and each reason.
fn verdict(p: &super::check::PartitionReport, missing: i64, duplicated: i64) -> String {
    if p.ok() {
        return "ok".to_owned();
    }
    let mut why = Vec::new();
    if missing > 0 {
        why.push(format!("missing {:?}", p.missing));
    }
    if duplicated > 0 {
        why.push(format!("duplicated {:?}", p.duplicated));
    }
    if !p.overlapping_files.is_empty() {
        why.push(format!("overlapping files at {:?}", p.overlapping_files));
    }
    if p.mismatched > 0 {
        why.push(format!("{} records differ from Kafka", p.mismatched));
    }
    if p.commit_ahead_of_s3() {
        why.push("commit ahead of S3".to_owned());
    }
    format!("FAIL: {}", why.join("; "))
}

/// The ticks' seqs, the records without one, foreign keys, and the verdict.
fn footer(r: &VerifyReport, out: &mut String) {
    let bad: Vec<_> = r
        .symbols
        .iter()
        .filter(|s| !s.gaps.is_empty() || s.duplicated_seqs > 0)
        .collect();
    let _ = writeln!(
        out,
        "\n{} (run_id, symbol) pairs, {} with seq gaps or duplicates",
        r.symbols.len(),
        bad.len()
    );
    for s in bad.iter().take(20) {
        let _ = writeln!(
            out,
            "  {}/{}: gaps {:?}, duplicated seqs {}",
            s.run_id, s.symbol, s.gaps, s.duplicated_seqs
        );
    }
    if r.records_without_seq > 0 {
        let _ = writeln!(
            out,
            "{} records carry no (run_id, symbol, seq): checked by (topic, partition, offset) only",
            r.records_without_seq
        );
    }
    if !r.foreign_keys.is_empty() {
        let _ = writeln!(
            out,
            "{} keys under the prefix do not follow the layout (ignored)",
            r.foreign_keys.len()
        );
    }
    let _ = writeln!(
        out,
        "{}",
        if r.ok() {
            "VERIFIED: every record is in S3 exactly once"
        } else {
            "FAILED"
        }
    );
}
