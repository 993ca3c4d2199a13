//! The alert rules (`config/prometheus/alerts.yml`) with their runbook links made absolute: the
//! rules carry `@RUNBOOK_BASE_URL@` where the operator's copy of `docs/` lives, and
//! `tickstream alerts --runbook-base-url URL` puts it in, so a paging tool can open every
//! `runbook_url`.

/// The rules as shipped.
pub const RULES: &str = include_str!("../../config/prometheus/alerts.yml");

/// What stands for the base URL in [`RULES`].
pub const PLACEHOLDER: &str = "@RUNBOOK_BASE_URL@";

/// A base URL that cannot make absolute links.
#[derive(Debug, thiserror::Error)]
#[error("--runbook-base-url: {url:?} is not an absolute http(s) URL (e.g. https://wiki.example.com/tickstream/docs)")]
pub struct BaseUrlError {
    pub url: String,
}

/// [`RULES`] with every runbook link under `base` (where `docs/runbooks.md` is `base/runbooks.md`).
pub fn render(base: &str) -> Result<String, BaseUrlError> {
    let trimmed = base.trim().trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .filter(|rest| !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace));
    match host {
        Some(_) => Ok(RULES.replace(PLACEHOLDER, trimmed)),
        None => Err(BaseUrlError { url: base.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's anchor of a markdown heading: lower case, spaces to `-`, other punctuation gone.
    fn anchor(heading: &str) -> String {
        heading
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_alert_links_to_a_runbook_that_exists_and_says_what_to_check_first() {
        let runbooks = include_str!("../../docs/runbooks.md");
        let anchors: Vec<String> = runbooks
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(anchor)
            .collect();
        let rendered = render("https://docs.example.com/tickstream/").unwrap();
        let alerts = rendered.matches("- alert: ").count();
        let links: Vec<&str> = rendered
            .lines()
            .filter_map(|l| l.trim().strip_prefix("runbook_url: \""))
            .map(|l| l.trim_end_matches('"'))
            .collect();
        assert_eq!(links.len(), alerts, "every alert has a runbook_url");
        for link in &links {
            let a = link
                .strip_prefix("https://docs.example.com/tickstream/runbooks.md#")
                .unwrap_or_else(|| panic!("{link} is not under the base"));
            assert!(
                anchors.iter().any(|h| h == a),
                "{link}: no such heading in docs/runbooks.md"
            );
        }
        let checks = rendered
            .lines()
            .filter(|l| l.trim().starts_with("first_check: \""))
            .count();
        assert_eq!(checks, alerts, "every alert says what to check first");
        assert!(!rendered.contains(PLACEHOLDER));
    }

    #[test]
    fn a_base_that_would_not_make_absolute_links_is_refused() {
        for bad in ["", "docs", "/srv/docs", "https://", "ftp://x/docs", "https:// x"] {
            assert!(render(bad).is_err(), "{bad:?}");
        }
        assert!(render("http://127.0.0.1:8000/docs").is_ok());
    }
}
