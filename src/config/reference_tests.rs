//! `docs/configuration.md` is generated from the configuration's own types: each key's `///`
//! lines (the user reference lives there, once), its serde name, and its default as
//! `Config::default()` holds it. This test renders it and fails when the file differs; run it
//! with `TICKSTREAM_BLESS=1` to write the file after changing a field or its doc comment:
//!
//! ```sh
//! TICKSTREAM_BLESS=1 cargo test --lib config::reference
//! ```

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Config, ENV_OVERRIDES};

/// The sources whose structs make up the configuration file.
const SOURCES: [&str; 8] = [
    include_str!("mod.rs"),
    include_str!("sections.rs"),
    include_str!("sink.rs"),
    include_str!("warehouse.rs"),
    include_str!("../record/column.rs"),
    include_str!("partitioner.rs"),
    include_str!("source.rs"),
    include_str!("websocket.rs"),
];

const DOC: &str = "docs/configuration.md";

/// One field of a configuration struct.
#[derive(Debug)]
struct Field {
    /// Its key in the file (its serde name).
    key: String,
    /// Its Rust type, as written.
    ty: String,
    /// Its `///` lines, joined.
    doc: String,
}

/// Every `pub struct` of `SOURCES` with its fields, by name.
fn structs() -> BTreeMap<String, (String, Vec<Field>)> {
    let mut out = BTreeMap::new();
    for source in SOURCES {
        let mut current: Option<(String, String, Vec<Field>)> = None;
        let (mut doc, mut rename) = (Vec::<String>::new(), None::<String>);
        for line in source.lines() {
            let t = line.trim();
            if let Some(d) = t.strip_prefix("///") {
                doc.push(d.trim().to_owned());
                continue;
            }
            if let Some(name) = t.strip_prefix("pub struct ").and_then(|r| r.strip_suffix(" {")) {
                current = Some((name.to_owned(), doc.join(" "), Vec::new()));
                doc.clear();
                continue;
            }
            if line == "}" {
                if let Some((name, struct_doc, fields)) = current.take() {
                    out.insert(name, (struct_doc, fields));
                }
                continue;
            }
            if t.starts_with("#[serde(") {
                if let Some(r) = t.split("rename = \"").nth(1).and_then(|r| r.split('"').next()) {
                    rename = Some(r.to_owned());
                }
                continue;
            }
            if let (Some((_, _, fields)), Some(decl)) = (current.as_mut(), t.strip_prefix("pub ")) {
                if let Some((name, ty)) = decl.strip_suffix(',').and_then(|d| d.split_once(": ")) {
                    fields.push(Field {
                        key: rename.take().unwrap_or_else(|| name.to_owned()),
                        ty: ty.to_owned(),
                        doc: doc.join(" "),
                    });
                }
            }
            if !t.starts_with("#[") {
                doc.clear();
                rename = None;
            }
        }
    }
    out
}

/// A default as a reader writes it in the file.
fn shown(v: Option<&toml::Value>) -> String {
    match v {
        None => "unset".into(),
        Some(toml::Value::Table(t)) if t.is_empty() => "`{}`".into(),
        Some(toml::Value::Array(a)) if a.iter().any(toml::Value::is_table) => format!("{} entries (below)", a.len()),
        Some(toml::Value::String(s)) => format!("`{s:?}`"),
        Some(v) => format!("`{}`", v.to_string().replace('|', "\\|")),
    }
}

fn key_shown(key: &str) -> String {
    match key.contains('.') {
        true => format!("`\"{key}\"`"),
        false => format!("`{key}`"),
    }
}

/// The table of `struct_name`'s fields under `path`, then its nested tables.
fn section(
    out: &mut String,
    all: &BTreeMap<String, (String, Vec<Field>)>,
    path: &str,
    struct_name: &str,
    defaults: Option<&toml::Value>,
) {
    let Some((_, fields)) = all.get(struct_name) else {
        return;
    };
    let _ = writeln!(out, "| key | default | meaning |\n|---|---|---|");
    let mut nested = Vec::new();
    for f in fields {
        let default = defaults.and_then(|d| d.get(&f.key));
        let inner =
            f.ty.trim_start_matches("Vec<")
                .trim_start_matches("Option<")
                .trim_end_matches('>');
        if all.contains_key(inner) && inner != "Column" || f.ty == "Vec<Column>" {
            nested.push(f);
        }
        if all.contains_key(&f.ty) {
            continue;
        }
        let doc = f.doc.replace('|', "\\|");
        let _ = writeln!(out, "| {} | {} | {doc} |", key_shown(&f.key), shown(default));
    }
    for f in nested {
        let default = defaults.and_then(|d| d.get(&f.key));
        let (_, doc) = (&f.key, &f.doc);
        let inner =
            f.ty.trim_start_matches("Vec<")
                .trim_start_matches("Option<")
                .trim_end_matches('>');
        match f.ty.starts_with("Vec<") {
            true => {
                let _ = writeln!(out, "\n### `[[{path}.{}]]`\n\n{doc}\n", f.key);
                if let Some(toml::Value::Array(rows)) = default {
                    let first: Vec<String> = rows.iter().map(|r| format!("`{r}`")).collect();
                    let _ = writeln!(out, "Default: {}.\n", first.join(", "));
                }
                section(out, all, &format!("{path}.{}", f.key), inner, None);
            }
            false => {
                let _ = writeln!(out, "\n### `[{path}.{}]`\n\n{doc}\n", f.key);
                section(out, all, &format!("{path}.{}", f.key), inner, default);
            }
        }
    }
}

fn render() -> String {
    let all = structs();
    let defaults = toml::Value::try_from(Config::default()).expect("the default configuration serializes");
    let mut out = String::from(
        "# Configuration reference\n\n\
         <!-- Generated from the configuration's types (src/config/, src/record/column.rs) by\n\
         src/config/reference_tests.rs: edit a field's `///` lines there, then run\n\
         `TICKSTREAM_BLESS=1 cargo test --lib config::reference`. -->\n\n\
         One TOML file; every key is optional and takes the default shown. Keys with dots are\n\
         written quoted (`\"flush.size\" = 100`): the `[sink]` keys are the Confluent S3 Sink\n\
         Connector's names. Unknown keys are errors. A bad file fails at start with exit code 2\n\
         and a line per problem naming the file, the key and, where it can, the line:\n\n\
         ```text\n$ tickstream check-config bad.toml\nbad.toml: sink.flush.size: must be ≥ 1, got 0\n```\n\n\
         `tickstream check-config FILE` validates a file (with the environment overrides below\n\
         applied) without running anything. Log verbosity is `RUST_LOG` (default\n\
         `info,librdkafka=warn`).\n",
    );
    let _ = writeln!(out, "\n## Environment overrides\n\n| variable | replaces |\n|---|---|");
    for (var, key) in ENV_OVERRIDES {
        let _ = writeln!(out, "| `{var}` | `{key}` |");
    }
    let (_, sections) = &all["Config"];
    for f in sections {
        let _ = writeln!(out, "\n## `[{}]`\n\n{}\n", f.key, f.doc);
        section(&mut out, &all, &f.key, &f.ty, defaults.get(&f.key));
    }
    out
}

#[test]
fn the_configuration_reference_is_the_types_own() {
    let rendered = render();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    if std::env::var_os("TICKSTREAM_BLESS").is_some() {
        std::fs::write(&path, &rendered).expect("write the reference");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk != rendered {
        let line = on_disk
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(on_disk.lines().count().min(rendered.lines().count()));
        panic!(
            "{DOC} differs from the configuration's types from line {}: run \
             `TICKSTREAM_BLESS=1 cargo test --lib config::reference` and commit it",
            line + 1
        );
    }
}

#[test]
fn every_key_of_every_section_is_documented() {
    let all = structs();
    let mut sections = vec!["Config".to_owned()];
    while let Some(name) = sections.pop() {
        for f in &all[&name].1 {
            assert!(!f.doc.is_empty(), "{name}.{} has no `///` line", f.key);
            let inner = f.ty.trim_start_matches("Vec<").trim_end_matches('>');
            if all.contains_key(inner) {
                sections.push(inner.to_owned());
            }
        }
    }
    let reference = render();
    for key in [
        "\"flush.size\"",
        "bootstrap_servers",
        "poll_interval_ms",
        "max_restarts",
        "private_key_path",
    ] {
        assert!(reference.contains(&format!("`{key}`")), "{key} is in the reference");
    }
}
