//! Reading a configuration file into a validated [`Config`].

use std::fmt;
use std::path::{Path, PathBuf};

use super::{env, validate, Config};

/// One thing wrong with a configuration: which key, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the key, e.g. `sink.flush.size`; empty when the file as a whole is at fault.
    pub key: String,
    /// What is wrong, e.g. `must be ≥ 1, got 0`.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key.as_str() {
            "" => f.write_str(&self.message),
            key => write!(f, "{key}: {}", self.message),
        }
    }
}

impl std::error::Error for Problem {}

impl Problem {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// A configuration that cannot be used; its lines read `file: key: problem`.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// The file the problems are in.
    pub file: PathBuf,
    /// Every problem found (validation reports all of them, not just the first).
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match p.key.as_str() {
                "" => write!(f, "{}: {}", self.file.display(), p.message)?,
                key => write!(f, "{}: {}: {}", self.file.display(), key, p.message)?,
            }
        }
        Ok(())
    }
}

/// Reads, overrides from the environment, and validates `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        problems: vec![Problem::new("", format!("cannot read the file: {e}"))],
    })?;
    let mut config = parse_str(&text).map_err(|p| ConfigError {
        file: path.to_owned(),
        problems: vec![p],
    })?;
    let mut problems = env::apply_overrides(&mut config, |name| std::env::var(name).ok());
    problems.extend(validate::validate(&config));
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError {
            file: path.to_owned(),
            problems,
        })
    }
}

/// Parses TOML text into a [`Config`] without validating it.
pub fn parse_str(text: &str) -> Result<Config, Problem> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_problem(text, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        toml_problem(text, &key, e.inner())
    })
}

fn toml_problem(text: &str, key: &str, err: &toml::de::Error) -> Problem {
    let message = err.message().trim_end().to_owned();
    let message = match err.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].lines().count().max(1);
            format!("{message} (line {line})")
        }
        None => message,
    };
    Problem::new(key, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named_with_its_table() {
        let p = parse_str("[sink]\n\"flush.sise\" = 5\n").unwrap_err();
        assert_eq!(p.key, "sink.flush.sise");
        assert!(p.message.contains("unknown field"), "{}", p.message);
    }

    #[test]
    fn wrong_type_is_named_with_its_key() {
        let p = parse_str("[sink]\n\"flush.size\" = \"many\"\n").unwrap_err();
        assert_eq!(p.key, "sink.flush.size");
        assert!(p.message.contains("line 2"), "{}", p.message);
    }

    #[test]
    fn broken_toml_names_the_line() {
        let p = parse_str("[sink\nx = 1").unwrap_err();
        assert!(p.message.contains("line 1"), "{}", p.message);
    }

    #[test]
    fn error_lines_read_file_key_problem() {
        let err = ConfigError {
            file: "config/local.toml".into(),
            problems: vec![Problem::new("sink.flush.size", "must be ≥ 1, got 0")],
        };
        assert_eq!(
            err.to_string(),
            "config/local.toml: sink.flush.size: must be ≥ 1, got 0"
        );
    }

    #[test]
    fn empty_file_takes_the_documented_defaults() {
        let c = parse_str("").unwrap();
        assert_eq!(c.sink.flush_size, 100);
        assert_eq!(c.sink.rotate_interval_ms, 60_000);
        assert_eq!(c.sink.topics_dir, "topics");
        assert_eq!(c.sink.bucket, "kafka-msk-snowflake-bucket");
        assert_eq!(c.sink.offset_pad_width, 10);
        assert_eq!(c.producer.symbols.len(), 7);
        assert_eq!(c.kafka.consumer_group, "tickstream-s3-sink");
        assert_eq!(c.metrics.listen.to_string(), "127.0.0.1:9464");
    }
}
