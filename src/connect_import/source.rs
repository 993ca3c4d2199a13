//! A connector's settings read from its file: MSK Connect's CreateConnector request, Connect's
//! REST body, bare JSON settings, or Java properties.

use std::collections::BTreeMap;

use super::{ImportError, Source};

/// Reads `text` from `path`: JSON when it starts with `{`, Java properties otherwise.
pub fn read(path: &str, text: &str) -> Result<Source, ImportError> {
    if text.trim_start().starts_with('{') {
        from_json(path, text)
    } else {
        let settings = properties(text);
        Ok(Source {
            name: settings.get("name").cloned(),
            settings,
            ..Source::default()
        })
    }
}

fn from_json(path: &str, text: &str) -> Result<Source, ImportError> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|source| ImportError::Json {
        path: path.to_owned(),
        source,
    })?;
    let shape = |reason: &str| ImportError::Shape {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    // MSK Connect's CreateConnector request, Connect's REST body, or the bare settings.
    let (settings, name) = if let Some(c) = doc.get("connectorConfiguration") {
        (c, doc.get("connectorName"))
    } else if let Some(c) = doc.get("config") {
        (c, doc.get("name"))
    } else {
        (&doc, doc.get("name"))
    };
    let settings = settings
        .as_object()
        .ok_or_else(|| shape("the connector settings are not an object"))?;
    let mut out = BTreeMap::new();
    for (k, v) in settings {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => v.to_string(),
            _ => return Err(shape(&format!("setting {k:?} is not a string"))),
        };
        out.insert(k.clone(), v);
    }
    let name = name
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .or_else(|| out.get("name").cloned());
    let bootstrap_servers = doc
        .pointer("/kafkaCluster/apacheKafkaCluster/bootstrapServers")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let msk_iam = doc
        .pointer("/kafkaClusterClientAuthentication/authenticationType")
        .and_then(|v| v.as_str())
        .is_some_and(|t| t.eq_ignore_ascii_case("IAM"));
    Ok(Source {
        name,
        settings: out,
        bootstrap_servers,
        msk_iam,
    })
}

/// Java properties: `key=value` or `key: value`, `#`/`!` comments, `\` line continuations.
pub fn properties(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                continue;
            }
            None => pending.push_str(line),
        }
        let entry = std::mem::take(&mut pending);
        let split = entry.find(['=', ':']).unwrap_or(entry.len());
        let (k, v) = entry.split_at(split);
        let v = v.get(1..).unwrap_or("").trim();
        out.insert(k.trim().to_owned(), v.to_owned());
    }
    out
}
