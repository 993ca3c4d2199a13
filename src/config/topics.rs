//! The sink's topics: a list (`topics`) or a pattern (`topics.regex`, compiled once, when the
//! file is read).

use serde::{Deserialize, Serialize};

/// `topics.regex`: a pattern the whole topic name must match, compiled.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct TopicPattern {
    /// As written in the file.
    source: String,
    /// `^(source)$`.
    regex: regex_lite::Regex,
}

impl TopicPattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `topic` matches.
    pub fn is_match(&self, topic: &str) -> bool {
        self.regex.is_match(topic)
    }
}

impl TryFrom<String> for TopicPattern {
    type Error = String;

    fn try_from(source: String) -> Result<Self, String> {
        match regex_lite::Regex::new(&format!("^({source})$")) {
            Ok(regex) => Ok(Self { source, regex }),
            Err(e) => Err(format!("{source:?} is not a pattern: {e}")),
        }
    }
}

impl From<TopicPattern> for String {
    fn from(p: TopicPattern) -> String {
        p.source
    }
}

impl PartialEq for TopicPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// The topics the sink reads: a list (`topics`) or a pattern (`topics.regex`).
#[derive(Clone, Debug, PartialEq)]
pub enum Topics {
    List(Vec<String>),
    Pattern(TopicPattern),
}

impl Topics {
    pub fn contains(&self, topic: &str) -> bool {
        match self {
            Self::List(l) => l.iter().any(|t| t == topic),
            Self::Pattern(p) => p.is_match(topic),
        }
    }

    /// What to subscribe to: the topic names, or librdkafka's `^pattern` form.
    pub fn subscription(&self) -> Vec<String> {
        match self {
            Self::List(l) => l.clone(),
            Self::Pattern(p) => vec![p.regex.as_str().to_owned()],
        }
    }

    /// One named topic (sink ids and metrics then keep today's `sink-<partition>`).
    pub fn single(&self) -> bool {
        matches!(self, Self::List(l) if l.len() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_matches_whole_names_and_subscribes_anchored() {
        let p = Topics::Pattern(TopicPattern::try_from("market-.*".to_owned()).unwrap());
        assert!(p.contains("market-ticks") && !p.contains("old-market-ticks"));
        assert_eq!(p.subscription(), vec!["^(market-.*)$".to_owned()]);
        let bad = TopicPattern::try_from("trades-(".to_owned()).unwrap_err();
        assert!(bad.starts_with("\"trades-(\" is not a pattern"), "{bad}");
        let list = Topics::List(vec!["a".into()]);
        assert!(list.single() && list.contains("a") && !list.contains("b"));
    }
}
